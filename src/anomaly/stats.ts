/**
 * Order statistics of latency windows (pure). Works on Float64Array so the numeric sort is the
 * engine's typed-array sort (no comparator, no boxing) and MAD needs no second array:
 * the absolute deviations of a sorted array are two sorted runs around the median, merged in place.
 */
import type { BaselineStats } from './types.js';

/** A sorted copy (ascending, numeric). NaN values are the caller's business: filter them first. */
export function sortNumeric(values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values);
  out.sort();
  return out;
}

/** Median of an ascending array: the middle value, or the mean of the two middle values. NaN when empty. */
export function medianSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Nearest-rank percentile of an ascending array: the value at rank ceil(q × n) (1-based).
 * p95 of 20 values is the 19th; of 100 values the 95th; of 1 value that value. NaN when empty.
 */
export function percentileNearestRank(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (!(q > 0)) return sorted[0];
  const rank = Math.min(n, Math.max(1, Math.ceil(q * n - 1e-9)));
  return sorted[rank - 1];
}

export function p95NearestRank(sorted: ArrayLike<number>): number {
  return percentileNearestRank(sorted, 0.95);
}

/**
 * Median absolute deviation, median(|x − median|), of an ascending array, without allocating:
 * deviations left of the median grow leftwards, those right of it grow rightwards, so the
 * k-th smallest deviation is found by merging the two runs. NaN when empty.
 */
export function madSorted(sorted: ArrayLike<number>, median = medianSorted(sorted)): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  // first index whose value is >= median
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (sorted[m] < median) lo = m + 1;
    else hi = m;
  }
  let i = lo - 1; // walks left
  let j = lo; // walks right
  const next = (): number => {
    const dl = i >= 0 ? median - sorted[i] : Infinity;
    const dr = j < n ? sorted[j] - median : Infinity;
    if (dl <= dr) {
      i--;
      return dl;
    }
    j++;
    return dr;
  };
  const k = (n - 1) >> 1; // index of the lower middle deviation
  let d = 0;
  for (let t = 0; t <= k; t++) d = next();
  if (n % 2 === 1) return d;
  return (d + next()) / 2;
}

/** p50, p95 (nearest rank) and MAD of unsorted values; null when there are none. */
export function computeBaseline(values: ArrayLike<number>, updatedAt: number): BaselineStats | null {
  if (values.length === 0) return null;
  const sorted = values instanceof Float64Array ? values.slice().sort() : sortNumeric(values);
  const p50 = medianSorted(sorted);
  return {
    p50,
    p95: p95NearestRank(sorted),
    mad: madSorted(sorted, p50),
    sampleCount: sorted.length,
    updatedAt,
  };
}

/**
 * Durations as stored in a dur:{key} list (decimal strings) → Float64Array, dropping entries that are
 * not finite non-negative numbers (a hand-edited or corrupted list must not poison a baseline).
 */
export function parseDurations(values: readonly string[]): Float64Array {
  const out = new Float64Array(values.length);
  let w = 0;
  for (const s of values) {
    const v = Number(s);
    if (s !== '' && Number.isFinite(v) && v >= 0) out[w++] = v;
  }
  return w === out.length ? out : out.slice(0, w);
}

/** Mean and population standard deviation (Welford), for the z-score peer in the accuracy bench. */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    const d = x - mean;
    mean += d / (i + 1);
    m2 += d * (x - mean);
  }
  return { mean: values.length ? mean : NaN, std: values.length ? Math.sqrt(m2 / values.length) : NaN };
}
