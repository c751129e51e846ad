import { describe, expect, it, vi } from 'vitest';
import { baselineKey } from './buckets.js';
import { ValidationError } from './errors.js';
import {
  DEFAULT_RULE_CONFIG,
  decide,
  parseBaselineHash,
  parseCheckRequest,
  resolveRuleConfig,
  type CheckInput,
  type HashReader,
} from './rule.js';
import type { BaselineStats, DayType } from './types.js';

/** A KV of hashes: base:{key} and svcidx:{service}, read the way KvStore.hgetallMany does. */
function kvOf(entries: Record<string, Partial<BaselineStats> | Record<string, string>>) {
  const m = new Map<string, Record<string, string>>();
  for (const [k, v] of Object.entries(entries)) {
    m.set(k, Object.fromEntries(Object.entries(v).map(([f, x]) => [f, String(x)])));
  }
  const calls: string[][] = [];
  const reader: HashReader = async (keys) => {
    calls.push(keys);
    return keys.map((k) => m.get(k) ?? null);
  };
  return { reader, calls };
}

const b = (p50: number, p95: number, mad: number, sampleCount: number) => ({ p50, p95, mad, sampleCount, updatedAt: 1_700_000_000_000 });
const key = (h: number | '*', d: DayType | '*', svc = 'cart', ep = 'GET /users/{id}') => `base:${baselineKey(svc, ep, h, d)}`;
const pool = (h: number, d: DayType, svc = 'cart', ep = 'GET /users/{id}') => `pool:${baselineKey(svc, ep, h, d)}`;

// Wednesday 2024-01-03 14:30 in Asia/Taipei = 06:30Z
const WED_1430 = Date.parse('2024-01-03T06:30:00Z');
const input = (durationMs: number, extra: Partial<CheckInput> = {}): CheckInput => ({
  service: 'cart',
  endpoint: 'GET /users/{id}',
  epochMs: WED_1430,
  durationMs,
  ...extra,
});

