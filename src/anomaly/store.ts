/**
 * Baseline storage over the KV port (Redis semantics). Every key below lives under the module's
 * namespace, `anomaly:` (keys.ts); key-migration.ts moves keys written without it:
 *
 *   dur:{service}|{endpoint}|{hour}|{dayType}    LIST  newest first, trimmed to windowSize (1000)
 *   base:{service}|{endpoint}|{hour}|{dayType}   HASH  p50, p95, mad, sampleCount, updatedAt (epoch ms)
 *   base:{service}|{endpoint}|*|{dayType}        HASH  same fields, all hours of a day type (merged windows)
 *   base:{service}|{endpoint}|*|*                HASH  same fields, everything (merged windows)
 *   pool:{service}|{endpoint}|{hour}|{dayType}   HASH  same fields, the samples of hours h±r pooled (the
 *                                                       neighbouring-hours fallback; r = fallback.neighbourHours)
 *   svcidx:{service}                             HASH  endpoint → sampleCount (lets a check tell an
 *                                                       unknown service from an unknown endpoint)
 *   seen:{traceId}[:{spanId}]                    STRING set-if-absent with TTL (seenTtl, default 25 h): de-duplication
 *                                                       over the whole replay horizon (Tempo catch-up, re-run backfills)
 *   dirtyKeys                                    SET   bucket keys whose window changed since the last job
 *   baseKeys                                     SET   every base:{…} key written (lists baselines without a SCAN)
 *
 * Ingest appends to one window and marks it dirty; the baseline job pops dirty keys in bounded batches,
 * recomputes their hashes and the aggregates of the endpoints they belong to. A check reads a handful
 * of hashes (rule.ts), never a window. Every bucket with at least one sample gets a hash; the minimum
 * sample counts are applied when checking, so thin buckets still feed the neighbouring-hours pool.
 *
 * Learning late: a trace judged anomalous at ingest (the `hold` callback) enters its window as
 * `{duration}@{epoch ms}` and counts towards baselines only from that time on (learnHeldAfterMs, default 1 h).
 * An incident therefore does not raise the threshold that detects it, while a lasting change of an
 * endpoint's latency is adopted an hour later instead of being flagged for ever.
 */
import type { KvStore } from '../platform/backends/kv/types.js';
import { DAY_TYPES, MAX_EPOCH_MS, baselineKey, bucketOf, parseBaselineKey, seriesId, type DayTypePart, type HourPart } from './buckets.js';
import { normalizeEndpoint, type Normalizer } from './normalize.js';
import {
  DEFAULT_RULE_CONFIG,
  baselineToHash,
  decide,
  neighbourHours,
  parseBaselineHash,
  parseCheckRequest,
  type CheckInput,
  type CheckResult,
  type HashReader,
  type RuleConfig,
} from './rule.js';
import { storeKeys, ANOMALY_KV_NAMESPACE, type StoreKeys } from './keys.js';
import { computeBaseline } from './stats.js';
import { BaselineCache, checkCached } from './baseline-cache.js';
import type { BaselineStats, DayType, TraceSummary } from './types.js';

export interface AnomalyStoreOptions {
  /** Rule configuration used by check(); its timeZone and weekendDays also bucket ingested traces. */
  rule?: RuleConfig;
  /** Durations kept per bucket (default 1000). */
  windowSize?: number;
  /** How long a trace id is remembered for de-duplication (default 25 h: the Tempo catch-up of 24 h plus slack). */
  seenTtlMs?: number;
  /** How long a sample judged anomalous at ingest waits before it counts towards baselines (default 1 h). */
  learnHeldAfterMs?: number;
  /** Endpoint normaliser applied on ingest, lookup and check (default: built-in rules). */
  normalize?: Normalizer;
  /** Extra prefix inside the module's namespace (default none: `anomaly:base:…`). No glob characters. */
  keyPrefix?: string;
  /** Concurrent KV operations per batch (default 32). */
  concurrency?: number;
  /**
   * Keep the baselines checks resolved in process for this long (default 0 = off; baseline-cache.ts).
   * Baselines only change when the baseline job runs; this replica's job clears the cache, other
   * replicas' changes are seen within this time. Saves the KV round trip and the work of most checks.
   */
  readCacheMs?: number;
  /** Buckets the read cache holds before it starts over (default 50 000). */
  readCacheMax?: number;
  /**
   * Whether a failed window read can never succeed (e.g. the key holds the wrong kind of value),
   * so the baseline job reports the key as poisoned and goes on, instead of retrying it for ever.
   * Default: never (every failure is retried).
   */
  isPermanentError?: (err: unknown) => boolean;
  now?: () => number;
}

