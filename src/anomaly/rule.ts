/**
 * The anomaly rule and its explanation (pure: I/O only through the injected hash reader).
 *
 *   anomalous  ⇔  durationMs > max(factor × p95, p50 + k × MAD')
 *   MAD'       =  max(MAD, madFloorMs, madFloorRatio × p50)
 *
 * MAD floor (chosen: an absolute floor in ms, default 1 ms; a ratio of p50 is available, default 0).
 * Whenever p95 > 0 and factor ≥ 1 the p95 term already dominates a zero-MAD term, so MAD = 0 only
 * matters for endpoints whose typical duration is 0 ms or sub-millisecond (Tempo reports whole
 * milliseconds). There a floor of one unit of measurement keeps "1 ms" from being an anomaly;
 * the explanation says when the floor was used.
 *
 * Baselines are chosen by a fallback chain, reading 5 hashes in one round trip (the exact bucket,
 * its pooled neighbouring hours, the day-type and overall aggregates, the service index):
 *   exact    bucket {hour, dayType}                         sampleCount ≥ minSamples (50)
 *   neighbours  hours h−2…h+2 of the same day type, pooled   pooled samples ≥ 20
 *               (the baseline job pools the samples of those windows into pool:{bucket}, wrapping
 *               around midnight within the day type; averaging the buckets' p50/p95/MAD instead
 *               lets a quiet hour beside a busy one drag the threshold far below its samples')
 *   dayType  aggregate `*|{dayType}` (all hours, merged windows) ≥ 50
 *   all      aggregate `*|*` (all hours and day types)        ≥ 30
 *   none     → cannotDetermine, with an explanation of what is missing
 */
import {
  DEFAULT_TIME_ZONE,
  MAX_EPOCH_MS,
  DEFAULT_WEEKEND_DAYS,
  baselineKey,
  bucketOf,
  dayTypeLabel,
  hourRangeLabel,
  parseDayType,
  parseHour,
  seriesId,
  validateTimeZone,
} from './buckets.js';
import { ValidationError } from './errors.js';
import type { BaselineStats, Bucket, DayType } from './types.js';

// ---------------------------------------------------------------- configuration

export interface RuleParams {
  /** Multiplier of p95 (default 2.0). */
  factor: number;
  /** Multiplier of MAD added to p50 (default 10). */
  k: number;
  /** MAD is at least this many ms (default 1). */
  madFloorMs: number;
  /** MAD is at least this fraction of p50 (default 0 = off). */
  madFloorRatio: number;
  /** Samples the exact bucket needs to be used on its own (default 50). */
  minSamples: number;
}

export interface FallbackConfig {
  /** Radius of the neighbouring-hours level (default 2: h−2…h+2). */
  neighbourHours: number;
  /** Pooled samples needed at the neighbouring-hours level (default 20). */
  neighbourMinSamples: number;
  /** Samples needed by the day-type aggregate (default 50). */
  dayTypeMinSamples: number;
  /** Samples needed by the overall aggregate (default 30). */
  allMinSamples: number;
}

export interface RuleConfig extends RuleParams {
  /** IANA zone of the hour and day-type buckets (default Asia/Taipei). */
  timeZone: string;
  /** Days of week (0 = Sunday) that are weekend (default [0, 6]). */
  weekendDays: readonly number[];
  fallback: FallbackConfig;
  /** Per-service overrides of the rule parameters, keyed by service name. */
  perService: Readonly<Record<string, Partial<RuleParams>>>;
}

/** What a config file may hold: everything optional; `overrides` is accepted as an alias of `perService`. */
export interface RuleConfigInput extends Partial<RuleParams> {
  timeZone?: string;
  weekendDays?: readonly number[];
  fallback?: Partial<FallbackConfig>;
  perService?: Record<string, Partial<RuleParams>>;
  overrides?: Record<string, Partial<RuleParams>>;
}

