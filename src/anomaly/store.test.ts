import { describe, expect, it } from 'vitest';
import { MemoryKv } from '../platform/backends/kv/memory.js';
import { ValidationError } from './errors.js';
import { AnomalyStore } from './store.js';
import type { TraceSummary } from './types.js';

// Wednesday 2024-01-03 14:00 Asia/Taipei = 06:00Z
const WED_14 = Date.parse('2024-01-03T06:00:00Z');
const SAT_03 = Date.parse('2024-01-05T19:00:00Z'); // Saturday 03:00 Taipei

let seq = 0;
const summary = (durationMs: number, over: Partial<TraceSummary> = {}): TraceSummary => ({
  traceId: (++seq).toString(16).padStart(32, '0'),
  service: 'cart',
  endpoint: 'GET /users/42',
  startMs: WED_14 + (seq % 3600) * 1000,
  durationMs,
  ...over,
});

function setup(opts: ConstructorParameters<typeof AnomalyStore>[1] = {}) {
  let now = Date.parse('2024-01-10T00:00:00Z');
  const clock = () => now;
  const kv = new MemoryKv({ prefix: 'test:', now: clock });
  const store = new AnomalyStore(kv, { now: clock, ...opts });
  return { kv, store, advance: (ms: number) => (now += ms) };
}

describe('AnomalyStore.ingest', () => {
  it('appends the duration to the bucket window, marks it dirty and remembers the trace id', async () => {
    const { kv, store } = setup();
    expect(await store.ingest(summary(120))).toBe('ingested');
    const key = 'cart|GET /users/{id}|14|weekday';
    expect(await kv.listRange(`anomaly:dur:${key}`, 0, -1)).toEqual(['120']);
    expect(await kv.smembers('anomaly:dirtyKeys')).toEqual([key]);
    expect(await kv.get(`anomaly:seen:${(seq).toString(16).padStart(32, '0')}`)).toBe('1');
  });

  it('skips a trace id seen within the replay horizon (25 h: a Tempo catch-up of 24 h), then accepts it again', async () => {
    const { kv, store, advance } = setup();
    const s = summary(100);
    expect(await store.ingest(s)).toBe('ingested');
    expect(await store.ingest({ ...s, traceId: s.traceId.toUpperCase() })).toBe('duplicate');
    advance(24 * 3600_000 + 120_000); // a catch-up after a day-long outage re-reads it
    expect(await store.ingest(s)).toBe('duplicate');
    advance(3600_000);
    expect(await store.ingest(s)).toBe('ingested');
    expect(await kv.listLength('anomaly:dur:cart|GET /users/{id}|14|weekday')).toBe(2);
  });

  it('de-duplicates span-level summaries per span, not per trace', async () => {
    const { store } = setup();
    const s = summary(100);
    expect(await store.ingest(s)).toBe('ingested');
    expect(await store.ingest({ ...s, spanId: 'aaaaaaaaaaaaaaaa' })).toBe('ingested');
    expect(await store.ingest({ ...s, spanId: 'aaaaaaaaaaaaaaaa' })).toBe('duplicate');
  });

  it('keeps only the newest windowSize durations', async () => {
    const { kv, store } = setup({ windowSize: 10 });
    const list = Array.from({ length: 15 }, (_, i) => summary(i, { startMs: WED_14 + i * 1000 }));
    expect(await store.ingestMany(list)).toEqual({ ingested: 15, duplicates: 0, invalid: 0 });
    expect(await kv.listRange('anomaly:dur:cart|GET /users/{id}|14|weekday', 0, -1)).toEqual(['14', '13', '12', '11', '10', '9', '8', '7', '6', '5']);
  });

  it('counts invalid summaries instead of storing them', async () => {
    const { store } = setup();
    const st = await store.ingestMany([
      summary(-1),
      summary(Number.NaN),
      summary(5, { service: '' }),
      summary(5, { startMs: Number.POSITIVE_INFINITY }),
      summary(5),
    ]);
    expect(st).toEqual({ ingested: 1, duplicates: 0, invalid: 4 });
  });

  it('counts duplicates inside one batch once', async () => {
    const { store } = setup();
    const s = summary(5);
    expect(await store.ingestMany([s, s, { ...s }])).toEqual({ ingested: 1, duplicates: 2, invalid: 0 });
  });

  it('forgets the trace id again when storing its duration fails, so a retry is not a duplicate', async () => {
    const { kv, store } = setup();
    let fail = true;
    const orig = kv.pushTrim.bind(kv);
    kv.pushTrim = async (...a: Parameters<MemoryKv['pushTrim']>) => {
      if (fail) throw new Error('kv down');
      return orig(...a);
    };
    const s = summary(7);
    await expect(store.ingest(s)).rejects.toThrow('kv down');
    fail = false;
    expect(await store.ingest(s)).toBe('ingested');
  });
});

