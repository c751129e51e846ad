/** The demo fleet's trace generator: OTLP the receiver accepts, a daily pattern, history on first start. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJsonTraces, summarize } from '../../src/anomaly/index.js';
import { DEMO_ENDPOINTS, SeededRandom, dailyLoad, historyBatches, makeTrace, otlpJson, startTraceGenerator, type TraceGenerator } from '../../src/simulate/traces.js';
import { startAnomalyServer, type AnomalyTestServer } from './helpers.js';
import { waitFor } from '../support/wait.js';

const shape = { timeZone: 'Asia/Taipei', weekendDays: [0, 6] };

describe('demo trace model', () => {
  it('is busiest around lunch and in the evening, quiet at night', () => {
    expect(dailyLoad(12, false)).toBeGreaterThan(0.9);
    expect(dailyLoad(20, false)).toBeGreaterThan(0.6);
    expect(dailyLoad(3, false)).toBeLessThan(0.25);
    expect(dailyLoad(9, true)).toBeLessThan(dailyLoad(9, false));
  });

  it('emits OTLP/JSON the receiver decodes: one root per trace, child SERVER spans of the called services', () => {
    const rng = new SeededRandom(1);
    const checkout = DEMO_ENDPOINTS.find((e) => e.name === 'POST /checkout')!;
    const { spans } = makeTrace(rng, checkout, Date.parse('2024-01-03T05:00:00Z'), shape);
    const decoded = decodeJsonTraces(JSON.stringify(otlpJson(spans)));
    expect(decoded.rejectedSpans).toBe(0);
    expect(decoded.spans).toHaveLength(3);
    const roots = summarize(decoded.spans);
    expect(roots).toHaveLength(1);
    expect(roots[0]).toMatchObject({ service: 'checkout', endpoint: 'POST /checkout' });
    const children = summarize(decoded.spans, { serverSpans: true }).filter((s) => s.spanId);
    expect(children.map((c) => `${c.service} ${c.endpoint}`).sort()).toEqual(['inventory POST /stock/reserve', 'payments POST /payments/charge']);
    for (const c of decoded.spans) expect(c.endTimeUnixNano >= c.startTimeUnixNano).toBe(true);
  });

  it('history gives every endpoint about 60 traces per hour bucket of each day type', () => {
    const now = Date.parse('2024-01-10T04:30:00Z');
    const counts = new Map<string, number>();
    for (const batch of historyBatches(new SeededRandom(2), now, { ...shape, days: 7, perBucket: 60 })) {
      for (const s of batch) {
        if (s.parentSpanId) continue;
        expect(s.startMs).toBeLessThan(now);
        const d = new Date(s.startMs + 8 * 3600_000); // Taipei is UTC+8 without DST
        const k = `${s.service} ${s.name} ${d.getUTCHours()} ${[0, 6].includes(d.getUTCDay()) ? 'weekend' : 'weekday'}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
    expect(counts.size).toBe(DEMO_ENDPOINTS.length * 48);
    for (const [k, n] of counts) expect(n, k).toBeGreaterThanOrEqual(50);
  });
});

describe('startTraceGenerator against a server', () => {
  let t: AnomalyTestServer;
  let gen: TraceGenerator | undefined;
  beforeAll(async () => {
    t = await startAnomalyServer();
  });
  afterAll(async () => {
    await gen?.stop();
    await t?.stop();
  });

  it('sends history on first start so that every bucket has its own baseline, then live traffic', async () => {
    gen = startTraceGenerator({ serverUrl: t.url, token: t.tokens.agent, seed: 7, tickMs: 20, peakRate: 200, timeZone: 'Asia/Taipei' });
    await gen.ready;
    expect(gen.stats.failures).toBe(0);
    const historyTraces = gen.stats.traces;
    expect(historyTraces).toBeGreaterThan(20_000);
    await t.svc.runBaselineJob();
    const avail = (await (await t.call('/v1/available')).json()) as { keys: { service: string; endpoint: string; hour: number; dayType: string; p50: number; sampleCount: number }[] };
    const perEndpoint = new Map<string, number>();
    for (const k of avail.keys) {
      expect(k.sampleCount, `${k.service} ${k.endpoint} ${k.hour} ${k.dayType}`).toBeGreaterThanOrEqual(50);
      perEndpoint.set(`${k.service} ${k.endpoint}`, (perEndpoint.get(`${k.service} ${k.endpoint}`) ?? 0) + 1);
    }
    expect(perEndpoint.size).toBe(DEMO_ENDPOINTS.length);
    for (const n of perEndpoint.values()) expect(n).toBe(48);
    const p50 = (h: number) => avail.keys.find((k) => k.service === 'checkout' && k.hour === h && k.dayType === 'weekday')!.p50;
    expect(p50(13)).toBeGreaterThan(p50(3) * 1.4);

    // live traffic keeps coming
    const live = gen;
    await waitFor('live traces after the history', () => live.stats.traces > historyTraces, 10_000);
    expect(gen.stats.traces).toBeGreaterThan(historyTraces);

    // a second start finds baselines and sends no history
    await gen.stop();
    const again = startTraceGenerator({ serverUrl: t.url, token: t.tokens.agent, seed: 8, tickMs: 60_000, timeZone: 'Asia/Taipei' });
    await again.ready;
    await again.stop();
    expect(again.stats.traces).toBeLessThan(1000);
  });
});
