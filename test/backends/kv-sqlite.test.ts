import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openKv, SqliteKv, KV_FILE } from '../../src/platform/backends/kv/index.js';

/** What the SQLite KV adds to the contract: durability across reopen, expiry on an injected clock, file mode. */
describe('SQLite KV (the durable embedded default)', () => {
  let dir: string;
  let file: string;
  let t: number;
  const now = () => t;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-kvs-'));
    file = path.join(dir, 'kv.db');
    t = 1_000_000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('everything a resolved write stored is there after reopening the file', async () => {
    const a = new SqliteKv({ file, prefix: 'p:' });
    await Promise.all([
      a.set('s', 'v'),
      a.pushTrim('l', ['1', '2'], 10),
      a.hset('h', { f: 'x' }),
      a.sadd('set', 'm1', 'm2'),
      a.setIfAbsent('seen:abc', '1', 3600_000),
      a.incrBy('c', 7),
    ]);
    // no close(): a crash does not close either; the test reopens the same file beside it
    const b = new SqliteKv({ file, prefix: 'p:' });
    expect(await b.get('s')).toBe('v');
    expect(await b.listRange('l', 0, -1)).toEqual(['2', '1']);
    expect(await b.hgetall('h')).toEqual({ f: 'x' });
    expect((await b.smembers('set')).sort()).toEqual(['m1', 'm2']);
    expect(await b.setIfAbsent('seen:abc', '1', 3600_000)).toBe(false);
    expect(await b.get('c')).toBe('7');
    await a.close();
    await b.close();
  });

  it('a list trims its oldest values, also within one push, and deleting it removes its values', async () => {
    const kv = new SqliteKv({ file, sweepEveryMs: 0 });
    expect(await kv.pushTrim('w', ['a', 'b', 'c'], 2)).toBe(2);
    expect(await kv.listRange('w', 0, -1)).toEqual(['c', 'b']);
    expect(await kv.pushTrim('w', [], 2)).toBe(2);
    expect(await kv.listRange('w', 5, 9)).toEqual([]);
    expect(await kv.del('w')).toBe(1);
    expect(await kv.pushTrim('w', ['z'], 2)).toBe(1);
    expect(await kv.listRange('w', 0, -1)).toEqual(['z']);
    await kv.close();
  });

  it('keys expire lazily on read and are removed by the sweep', async () => {
    const kv = new SqliteKv({ file, now, sweepEveryMs: 0 });
    await kv.set('a', '1', { ttlMs: 100 });
    await kv.hset('h', { f: '1' });
    await kv.expire('h', 100);
    await kv.set('keep', '1');
    t += 99;
    expect(await kv.get('a')).toBe('1');
    t += 1;
    expect(await kv.get('a')).toBeNull();
    expect(await kv.hgetall('h')).toBeNull();
    expect(await kv.scanKeys('*')).toEqual(['keep']);
    expect(await kv.sweep()).toBe(2);
    expect(await kv.sweep()).toBe(0);
    // an expired hash does not leak its fields into a new hash of the same name
    await kv.hset('h', { g: '2' });
    expect(await kv.hgetall('h')).toEqual({ g: '2' });
    await kv.close();
  });

  it('an expired lease can be taken over; set-if-absent after expiry creates anew', async () => {
    const kv = new SqliteKv({ file, now, sweepEveryMs: 0 });
    expect(await kv.acquireLease('job', 'A', 1000)).toBe(true);
    expect(await kv.acquireLease('job', 'B', 1000)).toBe(false);
    t += 1000;
    expect(await kv.acquireLease('job', 'B', 1000)).toBe(true);
    expect(await kv.setIfAbsent('nx', '1', 10)).toBe(true);
    t += 10;
    expect(await kv.setIfAbsent('nx', '2', 10)).toBe(true);
    expect(await kv.get('nx')).toBe('2');
    await kv.close();
  });

  it('one failing write in a group commit does not undo the others', async () => {
    const kv = new SqliteKv({ file });
    await kv.set('str', 'x');
    const results = await Promise.allSettled([kv.set('a', '1'), kv.pushTrim('str', ['z'], 3), kv.sadd('s', 'm')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const again = new SqliteKv({ file });
    expect(await again.get('a')).toBe('1');
    expect(await again.get('str')).toBe('x');
    expect(await again.smembers('s')).toEqual(['m']);
    await kv.close();
    await again.close();
  });

  it('an operation failing half-way is replayed alone: the rest of its group still commits', async () => {
    const kv = new SqliteKv({ file });
    await kv.pushTrim('list', ['1'], 3);
    // corrupt the list's sequence counter behind the store's back, so pushTrim fails after it started
    const raw = new Database(file);
    raw.prepare("update kv_keys set value = 'not a number' where key = 'list'").run();
    raw.close();
    const results = await Promise.allSettled([kv.set('a', '1'), kv.pushTrim('list', ['2'], 3), kv.sadd('s', 'm')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await kv.get('a')).toBe('1');
    expect(await kv.smembers('s')).toEqual(['m']);
    await kv.close();
  });

  it('concurrent pops from two handles on one file never hand out a member twice', async () => {
    const a = new SqliteKv({ file });
    const b = new SqliteKv({ file });
    const members = Array.from({ length: 200 }, (_, i) => `m${i}`);
    await a.sadd('dirty', ...members);
    const got: string[] = [];
    for (let i = 0; i < 30; i++) {
      const [x, y] = await Promise.all([a.spop('dirty', 7), b.spop('dirty', 7)]);
      got.push(...x, ...y);
      if (x.length + y.length === 0) break;
    }
    expect(got.sort()).toEqual([...members].sort());
    await a.close();
    await b.close();
  });

  it('is the default KV, in <dataDir>/vigil-kv.db, created readable by its owner only', async () => {
    const kv = await openKv('', 'vigil:', dir);
    expect(kv.kind).toBe('sqlite');
    await kv.set('k', 'v');
    for (const f of [KV_FILE, `${KV_FILE}-wal`, `${KV_FILE}-shm`]) {
      expect((statSync(path.join(dir, f)).mode & 0o777).toString(8)).toBe('600');
    }
    await kv.close();
    const mem = await openKv('memory:', 'vigil:', dir);
    expect(mem.kind).toBe('memory');
    await mem.close();
    await expect(openKv('mysql://x', 'vigil:', dir)).rejects.toThrow(/redis\.url/);
  });
});