describe('AnomalyStore.recomputeDirty', () => {
  it('writes base:{key} with p50, p95, mad, sampleCount, updatedAt, plus the aggregates', async () => {
    const { kv, store } = setup();
    await store.ingestMany(Array.from({ length: 100 }, (_, i) => summary(i + 1)));
    await store.ingestMany(Array.from({ length: 10 }, () => summary(1000, { startMs: SAT_03 })));
    const st = await store.recomputeDirty(100);
    expect(st).toMatchObject({ keys: 2, aggregates: 1, remaining: 0, failed: 0 });
    const now = String(Date.parse('2024-01-10T00:00:00Z'));
    // 1..100: median 50.5, p95 rank 95, MAD 25 (see stats.test.ts)
    expect(await kv.hgetall('anomaly:base:cart|GET /users/{id}|14|weekday')).toEqual({ p50: '50.5', p95: '95', mad: '25', sampleCount: '100', updatedAt: now });
    expect(await kv.hgetall('anomaly:base:cart|GET /users/{id}|3|weekend')).toMatchObject({ p50: '1000', sampleCount: '10' });
    expect(await kv.hgetall('anomaly:base:cart|GET /users/{id}|*|weekday')).toMatchObject({ p50: '50.5', sampleCount: '100' });
    expect(await kv.hgetall('anomaly:base:cart|GET /users/{id}|*|weekend')).toMatchObject({ sampleCount: '10' });
    // everything: 1..100 and ten 1000s → 110 values, p95 rank ceil(104.5) = 105 → 1000
    expect(await kv.hgetall('anomaly:base:cart|GET /users/{id}|*|*')).toMatchObject({ p95: '1000', sampleCount: '110' });
    expect(await kv.hgetall('anomaly:svcidx:cart')).toEqual({ 'GET /users/{id}': '110' });
    expect(await kv.scard('anomaly:dirtyKeys')).toBe(0);
  });

  it('works in bounded batches', async () => {
    const { store } = setup();
    for (let h = 0; h < 5; h++) await store.ingest(summary(10, { startMs: WED_14 + h * 3600_000 }));
    expect(await store.pendingDirty()).toBe(5);
    const first = await store.recomputeDirty(2);
    expect(first).toMatchObject({ keys: 2, remaining: 3 });
    const rest = await store.runBaselineJob({ batchSize: 2 });
    expect(rest).toMatchObject({ keys: 3, remaining: 0 });
  });

  it('puts a key back into the dirty set when its recomputation fails', async () => {
    const { kv, store } = setup();
    await store.ingest(summary(10));
    const orig = kv.hset.bind(kv);
    kv.hset = async () => {
      throw new Error('kv down');
    };
    const st = await store.recomputeDirty(10);
    expect(st.failed).toBe(1);
    expect(st.errors[0]).toContain('kv down');
    expect(await kv.scard('anomaly:dirtyKeys')).toBe(1);
    kv.hset = orig;
    expect(await store.recomputeDirty(10)).toMatchObject({ keys: 1, failed: 0, remaining: 0 });
  });
});

