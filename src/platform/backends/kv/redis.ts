import { Redis } from 'ioredis';
import type { KvStore } from './types.js';
import { asUnavailable } from '../unavailable.js';

const ACQUIRE_LEASE = `
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const PORT_OPERATIONS = [
  'get', 'set', 'setIfAbsent', 'del', 'incrBy', 'expire', 'pushTrim', 'listRange', 'listLength', 'hset', 'hgetall',
  'hgetallMany', 'sadd', 'spop', 'smembers', 'scard', 'scanKeys', 'acquireLease', 'releaseLease', 'ping',
] as const satisfies readonly (keyof KvStore)[];

/** The KV port on Redis. Every key carries the configured prefix (ioredis keyPrefix). */
export class RedisKv implements KvStore {
  readonly kind = 'redis' as const;
  readonly client: Redis;
  private readonly prefix: string;

  constructor(url: string, opts: { prefix?: string; commandTimeoutMs?: number } = {}) {
    this.prefix = opts.prefix ?? 'vigil:';
    this.client = new Redis(url, {
      keyPrefix: this.prefix,
      lazyConnect: true,
      // During an outage a request fails at once (503 + Retry-After) instead of queueing until
      // Redis returns: no offline queue, commands in flight when the link dropped give up after
      // one reconnect attempt, and a link that stops answering times out.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: opts.commandTimeoutMs ?? 3000,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    // Connection errors surface through the failing command and /readyz; an unhandled 'error' event would crash.
    this.client.on('error', () => {});
    this.client.defineCommand('vigilAcquireLease', { numberOfKeys: 1, lua: ACQUIRE_LEASE });
    this.client.defineCommand('vigilReleaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE });
    // Every port operation reports a lost link as BackendUnavailableError, the one error callers and the HTTP layer know.
    for (const name of PORT_OPERATIONS) {
      const op = this[name] as (...args: unknown[]) => Promise<unknown>;
      (this as unknown as Record<string, unknown>)[name] = (...args: unknown[]) =>
        op.apply(this, args).catch((err: unknown) => {
          throw asUnavailable('Redis', err);
        });
    }
  }

  async connect() {
    await this.client.connect();
    return this;
  }

  async get(key: string) {
    return this.client.get(key);
  }

  async set(key: string, value: string, opts?: { ttlMs?: number }) {
    if (opts?.ttlMs) await this.client.set(key, value, 'PX', opts.ttlMs);
    else await this.client.set(key, value);
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number) {
    const r = ttlMs ? await this.client.set(key, value, 'PX', ttlMs, 'NX') : await this.client.set(key, value, 'NX');
    return r === 'OK';
  }

  async del(...keys: string[]) {
    return keys.length ? this.client.del(...keys) : 0;
  }

  async incrBy(key: string, by = 1) {
    return this.client.incrby(key, by);
  }

  async expire(key: string, ttlMs: number) {
    return (await this.client.pexpire(key, ttlMs)) === 1;
  }

  async pushTrim(key: string, values: string[], maxLen: number) {
    if (values.length === 0) return this.client.llen(key);
    const res = (await this.client.multi().lpush(key, ...values).ltrim(key, 0, maxLen - 1).llen(key).exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    return Number(res[2]?.[1] ?? 0);
  }

  async listRange(key: string, start: number, stop: number) {
    return this.client.lrange(key, start, stop);
  }

  async listLength(key: string) {
    return this.client.llen(key);
  }

  async hset(key: string, fields: Record<string, string>) {
    if (Object.keys(fields).length) await this.client.hset(key, fields);
  }

  async hgetall(key: string) {
    const h = await this.client.hgetall(key);
    return Object.keys(h).length ? h : null;
  }

  async hgetallMany(keys: string[]) {
    if (keys.length === 0) return [];
    const p = this.client.pipeline();
    for (const k of keys) p.hgetall(k);
    const res = (await p.exec()) ?? [];
    return res.map(([err, h]) => {
      if (err) throw err;
      const obj = h as Record<string, string>;
      return Object.keys(obj).length ? obj : null;
    });
  }

  async sadd(key: string, ...members: string[]) {
    return members.length ? this.client.sadd(key, ...members) : 0;
  }

  async spop(key: string, count: number) {
    return (await this.client.spop(key, count)) ?? [];
  }

  async smembers(key: string) {
    return this.client.smembers(key);
  }

  async scard(key: string) {
    return this.client.scard(key);
  }

  async scanKeys(pattern: string, limit = Infinity) {
    // SCAN does not apply keyPrefix to MATCH, and returns prefixed keys.
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', this.prefix + pattern, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        out.push(k.slice(this.prefix.length));
        if (out.length >= limit) return out;
      }
    } while (cursor !== '0');
    return out;
  }

  async acquireLease(name: string, owner: string, ttlMs: number) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const r = await (this.client as any).vigilAcquireLease(`lease:${name}`, owner, String(ttlMs));
    return Number(r) === 1;
  }

  async releaseLease(name: string, owner: string) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await (this.client as any).vigilReleaseLease(`lease:${name}`, owner);
  }

  async ping() {
    await this.client.ping();
  }

  async close() {
    this.client.disconnect();
  }
}
