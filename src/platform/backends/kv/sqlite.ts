import Database from 'better-sqlite3';
import type { KvStore } from './types.js';
import { openPrivateSqlite } from '../sql/private-file.js';
import { asUnavailable } from '../unavailable.js';

type Kind = 'str' | 'list' | 'hash' | 'set';

interface KeyRow {
  type: Kind;
  value: string | null;
  expires_at: number | null;
}

/** An operation refused before it wrote anything: it fails alone, its neighbours in the batch commit. */
class RefusedError extends Error {}

class WrongTypeError extends RefusedError {
  constructor(key: string) {
    super(`WRONGTYPE operation against key "${key}" holding the wrong kind of value`);
  }
}

export interface SqliteKvOptions {
  /** File path, or ':memory:' (tests). */
  file: string;
  prefix?: string;
  now?: () => number;
  /** How often expired keys are deleted in the background (default 60 s; 0 = never, expiry stays lazy). */
  sweepEveryMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv_keys (
  key TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  value TEXT,
  expires_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_keys_expiry ON kv_keys (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS kv_hash (
  key TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (key, field)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv_list (
  key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (key, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv_set (
  key TEXT NOT NULL,
  member TEXT NOT NULL,
  PRIMARY KEY (key, member)
) WITHOUT ROWID;
`;

/** SQLite GLOB treats *, ? and [ as special; a prefix is literal. */
const globLiteral = (s: string) => s.replace(/[*?[]/g, (c) => `[${c}]`);

/**
 * The KV port on a SQLite file: the durable embedded default (what `vigil up` acknowledges survives
 * kill -9). Every key has a row in kv_keys (type, expiry; a string's value); list elements, hash fields
 * and set members have a row each, so a push to a 1000-sample window writes the new samples, not
 * the window, and a large set never rewrites itself.
 *
 * Writes issued in the same turn of the event loop share one transaction (group commit): their
 * promises resolve only after COMMIT, so an acknowledged write is in the WAL while a burst of
 * 32 concurrent set-if-absent calls costs one commit, not 32. An operation that is refused
 * (wrong type) fails before writing and alone; one that fails half-way sends the whole group to
 * be replayed one transaction per operation, so it never takes its neighbours down with it.
 */
export class SqliteKv implements KvStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly sweepTimer?: NodeJS.Timeout;
  private queue: { fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] | null = null;
  private closed = false;
  private readonly st;

  constructor(opts: SqliteKvOptions) {
    this.db = openPrivateSqlite(opts.file);
    this.db.exec(SCHEMA);
    // 32 MB of page cache (default 2 MB): the windows of the buckets being written and checked stay in memory.
    this.db.pragma('cache_size = -32000');
    this.prefix = opts.prefix ?? '';
    this.now = opts.now ?? Date.now;
    const d = this.db;
    this.st = {
      getKey: d.prepare<[string], KeyRow>('SELECT type, value, expires_at FROM kv_keys WHERE key = ?'),
      putKey: d.prepare<[string, string, string | null, number | null]>(
        'INSERT INTO kv_keys (key, type, value, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET type = excluded.type, value = excluded.value, expires_at = excluded.expires_at',
      ),
      // one statement for the hot path of de-duplication: create, or replace an expired string
      putIfAbsent: d.prepare<[string, string, number | null, number]>(
        "INSERT INTO kv_keys (key, type, value, expires_at) VALUES (?, 'str', ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at WHERE kv_keys.type = 'str' AND kv_keys.expires_at IS NOT NULL AND kv_keys.expires_at <= ?",
      ),
      setValue: d.prepare<[string | null, string]>('UPDATE kv_keys SET value = ? WHERE key = ?'),
      setExpiry: d.prepare<[number | null, string]>('UPDATE kv_keys SET expires_at = ? WHERE key = ?'),
      delKey: d.prepare<[string]>('DELETE FROM kv_keys WHERE key = ?'),
      delHash: d.prepare<[string]>('DELETE FROM kv_hash WHERE key = ?'),
      delSet: d.prepare<[string]>('DELETE FROM kv_set WHERE key = ?'),
      delList: d.prepare<[string]>('DELETE FROM kv_list WHERE key = ?'),
      listPush: d.prepare<[string, number, string]>('INSERT INTO kv_list (key, seq, value) VALUES (?, ?, ?)'),
      listTrim: d.prepare<[string, number]>('DELETE FROM kv_list WHERE key = ? AND seq < ?'),
      listFirst: d.prepare<[string]>('SELECT min(seq) FROM kv_list WHERE key = ?').pluck(),
      listRange: d.prepare<[string, number, number]>('SELECT value FROM kv_list WHERE key = ? AND seq BETWEEN ? AND ? ORDER BY seq DESC').pluck(),
      hset: d.prepare<[string, string, string]>('INSERT INTO kv_hash (key, field, value) VALUES (?, ?, ?) ON CONFLICT(key, field) DO UPDATE SET value = excluded.value'),
      hgetall: d.prepare<[string], { field: string; value: string }>('SELECT field, value FROM kv_hash WHERE key = ?'),
      sadd: d.prepare<[string, string]>('INSERT INTO kv_set (key, member) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      // the port promises no order of popped members; key order is the cheapest to read
      spopPick: d.prepare<[string, number], { member: string }>('SELECT member FROM kv_set WHERE key = ? LIMIT ?'),
      srem: d.prepare<[string, string]>('DELETE FROM kv_set WHERE key = ? AND member = ?'),
      smembers: d.prepare<[string], { member: string }>('SELECT member FROM kv_set WHERE key = ?'),
      scard: d.prepare<[string], { n: number }>('SELECT count(*) AS n FROM kv_set WHERE key = ?'),
      scan: d.prepare<[string, number, number], { key: string }>(
        'SELECT key FROM kv_keys WHERE key GLOB ? AND (expires_at IS NULL OR expires_at > ?) LIMIT ?',
      ),
      expiredBatch: d.prepare<[number], { key: string; type: Kind }>('SELECT key, type FROM kv_keys WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT 1000'),
    };
    const every = opts.sweepEveryMs ?? 60_000;
    if (every > 0) {
      this.sweepTimer = setInterval(() => void this.sweep().catch(() => {}), every);
      this.sweepTimer.unref();
    }
  }

  // ------------------------------------------------------------ transactions

  /**
   * Queue a write for the group transaction run on the next turn of the event loop, and resolve
   * once that transaction has committed. No transaction stays open across turns, so another
   * process (or another handle on the file) waits at most for one flush.
   */
  private write<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('KV store is closed'));
    if (!this.queue) {
      this.queue = [];
      setImmediate(() => this.flush());
    }
    const q = this.queue;
    return new Promise<T>((resolve, reject) => q.push({ fn, resolve: resolve as (v: unknown) => void, reject }));
  }

  /** Reads run at once, unless writes are queued: then after them, so a caller reads its own writes in order. */
  private read<T>(fn: () => T): Promise<T> {
    if (this.queue) return this.write(fn);
    if (this.closed) return Promise.reject(new Error('KV store is closed'));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private flush(): void {
    const ops = this.queue;
    this.queue = null;
    if (!ops?.length) return;
    const results: ({ ok: true; v: unknown } | { ok: false; err: unknown })[] = [];
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      // The file stayed locked by another process past busy_timeout: every operation fails as unavailable.
      for (const op of ops) op.reject(asUnavailable('SQLite KV', err));
      return;
    }
    try {
      for (const op of ops) {
        try {
          results.push({ ok: true, v: op.fn() });
        } catch (err) {
          if (!(err instanceof RefusedError)) throw err;
          results.push({ ok: false, err });
        }
      }
      this.db.exec('COMMIT');
    } catch {
      try {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
      } catch {
        // nothing more to undo; the isolated run below reports what still fails
      }
      // An operation failed half-way (or the commit did): run each alone, so only the failing ones fail.
      this.runIsolated(ops);
      return;
    }
    ops.forEach((op, i) => {
      const r = results[i];
      if (r.ok) op.resolve(r.v);
      else op.reject(r.err);
    });
  }

  private runIsolated(ops: NonNullable<SqliteKv['queue']>): void {
    for (const op of ops) {
      try {
        op.resolve(this.db.transaction(op.fn).immediate());
      } catch (err) {
        op.reject(err);
      }
    }
  }

  // ------------------------------------------------------------ key helpers

  private live(k: string): KeyRow | undefined {
    const row = this.st.getKey.get(k);
    if (row && row.expires_at !== null && row.expires_at <= this.now()) {
      // Reads see an expired key as absent; deleting it is left to writes and the sweep,
      // so a read never needs the write lock.
      return undefined;
    }
    return row;
  }

  private typed(k: string, key: string, t: Kind): KeyRow | undefined {
    const row = this.live(k);
    if (row && row.type !== t) throw new WrongTypeError(key);
    return row;
  }

  /** Remove a key and whatever it owns (before overwriting it, or when it expired). */
  private drop(k: string): boolean {
    const row = this.st.getKey.get(k);
    if (!row) return false;
    this.st.delKey.run(k);
    if (row.type === 'hash') this.st.delHash.run(k);
    if (row.type === 'set') this.st.delSet.run(k);
    if (row.type === 'list') this.st.delList.run(k);
    return true;
  }

  /** For writes: an expired key is removed first, so the write starts from nothing. */
  private liveForWrite(k: string, key: string, t: Kind): KeyRow | undefined {
    const row = this.st.getKey.get(k);
    if (row && row.expires_at !== null && row.expires_at <= this.now()) {
      this.drop(k);
      return undefined;
    }
    if (row && row.type !== t) throw new WrongTypeError(key);
    return row;
  }

  private expiryOf(ttlMs?: number): number | null {
    return ttlMs ? this.now() + ttlMs : null;
  }

  // ------------------------------------------------------------ strings and counters

  get(key: string) {
    return this.read(() => this.typed(this.prefix + key, key, 'str')?.value ?? null);
  }

  set(key: string, value: string, opts?: { ttlMs?: number }) {
    return this.write(() => {
      const k = this.prefix + key;
      this.drop(k);
      this.st.putKey.run(k, 'str', value, this.expiryOf(opts?.ttlMs));
    });
  }

  setIfAbsent(key: string, value: string, ttlMs?: number) {
    return this.write(() => {
      const k = this.prefix + key;
      const now = this.now();
      const expiresAt = this.expiryOf(ttlMs);
      if (this.st.putIfAbsent.run(k, value, expiresAt, now).changes > 0) return true;
      // present and live, or an expired hash/set/list that must take its fields with it
      const row = this.st.getKey.get(k);
      if (row && (row.expires_at === null || row.expires_at > now)) return false;
      if (row) this.drop(k);
      this.st.putKey.run(k, 'str', value, expiresAt);
      return true;
    });
  }

  del(...keys: string[]) {
    if (keys.length === 0) return Promise.resolve(0);
    return this.write(() => {
      let n = 0;
      for (const key of keys) {
        const k = this.prefix + key;
        const live = this.live(k) !== undefined;
        if (this.drop(k) && live) n++;
      }
      return n;
    });
  }

  incrBy(key: string, by = 1) {
    return this.write(() => {
      const k = this.prefix + key;
      const row = this.liveForWrite(k, key, 'str');
      const cur = row ? Number(row.value) : 0;
      if (!Number.isSafeInteger(cur) || (row && !/^-?\d+$/.test(row.value ?? ''))) throw new RefusedError(`value at "${key}" is not an integer`);
      const next = cur + by;
      if (row) this.st.setValue.run(String(next), k);
      else this.st.putKey.run(k, 'str', String(next), null);
      return next;
    });
  }

  expire(key: string, ttlMs: number) {
    return this.write(() => {
      const k = this.prefix + key;
      const row = this.st.getKey.get(k);
      if (!row) return false;
      if (row.expires_at !== null && row.expires_at <= this.now()) {
        this.drop(k);
        return false;
      }
      this.st.setExpiry.run(this.now() + ttlMs, k);
      return true;
    });
  }

  // ------------------------------------------------------------ lists

  pushTrim(key: string, values: string[], maxLen: number) {
    if (values.length === 0) return this.listLength(key);
    return this.write(() => {
      const k = this.prefix + key;
      const row = this.liveForWrite(k, key, 'list');
      let next = row ? Number(row.value) : 0;
      // LPUSH a b c leaves c first: the newest value gets the highest sequence number.
      for (const v of values) this.st.listPush.run(k, next++, v);
      if (row) this.st.setValue.run(String(next), k);
      else this.st.putKey.run(k, 'list', String(next), null);
      // Sequence numbers of a list are contiguous, so the newest maxLen are the last maxLen numbers.
      this.st.listTrim.run(k, next - Math.max(0, maxLen));
      return this.lengthOf(k, next);
    });
  }

  /** Length of a list whose next sequence number is next. */
  private lengthOf(k: string, next: number): number {
    const first = this.st.listFirst.get(k) as number | null | undefined;
    return first === null || first === undefined ? 0 : next - first;
  }

  listRange(key: string, start: number, stop: number) {
    return this.read(() => {
      const k = this.prefix + key;
      const row = this.typed(k, key, 'list');
      if (!row) return [];
      const next = Number(row.value);
      const n = this.lengthOf(k, next);
      const s = start < 0 ? Math.max(0, n + start) : start;
      const e = stop < 0 ? n + stop : Math.min(stop, n - 1);
      if (s > e) return [];
      // index i (newest first) is sequence number next - 1 - i
      return this.st.listRange.all(k, next - 1 - e, next - 1 - s) as string[];
    });
  }

  listLength(key: string) {
    return this.read(() => {
      const k = this.prefix + key;
      const row = this.typed(k, key, 'list');
      return row ? this.lengthOf(k, Number(row.value)) : 0;
    });
  }

  // ------------------------------------------------------------ hashes

  hset(key: string, fields: Record<string, string>) {
    const entries = Object.entries(fields);
    if (entries.length === 0) return Promise.resolve();
    return this.write(() => {
      const k = this.prefix + key;
      if (!this.liveForWrite(k, key, 'hash')) this.st.putKey.run(k, 'hash', null, null);
      for (const [f, v] of entries) this.st.hset.run(k, f, v);
    });
  }

  private hgetallSync(key: string): Record<string, string> | null {
    const k = this.prefix + key;
    if (!this.typed(k, key, 'hash')) return null;
    const out: Record<string, string> = {};
    for (const r of this.st.hgetall.all(k)) out[r.field] = r.value;
    return out;
  }

  hgetall(key: string) {
    return this.read(() => this.hgetallSync(key));
  }

  hgetallMany(keys: string[]) {
    return this.read(() => keys.map((k) => this.hgetallSync(k)));
  }

  // ------------------------------------------------------------ sets

  sadd(key: string, ...members: string[]) {
    if (members.length === 0) return Promise.resolve(0);
    return this.write(() => {
      const k = this.prefix + key;
      if (!this.liveForWrite(k, key, 'set')) this.st.putKey.run(k, 'set', null, null);
      let added = 0;
      for (const m of members) added += this.st.sadd.run(k, m).changes;
      return added;
    });
  }

  spop(key: string, count: number) {
    return this.write(() => {
      const k = this.prefix + key;
      if (!this.liveForWrite(k, key, 'set')) return [];
      const out = this.st.spopPick.all(k, Math.max(0, Math.floor(count))).map((r) => r.member);
      for (const m of out) this.st.srem.run(k, m);
      if (this.st.scard.get(k)!.n === 0) this.st.delKey.run(k);
      return out;
    });
  }

  smembers(key: string) {
    return this.read(() => {
      const k = this.prefix + key;
      return this.typed(k, key, 'set') ? this.st.smembers.all(k).map((r) => r.member) : [];
    });
  }

  scard(key: string) {
    return this.read(() => {
      const k = this.prefix + key;
      return this.typed(k, key, 'set') ? this.st.scard.get(k)!.n : 0;
    });
  }

  scanKeys(pattern: string, limit = Infinity) {
    return this.read(() => {
      const lim = Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : -1;
      return this.st.scan.all(globLiteral(this.prefix) + pattern, this.now(), lim).map((r) => r.key.slice(this.prefix.length));
    });
  }

  // ------------------------------------------------------------ leases

  acquireLease(name: string, owner: string, ttlMs: number) {
    return this.write(() => {
      const k = `${this.prefix}lease:${name}`;
      const cur = this.liveForWrite(k, `lease:${name}`, 'str');
      if (cur && cur.value !== owner) return false;
      this.st.putKey.run(k, 'str', owner, this.now() + ttlMs);
      return true;
    });
  }

  releaseLease(name: string, owner: string) {
    return this.write(() => {
      const k = `${this.prefix}lease:${name}`;
      const cur = this.live(k);
      if (cur?.type === 'str' && cur.value === owner) this.drop(k);
    });
  }

  // ------------------------------------------------------------ housekeeping

  /** Delete expired keys (and what they own) in bounded batches. Returns how many went. */
  async sweep(): Promise<number> {
    let total = 0;
    // at most 600 000 keys a sweep, 1000 per transaction so writers interleave
    for (let round = 0; round < 600; round++) {
      const n = await this.write(() => {
        const rows = this.st.expiredBatch.all(this.now());
        for (const r of rows) this.drop(r.key);
        return rows.length;
      });
      total += n;
      if (n < 1000) break;
    }
    return total;
  }

  async ping() {
    await this.read(() => this.db.prepare('SELECT 1').get());
  }

  async close() {
    if (this.closed) return;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.flush();
    this.closed = true;
    this.db.close();
  }
}