export const DEFAULT_RULE_CONFIG: RuleConfig = Object.freeze({
  factor: 2.0,
  k: 10,
  madFloorMs: 1,
  madFloorRatio: 0,
  minSamples: 50,
  timeZone: DEFAULT_TIME_ZONE,
  weekendDays: DEFAULT_WEEKEND_DAYS,
  fallback: Object.freeze({ neighbourHours: 2, neighbourMinSamples: 20, dayTypeMinSamples: 50, allMinSamples: 30 }),
  perService: Object.freeze({}),
});

function num(v: unknown, field: string, check: (n: number) => boolean, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
    throw new ValidationError(field, `${field} must be ${what}, got ${JSON.stringify(v)}`);
  }
  return v;
}

const positive = (n: number) => n > 0;
const nonNegative = (n: number) => n >= 0;
const posInt = (n: number) => Number.isInteger(n) && n >= 1;

function resolveParams(input: Partial<RuleParams>, base: RuleParams, path: string): RuleParams {
  const p = (k: string) => (path ? `${path}.${k}` : k);
  return {
    factor: input.factor === undefined ? base.factor : num(input.factor, p('factor'), positive, 'a number > 0'),
    k: input.k === undefined ? base.k : num(input.k, p('k'), nonNegative, 'a number >= 0'),
    madFloorMs: input.madFloorMs === undefined ? base.madFloorMs : num(input.madFloorMs, p('madFloorMs'), nonNegative, 'a number >= 0'),
    madFloorRatio:
      input.madFloorRatio === undefined ? base.madFloorRatio : num(input.madFloorRatio, p('madFloorRatio'), nonNegative, 'a number >= 0'),
    minSamples: input.minSamples === undefined ? base.minSamples : num(input.minSamples, p('minSamples'), posInt, 'an integer >= 1'),
  };
}

/** Defaults filled in and every value checked; a bad value is a ValidationError naming its key. */
export function resolveRuleConfig(input: RuleConfigInput = {}): RuleConfig {
  const params = resolveParams(input, DEFAULT_RULE_CONFIG, '');
  const fb = input.fallback ?? {};
  const d = DEFAULT_RULE_CONFIG.fallback;
  const fallback: FallbackConfig = {
    neighbourHours:
      fb.neighbourHours === undefined
        ? d.neighbourHours
        : num(fb.neighbourHours, 'fallback.neighbourHours', (n) => Number.isInteger(n) && n >= 0 && n <= 11, 'an integer 0–11'),
    neighbourMinSamples:
      fb.neighbourMinSamples === undefined ? d.neighbourMinSamples : num(fb.neighbourMinSamples, 'fallback.neighbourMinSamples', posInt, 'an integer >= 1'),
    dayTypeMinSamples:
      fb.dayTypeMinSamples === undefined ? d.dayTypeMinSamples : num(fb.dayTypeMinSamples, 'fallback.dayTypeMinSamples', posInt, 'an integer >= 1'),
    allMinSamples: fb.allMinSamples === undefined ? d.allMinSamples : num(fb.allMinSamples, 'fallback.allMinSamples', posInt, 'an integer >= 1'),
  };
  const timeZone = input.timeZone === undefined ? DEFAULT_TIME_ZONE : validateTimeZone(input.timeZone, 'timeZone');
  let weekendDays = DEFAULT_WEEKEND_DAYS;
  if (input.weekendDays !== undefined) {
    if (!Array.isArray(input.weekendDays) || input.weekendDays.some((x) => !Number.isInteger(x) || x < 0 || x > 6)) {
      throw new ValidationError('weekendDays', 'weekendDays must be a list of day numbers 0–6 (0 = Sunday)');
    }
    weekendDays = [...new Set(input.weekendDays)];
  }
  const perService: Record<string, Partial<RuleParams>> = {};
  for (const [svc, o] of Object.entries({ ...(input.overrides ?? {}), ...(input.perService ?? {}) })) {
    if (o === null || typeof o !== 'object') throw new ValidationError(`perService.${svc}`, `perService.${svc} must be an object`);
    const full = resolveParams(o, params, `perService.${svc}`);
    const only: Partial<RuleParams> = {};
    for (const key of Object.keys(o) as (keyof RuleParams)[]) {
      if (key in full) only[key] = full[key];
      else throw new ValidationError(`perService.${svc}.${String(key)}`, `perService.${svc}.${String(key)} is not a rule parameter`);
    }
    perService[svc] = only;
  }
  return { ...params, timeZone, weekendDays, fallback, perService };
}

