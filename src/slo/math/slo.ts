/**
 * SLO arithmetic (pure): golden-metric accumulators, availability, error budget, burn rates and the
 * status verdict. Percentages are 0–100, latencies milliseconds, as in the HTTP contract.
 */
import { cloneHist, histogramQuantile, mergeHist, type Hist } from './histogram.js';

/** Sums of one entity (service, edge or route) over some interval. */
export interface Golden {
  requests: number;
  /** Failed requests: 5xx (ingress), Linkerd `classification="failure"` (mesh). */
  failures: number;
  /** Requests over mTLS (mesh services only). */
  tls: number;
  /** Requests by status code; null when not loaded. */
  codes: Record<string, number> | null;
  hist: Hist | null;
  /** Sum of latencies in ms (mean = sumMs / histogram total). */
  sumMs: number;
}

export const emptyGolden = (): Golden => ({ requests: 0, failures: 0, tls: 0, codes: null, hist: null, sumMs: 0 });

/** Which optional parts of an accumulator to carry along (the counts always are). */
export interface GoldenParts {
  /** Status-code breakdowns. */
  codes?: boolean;
  /** Latency histograms. */
  hist?: boolean;
}

const ALL_PARTS: GoldenParts = { codes: true, hist: true };

/**
 * acc += src: the one way golden metrics are summed (rows, cached buckets, series points, domain
 * totals). `acc` is mutated and returned. `src` is never modified; its codes and histogram are copied
 * unless `owned` says they were just decoded for this call, in which case an empty `acc` adopts them
 * (no copy per first row, the common case when decoding a bucket).
 */
export function addGolden(acc: Golden, src: Golden, parts: GoldenParts = ALL_PARTS, owned = false): Golden {
  acc.requests += src.requests;
  acc.failures += src.failures;
  acc.tls += src.tls;
  acc.sumMs += src.sumMs;
  if (parts.codes && src.codes) acc.codes = acc.codes ? addCodes(acc.codes, src.codes) : owned ? src.codes : { ...src.codes };
  if (parts.hist && src.hist) acc.hist = acc.hist ? mergeHist(acc.hist, src.hist) : owned ? src.hist : cloneHist(src.hist);
  return acc;
}

/** `g` scaled by f (a pro-rata part of an hour); the histogram is left out (not needed pro rata). */
export function scaleGolden(g: Golden, f: number): Golden {
  return { requests: g.requests * f, failures: g.failures * f, tls: g.tls * f, sumMs: g.sumMs * f, codes: null, hist: g.hist ? scaleHist(g.hist, f) : null };
}

function scaleHist(h: Hist, f: number): Hist {
  const out: Hist = { bounds: h.bounds, counts: h.counts.map((c) => c * f) };
  if (h.more?.length) out.more = h.more.map((m) => ({ bounds: m.bounds, counts: m.counts.map((c) => c * f) }));
  return out;
}

/** acc += src for request and failure counts alone (acc is mutated and returned). */
export function addCounts(acc: Counts, src: Counts): Counts {
  acc.requests += src.requests;
  acc.failures += src.failures;
  return acc;
}

export function addCodes(acc: Record<string, number> | null, src: Record<string, number>): Record<string, number> {
  const out = acc ?? {};
  for (const k in src) out[k] = (out[k] ?? 0) + src[k];
  return out;
}

/**
 * `insufficient_data`: there is traffic, but less than the minimum sample (requests or covered time,
 * see {@link SampleMinimum}) a verdict needs — one failure in a few hundred requests two minutes after
 * start says nothing about a 99.9 % objective.
 */
export type SloStatus = 'healthy' | 'warning' | 'critical' | 'unknown' | 'insufficient_data';
export type SloWindow = '1d' | '7d' | '30d';
export const SLO_WINDOWS: readonly SloWindow[] = ['1d', '7d', '30d'];
export const WINDOW_MS: Record<SloWindow, number> = { '1d': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };

