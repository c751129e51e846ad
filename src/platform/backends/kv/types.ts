/**
 * The KV port: a small subset of Redis semantics that both the in-process store and Redis implement
 * identically. One contract suite (kv.contract.test.ts) runs against both.
 * Keys are plain strings; implementations prepend their configured namespace prefix.
 */
export interface KvStore {
  readonly kind: 'memory' | 'redis' | 'sqlite';

  // strings and counters
  get(key: string): Promise<string | null>;
  set(key: string, value: string, opts?: { ttlMs?: number }): Promise<void>;
  /** Set only when absent (Redis SET NX PX). Returns true when this call created the key. */
  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean>;
  del(...keys: string[]): Promise<number>;
  incrBy(key: string, by?: number): Promise<number>;
  expire(key: string, ttlMs: number): Promise<boolean>;

  // lists
  /** LPUSH values (newest first) then LTRIM to keep at most maxLen newest. Returns the new length. */
  pushTrim(key: string, values: string[], maxLen: number): Promise<number>;
  /** LRANGE start..stop inclusive; negative indexes count from the end like Redis. */
  listRange(key: string, start: number, stop: number): Promise<string[]>;
  listLength(key: string): Promise<number>;

  // hashes
  hset(key: string, fields: Record<string, string>): Promise<void>;
  hgetall(key: string): Promise<Record<string, string> | null>;
  /** Many HGETALLs in one round trip; null for a missing hash. */
  hgetallMany(keys: string[]): Promise<(Record<string, string> | null)[]>;

  // sets
  sadd(key: string, ...members: string[]): Promise<number>;
  /** SPOP with count: removes and returns up to count random members. */
  spop(key: string, count: number): Promise<string[]>;
  smembers(key: string): Promise<string[]>;
  scard(key: string): Promise<number>;

  /** Keys matching a glob prefix pattern such as "base:*" (SCAN, never KEYS). */
  scanKeys(pattern: string, limit?: number): Promise<string[]>;

  // leases (leader election)
  /** Acquire or renew a lease: succeeds when free, expired, or already held by owner. */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Release only when held by owner. */
  releaseLease(name: string, owner: string): Promise<void>;

  ping(): Promise<void>;
  close(): Promise<void>;
}