/** The parameters in force for a service (global ones with its overrides applied). */
export function paramsFor(config: RuleConfig, service: string): RuleParams {
  const o = config.perService[service];
  const base: RuleParams = {
    factor: config.factor,
    k: config.k,
    madFloorMs: config.madFloorMs,
    madFloorRatio: config.madFloorRatio,
    minSamples: config.minSamples,
  };
  return o ? { ...base, ...o } : base;
}

// ---------------------------------------------------------------- the check request

export interface CheckInput {
  service: string;
  endpoint: string;
  /** Start of the request (UTC epoch ms). */
  epochMs: number;
  durationMs: number;
  /** Explicit bucket parts; each overrides the one derived from epochMs. */
  hour?: number;
  dayType?: DayType;
}

function pick(body: Record<string, unknown>, names: string[]): [string, unknown] | undefined {
  for (const n of names) if (body[n] !== undefined && body[n] !== null) return [n, body[n]];
  return undefined;
}

function parseNanos(field: string, v: unknown): number {
  let ms = NaN;
  if (typeof v === 'string' && /^\s*\d{1,20}\s*$/.test(v)) {
    // Whole microseconds: dropping the last three digits is the integer division, done on the text
    // (converting at most 17 digits rounds exactly as a BigInt would, without the BigInt).
    const t = v.trim();
    ms = (t.length > 3 ? Number(t.slice(0, -3)) : 0) / 1000;
  }  else if (typeof v === 'number' && Number.isFinite(v) && v >= 0) ms = v / 1e6;
  if (!(ms <= MAX_EPOCH_MS)) {
    throw new ValidationError(field, `${field} must be a non-negative integer of nanoseconds since the epoch (a number or a decimal string)`);
  }
  return ms;
}

const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/**
 * Validate a POST /v1/anomaly/check body. Accepts Vigil's names {service, endpoint, timestampNano,
 * durationMs} and the seed's {rootServiceName, rootTraceName, startTimeUnixNano, durationMs};
 * `timestampMs` is accepted too, and a missing timestamp means "now". Optional `hour` and `dayType`
 * pin the bucket. Every problem is a ValidationError naming the field as the client spelled it.
 */
export function parseCheckRequest(body: unknown, opts: { now?: () => number } = {}): CheckInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('body', 'the request body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  const svc = pick(b, ['service', 'rootServiceName']);
  if (!svc) throw new ValidationError('service', 'service (or rootServiceName) is required');
  if (typeof svc[1] !== 'string' || svc[1].trim() === '') throw new ValidationError(svc[0], `${svc[0]} must be a non-empty string`);
  const ep = pick(b, ['endpoint', 'rootTraceName']);
  if (!ep) throw new ValidationError('endpoint', 'endpoint (or rootTraceName) is required');
  if (typeof ep[1] !== 'string') throw new ValidationError(ep[0], `${ep[0]} must be a string`);

  const dur = pick(b, ['durationMs']);
  if (!dur) throw new ValidationError('durationMs', 'durationMs is required');
  const d = typeof dur[1] === 'string' && DECIMAL.test(dur[1]) ? Number(dur[1]) : dur[1];
  if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) {
    throw new ValidationError('durationMs', `durationMs must be a finite number >= 0, got ${JSON.stringify(dur[1])}`);
  }

  let epochMs: number;
  const ts = pick(b, ['timestampNano', 'startTimeUnixNano']);
  const tms = pick(b, ['timestampMs']);
  if (ts) epochMs = parseNanos(ts[0], ts[1]);
  else if (tms) {
    if (typeof tms[1] !== 'number' || !Number.isFinite(tms[1]) || tms[1] < 0 || tms[1] > MAX_EPOCH_MS) {
      throw new ValidationError('timestampMs', 'timestampMs must be a non-negative number of milliseconds since the epoch');
    }
    epochMs = tms[1];
  } else epochMs = (opts.now ?? Date.now)();

  const out: CheckInput = { service: svc[1].trim(), endpoint: ep[1], epochMs, durationMs: d };
  if (b.hour !== undefined && b.hour !== null) out.hour = parseHour(b.hour, 'hour');
  if (b.dayType !== undefined && b.dayType !== null) out.dayType = parseDayType(b.dayType, 'dayType');
  return out;
}

