/**
 * Resolved baselines (rule.ts `resolveBaseline`) of recently checked buckets, kept in process so a
 * check of a busy bucket reads nothing from the KV, parses no hash and builds no threshold text: it
 * only compares its duration and formats it.
 *
 * Exactness: a baseline changes only when a baseline job rewrites its hashes. This process's job
 * calls `invalidate()` after writing, which empties the cache and bumps a generation, so a read that
 * started before the rewrite cannot put the old baseline back; a check after that job sees the new
 * baseline. Other replicas' jobs are seen when the entry expires, at most `ttlMs` later (measured
 * with the injected clock).
 *
 * Entries are found by service, then the endpoint as the client sent it (normalising is a pure
 * function of it), then the bucket's slot, so a hit builds no key string.
 */
import type { Bucket } from './types.js';
import {
  baselineReadKeys,
  checkBucket,
  resolveBaseline,
  verdictOf,
  type CheckInput,
  type CheckResult,
  type HashReader,
  type KeySchema,
  type ResolvedBaseline,
  type RuleConfig,
} from './rule.js';

interface Entry {
  value: ResolvedBaseline;
  expiresAt: number;
}

/** Hour 0–23 × weekday/weekend. */
const SLOTS = 48;
const slotOf = (b: Bucket) => b.hour * 2 + (b.dayType === 'weekend' ? 1 : 0);

export interface BaselineCacheOptions {
  /** How long an entry is used before it is read again (> 0). */
  ttlMs: number;
  /** Entries held before the cache starts over (default 50 000). */
  maxEntries?: number;
  now?: () => number;
}

export class BaselineCache {
  private readonly services = new Map<string, Map<string, (Entry | undefined)[]>>();
  private entries = 0;
  private gen = 0;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: BaselineCacheOptions) {
    if (!(opts.ttlMs > 0)) throw new RangeError('ttlMs must be > 0');
    this.ttlMs = opts.ttlMs;
    this.maxEntries = Math.max(1, opts.maxEntries ?? 50_000);
    this.now = opts.now ?? Date.now;
  }

  /** Changes whenever the cache is invalidated: pass the value seen before a read to `set`. */
  get generation(): number {
    return this.gen;
  }

  get size(): number {
    return this.entries;
  }

  /** The cached resolution of a bucket, unless missing or expired. */
  get(service: string, endpoint: string, bucket: Bucket): ResolvedBaseline | undefined {
    const e = this.services.get(service)?.get(endpoint)?.[slotOf(bucket)];
    return e && e.expiresAt > this.now() ? e.value : undefined;
  }

  /**
   * Remember a resolution read while the cache was at `generation`; ignored when the cache was
   * invalidated since (the read may predate the baseline job's rewrite).
   */
  set(generation: number, service: string, endpoint: string, bucket: Bucket, value: ResolvedBaseline): void {
    if (generation !== this.gen) return;
    let endpoints = this.services.get(service);
    if (!endpoints) this.services.set(service, (endpoints = new Map()));
    let slots = endpoints.get(endpoint);
    if (!slots) endpoints.set(endpoint, (slots = new Array<Entry | undefined>(SLOTS)));
    const slot = slotOf(bucket);
    if (slots[slot] === undefined) {
      if (this.entries >= this.maxEntries) {
        this.clear();
        return this.set(this.gen, service, endpoint, bucket, value);
      }
      this.entries++;
    }
    slots[slot] = { value, expiresAt: this.now() + this.ttlMs };
  }

  /** Forget everything and refuse results of reads already in flight (the baseline job rewrote hashes). */
  invalidate(): void {
    this.gen++;
    this.clear();
  }

  private clear(): void {
    this.services.clear();
    this.entries = 0;
  }
}

export interface CachedCheckOptions {
  config: RuleConfig;
  keys: KeySchema;
  normalize: (endpoint: string) => string;
  /** Reads the hashes of a cache miss (straight from the KV: a second cache would add its own staleness). */
  read: HashReader;
  now: () => number;
}

/** rule.ts `decide`, with the resolution of the bucket taken from (and put into) `cache`. */
export async function checkCached(cache: BaselineCache, input: CheckInput, opts: CachedCheckOptions): Promise<CheckResult> {
  const bucket = checkBucket(input, opts.config);
  let resolved = cache.get(input.service, input.endpoint, bucket);
  if (!resolved) {
    const generation = cache.generation;
    const endpoint = opts.normalize(input.endpoint);
    const raw = await opts.read(baselineReadKeys(opts.keys, input.service, endpoint, bucket));
    resolved = resolveBaseline(raw, input.service, endpoint, bucket, opts.config);
    cache.set(generation, input.service, input.endpoint, bucket, resolved);
  }
  return verdictOf(resolved, input.durationMs, opts.now());
}