export interface TargetSpec {
  /** Percent, 0 < x ≤ 100. */
  availability_target: number;
  /** ms */
  p95_latency_target: number;
  p99_latency_target?: number | null;
}

/** The golden metrics of the HTTP contract (src/slo/server/schemas.ts SloMetrics). */
export interface SloMetrics {
  availability: number | null;
  p50_latency: number | null;
  p95_latency: number | null;
  p99_latency: number | null;
  /** Requests per second over the covered seconds (the part of the window that has data). */
  rps: number;
  total_requests: number;
  error_rate: number | null;
  /** Seconds of the window that have data (from the first snapshot on); the rate's denominator. */
  covered_seconds: number;
  /** Requests per second over the last 5 minutes (current answers only; null before any data). */
  current_rps?: number | null;
}

/** Percent of requests that did not fail; null without traffic. */
export function availability(requests: number, failures: number): number | null {
  return requests > 0 ? (100 * (requests - failures)) / requests : null;
}

export function errorRate(requests: number, failures: number): number | null {
  return requests > 0 ? (100 * failures) / requests : null;
}

/** Golden metrics of an accumulator over `seconds` of covered time (unrounded). */
export function sloMetrics(g: Golden, seconds: number): SloMetrics {
  return {
    availability: availability(g.requests, g.failures),
    p50_latency: histogramQuantile(0.5, g.hist),
    p95_latency: histogramQuantile(0.95, g.hist),
    p99_latency: histogramQuantile(0.99, g.hist),
    rps: seconds > 0 ? g.requests / seconds : 0,
    total_requests: g.requests,
    error_rate: errorRate(g.requests, g.failures),
    covered_seconds: seconds,
  };
}

/** The least traffic and covered time a status or a burn alert needs (slo.minStatusRequests, slo.minCoveredTime). */
export interface SampleMinimum {
  requests: number;
  coveredSeconds: number;
}

export const NO_MINIMUM: SampleMinimum = { requests: 0, coveredSeconds: 0 };

/**
 * Status against a target: unknown without traffic; insufficient_data below the sample minimum;
 * critical when availability is below the availability target; warning when p95 (or p99, when that
 * target is set) is above its target; else healthy. Equal to the target is meeting it.
 */
export function evaluateStatus(
  m: Pick<SloMetrics, 'total_requests' | 'availability' | 'p95_latency' | 'p99_latency'> & { covered_seconds?: number },
  t: TargetSpec,
  min: SampleMinimum = NO_MINIMUM,
): SloStatus {
  if (!(m.total_requests > 0) || m.availability === null) return 'unknown';
  if (m.total_requests < min.requests || (m.covered_seconds ?? Infinity) < min.coveredSeconds) return 'insufficient_data';
  if (m.availability < t.availability_target) return 'critical';
  if (m.p95_latency !== null && m.p95_latency > t.p95_latency_target) return 'warning';
  if (t.p99_latency_target != null && m.p99_latency !== null && m.p99_latency > t.p99_latency_target) return 'warning';
  return 'healthy';
}

const SEVERITY: Record<SloStatus, number> = { unknown: 0, insufficient_data: 1, healthy: 2, warning: 3, critical: 4 };

/**
 * The worst of several statuses; unknown only when every one is unknown (or there are none). A part
 * too thin to judge does not hide a judged one: healthy + insufficient_data is healthy.
 */
export function worstStatus(statuses: Iterable<SloStatus>): SloStatus {
  let worst: SloStatus = 'unknown';
  for (const s of statuses) if (SEVERITY[s] > SEVERITY[worst]) worst = s;
  return worst;
}

/**
 * Percent of the error budget left: 100 × (1 − observed error ratio / allowed error ratio), where
 * allowed = 1 − target/100. 100 = untouched, 0 = spent, negative = overspent; null without traffic.
 * A 100 % target allows no errors: any failure reports −100 (spent), none reports 100.
 */