// ---------------------------------------------------------------- reading baselines

/** Many HGETALLs in one round trip (KvStore.hgetallMany), over full KV keys. */
export type HashReader = (keys: string[]) => Promise<(Record<string, string> | null)[]>;

/** Where the hashes live in the KV. */
export interface KeySchema {
  /** base:{service}|{endpoint}|{hour}|{dayType} */
  base(key: string): string;
  /** pool:{service}|{endpoint}|{hour}|{dayType}: the pooled samples of the hours around that bucket. */
  pool(key: string): string;
  /** Hash of endpoint → sampleCount for one service, written by the baseline job. */
  serviceIndex(service: string): string;
}

export const DEFAULT_KEYS: KeySchema = {
  base: (k) => `base:${k}`,
  pool: (k) => `pool:${k}`,
  serviceIndex: (s) => `svcidx:${s}`,
};

/** A base:{key} hash → numbers; null when missing or malformed. */
export function parseBaselineHash(h: Record<string, string> | null | undefined): BaselineStats | null {
  if (!h) return null;
  const p50 = Number(h.p50);
  const p95 = Number(h.p95);
  const mad = Number(h.mad);
  const sampleCount = Number(h.sampleCount);
  const updatedAt = h.updatedAt === undefined ? 0 : Number(h.updatedAt);
  if (![p50, p95, mad, updatedAt].every(Number.isFinite) || !Number.isInteger(sampleCount) || sampleCount < 0) return null;
  if (h.p50 === '' || h.p95 === '' || h.mad === '') return null;
  return { p50, p95, mad, sampleCount, updatedAt };
}

/** BaselineStats → the hash stored at base:{key} (field names as in the seed). */
export function baselineToHash(b: BaselineStats): Record<string, string> {
  return {
    p50: String(b.p50),
    p95: String(b.p95),
    mad: String(b.mad),
    sampleCount: String(b.sampleCount),
    updatedAt: String(b.updatedAt),
  };
}

// ---------------------------------------------------------------- the verdict

export type FallbackLevel = 'exact' | 'neighbours' | 'dayType' | 'all' | 'none';

export interface ThresholdDetail {
  factor: number;
  k: number;
  /** factor × p95 */
  p95Term: number;
  /** p50 + k × madUsed */
  madTerm: number;
  /** MAD after the floor. */
  madUsed: number;
  madFloorMs: number;
  madFloorApplied: boolean;
}

export interface CheckResult {
  isAnomaly: boolean;
  /** Present (true) when no baseline was good enough; isAnomaly is then false. */
  cannotDetermine?: true;
  service: string;
  /** The endpoint after normalisation, as it appears in keys. */
  endpoint: string;
  durationMs: number;
  bucket: Bucket;
  timeZone: string;
  baseline: BaselineStats | null;
  /** How long ago the baseline job computed the baseline used (ms); null without a baseline. */
  baselineAgeMs: number | null;
  /** Key(s) of the hash(es) used, e.g. "cart|GET /x|14|weekday" or "cart|GET /x|{12,13,14,15,16}|weekday". */
  baselineSource: string | null;
  fallbackLevel: FallbackLevel;
  threshold: number | null;
  thresholdDetail: ThresholdDetail | null;
  /** A sentence a person can act on. */
  explanation: string;
  /** Same text as explanation (the seed's field name). */
  reason: string;
}