export type IngestOutcome = 'ingested' | 'duplicate' | 'invalid';

export interface IngestOptions {
  /**
   * Called with the summaries about to be learned (not duplicates, not invalid), before they enter
   * their windows; the ones it returns are held back from baselines for learnHeldAfterMs (the caller
   * passes the ones it judged anomalous). If it throws, nothing is stored and the ids are forgotten.
   */
  hold?: (accepted: TraceSummary[]) => Promise<ReadonlySet<TraceSummary>>;
}

/**
 * A stored window → the durations that count at `now`: plain decimals, and held samples
 * (`{duration}@{learnAt}`) whose time has come. Entries that are not finite non-negative numbers are
 * dropped (a hand-edited or corrupted list must not poison a baseline).
 */
export function parseWindow(values: readonly string[], now: number): Float64Array {
  const out = new Float64Array(values.length);
  let w = 0;
  for (const s of values) {
    const at = s.indexOf('@');
    const text = at < 0 ? s : s.slice(0, at);
    if (at >= 0 && !(Number(s.slice(at + 1)) <= now)) continue;
    const v = Number(text);
    if (text !== '' && Number.isFinite(v) && v >= 0) out[w++] = v;
  }
  return w === out.length ? out : out.slice(0, w);
}

export interface IngestStats {
  ingested: number;
  duplicates: number;
  invalid: number;
}

export interface RecomputeStats {
  /** Bucket keys recomputed in this batch. */
  keys: number;
  /** Endpoints whose aggregates were recomputed. */
  aggregates: number;
  /** Dirty keys still waiting after this batch. */
  remaining: number;
  /** Keys that failed and were put back into the dirty set. */
  failed: number;
  errors: string[];
  /** Windows that can never be read (isPermanentError), treated as empty; the caller quarantines them. */
  poisoned?: { key: string; reason: string }[];
}

/** An endpoint whose aggregates need recomputing, with one of its bucket keys (put back when that fails). */
export interface SeriesRef {
  service: string;
  endpoint: string;
  key: string;
}

export interface AvailableBaseline extends BaselineStats {
  service: string;
  endpoint: string;
  hour: HourPart;
  dayType: DayTypePart;
}

const HOURS = Array.from({ length: 24 }, (_, h) => h);

/** Why a summary cannot be stored, or null. */
export function invalidSummaryReason(s: TraceSummary): string | null {
  if (!s || typeof s !== 'object') return 'not an object';
  if (typeof s.traceId !== 'string' || s.traceId === '') return 'traceId missing';
  if (typeof s.service !== 'string' || s.service.trim() === '') return 'service missing';
  if (typeof s.endpoint !== 'string') return 'endpoint missing';
  if (typeof s.startMs !== 'number' || !Number.isFinite(s.startMs) || Math.abs(s.startMs) > MAX_EPOCH_MS) return 'startMs is not a valid time';
  if (typeof s.durationMs !== 'number' || !Number.isFinite(s.durationMs) || s.durationMs < 0) return 'durationMs is not a finite number >= 0';
  return null;
}

