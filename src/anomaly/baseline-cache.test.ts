import { describe, expect, it } from 'vitest';
import { MemoryKv } from '../platform/backends/kv/memory.js';
import { BaselineCache, checkCached } from './baseline-cache.js';
import { baselineKey } from './buckets.js';
import { DEFAULT_KEYS, DEFAULT_RULE_CONFIG, decide, type CheckInput, type HashReader } from './rule.js';
import { AnomalyStore } from './store.js';
import type { TraceSummary } from './types.js';

// Wednesday 2024-01-03 14:00 Asia/Taipei = 06:00Z
const WED_14 = Date.parse('2024-01-03T06:00:00Z');
const BUCKET = 'cart|GET /users/{id}|14|weekday';

let seq = 0;
const traces = (n: number, durationMs: number): TraceSummary[] =>
  Array.from({ length: n }, (_, i) => ({
    traceId: (++seq).toString(16).padStart(32, '0'),
    service: 'cart',
    endpoint: 'GET /users/42',
    startMs: WED_14 + i * 1000,
    durationMs,
  }));

function setup() {
  let now = Date.parse('2024-01-10T00:00:00Z');
  const clock = () => now;
  const kv = new MemoryKv({ prefix: 'test:', now: clock });
  const store = new AnomalyStore(kv, { now: clock, readCacheMs: 2000 });
  return { kv, store, clock, advance: (ms: number) => (now += ms) };
}

const check = (store: AnomalyStore, durationMs: number) => store.check({ service: 'cart', endpoint: 'GET /users/42', epochMs: WED_14 + 60_000, durationMs });

describe('AnomalyStore checks through the baseline cache', () => {
  it("a check after this replica's baseline job sees the new baseline at once, without the clock moving", async () => {
    const { store } = setup();
    await store.ingestMany(traces(60, 100));
    await store.runBaselineJob();
    // 60 × 100 ms: p50 = p95 = 100, MAD 0 → threshold max(2 × 100, 100 + 10 × 1) = 200
    const before = await check(store, 150);
    expect(before).toMatchObject({ isAnomaly: false, threshold: 200, baseline: { p95: 100, sampleCount: 60 } });

    await store.ingestMany(traces(200, 1000));
    await store.runBaselineJob();
    // 260 samples, 200 of them 1000 ms: p50 = p95 = 1000 → threshold 2000
    const after = await check(store, 150);
    expect(after).toMatchObject({ isAnomaly: false, threshold: 2000, baseline: { p50: 1000, p95: 1000, sampleCount: 260 } });
    expect((await check(store, 2500)).isAnomaly).toBe(true);
  });

  it("another replica's rewrite is seen once the entry expires on the injected clock (readCacheMs), not before", async () => {
    const { kv, store, advance } = setup();
    await store.ingestMany(traces(60, 100));
    await store.runBaselineJob();
    expect((await check(store, 150)).baseline?.p95).toBe(100);
    // what another replica's job writes: this process is not told
    await kv.hset(store.keys.base(BUCKET), { p50: '400', p95: '500', mad: '20', sampleCount: '80', updatedAt: String(Date.parse('2024-01-10T00:00:00Z')) });
    expect((await check(store, 150)).baseline?.p95).toBe(100);
    advance(1999);
    expect((await check(store, 150)).baseline?.p95).toBe(100);
    advance(1);
    expect(await check(store, 150)).toMatchObject({ baseline: { p50: 400, p95: 500, mad: 20, sampleCount: 80 }, threshold: 1000 });
  });

  it('answers every duration exactly as the uncached rule does, the baseline age included', async () => {
    const { kv, store, advance, clock } = setup();
    const uncached = new AnomalyStore(kv, { now: clock });
    await store.ingestMany([...traces(40, 80), ...traces(30, 120), ...traces(5, 700)]);
    await store.runBaselineJob();
    await check(store, 1); // fills the cache
    advance(1500); // still cached: the age must still be measured now
    for (const d of [0, 0.004, 3.25, 80, 119.5, 240, 241, 900, 2310]) {
      expect(await check(store, d)).toEqual(await check(uncached, d));
    }
    expect((await check(store, 1)).baselineAgeMs).toBe(1500);
  });
});

describe('checkCached', () => {
  const config = DEFAULT_RULE_CONFIG;
  const input: CheckInput = { service: 'cart', endpoint: 'GET /x', epochMs: WED_14, durationMs: 300 };
  const hashes = new Map<string, Record<string, string>>([
    [DEFAULT_KEYS.base(baselineKey('cart', 'GET /x', 14, 'weekday')), { p50: '100', p95: '120', mad: '5', sampleCount: '90', updatedAt: '1000' }],
  ]);

  function countingReader() {
    const calls: string[][] = [];
    const read: HashReader = async (keys) => {
      calls.push(keys);
      return keys.map((k) => hashes.get(k) ?? null);
    };
    return { read, calls };
  }

  it('reads a bucket once per ttl and gives the same verdict as decide', async () => {
    let now = 10_000;
    const cache = new BaselineCache({ ttlMs: 100, now: () => now });
    const { read, calls } = countingReader();
    const opts = { config, keys: DEFAULT_KEYS, normalize: (e: string) => e, read, now: () => now };
    const direct = await decide(input, read, config, { now: () => now });
    calls.length = 0;
    expect(await checkCached(cache, input, opts)).toEqual(direct);
    expect(await checkCached(cache, { ...input, durationMs: 50 }, opts)).toEqual(await decide({ ...input, durationMs: 50 }, read, config, { now: () => now }));
    calls.length = 0;
    expect(await checkCached(cache, input, opts)).toEqual(direct);
    expect(calls).toHaveLength(0);
    now += 100;
    await checkCached(cache, input, opts);
    expect(calls).toHaveLength(1);
  });

  it('does not keep what a read returned when the cache was invalidated while it was in flight', async () => {
    const cache = new BaselineCache({ ttlMs: 60_000, now: () => 0 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { read, calls } = countingReader();
    const slowRead: HashReader = async (keys) => {
      await gate;
      return read(keys);
    };
    const opts = { config, keys: DEFAULT_KEYS, normalize: (e: string) => e, read: slowRead, now: () => 0 };
    const pending = checkCached(cache, input, opts);
    cache.invalidate(); // the baseline job rewrote hashes while the read was in flight
    release();
    await pending;
    expect(cache.size).toBe(0);
    await checkCached(cache, input, opts);
    expect(calls).toHaveLength(2);
    expect(cache.size).toBe(1);
  });

  it('holds at most maxEntries buckets, then starts over', async () => {
    const cache = new BaselineCache({ ttlMs: 60_000, maxEntries: 2, now: () => 0 });
    const { read } = countingReader();
    const opts = { config, keys: DEFAULT_KEYS, normalize: (e: string) => e, read, now: () => 0 };
    for (const hour of [1, 2, 3]) await checkCached(cache, { ...input, hour, dayType: 'weekday' }, opts);
    expect(cache.size).toBe(1);
    expect(cache.get('cart', 'GET /x', { hour: 3, dayType: 'weekday' })).toBeDefined();
    expect(cache.get('cart', 'GET /x', { hour: 1, dayType: 'weekday' })).toBeUndefined();
  });

  it('refuses a ttl that is not positive', () => {
    expect(() => new BaselineCache({ ttlMs: 0 })).toThrow(RangeError);
  });
});