export interface DecideOptions {
  keys?: KeySchema;
  /** Applied to input.endpoint before it becomes part of a key (use the store's normaliser). */
  normalize?: (endpoint: string) => string;
  /** The clock the baseline's age is measured with (default Date.now). */
  now?: () => number;
}

/** "456", "35.5", "2.25", "0.4" — whole ms from 10 up, fewer decimals the bigger the number. */
export function fmtMs(v: number): string {
  const a = Math.abs(v);
  const r = a >= 10 ? Math.round(v) : a >= 1 ? Math.round(v * 10) / 10 : Math.round(v * 100) / 100;
  return String(r);
}

const fmtFactor = (f: number) => (Number.isInteger(f) ? f.toFixed(1) : String(f));
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The threshold of a baseline under the given parameters. */
export function thresholdOf(b: BaselineStats, p: RuleParams): { threshold: number; detail: ThresholdDetail } {
  const floor = Math.max(p.madFloorMs, p.madFloorRatio * b.p50);
  const madUsed = Math.max(b.mad, floor);
  const p95Term = p.factor * b.p95;
  const madTerm = b.p50 + p.k * madUsed;
  return {
    threshold: Math.max(p95Term, madTerm),
    detail: { factor: p.factor, k: p.k, p95Term, madTerm, madUsed, madFloorMs: floor, madFloorApplied: madUsed > b.mad },
  };
}

/** The hours h−radius…h+radius, wrapped into 0–23, without repeats. */
export function neighbourHours(hour: number, radius: number): number[] {
  const out: number[] = [];
  for (let dh = -radius; dh <= radius; dh++) {
    const h = (((hour + dh) % 24) + 24) % 24;
    if (!out.includes(h)) out.push(h);
  }
  return out;
}

/** The bucket a check falls in: the explicit parts, else those of its timestamp in the rule's zone. */
export function checkBucket(input: CheckInput, config: RuleConfig): Bucket {
  if (input.hour !== undefined && input.dayType !== undefined) return { hour: input.hour, dayType: input.dayType };
  const derived = bucketOf(input.epochMs, config.timeZone, config.weekendDays);
  return { hour: input.hour ?? derived.hour, dayType: input.dayType ?? derived.dayType };
}

/** The hashes a verdict reads, in the order resolveBaseline expects them. */
export function baselineReadKeys(keys: KeySchema, service: string, endpoint: string, bucket: Bucket): string[] {
  const exactKey = baselineKey(service, endpoint, bucket.hour, bucket.dayType);
  return [
    keys.base(exactKey),
    keys.pool(exactKey),
    keys.base(baselineKey(service, endpoint, '*', bucket.dayType)),
    keys.base(baselineKey(service, endpoint, '*', '*')),
    keys.serviceIndex(service),
  ];
}

/**
 * Everything of a verdict that depends only on the stored hashes, the bucket and the rule, not on
 * the request's duration or the clock: the baseline chosen, its threshold and the fixed parts of the
 * explanation. Built once per bucket and shared by every check of it (baseline-cache.ts), so its
 * objects are frozen.
 */
export interface ResolvedBaseline {
  readonly service: string;
  readonly endpoint: string;
  readonly bucket: Bucket;
  readonly timeZone: string;
  readonly level: FallbackLevel;
  readonly baseline: BaselineStats | null;
  readonly source: string | null;
  readonly threshold: number | null;
  readonly detail: ThresholdDetail | null;
  /** Without a baseline, the whole explanation; with one, what follows "is above" / "is within". */
  readonly text: string;
  /** What follows ": anomalous (…× the usual p95)". */
  readonly anomalousTail: string;
  /** Appended to every explanation with a baseline (the MAD floor note), or ''. */
  readonly floorNote: string;
}

/**
 * Choose the baseline from the hashes read with baselineReadKeys (the fallback chain in the module
 * comment) and prepare its threshold and explanation. `endpoint` is already normalised.
 */
