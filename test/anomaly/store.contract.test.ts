/**
 * AnomalyStore over the KV port: one contract suite, run on the in-process store and on Redis
 * (VIGIL_TEST_REDIS_URL), so the embedded default cannot drift from the production engine.
 */
import { describe, expect, it } from 'vitest';
import { AnomalyStore, type TraceSummary } from '../../src/anomaly/index.js';
import { kvCases } from '../support/backends.js';
import { WED_14_TAIPEI, traceId } from './helpers.js';
import { waitFor } from '../support/wait.js';
import { kvPerTest } from '../support/kv-per-test.js';

const SAT_03_TAIPEI = Date.parse('2024-01-05T19:00:00Z');
const KEY = 'cart|GET /users/{id}|14|weekday';

const summary = (durationMs: number, over: Partial<TraceSummary> = {}): TraceSummary => ({
  traceId: traceId(),
  service: 'cart',
  endpoint: 'GET /users/42',
  startMs: WED_14_TAIPEI + 60_000,
  durationMs,
  ...over,
});

for (const c of kvCases()) {
  describe.skipIf(!c.open)(`AnomalyStore contract (${c.name})`, () => {
    const open = kvPerTest(c);

    it('ingests into the bucket window newest first, trimmed to windowSize, and marks the bucket dirty', async () => {
      const kv = await open();
      const store = new AnomalyStore(kv, { windowSize: 5 });
      const list = Array.from({ length: 8 }, (_, i) => summary(i + 1, { startMs: WED_14_TAIPEI + i * 1000 }));
      expect(await store.ingestMany(list)).toEqual({ ingested: 8, duplicates: 0, invalid: 0 });
      expect(await kv.listRange(`anomaly:dur:${KEY}`, 0, -1)).toEqual(['8', '7', '6', '5', '4']);
      expect(await kv.smembers('anomaly:dirtyKeys')).toEqual([KEY]);
    });

    it('de-duplicates by trace id (case-insensitive) and by span for span-level summaries', async () => {
      const kv = await open();
      const store = new AnomalyStore(kv);
      const s = summary(10);
      expect(await store.ingest(s)).toBe('ingested');
      expect(await store.ingest({ ...s, traceId: s.traceId.toUpperCase() })).toBe('duplicate');
      expect(await store.ingest({ ...s, spanId: 'aaaaaaaaaaaaaaaa' })).toBe('ingested');
      expect(await store.ingest({ ...s, spanId: 'AAAAAAAAAAAAAAAA' })).toBe('duplicate');
      const d = await store.ingestManyDetailed([s, summary(5), summary(-1)]);
      expect(d).toMatchObject({ ingested: 1, duplicates: 1, invalid: 1 });
      expect(d.accepted.map((x) => x.durationMs)).toEqual([5]);
    });

    it('forgets a trace id after seenTtl', async () => {
      const kv = await open();
      const store = new AnomalyStore(kv, { seenTtlMs: 150 });
      const s = summary(10);
      expect(await store.ingest(s)).toBe('ingested');
      expect(await store.ingest(s)).toBe('duplicate');
      // The KV's own clock expires the id (Redis keeps TTLs server-side), so this waits in real time, bounded.
      await waitFor('the trace id to be forgotten', async () => (await store.ingest(s)) === 'ingested', 5_000, 50);
    });

    it('recomputes dirty buckets in bounded batches into base hashes and aggregates', async () => {
      const kv = await open();
      const store = new AnomalyStore(kv);
      await store.ingestMany(Array.from({ length: 100 }, (_, i) => summary(i + 1)));
      await store.ingestMany(Array.from({ length: 10 }, () => summary(1000, { startMs: SAT_03_TAIPEI })));
      for (let h = 1; h <= 3; h++) await store.ingest(summary(7, { startMs: WED_14_TAIPEI + h * 3600_000 }));
      expect(await store.pendingDirty()).toBe(5);
      const first = await store.recomputeDirty(2);
      expect(first).toMatchObject({ keys: 2, remaining: 3, failed: 0 });
      const rest = await store.runBaselineJob({ batchSize: 2 });
      expect(rest).toMatchObject({ keys: 3, remaining: 0, failed: 0 });
      // 1..100: median 50.5, p95 (nearest rank 95) 95, MAD 25
      expect(await store.getBaseline('cart', 'GET /users/9', 14, 'weekday')).toMatchObject({ p50: 50.5, p95: 95, mad: 25, sampleCount: 100 });
      expect(await store.getBaseline('cart', 'GET /users/9', 3, 'weekend')).toMatchObject({ p50: 1000, sampleCount: 10 });
      expect(await store.getBaseline('cart', 'GET /users/9', '*', 'weekday')).toMatchObject({ sampleCount: 103 });
      expect(await store.getBaseline('cart', 'GET /users/9', '*', '*')).toMatchObject({ sampleCount: 113 });
      expect(await store.getBaseline('cart', 'GET /users/9', 9, 'weekday')).toBeNull();
      const hours = (await store.listAvailable()).map((b) => `${b.hour}|${b.dayType}`);
      expect(hours).toEqual(['14|weekday', '15|weekday', '16|weekday', '17|weekday', '*|weekday', '3|weekend', '*|weekend', '*|*']);
    });

    it('checks with the fallback chain and explains unknown services instead of failing', async () => {
      const kv = await open();
      const store = new AnomalyStore(kv);
      // 60 traces 100..159 ms: p50 129.5, p95 156, MAD 15 → threshold max(312, 279.5) = 312
      await store.ingestMany(Array.from({ length: 60 }, (_, i) => summary(100 + i)));
      await store.runBaselineJob();
      const at = { service: 'cart', endpoint: 'GET /users/1', epochMs: WED_14_TAIPEI + 1800_000 };
      expect(await store.check({ ...at, durationMs: 400 })).toMatchObject({ isAnomaly: true, threshold: 312, fallbackLevel: 'exact' });
      expect(await store.check({ ...at, durationMs: 300 })).toMatchObject({ isAnomaly: false, fallbackLevel: 'exact' });
      // 16:00 has no bucket of its own: hours 14–18 pooled (60 samples ≥ 20)
      expect(await store.check({ ...at, epochMs: WED_14_TAIPEI + 2 * 3600_000, durationMs: 400 })).toMatchObject({ fallbackLevel: 'neighbours' });
      // 22:00 weekday: the weekday aggregate
      expect(await store.check({ ...at, epochMs: WED_14_TAIPEI + 8 * 3600_000, durationMs: 400 })).toMatchObject({ fallbackLevel: 'dayType' });
      // a weekend hour: the overall aggregate
      expect(await store.check({ ...at, epochMs: SAT_03_TAIPEI, durationMs: 400 })).toMatchObject({ fallbackLevel: 'all' });
      const ghost = await store.check({ ...at, service: 'ghost', durationMs: 400 });
      expect(ghost).toMatchObject({ isAnomaly: false, cannotDetermine: true, fallbackLevel: 'none' });
      expect(ghost.explanation).toContain('no traces have been seen for service "ghost"');
      const otherEndpoint = await store.check({ ...at, endpoint: 'GET /orders', durationMs: 400 });
      expect(otherEndpoint.explanation).toContain('none for "GET /orders"');
    });

    it('keeps two stores with different prefixes apart', async () => {
      const kv = await open();
      const a = new AnomalyStore(kv, { keyPrefix: 'a:' });
      const b = new AnomalyStore(kv, { keyPrefix: 'b:' });
      await a.ingestMany(Array.from({ length: 3 }, () => summary(10)));
      await a.runBaselineJob();
      expect(await a.listAvailable()).toHaveLength(3);
      expect(await b.listAvailable()).toHaveLength(0);
      expect(await b.pendingDirty()).toBe(0);
    });
  });
}