describe('decide: the rule on the exact bucket', () => {
  it('flags 1840 ms against p50 120 / p95 456 / MAD 35 and explains the arithmetic', async () => {
    // threshold = max(2.0 × 456, 120 + 10 × 35) = max(912, 470) = 912
    const { reader, calls } = kvOf({ [key(14, 'weekday')]: b(120, 456, 35, 812) });
    const r = await decide(input(1840), reader, DEFAULT_RULE_CONFIG);
    expect(r.isAnomaly).toBe(true);
    expect(r.cannotDetermine).toBeUndefined();
    expect(r.threshold).toBe(912);
    expect(r.fallbackLevel).toBe('exact');
    expect(r.bucket).toEqual({ hour: 14, dayType: 'weekday' });
    expect(r.baseline).toEqual(b(120, 456, 35, 812));
    expect(r.baselineSource).toBe('cart|GET /users/{id}|14|weekday');
    expect(r.explanation).toContain(
      '1840 ms is above 912 ms = max(2.0 × p95 456 ms, p50 120 ms + 10 × MAD 35 ms), learned from 812 traces on weekdays 14:00–15:00 Asia/Taipei',
    );
    expect(r.explanation).toContain('4.0× the usual p95');
    expect(r.reason).toBe(r.explanation);
    // one round trip: the bucket, its pooled neighbours, day-type and overall aggregates, the service index
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(5);
  });

  it('says "within" for a normal duration and uses > strictly', async () => {
    const { reader } = kvOf({ [key(14, 'weekday')]: b(120, 456, 35, 812) });
    const atThreshold = await decide(input(912), reader, DEFAULT_RULE_CONFIG);
    expect(atThreshold.isAnomaly).toBe(false);
    expect(atThreshold.explanation).toMatch(/^912 ms is within 912 ms = max\(/);
    expect(atThreshold.explanation).toContain('normal for this time');
  });

  it('uses the MAD term when it is the larger one', async () => {
    // threshold = max(2.0 × 150, 100 + 10 × 30) = max(300, 400) = 400
    const { reader } = kvOf({ [key(14, 'weekday')]: b(100, 150, 30, 200) });
    expect((await decide(input(350), reader, DEFAULT_RULE_CONFIG)).isAnomaly).toBe(false);
    const r = await decide(input(401), reader, DEFAULT_RULE_CONFIG);
    expect(r.isAnomaly).toBe(true);
    expect(r.threshold).toBe(400);
    expect(r.thresholdDetail).toMatchObject({ p95Term: 300, madTerm: 400, madUsed: 30, madFloorApplied: false });
  });

  it('floors MAD = 0 at 1 ms and says so', async () => {
    // all traces took 0 ms: threshold = max(2.0 × 0, 0 + 10 × max(0, 1 ms floor)) = 10
    const { reader } = kvOf({ [key(14, 'weekday')]: b(0, 0, 0, 100) });
    expect((await decide(input(5), reader, DEFAULT_RULE_CONFIG)).isAnomaly).toBe(false);
    const r = await decide(input(11), reader, DEFAULT_RULE_CONFIG);
    expect(r.isAnomaly).toBe(true);
    expect(r.threshold).toBe(10);
    expect(r.thresholdDetail?.madFloorApplied).toBe(true);
    expect(r.explanation).toContain('+ 10 × MAD 1 ms)');
    expect(r.explanation).toContain('MAD is 0 ms (at least half the traces took the same time), so the 1 ms floor was used');
  });

  it('floors with a ratio of p50 when configured', async () => {
    // p50 200, MAD 0, floor = max(1, 0.05 × 200) = 10; threshold = max(2 × 210, 200 + 10 × 10) = max(420, 300) = 420
    const cfg = resolveRuleConfig({ madFloorRatio: 0.05 });
    const { reader } = kvOf({ [key(14, 'weekday')]: b(200, 210, 0, 100) });
    const r = await decide(input(100), reader, cfg);
    expect(r.threshold).toBe(420);
    expect(r.thresholdDetail).toMatchObject({ madUsed: 10, madFloorApplied: true });
  });

  it('applies per-service overrides of factor and k', async () => {
    // cart: factor 3 → threshold = max(3 × 456, 120 + 10 × 35) = 1368; other services keep 912
    const cfg = resolveRuleConfig({ perService: { cart: { factor: 3 } } });
    const { reader } = kvOf({
      [key(14, 'weekday')]: b(120, 456, 35, 812),
      [key(14, 'weekday', 'billing')]: b(120, 456, 35, 812),
    });
    const cart = await decide(input(1000), reader, cfg);
    expect(cart.threshold).toBe(1368);
    expect(cart.isAnomaly).toBe(false);
    expect(cart.explanation).toContain('max(3.0 × p95 456 ms');
    const billing = await decide(input(1000, { service: 'billing' }), reader, cfg);
    expect(billing.threshold).toBe(912);
    expect(billing.isAnomaly).toBe(true);
  });

  it('normalises the endpoint when given a normaliser', async () => {
    const { reader } = kvOf({ [key(14, 'weekday')]: b(120, 456, 35, 812) });
    const r = await decide(input(2000, { endpoint: 'GET /users/42' }), reader, DEFAULT_RULE_CONFIG, {
      normalize: (e) => e.replace(/\/\d+/g, '/{id}'),
    });
    expect(r.endpoint).toBe('GET /users/{id}');
    expect(r.fallbackLevel).toBe('exact');
  });

  it('uses an explicit hour and day type instead of the timestamp', async () => {
    const { reader } = kvOf({ [key(3, 'weekend')]: b(10, 20, 2, 60) });
    const r = await decide(input(100, { hour: 3, dayType: 'weekend' }), reader, DEFAULT_RULE_CONFIG);
    expect(r.bucket).toEqual({ hour: 3, dayType: 'weekend' });
    expect(r.fallbackLevel).toBe('exact');
    expect(r.explanation).toContain('on weekends 03:00–04:00 Asia/Taipei');
  });
});

describe('decide: fallback chain', () => {
  it('exact needs minSamples (50): 50 is enough, 49 falls back', async () => {
    expect((await decide(input(1), kvOf({ [key(14, 'weekday')]: b(1, 2, 1, 50) }).reader, DEFAULT_RULE_CONFIG)).fallbackLevel).toBe('exact');
    expect((await decide(input(1), kvOf({ [key(14, 'weekday')]: b(1, 2, 1, 49), [pool(14, 'weekday')]: b(1, 2, 1, 49) }).reader, DEFAULT_RULE_CONFIG)).fallbackLevel).toBe(
      'neighbours',
    );
  });

  it('uses the pooled samples of hours ±2 (pool:{bucket}) when the exact bucket is thin', async () => {
    // threshold = max(2 × 1000, 300 + 10 × 40) = 2000
    const { reader, calls } = kvOf({
      [key(14, 'weekday')]: b(100, 200, 20, 10),
      [pool(14, 'weekday')]: b(300, 1000, 40, 60),
      [pool(15, 'weekday')]: b(1, 1, 1, 1000), // another bucket's pool: ignored
    });
    const r = await decide(input(1999), reader, DEFAULT_RULE_CONFIG);
    expect(calls[0].slice(0, 2)).toEqual([key(14, 'weekday'), pool(14, 'weekday')]);
    expect(r.fallbackLevel).toBe('neighbours');
    expect(r.baseline).toMatchObject({ p50: 300, p95: 1000, mad: 40, sampleCount: 60 });
    expect(r.threshold).toBe(2000);
    expect(r.isAnomaly).toBe(false);
    expect(r.baselineSource).toBe('cart|GET /users/{id}|{12,13,14,15,16}|weekday');
    expect(r.explanation).toContain('learned from 60 traces on weekdays 12:00–17:00 Asia/Taipei (hours ±2 pooled, because 14:00–15:00 alone has 10, fewer than 50)');
  });

  it('labels the pooled hours around midnight within the day type', async () => {
    const { reader } = kvOf({ [pool(1, 'weekday')]: b(100, 200, 20, 25) });
    // Wednesday 01:10 Taipei
    const r = await decide(input(50, { epochMs: Date.parse('2024-01-02T17:10:00Z') }), reader, DEFAULT_RULE_CONFIG);
    expect(r.bucket.hour).toBe(1);
    expect(r.fallbackLevel).toBe('neighbours');
    expect(r.baselineSource).toBe('cart|GET /users/{id}|{23,0,1,2,3}|weekday');
    expect(r.explanation).toContain('weekdays 23:00–04:00');
  });

  it('reports how old the baseline is', async () => {
    const { reader } = kvOf({ [key(14, 'weekday')]: b(120, 456, 35, 812) });
    const r = await decide(input(100), reader, DEFAULT_RULE_CONFIG, { now: () => 1_700_000_090_000 });
    expect(r.baselineAgeMs).toBe(90_000);
    const none = await decide(input(100), kvOf({}).reader, DEFAULT_RULE_CONFIG);
    expect(none.baselineAgeMs).toBeNull();
  });

  it('falls back to the day type when the pooled hours have fewer than 20', async () => {
    const { reader } = kvOf({
      [key(14, 'weekday')]: b(100, 200, 20, 5),
      [pool(14, 'weekday')]: b(100, 200, 20, 15),
      [key('*', 'weekday')]: b(80, 300, 25, 60),
    });
    const r = await decide(input(700), reader, DEFAULT_RULE_CONFIG);
    expect(r.fallbackLevel).toBe('dayType');
    // threshold = max(2 × 300, 80 + 10 × 25) = 600
    expect(r.threshold).toBe(600);
    expect(r.baselineSource).toBe('cart|GET /users/{id}|*|weekday');
    expect(r.explanation).toContain('learned from 60 traces on weekdays at any hour (weekdays 12:00–17:00 Asia/Taipei has only 15, fewer than 20)');
  });

  it('falls back to everything when the day type has fewer than 50', async () => {
    const { reader } = kvOf({
      [key('*', 'weekday')]: b(80, 300, 25, 40),
      [key('*', '*')]: b(90, 320, 30, 35),
    });
    const r = await decide(input(100), reader, DEFAULT_RULE_CONFIG);
    expect(r.fallbackLevel).toBe('all');
    // threshold = max(2 × 320, 90 + 10 × 30) = 640
    expect(r.threshold).toBe(640);
    expect(r.explanation).toContain('learned from 35 traces across all days and hours (weekdays have only 40, fewer than 50)');
  });

  it('cannot determine when even everything has fewer than 30, and says what is missing', async () => {
    const { reader } = kvOf({
      [key(14, 'weekday')]: b(100, 200, 20, 3),
      [key('*', 'weekday')]: b(80, 300, 25, 20),
      [key('*', '*')]: b(90, 320, 30, 25),
      'svcidx:cart': { 'GET /users/{id}': '25' },
    });
    const r = await decide(input(100000), reader, DEFAULT_RULE_CONFIG);
    expect(r.cannotDetermine).toBe(true);
    expect(r.isAnomaly).toBe(false);
    expect(r.fallbackLevel).toBe('none');
    expect(r.baseline).toBeNull();
    expect(r.threshold).toBeNull();
    expect(r.explanation).toContain('Cannot determine: only 25 traces of cart GET /users/{id} have been learned');
    expect(r.explanation).toContain('wait for more traffic');
  });

  it('treats an unknown service as cannotDetermine with an explanation, not an error', async () => {
    const { reader } = kvOf({});
    const r = await decide(input(100, { service: 'nope' }), reader, DEFAULT_RULE_CONFIG);
    expect(r.cannotDetermine).toBe(true);
    expect(r.explanation).toContain('no traces have been seen for service "nope"');
  });

  it('tells an unknown endpoint of a known service apart', async () => {
    const { reader } = kvOf({ 'svcidx:cart': { 'GET /a': '100', 'GET /b': '200' } });
    const r = await decide(input(100, { endpoint: 'GET /c' }), reader, DEFAULT_RULE_CONFIG);
    expect(r.cannotDetermine).toBe(true);
    expect(r.explanation).toContain('service "cart" has baselines for 2 endpoints, but none for "GET /c"');
  });

  it('ignores malformed hashes', async () => {
    const { reader } = kvOf({ [key(14, 'weekday')]: { p50: 'x', p95: '1', mad: '1', sampleCount: '100' } });
    const r = await decide(input(100), reader, DEFAULT_RULE_CONFIG);
    expect(r.cannotDetermine).toBe(true);
  });
});

describe('helpers', () => {
  it('parseBaselineHash reads the seed field names', () => {
    expect(parseBaselineHash({ p50: '1', p95: '2', mad: '0.5', sampleCount: '7', updatedAt: '9' })).toEqual({
      p50: 1,
      p95: 2,
      mad: 0.5,
      sampleCount: 7,
      updatedAt: 9,
    });
    expect(parseBaselineHash({ p50: '1', p95: '2', mad: '0.5', sampleCount: '7.5' })).toBeNull();
    expect(parseBaselineHash(null)).toBeNull();
  });
});

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).field;
  }
  throw new Error('expected a ValidationError');
}