async function inChunks<T, R>(items: readonly T[], size: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

/** A normaliser that remembers its last 10 000 answers (the same few endpoint names recur on every ingest and check). */
function memoize(fn: Normalizer): Normalizer {
  const cache = new Map<string, string>();
  return (name: string) => {
    let v = cache.get(name);
    if (v === undefined) {
      v = fn(name);
      if (cache.size >= 10_000) cache.clear();
      cache.set(name, v);
    }
    return v;
  };
}

/** Duration as stored in a window: decimal, at most microsecond precision. */
const fmtDuration = (ms: number) => String(Math.round(ms * 1000) / 1000);

export class AnomalyStore {
  readonly rule: RuleConfig;
  readonly windowSize: number;
  readonly seenTtlMs: number;
  readonly learnHeldAfterMs: number;
  readonly normalize: Normalizer;
  readonly keys: StoreKeys;
  /** Batched hash reader for rule.decide (one hgetallMany). */
  readonly reader: HashReader;
  private readonly concurrency: number;
  private readonly now: () => number;
  private readonly isPermanentError: (err: unknown) => boolean;

  constructor(
    private readonly kv: KvStore,
    opts: AnomalyStoreOptions = {},
  ) {
    this.rule = opts.rule ?? DEFAULT_RULE_CONFIG;
    this.windowSize = opts.windowSize ?? 1000;
    if (!Number.isInteger(this.windowSize) || this.windowSize < 1) throw new RangeError('windowSize must be an integer >= 1');
    this.seenTtlMs = opts.seenTtlMs ?? 25 * 3600_000;
    this.learnHeldAfterMs = Math.max(0, opts.learnHeldAfterMs ?? 3600_000);
    this.normalize = memoize(opts.normalize ?? normalizeEndpoint);
    this.concurrency = Math.max(1, opts.concurrency ?? 32);
    this.now = opts.now ?? Date.now;
    this.isPermanentError = opts.isPermanentError ?? (() => false);
    this.keys = storeKeys(ANOMALY_KV_NAMESPACE + (opts.keyPrefix ?? ''));
    this.reader = (keys) => this.kv.hgetallMany(keys);
    const cacheMs = Math.max(0, opts.readCacheMs ?? 0);
    this.cache = cacheMs > 0 ? new BaselineCache({ ttlMs: cacheMs, maxEntries: opts.readCacheMax, now: this.now }) : undefined;
  }

  /** Resolved baselines of recently checked buckets (readCacheMs > 0). */
  private readonly cache: BaselineCache | undefined;

  /** Forget cached baselines (the baseline job calls this after writing). */
  clearReadCache(): void {
    this.cache?.invalidate();
  }

  private durKey(k: string) {
    return this.keys.dur(k);
  }
  private seenKey(id: string) {
    return this.keys.seen(id);
  }
  private get dirtyKey() {
    return this.keys.dirty;
  }
  /** SET of every base:{key} written, so listing baselines never SCANs the whole KV (seen:* keys outnumber them). */
  private get baseIndexKey() {
    return this.keys.baseIndex;
  }

  /** The bucket key a summary belongs to (after normalisation). */
  keyOf(s: Pick<TraceSummary, 'service' | 'endpoint' | 'startMs'>): string {
    const b = bucketOf(s.startMs, this.rule.timeZone, this.rule.weekendDays);
    return baselineKey(s.service.trim(), this.normalize(s.endpoint), b.hour, b.dayType);
  }

  /** Store one summary unless its trace (or span) id was seen in the last seenTtlMs. */
  async ingest(s: TraceSummary): Promise<IngestOutcome> {
    const st = await this.ingestMany([s]);
    return st.ingested ? 'ingested' : st.duplicates ? 'duplicate' : 'invalid';
  }

  /**
   * Store many summaries: one set-if-absent per id, then one pushTrim per bucket and one sadd for all
   * touched buckets. If storing a bucket fails, its ids are forgotten again so a retry is not a duplicate.
   */
  async ingestMany(list: readonly TraceSummary[]): Promise<IngestStats> {
    const { ingested, duplicates, invalid } = await this.ingestManyDetailed(list);
    return { ingested, duplicates, invalid };
  }

  /**
   * ingestMany, also returning the summaries that were stored (not duplicates, not invalid), grouped
   * by bucket, so a caller can check exactly the traces it learned from. Throws like ingestMany.
   */
  async ingestManyDetailed(list: readonly TraceSummary[], opts: IngestOptions = {}): Promise<IngestStats & { accepted: TraceSummary[] }> {
    const stats: IngestStats = { ingested: 0, duplicates: 0, invalid: 0 };
    const valid: { s: TraceSummary; key: string; id: string }[] = [];
    for (const s of list) {
      if (invalidSummaryReason(s) !== null) {
        stats.invalid++;
        continue;
      }
      const traceId = s.traceId.toLowerCase();
      valid.push({ s, key: this.keyOf(s), id: s.spanId ? `${traceId}:${s.spanId.toLowerCase()}` : traceId });
    }
    const fresh = await inChunks(valid, this.concurrency, (v) => this.kv.setIfAbsent(this.seenKey(v.id), '1', this.seenTtlMs));
    const groups = new Map<string, { s: TraceSummary; id: string }[]>();
    const seenInBatch = new Set<string>();
    valid.forEach((v, i) => {
      if (!fresh[i] || seenInBatch.has(v.id)) {
        stats.duplicates++;
        return;
      }
      seenInBatch.add(v.id);
      let g = groups.get(v.key);
      if (!g) groups.set(v.key, (g = []));
      g.push(v);
    });
    const entries = [...groups.entries()];
    let held: ReadonlySet<TraceSummary> = new Set();
    if (opts.hold && entries.length) {
      try {
        held = await opts.hold(entries.flatMap(([, g]) => g.map((v) => v.s)));
      } catch (err) {
        await this.kv.del(...entries.flatMap(([, g]) => g.map((v) => this.seenKey(v.id)))).catch(() => 0);
        throw err;
      }
    }
    const learnAt = String(this.now() + this.learnHeldAfterMs);
    const entry = (s: TraceSummary) => (held.has(s) ? `${fmtDuration(s.durationMs)}@${learnAt}` : fmtDuration(s.durationMs));
    const results = await inChunks(entries, this.concurrency, async ([key, g]) => {
      g.sort((a, b) => a.s.startMs - b.s.startMs); // LPUSH in time order leaves the newest first
      try {
        await this.kv.pushTrim(this.durKey(key), g.map((v) => entry(v.s)), this.windowSize);
        return { key, ok: true as const, n: g.length };
      } catch (err) {
        await this.kv.del(...g.map((v) => this.seenKey(v.id))).catch(() => 0);
        return { key, ok: false as const, err };
      }
    });
    const stored = results.filter((r) => r.ok);
    if (stored.length) await this.kv.sadd(this.dirtyKey, ...stored.map((r) => r.key));
    for (const r of results) if (r.ok) stats.ingested += r.n;
    const failed = results.find((r) => !r.ok);
    if (failed && !failed.ok) throw failed.err;
    const accepted: TraceSummary[] = [];
    for (const g of groups.values()) for (const v of g) accepted.push(v.s);
    return { ...stats, accepted };
  }

  private async readWindow(key: string): Promise<Float64Array> {
    return parseWindow(await this.kv.listRange(this.durKey(key), 0, this.windowSize - 1), this.now());
  }

  /** A window, or an empty one (recorded in `stats.poisoned`) when it can never be read. */
  private async readWindowOrPoison(key: string, stats: RecomputeStats): Promise<Float64Array> {
    try {
      return await this.readWindow(key);
    } catch (err) {
      if (!this.isPermanentError(err)) throw err;
      (stats.poisoned ??= []).push({ key, reason: (err as Error)?.message ?? String(err) });
      return new Float64Array(0);
    }
  }

  /** A pooled-neighbours hash (not listed in baseKeys: /v1/available shows buckets, not pools). */
  private async writeStats(fullKey: string, values: Float64Array, updatedAt: number): Promise<void> {
    const b = computeBaseline(values, updatedAt);
    if (b) await this.kv.hset(fullKey, baselineToHash(b));
    else await this.kv.del(fullKey);
  }

  private async writeBaseline(key: string, values: Float64Array, updatedAt: number): Promise<BaselineStats | null> {
    const b = computeBaseline(values, updatedAt);
    if (b) await Promise.all([this.kv.hset(this.keys.base(key), baselineToHash(b)), this.kv.sadd(this.baseIndexKey, this.keys.base(key))]);
    else await this.kv.del(this.keys.base(key));
    return b;
  }

  /**
   * One bounded batch of the baseline job: pop up to batchSize dirty keys, recompute their hashes,
   * then the day-type and overall aggregates (and the service index) of every endpoint touched.
   * With `deferAggregates`, the endpoints are added to that map instead, for the caller to
   * recompute once after several batches (runBaselineJob does: random SPOP order spreads an
   * endpoint's 48 buckets over many batches, and each aggregate reads all 48 windows).
   */
  async recomputeDirty(
    batchSize = 500,
    opts: { deferAggregates?: Map<string, SeriesRef>; windows?: Map<string, Float64Array>; retainMax?: number } = {},
  ): Promise<RecomputeStats> {
    const stats: RecomputeStats = { keys: 0, aggregates: 0, remaining: 0, failed: 0, errors: [] };
    const popped = await this.kv.spop(this.dirtyKey, batchSize);
    const now = this.now();
    // Windows read here are reused by the aggregates (up to retainMax of them when a caller keeps them across batches).
    const windows = opts.windows ?? new Map<string, Float64Array>();
    const retainMax = opts.retainMax ?? Infinity;
    const series = new Map<string, SeriesRef>();
    await inChunks(popped, this.concurrency, async (key) => {
      const parts = parseBaselineKey(key);
      if (!parts || parts.hour === '*') return; // not a bucket key: drop it
      try {
        const values = await this.readWindowOrPoison(key, stats);
        if (windows.size < retainMax) windows.set(key, values);
        await this.writeBaseline(key, values, now);
        stats.keys++;
        series.set(seriesId(parts.service, parts.endpoint), { service: parts.service, endpoint: parts.endpoint, key });
      } catch (err) {
        await this.failKeys(stats, [key], err);
      }
    });
    if (opts.deferAggregates) for (const [id, ref] of series) opts.deferAggregates.set(id, ref);
    else await this.recomputeAggregatesOf(series.values(), now, windows, stats);
    if (stats.keys || stats.aggregates) this.clearReadCache();
    stats.remaining = await this.kv.scard(this.dirtyKey);
    return stats;
  }

  private async failKeys(stats: RecomputeStats, keys: string[], err: unknown): Promise<void> {
    stats.failed += keys.length;
    if (stats.errors.length < 5) stats.errors.push(`${keys[0]}: ${(err as Error)?.message ?? String(err)}`);
    if (keys.length) await this.kv.sadd(this.dirtyKey, ...keys).catch(() => 0);
  }

  /** Aggregates of several endpoints, a few at a time; a failure puts one of its buckets back into the dirty set. */
  private async recomputeAggregatesOf(series: Iterable<SeriesRef>, now: number, cache: Map<string, Float64Array>, stats: RecomputeStats): Promise<void> {
    await inChunks([...series], Math.max(1, Math.floor(this.concurrency / 8)), async (ref) => {
      try {
        await this.recomputeAggregates(ref.service, ref.endpoint, now, cache, stats);
        stats.aggregates++;
      } catch (err) {
        await this.failKeys(stats, [ref.key], err);
      }
    });
  }

  /**
   * Recompute until nothing is dirty, maxBatches batches ran or the signal fired (the 30 s job calls
   * this); the aggregates of every endpoint touched are recomputed once, after the batches.
   */
  async runBaselineJob(opts: { batchSize?: number; maxBatches?: number; signal?: AbortSignal } = {}): Promise<RecomputeStats> {
    const total: RecomputeStats = { keys: 0, aggregates: 0, remaining: 0, failed: 0, errors: [] };
    const max = opts.maxBatches ?? 20;
    const deferred = new Map<string, SeriesRef>();
    // Bucket windows kept for the aggregates, so most are not read twice (4096 × 1000 samples ≈ 32 MB at most).
    const windows = new Map<string, Float64Array>();
    for (let i = 0; i < max && !opts.signal?.aborted; i++) {
      const s = await this.recomputeDirty(opts.batchSize ?? 500, { deferAggregates: deferred, windows, retainMax: 4096 });
      total.keys += s.keys;
      total.failed += s.failed;
      total.errors.push(...s.errors.slice(0, 5 - total.errors.length));
      if (s.poisoned) (total.poisoned ??= []).push(...s.poisoned);
      total.remaining = s.remaining;
      if (s.remaining === 0 || s.keys + s.failed === 0 || s.failed > 0) break;
    }
    if (deferred.size) {
      await this.recomputeAggregatesOf(deferred.values(), this.now(), windows, total);
      windows.clear();
      this.clearReadCache();
      total.remaining = await this.kv.scard(this.dirtyKey);
    }
    return total;
  }

  private async recomputeAggregates(service: string, endpoint: string, now: number, cache: Map<string, Float64Array>, stats: RecomputeStats): Promise<void> {
    const perDay = new Map<DayType, Float64Array[]>();
    for (const d of DAY_TYPES) {
      const keys = HOURS.map((h) => baselineKey(service, endpoint, h, d));
      perDay.set(d, await inChunks(keys, this.concurrency, async (k) => cache.get(k) ?? this.readWindowOrPoison(k, stats)));
    }
    const concat = (arrs: Float64Array[]) => {
      const out = new Float64Array(arrs.reduce((n, a) => n + a.length, 0));
      let o = 0;
      for (const a of arrs) {
        out.set(a, o);
        o += a.length;
      }
      return out;
    };
    const all: Float64Array[] = [];
    const radius = this.rule.fallback.neighbourHours;
    for (const d of DAY_TYPES) {
      const arrs = perDay.get(d)!;
      all.push(...arrs);
      await this.writeBaseline(baselineKey(service, endpoint, '*', d), concat(arrs), now);
      await inChunks(HOURS, this.concurrency, (h) =>
        this.writeStats(this.keys.pool(baselineKey(service, endpoint, h, d)), concat(neighbourHours(h, radius).map((n) => arrs[n])), now),
      );
    }
    const b = await this.writeBaseline(baselineKey(service, endpoint, '*', '*'), concat(all), now);
    await this.kv.hset(this.keys.serviceIndex(service), { [endpoint]: String(b?.sampleCount ?? 0) });
  }

  /** The stored baseline of one bucket or aggregate (endpoint normalised first); null when none. */
  async getBaseline(service: string, endpoint: string, hour: HourPart, dayType: DayTypePart): Promise<BaselineStats | null> {
    const key = baselineKey(service.trim(), this.normalize(endpoint), hour, dayType);
    return parseBaselineHash(await this.kv.hgetall(this.keys.base(key)));
  }

  /** Every stored baseline (buckets and aggregates), sorted by service, endpoint, day type, hour. */
  async listAvailable(opts: { limit?: number } = {}): Promise<AvailableBaseline[]> {
    const prefix = this.keys.base('');
    const limit = opts.limit ?? 100_000;
    // The index lists every hash the baseline job wrote (a deleted one is skipped below); a store
    // written before the index existed falls back to SCAN.
    let full = await this.kv.smembers(this.baseIndexKey);
    if (full.length === 0) full = await this.kv.scanKeys(`${prefix}*`, limit);
    else if (full.length > limit) full = full.slice(0, limit);
    const parsed = full
      .map((k) => ({ k, p: k.startsWith(prefix) ? parseBaselineKey(k.slice(prefix.length)) : null }))
      .filter((x): x is { k: string; p: NonNullable<ReturnType<typeof parseBaselineKey>> } => x.p !== null);
    const out: AvailableBaseline[] = [];
    for (let i = 0; i < parsed.length; i += 500) {
      const chunk = parsed.slice(i, i + 500);
      const hashes = await this.kv.hgetallMany(chunk.map((x) => x.k));
      chunk.forEach((x, j) => {
        const b = parseBaselineHash(hashes[j]);
        if (b) out.push({ ...x.p, ...b });
      });
    }
    const ord = (v: HourPart | DayTypePart) => (v === '*' ? 99 : v === 'weekday' ? 0 : v === 'weekend' ? 1 : (v as number));
    out.sort(
      (a, b) =>
        a.service.localeCompare(b.service) ||
        a.endpoint.localeCompare(b.endpoint) ||
        ord(a.dayType) - ord(b.dayType) ||
        ord(a.hour) - ord(b.hour),
    );
    return out;
  }

  /** The verdict for a validated check input. */
  check(input: CheckInput): Promise<CheckResult> {
    if (this.cache) return checkCached(this.cache, input, { config: this.rule, keys: this.keys, normalize: this.normalize, read: this.reader, now: this.now });
    return decide(input, this.reader, this.rule, { keys: this.keys, normalize: this.normalize, now: this.now });
  }

  /** Validate a POST /v1/anomaly/check body (ValidationError → 400) and decide. */
  async checkRequest(body: unknown): Promise<CheckResult> {
    return this.check(parseCheckRequest(body, { now: this.now }));
  }

  /** Dirty keys waiting for the baseline job. */
  pendingDirty(): Promise<number> {
    return this.kv.scard(this.dirtyKey);
  }
}
