import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KvStore } from '../../src/platform/backends/kv/index.js';
import { kvCases } from '../support/backends.js';
import { waitFor } from '../support/wait.js';

for (const c of kvCases()) {
  describe.skipIf(!c.open)(`KV port contract: ${c.name}`, () => {
    let kv: KvStore;
    let now = 1_000_000;
    beforeAll(async () => {
      kv = await c.open!({ now: () => now });
    });

    /**
     * Let a TTL of `ttlMs` (set just now) run out, checking that `alive` holds until it does. An
     * injected clock steps to 1 ms before and then to the expiry; Redis's own clock cannot be moved,
     * so there the test waits, bounded, for the expiry to show.
     */
    async function expire(ttlMs: number, what: string, alive: () => Promise<boolean>): Promise<void> {
      if (c.engineClock) {
        await waitFor(`${what} to expire`, async () => !(await alive()), 10_000);
        return;
      }
      now += ttlMs - 1;
      expect(await alive(), `${what} 1 ms before its TTL`).toBe(true);
      now += 1;
      expect(await alive(), `${what} at its TTL`).toBe(false);
    }
    afterAll(async () => {
      await kv?.close();
    });

    it('strings, counters and set-if-absent with TTL', async () => {
      expect(await kv.get('s')).toBeNull();
      await kv.set('s', 'one');
      expect(await kv.get('s')).toBe('one');
      expect(await kv.setIfAbsent('s', 'two')).toBe(false);
      expect(await kv.get('s')).toBe('one');
      expect(await kv.setIfAbsent('nx', 'first', 80)).toBe(true);
      expect(await kv.setIfAbsent('nx', 'second', 80)).toBe(false);
      await expire(80, 'the set-if-absent key', async () => (await kv.get('nx')) !== null);
      expect(await kv.get('nx')).toBeNull();
      expect(await kv.setIfAbsent('nx', 'third', 1000)).toBe(true);
      expect(await kv.incrBy('c')).toBe(1);
      expect(await kv.incrBy('c', 41)).toBe(42);
      expect(await kv.del('s', 'c', 'missing')).toBe(2);
      expect(await kv.get('c')).toBeNull();
    });

    it('lists keep the newest maxLen values, newest first', async () => {
      expect(await kv.pushTrim('l', ['1', '2', '3'], 5)).toBe(3);
      expect(await kv.pushTrim('l', ['4', '5', '6'], 5)).toBe(5);
      expect(await kv.listRange('l', 0, -1)).toEqual(['6', '5', '4', '3', '2']);
      expect(await kv.listRange('l', 1, 2)).toEqual(['5', '4']);
      expect(await kv.listRange('l', -2, -1)).toEqual(['3', '2']);
      expect(await kv.listLength('l')).toBe(5);
      expect(await kv.listRange('none', 0, -1)).toEqual([]);
    });

    it('hashes, one and many', async () => {
      await kv.hset('h1', { p50: '10', p95: '20' });
      await kv.hset('h1', { p95: '25', mad: '3' });
      await kv.hset('h2', { a: 'b' });
      expect(await kv.hgetall('h1')).toEqual({ p50: '10', p95: '25', mad: '3' });
      expect(await kv.hgetall('nohash')).toBeNull();
      expect(await kv.hgetallMany(['h2', 'nohash', 'h1'])).toEqual([{ a: 'b' }, null, { p50: '10', p95: '25', mad: '3' }]);
    });

    it('sets pop many without repeats and without loss', async () => {
      const members = Array.from({ length: 25 }, (_, i) => `m${i}`);
      expect(await kv.sadd('set', ...members)).toBe(25);
      expect(await kv.sadd('set', 'm0', 'm1')).toBe(0);
      expect(await kv.scard('set')).toBe(25);
      const a = await kv.spop('set', 10);
      const b = await kv.spop('set', 10);
      const rest = await kv.spop('set', 10);
      expect(a).toHaveLength(10);
      expect(b).toHaveLength(10);
      expect(rest).toHaveLength(5);
      expect(new Set([...a, ...b, ...rest])).toEqual(new Set(members));
      expect(await kv.spop('set', 10)).toEqual([]);
    });

    it('scans keys by pattern', async () => {
      await kv.hset('base:a|x|1|weekday', { p50: '1' });
      await kv.hset('base:b|y|2|weekend', { p50: '2' });
      await kv.set('other', '1');
      expect((await kv.scanKeys('base:*')).sort()).toEqual(['base:a|x|1|weekday', 'base:b|y|2|weekend']);
    });

    it('a lease has one holder until it expires or is released', async () => {
      expect(await kv.acquireLease('job', 'A', 200)).toBe(true);
      expect(await kv.acquireLease('job', 'B', 200)).toBe(false);
      expect(await kv.acquireLease('job', 'A', 200)).toBe(true); // renew
      // A's lease is alive while B cannot take it; the probe that finds it expired leaves B holding it.
      await expire(200, "A's lease", async () => !(await kv.acquireLease('job', 'B', 200)));
      expect(await kv.acquireLease('job', 'B', 200)).toBe(true); // B holds (and renews) it
      await kv.releaseLease('job', 'A'); // not A's any more: no effect
      expect(await kv.acquireLease('job', 'A', 200)).toBe(false);
      await kv.releaseLease('job', 'B');
      expect(await kv.acquireLease('job', 'A', 200)).toBe(true);
    });

    it('a value of the wrong kind is an error, not silent corruption', async () => {
      await kv.set('str', 'x');
      await expect(kv.pushTrim('str', ['a'], 3)).rejects.toThrow();
    });
  });
}