describe('parseCheckRequest', () => {
  const now = () => 1_700_000_000_000;

  it("accepts Vigil's and the seed's field names", () => {
    expect(parseCheckRequest({ service: 'cart', endpoint: 'GET /x', timestampNano: '1704263400123456789', durationMs: 12.5 })).toEqual({
      service: 'cart',
      endpoint: 'GET /x',
      epochMs: 1704263400123.456,
      durationMs: 12.5,
    });
    expect(
      parseCheckRequest({ rootServiceName: 'cart', rootTraceName: 'GET /x', startTimeUnixNano: 1704263400000000000, durationMs: 3 }),
    ).toMatchObject({ service: 'cart', endpoint: 'GET /x', epochMs: 1704263400000 });
    expect(parseCheckRequest({ service: 'cart', endpoint: 'GET /x', durationMs: 3 }, { now }).epochMs).toBe(1_700_000_000_000);
    expect(parseCheckRequest({ service: 'cart', endpoint: 'x', durationMs: 3, hour: '7', dayType: 'weekend' }, { now })).toMatchObject({
      hour: 7,
      dayType: 'weekend',
    });
  });

  it('rejects bad input naming the field', () => {
    const ok = { service: 'cart', endpoint: 'GET /x', durationMs: 5 };
    expect(fieldOf(() => parseCheckRequest({ ...ok, durationMs: -1 }))).toBe('durationMs');
    expect(fieldOf(() => parseCheckRequest({ ...ok, durationMs: 'NaN' }))).toBe('durationMs');
    expect(fieldOf(() => parseCheckRequest({ ...ok, durationMs: Number.NaN }))).toBe('durationMs');
    expect(fieldOf(() => parseCheckRequest({ ...ok, durationMs: undefined }))).toBe('durationMs');
    expect(fieldOf(() => parseCheckRequest({ ...ok, hour: 24 }))).toBe('hour');
    expect(fieldOf(() => parseCheckRequest({ ...ok, hour: -1 }))).toBe('hour');
    expect(fieldOf(() => parseCheckRequest({ ...ok, dayType: 'holiday' }))).toBe('dayType');
    expect(fieldOf(() => parseCheckRequest({ ...ok, service: undefined }))).toBe('service');
    expect(fieldOf(() => parseCheckRequest({ ...ok, service: undefined, rootServiceName: 7 }))).toBe('rootServiceName');
    expect(fieldOf(() => parseCheckRequest({ ...ok, endpoint: undefined }))).toBe('endpoint');
    expect(fieldOf(() => parseCheckRequest({ ...ok, timestampNano: 'yesterday' }))).toBe('timestampNano');
    expect(fieldOf(() => parseCheckRequest({ ...ok, startTimeUnixNano: -5 }))).toBe('startTimeUnixNano');
    expect(fieldOf(() => parseCheckRequest({ ...ok, timestampNano: 1e30 }))).toBe('timestampNano'); // beyond any Date
    expect(fieldOf(() => parseCheckRequest({ ...ok, timestampMs: 'now' }))).toBe('timestampMs');
    expect(fieldOf(() => parseCheckRequest([ok]))).toBe('body');
    expect(fieldOf(() => parseCheckRequest(null))).toBe('body');
  });
});

