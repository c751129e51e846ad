/**
 * Keys written before the anomaly module had a KV namespace are moved under `anomaly:` on start, on
 * every KV backend (memory, the SQLite KV, Redis when configured): the store serves them afterwards,
 * nothing of the module is left outside the namespace, and the move survives a crash halfway and a
 * second replica starting at the same time.
 */
import { describe, expect, it } from 'vitest';
import { AnomalyKeyMigration, MIGRATION_MARKER, AnomalyStore } from '../../src/anomaly/index.js';
import { BUCKETS_MARKER, MIGRATION_LEASE } from '../../src/anomaly/key-migration.js';
import type { KvStore } from '../../src/platform/backends/kv/types.js';
import { kvCases } from '../support/backends.js';
import { WED_14_TAIPEI } from './helpers.js';
import { kvPerTest } from '../support/kv-per-test.js';

const BUCKET = 'cart|GET /users/{id}|14|weekday';
const HOUR_AGG = 'cart|GET /users/{id}|*|weekday';
const ALL_AGG = 'cart|GET /users/{id}|*|*';
const SEEN = 'aaaabbbbccccddddeeeeffff00001111';
const TTL = 3600_000;
/** 60 durations 100..159 ms, newest first as the window keeps them: p50 129.5, p95 156, MAD 15 → threshold 312. */
const WINDOW = Array.from({ length: 60 }, (_, i) => String(159 - i));
const HASH = { p50: '129.5', p95: '156', mad: '15', sampleCount: '60', updatedAt: '1704261600000' };

/** The keys the version before the namespace wrote, with its names and value shapes. */
async function writeLegacyLayout(kv: KvStore, extraSeen = 0): Promise<void> {
  await kv.pushTrim(`dur:${BUCKET}`, [...WINDOW].reverse(), 1000);
  await kv.sadd('dirtyKeys', BUCKET);
  await kv.setIfAbsent(`seen:${SEEN}`, '1', TTL);
  for (let i = 0; i < extraSeen; i++) await kv.setIfAbsent(`seen:${i.toString(16).padStart(32, '0')}`, '1', TTL);
  for (const k of [BUCKET, HOUR_AGG, ALL_AGG]) await kv.hset(`base:${k}`, HASH);
  await kv.hset(`pool:${BUCKET}`, HASH);
  await kv.hset('svcidx:cart', { 'GET /users/{id}': '60' });
  await kv.sadd('baseKeys', ...[BUCKET, HOUR_AGG, ALL_AGG].map((k) => `base:${k}`));
}

const PORT = [
  'get', 'set', 'setIfAbsent', 'del', 'incrBy', 'expire', 'pushTrim', 'listRange', 'listLength', 'hset', 'hgetall',
  'hgetallMany', 'sadd', 'spop', 'smembers', 'scard', 'scanKeys', 'acquireLease', 'releaseLease', 'ping', 'close',
] as const satisfies readonly (keyof KvStore)[];

/** The same KV with some operations replaced (a spy, or a crash). */
function wrapKv(kv: KvStore, over: Partial<KvStore>): KvStore {
  const w: Record<string, unknown> = { kind: kv.kind };
  for (const name of PORT) w[name] = (kv[name] as (...a: unknown[]) => unknown).bind(kv);
  return Object.assign(w, over) as unknown as KvStore;
}

const outsideNamespace = async (kv: KvStore) => (await kv.scanKeys('*')).filter((k) => !k.startsWith('anomaly:'));

const AT = { service: 'cart', endpoint: 'GET /users/7', epochMs: WED_14_TAIPEI + 1800_000 };