describe('AnomalyStore reads', () => {
  it('getBaseline normalises the endpoint and listAvailable lists buckets and aggregates', async () => {
    const { store } = setup();
    await store.ingestMany(Array.from({ length: 3 }, () => summary(10)));
    await store.runBaselineJob();
    expect(await store.getBaseline('cart', 'GET /users/7', 14, 'weekday')).toMatchObject({ p50: 10, sampleCount: 3 });
    expect(await store.getBaseline('cart', 'GET /users/7', 15, 'weekday')).toBeNull();
    const list = await store.listAvailable();
    expect(list.map((b) => `${b.hour}|${b.dayType}`)).toEqual(['14|weekday', '*|weekday', '*|*']);
    expect(list[0]).toMatchObject({ service: 'cart', endpoint: 'GET /users/{id}', sampleCount: 3 });
  });

  it('checks a request end to end: learn, recompute, verdict', async () => {
    const { store } = setup();
    // 60 traces 100..159 ms at Wednesday 14:xx: p50 129.5, p95 rank 57 → 156, MAD 15
    // threshold = max(2 × 156, 129.5 + 10 × 15) = max(312, 279.5) = 312
    await store.ingestMany(Array.from({ length: 60 }, (_, i) => summary(100 + i, { endpoint: `GET /users/${i}` })));
    await store.runBaselineJob();
    const body = {
      rootServiceName: 'cart',
      rootTraceName: 'GET /users/999',
      startTimeUnixNano: String(BigInt(WED_14 + 1800_000) * 1_000_000n),
      durationMs: 400,
    };
    const r = await store.checkRequest(body);
    expect(r).toMatchObject({ isAnomaly: true, fallbackLevel: 'exact', threshold: 312, endpoint: 'GET /users/{id}' });
    expect(r.explanation).toContain('400 ms is above 312 ms = max(2.0 × p95 156 ms, p50 130 ms + 10 × MAD 15 ms), learned from 60 traces on weekdays 14:00–15:00 Asia/Taipei');
    expect((await store.checkRequest({ ...body, durationMs: 200 })).isAnomaly).toBe(false);
    const unknown = await store.checkRequest({ ...body, rootServiceName: 'ghost' });
    expect(unknown.cannotDetermine).toBe(true);
    await expect(store.checkRequest({ ...body, durationMs: -3 })).rejects.toBeInstanceOf(ValidationError);
  });

  it('pools the samples of hours ±2 for the neighbours fallback, not their p50/p95/MAD', async () => {
    const { kv, store } = setup();
    // Wednesday 13:xx: 40 traces of 100 ms (busy, fast); 15:xx: 10 of 1000 ms (quiet, slow); 14:xx: none.
    await store.ingestMany(Array.from({ length: 40 }, (_, i) => summary(100, { startMs: WED_14 - 3600_000 + i * 1000 })));
    await store.ingestMany(Array.from({ length: 10 }, (_, i) => summary(1000, { startMs: WED_14 + 3600_000 + i * 1000 })));
    await store.runBaselineJob();
    // pooled: 50 samples, p95 rank ceil(47.5) = 48 → 1000, p50 100, MAD 0 → floor 1 ms
    expect(await kv.hgetall('anomaly:pool:cart|GET /users/{id}|14|weekday')).toMatchObject({ p50: '100', p95: '1000', mad: '0', sampleCount: '50' });
    // threshold = max(2 × 1000, 100 + 10 × 1) = 2000 (averaging the buckets gave max(2 × 280, 110) = 560)
    const r = await store.check({ service: 'cart', endpoint: 'GET /users/1', epochMs: WED_14 + 60_000, durationMs: 1500 });
    expect(r).toMatchObject({ fallbackLevel: 'neighbours', threshold: 2000, isAnomaly: false });
    // hour 17 pools 15…19: only the 10 slow ones
    expect(await kv.hgetall('anomaly:pool:cart|GET /users/{id}|17|weekday')).toMatchObject({ p50: '1000', sampleCount: '10' });
    expect(await kv.hgetall('anomaly:pool:cart|GET /users/{id}|18|weekday')).toBeNull();
  });

  it('learns a held (anomalous) sample only after learnHeldAfterMs', async () => {
    const { kv, store, advance } = setup({ learnHeldAfterMs: 3600_000 });
    await store.ingestMany(Array.from({ length: 60 }, (_, i) => summary(100 + i)));
    await store.runBaselineJob();
    const judge = async (acc: TraceSummary[]) => {
      const verdicts = await Promise.all(acc.map((s) => store.check({ service: s.service, endpoint: s.endpoint, epochMs: s.startMs, durationMs: s.durationMs })));
      return new Set(acc.filter((_, i) => verdicts[i].isAnomaly));
    };
    // an incident: 40 slow traces (above the 312 ms threshold) and one normal one
    const slow = Array.from({ length: 40 }, () => summary(2310));
    await store.ingestManyDetailed([...slow, summary(120)], { hold: judge });
    await store.runBaselineJob();
    const held = await kv.hgetall('anomaly:base:cart|GET /users/{id}|14|weekday');
    expect(held).toMatchObject({ p95: '156', sampleCount: '61' });
    const during = await store.check({ service: 'cart', endpoint: 'GET /users/1', epochMs: WED_14, durationMs: 2310 });
    expect(during.isAnomaly).toBe(true);
    // an hour later the change counts (a lasting shift is adopted)
    advance(3600_000);
    await store.ingestManyDetailed([summary(130)], { hold: judge });
    await store.runBaselineJob();
    expect(await kv.hgetall('anomaly:base:cart|GET /users/{id}|14|weekday')).toMatchObject({ p95: '2310', sampleCount: '102' });
  });

  it('keeps every key under the anomaly namespace', async () => {
    const { kv, store } = setup();
    await store.ingest(summary(10));
    await store.runBaselineJob();
    expect(await kv.scanKeys('anomaly:base:*')).toHaveLength(3);
    expect(await kv.scanKeys('anomaly:pool:*')).toHaveLength(5); // hours 12–16 around the one learned
    expect((await kv.scanKeys('*')).filter((k) => !k.startsWith('anomaly:'))).toEqual([]);
    expect(await store.listAvailable()).toHaveLength(3);
  });

  it('keeps its keys under an extra prefix inside the namespace when asked', async () => {
    const { kv, store } = setup({ keyPrefix: 'x:' });
    await store.ingest(summary(10));
    await store.runBaselineJob();
    expect(await kv.scanKeys('anomaly:x:base:*')).toHaveLength(3);
    expect(await kv.scanKeys('anomaly:base:*')).toHaveLength(0);
    expect(await store.listAvailable()).toHaveLength(3);
  });
});