describe('resolveRuleConfig', () => {
  it('fills defaults: factor 2.0, k 10, minSamples 50, fallback 20/50/30, Asia/Taipei', () => {
    const c = resolveRuleConfig();
    expect(c).toMatchObject({ factor: 2, k: 10, minSamples: 50, madFloorMs: 1, madFloorRatio: 0, timeZone: 'Asia/Taipei' });
    expect(c.fallback).toEqual({ neighbourHours: 2, neighbourMinSamples: 20, dayTypeMinSamples: 50, allMinSamples: 30 });
  });

  it('accepts the config file alias overrides for perService', () => {
    expect(resolveRuleConfig({ overrides: { cart: { k: 5 } } }).perService).toEqual({ cart: { k: 5 } });
  });

  it('names the bad key', () => {
    expect(fieldOf(() => resolveRuleConfig({ factor: 0 }))).toBe('factor');
    expect(fieldOf(() => resolveRuleConfig({ timeZone: 'Nowhere/City' }))).toBe('timeZone');
    expect(fieldOf(() => resolveRuleConfig({ perService: { cart: { k: -1 } } }))).toBe('perService.cart.k');
    expect(fieldOf(() => resolveRuleConfig({ perService: { cart: { windowSize: 3 } as never } }))).toBe('perService.cart.windowSize');
    expect(fieldOf(() => resolveRuleConfig({ fallback: { allMinSamples: 0 } }))).toBe('fallback.allMinSamples');
    expect(fieldOf(() => resolveRuleConfig({ weekendDays: [7] }))).toBe('weekendDays');
  });
});

describe('decide reads hashes only', () => {
  it('never asks for more than one batch of keys', async () => {
    const reader = vi.fn<HashReader>(async (keys) => keys.map(() => null));
    await decide(input(1), reader, DEFAULT_RULE_CONFIG);
    expect(reader).toHaveBeenCalledTimes(1);
    for (const k of reader.mock.calls[0][0]) expect(k.startsWith('base:') || k.startsWith('pool:') || k.startsWith('svcidx:')).toBe(true);
  });
});
