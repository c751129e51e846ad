import type { KvStore } from './types.js';

type Value =
  | { t: 'str'; v: string }
  | { t: 'list'; v: string[] }
  | { t: 'hash'; v: Map<string, string> }
  | { t: 'set'; v: Set<string> };

interface Entry {
  value: Value;
  expiresAt?: number;
}

class WrongTypeError extends Error {
  constructor(key: string) {
    super(`WRONGTYPE operation against key "${key}" holding the wrong kind of value`);
  }
}

/**
 * In-process KV with Redis semantics for the operations of the port. Single-process only:
 * leases here elect a leader among jobs of one process (replicas need Redis or the SQL lease).
 */
export class MemoryKv implements KvStore {
  readonly kind = 'memory' as const;
  private readonly data = new Map<string, Entry>();
  private readonly prefix: string;

  constructor(opts: { prefix?: string; now?: () => number } = {}) {
    this.prefix = opts.prefix ?? '';
    if (opts.now) this.now = opts.now;
  }

  private now = () => Date.now();

  private live(key: string): Entry | undefined {
    const k = this.prefix + key;
    const e = this.data.get(k);
    if (e?.expiresAt !== undefined && e.expiresAt <= this.now()) {
      this.data.delete(k);
      return undefined;
    }
    return e;
  }

  private typed<T extends Value['t']>(key: string, t: T): Extract<Value, { t: T }> | undefined {
    const e = this.live(key);
    if (!e) return undefined;
    if (e.value.t !== t) throw new WrongTypeError(key);
    return e.value as Extract<Value, { t: T }>;
  }

  private create<T extends Value>(key: string, value: T): T {
    this.data.set(this.prefix + key, { value });
    return value;
  }

  async get(key: string) {
    return this.typed(key, 'str')?.v ?? null;
  }

  async set(key: string, value: string, opts?: { ttlMs?: number }) {
    this.data.set(this.prefix + key, {
      value: { t: 'str', v: value },
      expiresAt: opts?.ttlMs ? this.now() + opts.ttlMs : undefined,
    });
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number) {
    if (this.live(key)) return false;
    await this.set(key, value, { ttlMs });
    return true;
  }

  async del(...keys: string[]) {
    let n = 0;
    for (const k of keys) if (this.live(k) && this.data.delete(this.prefix + k)) n++;
    return n;
  }

  async incrBy(key: string, by = 1) {
    const e = this.live(key);
    if (e && e.value.t !== 'str') throw new WrongTypeError(key);
    const cur = e ? Number((e.value as { v: string }).v) : 0;
    if (!Number.isInteger(cur)) throw new Error(`value at "${key}" is not an integer`);
    const next = cur + by;
    if (e) (e.value as { v: string }).v = String(next);
    else this.create(key, { t: 'str', v: String(next) });
    return next;
  }

  async expire(key: string, ttlMs: number) {
    const e = this.live(key);
    if (!e) return false;
    e.expiresAt = this.now() + ttlMs;
    return true;
  }

  async pushTrim(key: string, values: string[], maxLen: number) {
    const list = this.typed(key, 'list') ?? this.create(key, { t: 'list', v: [] });
    // LPUSH a b c leaves c first: newest first.
    for (const v of values) list.v.unshift(v);
    if (list.v.length > maxLen) list.v.length = maxLen;
    return list.v.length;
  }

  async listRange(key: string, start: number, stop: number) {
    const list = this.typed(key, 'list')?.v ?? [];
    const n = list.length;
    const s = start < 0 ? Math.max(0, n + start) : start;
    const e = stop < 0 ? n + stop : Math.min(stop, n - 1);
    return s > e ? [] : list.slice(s, e + 1);
  }

  async listLength(key: string) {
    return this.typed(key, 'list')?.v.length ?? 0;
  }

  async hset(key: string, fields: Record<string, string>) {
    const h = this.typed(key, 'hash') ?? this.create(key, { t: 'hash', v: new Map() });
    for (const [f, v] of Object.entries(fields)) h.v.set(f, v);
  }

  async hgetall(key: string) {
    const h = this.typed(key, 'hash');
    return h ? Object.fromEntries(h.v) : null;
  }

  async hgetallMany(keys: string[]) {
    return Promise.all(keys.map((k) => this.hgetall(k)));
  }

  async sadd(key: string, ...members: string[]) {
    const s = this.typed(key, 'set') ?? this.create(key, { t: 'set', v: new Set() });
    let added = 0;
    for (const m of members) {
      if (!s.v.has(m)) {
        s.v.add(m);
        added++;
      }
    }
    return added;
  }

  async spop(key: string, count: number) {
    const s = this.typed(key, 'set');
    if (!s) return [];
    const out: string[] = [];
    for (const m of s.v) {
      if (out.length >= count) break;
      out.push(m);
    }
    for (const m of out) s.v.delete(m);
    if (s.v.size === 0) this.data.delete(this.prefix + key);
    return out;
  }

  async smembers(key: string) {
    return [...(this.typed(key, 'set')?.v ?? [])];
  }

  async scard(key: string) {
    return this.typed(key, 'set')?.v.size ?? 0;
  }

  async scanKeys(pattern: string, limit = Infinity) {
    const re = globToRegExp(pattern);
    const out: string[] = [];
    for (const full of [...this.data.keys()]) {
      if (!full.startsWith(this.prefix)) continue;
      const k = full.slice(this.prefix.length);
      if (re.test(k) && this.live(k)) out.push(k);
      if (out.length >= limit) break;
    }
    return out;
  }

  async acquireLease(name: string, owner: string, ttlMs: number) {
    const key = `lease:${name}`;
    const cur = await this.get(key);
    if (cur !== null && cur !== owner) return false;
    await this.set(key, owner, { ttlMs });
    return true;
  }

  async releaseLease(name: string, owner: string) {
    const key = `lease:${name}`;
    if ((await this.get(key)) === owner) await this.del(key);
  }

  async ping() {}

  async close() {
    this.data.clear();
  }
}

export function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${esc}$`);
}
