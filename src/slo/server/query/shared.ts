/** Options, rounding and small pieces the SLO answers share (no I/O). */
import { addCounts, type BurnRateResult, type Counts, type SampleMinimum, type SloMetrics, type SloWindow, type TargetSpec } from '../../math/slo.js';
import { MINUTE, coveredSeconds, type Series, type TimeRange } from '../../math/time.js';

export interface QueryOptions {
  now?: () => number;
  minBurnRequests: number;
  defaults: TargetSpec & { window: SloWindow };
  /** Least traffic and covered time a status needs (slo.minStatusRequests, slo.minCoveredTime); none when absent. */
  minStatus?: SampleMinimum;
  /** How far back raw rows reach (slo.rawRetention): exact partial hours of `previous` need them. */
  rawRetentionMs?: number;
}

/** The trailing span of `current_rps`. */
export const CURRENT_RATE_MS = 5 * MINUTE;

export const DEFAULT_TARGET: TargetSpec & { window: SloWindow } = { availability_target: 99.9, p95_latency_target: 500, p99_latency_target: null, window: '30d' };

// ------------------------------------------------------------------ output rounding

export const round = (v: number | null, digits: number): number | null => {
  if (v === null || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

export function metricsOut(m: SloMetrics): SloMetrics {
  return {
    covered_seconds: round(m.covered_seconds, 3) ?? 0,
    availability: round(m.availability, 5),
    p50_latency: round(m.p50_latency, 3),
    p95_latency: round(m.p95_latency, 3),
    p99_latency: round(m.p99_latency, 3),
    rps: round(m.rps, 4) ?? 0,
    total_requests: round(m.total_requests, 6) ?? 0,
    error_rate: round(m.error_rate, 5),
  };
}

export function burnOut(b: BurnRateResult) {
  return {
    window: b.window,
    long_rate: b.long_rate === Infinity ? null : round(b.long_rate, 4),
    short_rate: b.short_rate === Infinity ? null : round(b.short_rate, 4),
    long_infinite: b.long_rate === Infinity,
    short_infinite: b.short_rate === Infinity,
    threshold: b.threshold,
    firing: b.firing,
    severity: b.severity,
    long_requests: round(b.long_requests, 3) ?? 0,
    long_covered_seconds: round(b.long_covered_seconds, 3) ?? 0,
    insufficient_data: b.insufficient_data,
  };
}

export const budgetOut = (v: number | null) => round(v, 3);

export const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
export const SEP = '\u0000';

export const STATUS_RANGE: TimeRange = '1d';

const domainSums = new WeakMap<Map<string, Counts>, Map<string, Counts>>();

/** Sum of the counts of a domain's routes (keys "domain SEP path"), computed once per map. */
export function sumCounts(m: Map<string, Counts>, domain: string): Counts {
  let sums = domainSums.get(m);
  if (!sums) {
    sums = new Map();
    for (const [k, v] of m) {
      const d = k.slice(0, k.indexOf(SEP));
      const c = sums.get(d) ?? { requests: 0, failures: 0 };
      addCounts(c, v);
      sums.set(d, c);
    }
    domainSums.set(m, sums);
  }
  return sums.get(domain) ?? { requests: 0, failures: 0 };
}

/**
 * Seconds of history step i that have data: the step, cut at now (the incomplete last step) and at
 * the first snapshot (a young install), so a step's rate is its requests over the time it covers.
 */
export function stepSeconds(s: Series, i: number, now: number, dataFrom: number | null): number {
  const start = s.from + i * s.step;
  return coveredSeconds(start, Math.min(start + s.step, now), dataFrom);
}