export function resolveBaseline(
  raw: readonly (Record<string, string> | null)[],
  service: string,
  endpoint: string,
  bucket: Bucket,
  config: RuleConfig,
): ResolvedBaseline {
  const p = paramsFor(config, service);
  const fb = config.fallback;
  const tz = config.timeZone;
  const { hour, dayType } = bucket;
  const exact = parseBaselineHash(raw[0]);
  const pooled = parseBaselineHash(raw[1]);
  const dayStats = parseBaselineHash(raw[2]);
  const allStats = parseBaselineHash(raw[3]);
  const svcIndex = raw[4];

  const exactN = exact?.sampleCount ?? 0;
  const where = `${dayTypeLabel(dayType)} ${hourRangeLabel(hour)} ${tz}`;
  const poolLabel = () => `${dayTypeLabel(dayType)} ${hourRangeLabel(hour, fb.neighbourHours)} ${tz}`;
  const pooledN = pooled?.sampleCount ?? 0;

  let level: FallbackLevel = 'none';
  let baseline: BaselineStats | null = null;
  let source: string | null = null;
  let learned = '';
  if (exact && exactN >= p.minSamples) {
    level = 'exact';
    baseline = exact;
    source = baselineKey(service, endpoint, hour, dayType);
    learned = `learned from ${plural(exactN, 'trace', 'traces')} on ${where}`;
  } else if (pooled && pooledN >= fb.neighbourMinSamples) {
    level = 'neighbours';
    baseline = pooled;
    source = `${seriesId(service, endpoint)}|{${neighbourHours(hour, fb.neighbourHours).join(',')}}|${dayType}`;
    learned =
      `learned from ${plural(pooledN, 'trace', 'traces')} on ${poolLabel()} (hours ±${fb.neighbourHours} pooled, ` +
      `because ${hourRangeLabel(hour)} alone has ${exactN}, fewer than ${p.minSamples})`;
  } else if (dayStats && dayStats.sampleCount >= fb.dayTypeMinSamples) {
    level = 'dayType';
    baseline = dayStats;
    source = baselineKey(service, endpoint, '*', dayType);
    learned =
      `learned from ${plural(dayStats.sampleCount, 'trace', 'traces')} on ${dayTypeLabel(dayType)} at any hour ` +
      `(${poolLabel()} has only ${pooledN}, fewer than ${fb.neighbourMinSamples})`;
  } else if (allStats && allStats.sampleCount >= fb.allMinSamples) {
    level = 'all';
    baseline = allStats;
    source = baselineKey(service, endpoint, '*', '*');
    learned =
      `learned from ${plural(allStats.sampleCount, 'trace', 'traces')} across all days and hours ` +
      `(${dayTypeLabel(dayType)} have only ${dayStats?.sampleCount ?? 0}, fewer than ${fb.dayTypeMinSamples})`;
  }

  const common = { service, endpoint, bucket: Object.freeze({ hour, dayType }), timeZone: tz };
  if (!baseline) {
    const seen = allStats?.sampleCount ?? Math.max(dayStats?.sampleCount ?? 0, pooledN);
    let explanation: string;
    const endpointCount = svcIndex ? Object.keys(svcIndex).length : 0;
    if (seen === 0 && endpointCount === 0) {
      explanation =
        `Cannot determine: no traces have been seen for service "${service}" yet. ` +
        `Check that the name matches the traces' service.name (Tempo's rootServiceName), or wait until its traces have been ingested.`;
    } else if (seen === 0) {
      explanation =
        `Cannot determine: service "${service}" has baselines for ${plural(endpointCount, 'endpoint', 'endpoints')}, but none for "${endpoint}". ` +
        `Check the endpoint name (the root span name, Tempo's rootTraceName); ids in paths are normalised to {id}.`;
    } else {
      explanation =
        `Cannot determine: only ${plural(seen, 'trace', 'traces')} of ${service} ${endpoint} have been learned ` +
        `(needs ${p.minSamples} on ${where}, ${fb.neighbourMinSamples} within ±${fb.neighbourHours} h, ` +
        `${fb.dayTypeMinSamples} on ${dayTypeLabel(dayType)} or ${fb.allMinSamples} overall); wait for more traffic.`;
    }
    return Object.freeze({ ...common, level, baseline: null, source: null, threshold: null, detail: null, text: explanation, anomalousTail: '', floorNote: '' });
  }

  const { threshold, detail } = thresholdOf(baseline, p);
  const formula =
    `max(${fmtFactor(p.factor)} × p95 ${fmtMs(baseline.p95)} ms, ` +
    `p50 ${fmtMs(baseline.p50)} ms + ${p.k} × MAD ${fmtMs(detail.madUsed)} ms)`;
  let floorNote = '';
  if (detail.madFloorApplied) {
    floorNote =
      baseline.mad === 0
        ? ` MAD is 0 ms (at least half the traces took the same time), so the ${fmtMs(detail.madFloorMs)} ms floor was used.`
        : ` MAD ${fmtMs(baseline.mad)} ms is below the ${fmtMs(detail.madFloorMs)} ms floor, so the floor was used.`;
  }
  return Object.freeze({
    ...common,
    level,
    baseline: Object.freeze(baseline),
    source,
    threshold,
    detail: Object.freeze(detail),
    text: ` ${fmtMs(threshold)} ms = ${formula}, ${learned}`,
    anomalousTail: `; look at what ${service} ${endpoint} was waiting on at that time.`,
    floorNote,
  });
}