for (const c of kvCases()) {
  describe.skipIf(!c.open)(`anomaly key migration (${c.name})`, () => {
    const open = kvPerTest(c);

    it('serves the old keys after the move and leaves none outside the namespace', async () => {
      const kv = await open();
      await writeLegacyLayout(kv);
      const migration = new AnomalyKeyMigration(kv, { seenTtlMs: TTL });
      const store = new AnomalyStore(migration.gate(), { seenTtlMs: TTL });

      // the first operation waits for the buckets to move
      expect(await store.check({ ...AT, durationMs: 400 })).toMatchObject({ isAnomaly: true, threshold: 312, fallbackLevel: 'exact' });
      expect(await migration.run()).toMatchObject({ ran: true, moved: 9, dropped: 0 });
      expect(await outsideNamespace(kv)).toEqual([]);
      expect(await kv.listRange(`anomaly:dur:${BUCKET}`, 0, -1)).toEqual(WINDOW);
      expect(await store.check({ ...AT, endpoint: 'GET /orders', durationMs: 1 })).toMatchObject({ cannotDetermine: true });
      expect((await store.check({ ...AT, endpoint: 'GET /orders', durationMs: 1 })).explanation).toContain('none for "GET /orders"');
      expect((await store.listAvailable()).map((b) => `${b.hour}|${b.dayType}`)).toEqual(['14|weekday', '*|weekday', '*|*']);
      // the remembered trace id still de-duplicates
      const summary = { traceId: SEEN.toUpperCase(), service: 'cart', endpoint: 'GET /users/1', startMs: WED_14_TAIPEI, durationMs: 120 };
      expect(await store.ingest(summary)).toBe('duplicate');
      // the dirty bucket is still dirty, and its window is what the baseline job reads
      expect(await store.pendingDirty()).toBe(1);
      await store.runBaselineJob();
      expect(await store.getBaseline('cart', 'GET /users/1', 14, 'weekday')).toMatchObject({ p50: 129.5, p95: 156, mad: 15, sampleCount: 60 });
      expect(await outsideNamespace(kv)).toEqual([]);
      expect(await kv.get(MIGRATION_MARKER)).not.toBeNull();
    });

    it('moves a large key set in batches of at most batchSize', async () => {
      const kv = await open();
      await writeLegacyLayout(kv, 120);
      const limits: (number | undefined)[] = [];
      const spy = wrapKv(kv, { scanKeys: (pattern: string, limit?: number) => (limits.push(limit), kv.scanKeys(pattern, limit)) });
      const r = await new AnomalyKeyMigration(spy, { seenTtlMs: TTL, batchSize: 25 }).run();
      expect(r).toMatchObject({ ran: true, moved: 8 + 121, dropped: 0 });
      expect(limits.every((l) => l === 25)).toBe(true);
      expect(limits.length).toBeGreaterThanOrEqual(Math.ceil(121 / 25) + 7);
      expect(await kv.scanKeys('anomaly:seen:*')).toHaveLength(121);
      expect(await outsideNamespace(kv)).toEqual([]);
    });

    it('finishes after a crash halfway without duplicating a sample, and only once', async () => {
      const kv = await open();
      await writeLegacyLayout(kv);
      // the process dies after copying the windows, before deleting the old ones
      const crashing = wrapKv(kv, {
        del: (...keys: string[]) => (keys.some((k) => k.startsWith('dur:')) ? Promise.reject(new Error('killed')) : kv.del(...keys)),
      });
      await expect(new AnomalyKeyMigration(crashing, { seenTtlMs: TTL }).run()).rejects.toThrow('killed');
      expect(await kv.get(MIGRATION_MARKER)).toBeNull();
      expect(await kv.listLength(`dur:${BUCKET}`)).toBe(WINDOW.length);
      await new AnomalyKeyMigration(kv, { seenTtlMs: TTL }).run();
      expect(await kv.listRange(`anomaly:dur:${BUCKET}`, 0, -1)).toEqual(WINDOW);
      expect(await kv.hgetall(`anomaly:base:${BUCKET}`)).toEqual(HASH);
      expect(await outsideNamespace(kv)).toEqual([]);
      // once done, a restart does nothing (an old key reappearing is not touched)
      await kv.sadd('dirtyKeys', 'other|GET /|1|weekday');
      expect(await new AnomalyKeyMigration(kv, { seenTtlMs: TTL }).run()).toEqual({ ran: false, moved: 0, dropped: 0 });
      expect(await kv.smembers('dirtyKeys')).toEqual(['other|GET /|1|weekday']);
    });

    it('a window copied by a run that died before deleting it is kept, not appended again', async () => {
      const kv = await open();
      await writeLegacyLayout(kv);
      await kv.pushTrim(`anomaly:dur:${BUCKET}`, [...WINDOW].reverse(), 1000);
      await new AnomalyKeyMigration(kv, { seenTtlMs: TTL }).run();
      expect(await kv.listRange(`anomaly:dur:${BUCKET}`, 0, -1)).toEqual(WINDOW);
    });

    it('two replicas starting at once: one moves the keys, the other waits for it, nothing is copied twice', async () => {
      const kv = await open();
      await writeLegacyLayout(kv, 40);
      const yieldOnce = () => new Promise<void>((r) => setImmediate(r));
      const a = new AnomalyKeyMigration(kv, { seenTtlMs: TTL, batchSize: 10, owner: 'a', sleep: yieldOnce });
      const b = new AnomalyKeyMigration(kv, { seenTtlMs: TTL, batchSize: 10, owner: 'b', sleep: yieldOnce });
      const storeB = new AnomalyStore(b.gate(), { seenTtlMs: TTL });
      const [ra, rb, verdict] = await Promise.all([a.run(), b.run(), storeB.check({ ...AT, durationMs: 400 })]);
      expect([ra.ran, rb.ran].filter(Boolean)).toHaveLength(1);
      expect(ra.moved + rb.moved).toBe(8 + 41);
      expect(verdict).toMatchObject({ threshold: 312, fallbackLevel: 'exact' });
      expect(await kv.listRange(`anomaly:dur:${BUCKET}`, 0, -1)).toEqual(WINDOW);
      expect(await outsideNamespace(kv)).toEqual([]);
    });

    it('while another replica is still moving the ids, an id remembered under its old name is still a duplicate', async () => {
      const kv = await open();
      await kv.acquireLease(MIGRATION_LEASE, 'other replica', 60_000);
      await kv.set(BUCKETS_MARKER, 'moved');
      await kv.setIfAbsent(`seen:${SEEN}`, '1', TTL);
      const untilStopped = (_ms: number, signal: AbortSignal) => new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      const migration = new AnomalyKeyMigration(kv, { seenTtlMs: TTL, sleep: untilStopped });
      const run = migration.run();
      const store = new AnomalyStore(migration.gate(), { seenTtlMs: TTL });
      const summary = { traceId: SEEN, service: 'cart', endpoint: 'GET /users/1', startMs: WED_14_TAIPEI, durationMs: 120 };
      expect(await store.ingest(summary)).toBe('duplicate');
      expect(await store.ingest({ ...summary, traceId: 'f'.repeat(32) })).toBe('ingested');
      // forgetting an id (a failed store) forgets both names, so a retry is learned
      await migration.gate().del(`anomaly:seen:${SEEN}`);
      expect(await kv.get(`seen:${SEEN}`)).toBeNull();
      expect(await store.ingest(summary)).toBe('ingested');
      migration.stop();
      await expect(run).rejects.toThrow('stopped');
    });

    it('drops an old key that can never be read when told so, and stops otherwise', async () => {
      const kv = await open();
      await kv.set(`dur:${BUCKET}`, 'not a list');
      await kv.sadd('dirtyKeys', BUCKET);
      await expect(new AnomalyKeyMigration(kv, { seenTtlMs: TTL }).run()).rejects.toThrow(/WRONGTYPE/);
      const r = await new AnomalyKeyMigration(kv, { seenTtlMs: TTL, isPermanentError: () => true }).run();
      expect(r).toMatchObject({ ran: true, dropped: 1 });
      expect(await outsideNamespace(kv)).toEqual([]);
    });
  });
}
