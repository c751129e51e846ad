/**
 * Classic (bucketed) histogram math: layouts, `histogram_quantile`, merging (pure, no I/O).
 *
 * ## Layout
 *
 * A {@link HistogramBuckets} holds
 * - `bounds`: the FINITE upper bounds (`le`), strictly ascending, as numbers. `+Inf` is implicit.
 * - `counts`: CUMULATIVE counts, exactly as exposed by `_bucket` series:
 *   `counts[i]` = observations `<= bounds[i]` for `i < bounds.length`, and
 *   `counts[bounds.length]` = the `+Inf` bucket = all observations.
 *   So `counts.length === bounds.length + 1`.
 * - `sum` (optional): the `_sum` series.
 *
 * Use {@link toPerBucket} / {@link fromPerBucket} to convert to and from per-bucket
 * (non-cumulative) counts. Bounds are never re-bucketed: a layout is kept exactly as scraped.
 *
 * ## `le` values
 *
 * `le` label values are compared as numbers ({@link parseLe}): "1", "1.0" and "1e0" are the same
 * bound; "+Inf" (also "Inf", case-insensitive) is the overflow bucket.
 */
import { parseFloatRange, numberScratch } from './number.js';
import type { MetricFamily } from './textparse/index.js';

export interface HistogramBuckets {
  /** Finite upper bounds, strictly ascending. */
  readonly bounds: readonly number[];
  /** Cumulative counts; `counts.length === bounds.length + 1`; the last one is the +Inf bucket. */
  readonly counts: readonly number[];
  /** Sum of observations, when known. */
  readonly sum?: number;
}

/**
 * Numeric value of an `le` label: "1", "1.0", "1e0" → 1; "+Inf"/"Inf"/"inf" → Infinity;
 * "-Inf" → -Infinity. NaN when the text is not a number (and for "NaN" itself: not a bound).
 */
export function parseLe(le: string): number {
  const v = parseFloatRange(le, 0, le.length);
  return numberScratch.ok ? v : NaN;
}

/** Canonical text for a bound: "+Inf" for Infinity, else the shortest round-trip decimal. */
export function formatLe(bound: number): string {
  if (bound === Infinity) return '+Inf';
  if (bound === -Infinity) return '-Inf';
  return String(bound);
}

/** Throws RangeError unless `h` satisfies the layout invariants documented above. */
export function assertLayout(h: HistogramBuckets): void {
  const { bounds, counts } = h;
  if (counts.length !== bounds.length + 1) {
    throw new RangeError(`histogram has ${bounds.length} finite bounds but ${counts.length} counts (expected ${bounds.length + 1})`);
  }
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i];
    if (!Number.isFinite(b)) throw new RangeError(`histogram bound ${b} at index ${i} is not finite (+Inf is implicit)`);
    if (i > 0 && !(b > bounds[i - 1])) throw new RangeError(`histogram bounds must be strictly ascending (${bounds[i - 1]} then ${b})`);
  }
}

/**
 * Build a layout from `(le, cumulative count)` pairs, e.g. the `_bucket` samples of one series.
 * `le` may be text ("0.5", "+Inf") or a number; pairs may come in any order.
 * Pairs whose bounds are numerically equal ("1" and "1.0") are the same bucket and their counts
 * are added, as Prometheus does when coalescing buckets after `sum by (le)`.
 * Returns undefined when there is no +Inf bucket or an `le` is not a number.
 */
export function bucketsFromPairs(pairs: Iterable<{ le: string | number; count: number }>, sum?: number): HistogramBuckets | undefined {
  const items: { b: number; c: number }[] = [];
  for (const { le, count } of pairs) {
    const b = typeof le === 'number' ? le : parseLe(le);
    if (b !== b) return undefined;
    items.push({ b, c: count });
  }
  items.sort((x, y) => x.b - y.b);
  const bounds: number[] = [];
  const counts: number[] = [];
  let inf: number | undefined;
  for (const { b, c } of items) {
    if (b === Infinity) {
      inf = (inf ?? 0) + c;
    } else if (b === -Infinity) {
      return undefined;
    } else if (bounds.length > 0 && bounds[bounds.length - 1] === b) {
      counts[counts.length - 1] += c;
    } else {
      bounds.push(b);
      counts.push(c);
    }
  }
  if (inf === undefined) return undefined;
  counts.push(inf);
  return sum === undefined ? { bounds, counts } : { bounds, counts, sum };
}