/** The verdict for one request duration against a resolved baseline, its age measured at `now`. */
export function verdictOf(r: ResolvedBaseline, durationMs: number, now: number): CheckResult {
  const { baseline, threshold } = r;
  if (!baseline || threshold === null) {
    return {
      service: r.service,
      endpoint: r.endpoint,
      durationMs,
      bucket: r.bucket,
      timeZone: r.timeZone,
      isAnomaly: false,
      cannotDetermine: true,
      baseline: null,
      baselineAgeMs: null,
      baselineSource: null,
      fallbackLevel: 'none',
      threshold: null,
      thresholdDetail: null,
      explanation: r.text,
      reason: r.text,
    };
  }
  const isAnomaly = durationMs > threshold;
  let explanation: string;
  if (isAnomaly) {
    const ratio = baseline.p95 > 0 ? ` (${(durationMs / baseline.p95).toFixed(1)}× the usual p95)` : '';
    explanation = `${fmtMs(durationMs)} ms is above${r.text}: anomalous${ratio}${r.anomalousTail}${r.floorNote}`;
  } else {
    explanation = `${fmtMs(durationMs)} ms is within${r.text}: normal for this time.${r.floorNote}`;
  }
  return {
    service: r.service,
    endpoint: r.endpoint,
    durationMs,
    bucket: r.bucket,
    timeZone: r.timeZone,
    isAnomaly,
    baseline,
    baselineAgeMs: Math.max(0, now - baseline.updatedAt),
    baselineSource: r.source,
    fallbackLevel: r.level,
    threshold,
    thresholdDetail: r.detail,
    explanation,
    reason: explanation,
  };
}

/**
 * The verdict for one request. Reads the baseline hashes with one `reader` call; never a window.
 * Unknown services and endpoints, and buckets too thin at every level, give cannotDetermine with an
 * explanation instead of an error.
 */
export async function decide(input: CheckInput, reader: HashReader, config: RuleConfig, opts: DecideOptions = {}): Promise<CheckResult> {
  const endpoint = opts.normalize ? opts.normalize(input.endpoint) : input.endpoint;
  const bucket = checkBucket(input, config);
  const raw = await reader(baselineReadKeys(opts.keys ?? DEFAULT_KEYS, input.service, endpoint, bucket));
  return verdictOf(resolveBaseline(raw, input.service, endpoint, bucket, config), input.durationMs, (opts.now ?? Date.now)());
}