export function errorBudgetRemaining(requests: number, failures: number, availabilityTarget: number): number | null {
  if (!(requests > 0)) return null;
  const allowed = 1 - availabilityTarget / 100;
  const observed = failures / requests;
  if (allowed <= 0) return observed > 0 ? -100 : 100;
  return 100 * (1 - observed / allowed);
}

/**
 * Burn rate: observed error ratio / allowed error ratio (1 = spending the budget exactly over the
 * SLO window). null without traffic; +Infinity for failures against a 100 % target.
 */
export function burnRate(requests: number, failures: number, availabilityTarget: number): number | null {
  if (!(requests > 0)) return null;
  const allowed = 1 - availabilityTarget / 100;
  const observed = failures / requests;
  if (allowed <= 0) return observed > 0 ? Infinity : 0;
  return observed / allowed;
}

export interface BurnWindow {
  window: string;
  longMs: number;
  shortMs: number;
  threshold: number;
  severity: 'page' | 'ticket';
}

/** The Google SRE workbook multi-window, multi-burn-rate pairs (chapter 5, table 5-8). */
export const BURN_WINDOWS: readonly BurnWindow[] = [
  { window: '1h/5m', longMs: 3_600_000, shortMs: 300_000, threshold: 14.4, severity: 'page' },
  { window: '6h/30m', longMs: 6 * 3_600_000, shortMs: 1_800_000, threshold: 6, severity: 'page' },
  { window: '1d/2h', longMs: 86_400_000, shortMs: 2 * 3_600_000, threshold: 3, severity: 'ticket' },
  { window: '3d/6h', longMs: 3 * 86_400_000, shortMs: 6 * 3_600_000, threshold: 1, severity: 'ticket' },
];

/** Every distinct window length the burn-rate pairs need. */
export const BURN_SPANS_MS: readonly number[] = [...new Set(BURN_WINDOWS.flatMap((w) => [w.longMs, w.shortMs]))].sort((a, b) => a - b);

export interface Counts {
  requests: number;
  failures: number;
}

export interface BurnRateResult {
  window: string;
  long_rate: number | null;
  short_rate: number | null;
  threshold: number;
  firing: boolean;
  severity: 'page' | 'ticket';
  /** Requests in the long window (the minimum-traffic guard looks at it). */
  long_requests: number;
  /** Seconds of the long window that have data. */
  long_covered_seconds: number;
  /** Too little traffic or covered time in the long window to fire (see {@link burnRates}). */
  insufficient_data: boolean;
}

/**
 * Burn rates of every pair. A pair fires when both rates exceed its threshold and the long window
 * holds enough sample to mean anything (the SRE workbook's low-traffic advice): at least
 * `min.requests` requests, and covered time of at least max(`min.coveredSeconds`, the short window)
 * — a "3-day" rate measured over two minutes of data is not a 3-day rate.
 * `coveredOf(spanMs)` is the covered seconds of the trailing window of that span (the span itself
 * when omitted).
 */
export function burnRates(countsOf: (spanMs: number) => Counts, availabilityTarget: number, min: SampleMinimum, coveredOf: (spanMs: number) => number = (x) => x / 1000): BurnRateResult[] {
  return BURN_WINDOWS.map((w) => {
    const long = countsOf(w.longMs);
    const short = countsOf(w.shortMs);
    const longRate = burnRate(long.requests, long.failures, availabilityTarget);
    const shortRate = burnRate(short.requests, short.failures, availabilityTarget);
    const covered = coveredOf(w.longMs);
    const insufficient = long.requests > 0 && (long.requests < min.requests || covered < Math.max(min.coveredSeconds, w.shortMs / 1000));
    const firing = !insufficient && longRate !== null && shortRate !== null && longRate > w.threshold && shortRate > w.threshold;
    return {
      window: w.window,
      long_rate: longRate,
      short_rate: shortRate,
      threshold: w.threshold,
      firing,
      severity: w.severity,
      long_requests: long.requests,
      long_covered_seconds: covered,
      insufficient_data: insufficient,
    };
  });
}