/** Per-bucket (non-cumulative) counts: `[c0, c1 - c0, ..., cInf - cLast]`. */
export function toPerBucket(h: HistogramBuckets): number[] {
  const out = new Array<number>(h.counts.length);
  let prev = 0;
  for (let i = 0; i < h.counts.length; i++) {
    out[i] = h.counts[i] - prev;
    prev = h.counts[i];
  }
  return out;
}

/** Layout from finite bounds and per-bucket counts (the last one is the +Inf bucket). */
export function fromPerBucket(bounds: readonly number[], perBucket: readonly number[], sum?: number): HistogramBuckets {
  const counts = new Array<number>(perBucket.length);
  let acc = 0;
  for (let i = 0; i < perBucket.length; i++) {
    acc += perBucket[i];
    counts[i] = acc;
  }
  const h: HistogramBuckets = sum === undefined ? { bounds: bounds.slice(), counts } : { bounds: bounds.slice(), counts, sum };
  assertLayout(h);
  return h;
}

/**
 * φ-quantile of a classic histogram with Prometheus `histogram_quantile` semantics (promql/quantile.go
 * `bucketQuantile`). This is Vigil's only implementation: the SLO read model (src/slo/math/histogram.ts)
 * calls it and reports NaN as null. Special cases, in the order they are checked:
 * - q NaN → NaN; q < 0 → -Infinity; q > 1 → +Infinity (even on an empty histogram, as Prometheus);
 * - NaN when there is no finite bound or no observation (the +Inf count is 0: empty input), or the layout is invalid;
 * - cumulative counts are made monotonic first (running maximum), as Prometheus does;
 * - rank = q × total; the bucket is the first whose cumulative count is >= rank;
 * - a rank in the +Inf bucket returns the highest finite bound;
 * - in the first bucket the lower bound is 0 if its upper bound is > 0; if that upper bound is
 *   <= 0 the upper bound itself is returned;
 * - otherwise linear interpolation inside the bucket.
 * One deliberate difference: for q = 0 Prometheus can divide 0/0 when leading buckets are empty;
 * here q = 0 returns the lower edge of the first non-empty bucket instead of NaN.
 */
export function histogramQuantile(q: number, h: HistogramBuckets): number {
  if (q !== q) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const { bounds, counts } = h;
  const n = bounds.length;
  if (n === 0 || counts.length !== n + 1) return NaN;
  // Cumulative counts made monotonic by a running maximum = Prometheus' ensureMonotonic; computed on
  // the fly (no copy: the SLO read model calls this for every entity of every answer).
  let total = 0;
  for (let i = 0; i <= n; i++) if (counts[i] > total) total = counts[i];
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let b = 0;
  let before = 0;
  let at = 0;
  for (; b < n; b++) {
    at = counts[b] > before ? counts[b] : before;
    if (rank === 0 ? at > 0 : at >= rank) break;
    before = at;
  }
  if (b === n) return bounds[n - 1];
  if (b === 0 && bounds[0] <= 0) return bounds[0];
  const start = b === 0 ? 0 : bounds[b - 1];
  const end = bounds[b];
  return start + (end - start) * ((rank - before) / (at - before));
}

export interface MergedHistogram extends HistogramBuckets {
  /**
   * Bounds present in some input that were left out of the result because their cumulative count
   * could not be known exactly (see {@link mergeHistograms}). Empty when nothing was lost.
   */
  readonly droppedBounds: readonly number[];
}

/**
 * Merge histograms bucket by bucket, never re-bucketing lossily.
 *
 * - Identical layouts: counts (and sums) are added bucket by bucket.
 * - Different layouts: the result takes the UNION of all finite bounds, but keeps a bound x only
 *   where every input's cumulative count at x is known exactly. For an input that has x among its
 *   bounds that is its own count. For an input that does not, its count at x is exact only when it
 *   has no observation in the bucket of its own layout that contains x (count at the bound below
 *   == count at the bound above, or x lies below its first bound and that bucket is empty, or above
 *   its last finite bound and its +Inf bucket adds nothing); then the count at x is the count at
 *   the bound below. Any other x is dropped and reported in `droppedBounds`: we never guess how
 *   observations spread inside a bucket. The bounds common to all inputs are therefore always
 *   kept, and the +Inf bucket is always the sum of the inputs' +Inf buckets.
 * - `sum` is the sum of the inputs' sums when every input has one, else absent.
 *
 * Throws RangeError when an input breaks the layout invariants. Merging zero histograms gives an
 * empty layout (`{bounds: [], counts: [0]}`).
 */
