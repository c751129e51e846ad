/**
 * Latency histogram accumulation for the agent (pure).
 *
 * Deltas arrive as cumulative bucket counts (`le` semantics) per layout; histograms of one layout are
 * added bucket by bucket. The snapshot carries per-bucket counts with the layout kept exactly. When one
 * aggregate receives several layouts (e.g. a Linkerd proxy and an OTel-exported copy with other bounds)
 * they are merged by src/prom's mergeHistograms: the union of bounds where every input's count is
 * exact — whole buckets, never split, so no count moves to a bucket it was not observed in.
 */
import { mergeHistograms } from '../../prom/histogram.js';
import type { LatencyHistogram } from '../snapshot.js';

interface Layout {
  bounds: number[];
  /** Cumulative counts at each finite bound, then the +Inf total. */
  cum: Float64Array;
  sum: number;
}

export class HistogramAccumulator {
  private layouts: Layout[] = [];

  /** True when nothing was added (not even zeros). */
  get empty(): boolean {
    return this.layouts.length === 0;
  }

  /**
   * Add one interval's deltas. `bounds` are finite upper bounds in ms (strictly increasing), `cum`
   * the cumulative delta at each bound, `inf` the delta of the +Inf bucket (the total).
   */
  add(bounds: readonly number[], cum: ArrayLike<number>, inf: number, sumMs: number): void {
    let l: Layout | undefined;
    for (const x of this.layouts) {
      if (sameBounds(x.bounds, bounds)) {
        l = x;
        break;
      }
    }
    if (!l) {
      l = { bounds: bounds.slice(), cum: new Float64Array(bounds.length + 1), sum: 0 };
      this.layouts.push(l);
    }
    const c = l.cum;
    const n = bounds.length;
    for (let i = 0; i < n; i++) c[i] += cum[i];
    c[n] += inf;
    l.sum += sumMs;
  }

  merge(o: HistogramAccumulator): void {
    for (const l of o.layouts) {
      const n = l.bounds.length;
      this.add(l.bounds, l.cum, l.cum[n], l.sum);
    }
  }

  /** Add the sum only (a `_sum` sample whose buckets were delivered elsewhere). */
  addSum(sumMs: number): void {
    if (this.layouts.length === 0) this.layouts.push({ bounds: [], cum: new Float64Array(1), sum: 0 });
    this.layouts[0].sum += sumMs;
  }

  toLatency(): LatencyHistogram {
    if (this.layouts.length === 0) return { bounds: [], counts: [0], sum_ms: 0, count: 0 };
    let sum = 0;
    for (const l of this.layouts) sum += l.sum;
    const withBuckets = this.layouts.filter((l) => l.bounds.length > 0 || l.cum[0] > 0);
    let bounds: readonly number[];
    let cum: ArrayLike<number>;
    if (withBuckets.length <= 1) {
      const l = withBuckets[0] ?? { bounds: [], cum: new Float64Array(1) };
      bounds = l.bounds;
      cum = l.cum;
    } else {
      // src/prom: the union of the bounds where every input's count is exact; never splits a bucket.
      const merged = mergeHistograms(withBuckets.map((l) => ({ bounds: l.bounds, counts: Array.from(l.cum) })));
      bounds = merged.bounds;
      cum = merged.counts;
    }
    return cumulativeToLatency(bounds, cum, sum);
  }
}

/** The wire schema's limit on finite bounds; buckets above it are folded into +Inf. */
export const MAX_BOUNDS = 200;

/** Per-bucket counts from cumulative ones; a dip (inconsistent input) counts as zero. */
export function cumulativeToLatency(allBounds: readonly number[], allCum: ArrayLike<number>, sumMs: number): LatencyHistogram {
  let bounds = allBounds;
  let cum = allCum;
  if (allBounds.length > MAX_BOUNDS) {
    bounds = allBounds.slice(0, MAX_BOUNDS);
    const c = Array.from({ length: MAX_BOUNDS + 1 }, (_, i) => allCum[i]);
    c[MAX_BOUNDS] = allCum[allBounds.length];
    cum = c;
  }
  const counts = new Array<number>(bounds.length + 1);
  let prev = 0;
  let count = 0;
  for (let i = 0; i <= bounds.length; i++) {
    const c = cum[i];
    const d = c > prev ? c - prev : 0;
    counts[i] = d;
    count += d;
    if (c > prev) prev = c;
  }
  return { bounds: bounds.slice(), counts, sum_ms: sumMs > 0 ? sumMs : 0, count };
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Seconds → milliseconds without binary noise (0.3 s → 300, not 300.00000000000006). */
export function secondsToMs(s: number): number {
  const ms = s * 1000;
  return Number.isFinite(ms) ? Number(ms.toPrecision(12)) : ms;
}