export function mergeHistograms(histograms: readonly HistogramBuckets[]): MergedHistogram {
  for (const h of histograms) assertLayout(h);
  let sum: number | undefined = 0;
  for (const h of histograms) {
    if (h.sum === undefined) {
      sum = undefined;
      break;
    }
    sum += h.sum;
  }
  if (histograms.length === 0) return { bounds: [], counts: [0], droppedBounds: [] };
  const first = histograms[0];
  const identical = histograms.every((h) => sameBounds(h.bounds, first.bounds));
  if (identical) {
    const counts = first.counts.slice();
    for (let k = 1; k < histograms.length; k++) {
      const c = histograms[k].counts;
      for (let i = 0; i < counts.length; i++) counts[i] += c[i];
    }
    return withSum({ bounds: first.bounds.slice(), counts, droppedBounds: [] }, sum);
  }
  // Union of finite bounds.
  const union = Array.from(new Set(histograms.flatMap((h) => h.bounds))).sort((a, b) => a - b);
  const bounds: number[] = [];
  const counts: number[] = [];
  const dropped: number[] = [];
  const cursor = new Array<number>(histograms.length).fill(0); // per input: index of first bound >= x
  for (const x of union) {
    let total = 0;
    let exact = true;
    for (let k = 0; k < histograms.length; k++) {
      const h = histograms[k];
      let i = cursor[k];
      while (i < h.bounds.length && h.bounds[i] < x) i++;
      cursor[k] = i;
      if (i < h.bounds.length && h.bounds[i] === x) {
        total += h.counts[i];
        continue;
      }
      // x is strictly inside h's bucket (bounds[i-1], bounds[i]] (or the +Inf bucket when i == n).
      const below = i === 0 ? 0 : h.counts[i - 1];
      const above = h.counts[i]; // i == bounds.length gives the +Inf count
      if (below !== above) {
        exact = false;
        break;
      }
      total += below;
    }
    if (exact) {
      bounds.push(x);
      counts.push(total);
    } else {
      dropped.push(x);
    }
  }
  let inf = 0;
  for (const h of histograms) inf += h.counts[h.counts.length - 1];
  counts.push(inf);
  return withSum({ bounds, counts, droppedBounds: dropped }, sum);
}

function withSum(h: MergedHistogram, sum: number | undefined): MergedHistogram {
  return sum === undefined ? h : { ...h, sum };
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface SeriesHistogram {
  /** The series labels without `le`. */
  labels: Record<string, string>;
  buckets: HistogramBuckets;
  /** The `_count` sample, when present. */
  count?: number;
}

/**
 * One {@link HistogramBuckets} per series of a parsed histogram family (samples `<name>_bucket`,
 * `<name>_sum`, `<name>_count`, grouped by their labels without `le`). Series without a +Inf
 * bucket or with a non-numeric `le` are left out.
 */
export function histogramsFromFamily(family: Pick<MetricFamily, 'name' | 'samples'>): SeriesHistogram[] {
  const bucketName = family.name + '_bucket';
  const sumName = family.name + '_sum';
  const countName = family.name + '_count';
  const groups = new Map<string, { labels: Record<string, string>; pairs: { le: string; count: number }[]; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const isBucket = s.name === bucketName;
    if (!isBucket && s.name !== sumName && s.name !== countName) continue;
    const labels: Record<string, string> = {};
    const keys = Object.keys(s.labels)
      .filter((k) => !(isBucket && k === 'le'))
      .sort();
    for (const k of keys) labels[k] = s.labels[k];
    const key = JSON.stringify(keys.map((k) => [k, labels[k]]));
    let g = groups.get(key);
    if (g === undefined) {
      g = { labels, pairs: [] };
      groups.set(key, g);
    }
    if (isBucket) {
      const le = s.labels.le;
      if (le !== undefined) g.pairs.push({ le, count: s.value });
    } else if (s.name === sumName) g.sum = s.value;
    else g.count = s.value;
  }
  const out: SeriesHistogram[] = [];
  for (const g of groups.values()) {
    const buckets = bucketsFromPairs(g.pairs, g.sum);
    if (buckets === undefined) continue;
    const sh: SeriesHistogram = { labels: g.labels, buckets };
    if (g.count !== undefined) sh.count = g.count;
    out.push(sh);
  }
  return out;
}
