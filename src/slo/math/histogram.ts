/**
 * Latency histograms as the SLO server stores and merges them (pure).
 *
 * A histogram is its exact bucket layout: finite upper bounds in ms (strictly increasing) and
 * per-bucket, NOT cumulative, counts — one more count than bounds, the last being (max bound, +Inf).
 * This is the wire shape of src/slo/snapshot.ts without sum/count.
 *
 * Layouts are never re-bucketed. Histograms with the same layout add bucket by bucket (the normal
 * case). When layouts differ (an agent or a proxy changed its buckets), the merged histogram keeps
 * EVERY layout, each merged only with its own kind (`more`), so the union of all bounds is kept and no
 * count is ever moved to another bucket. Reading a mixed histogram:
 *  - quantiles interpolate linearly inside each layout's buckets (what histogram_quantile assumes
 *    within one bucket) and sum the layouts' cumulative curves, then invert — for a single layout this
 *    is exactly Prometheus' histogram_quantile;
 *  - the bucket distribution shown to people is src/prom/histogram.ts mergeHistograms: the union of
 *    bounds, keeping only bounds whose cumulative count is known exactly in every layout.
 */
import { fromPerBucket, histogramQuantile as promQuantile, mergeHistograms, toPerBucket } from '../../prom/histogram.js';

export interface Hist {
  bounds: number[];
  counts: number[];
  /** Further layouts merged in (each with its own bounds), absent in the single-layout case. */
  more?: Hist[];
}

/** Identical layouts share one bounds array, so merging can compare by reference first. */
const layouts = new Map<string, number[]>();
const MAX_LAYOUTS = 1024;

function intern(json: string, parsed?: number[]): number[] {
  let b = layouts.get(json);
  if (!b) {
    b = parsed ?? (JSON.parse(json) as number[]);
    if (layouts.size >= MAX_LAYOUTS) layouts.clear();
    layouts.set(json, b);
  }
  return b;
}

/** The shared (interned) bounds array for a layout, keyed by its JSON text. */
export function internBounds(json: string): number[] {
  return intern(json);
}

let lastBounds: number[] = [];
let lastKey = '[]';

/** JSON text of a layout; consecutive identical layouts (the common case) reuse one string. */
export function boundsKey(bounds: number[]): string {
  if (bounds !== lastBounds) {
    let same = bounds.length === lastBounds.length;
    for (let i = 0; same && i < bounds.length; i++) same = bounds[i] === lastBounds[i];
    if (!same) lastKey = JSON.stringify(bounds);
    lastBounds = bounds;
  }
  return lastKey;
}

/** The two stored JSON columns of a histogram: one layout as flat arrays, several as arrays of arrays. */
export function encodeHist(h: Hist): { bounds: string; counts: string } {
  if (!h.more?.length) return { bounds: boundsKey(h.bounds), counts: JSON.stringify(h.counts) };
  const all = [h, ...h.more];
  return { bounds: JSON.stringify(all.map((x) => x.bounds)), counts: JSON.stringify(all.map((x) => x.counts)) };
}

/** Decode the two stored JSON columns (bounds, counts); null when either is missing. */
export function decodeHist(boundsJson: string | null | undefined, countsJson: string | null | undefined): Hist | null {
  if (!boundsJson || !countsJson) return null;
  if (boundsJson.startsWith('[[')) {
    const bs = JSON.parse(boundsJson) as number[][];
    const cs = JSON.parse(countsJson) as number[][];
    const all = bs.map((b, i) => ({ bounds: intern(JSON.stringify(b), b), counts: cs[i] }));
    return { ...all[0], more: all.slice(1) };
  }
  return { bounds: intern(boundsJson), counts: JSON.parse(countsJson) as number[] };
}

function layoutsOf(h: Hist): Hist[] {
  return h.more?.length ? [{ bounds: h.bounds, counts: h.counts }, ...h.more] : [h];
}

export function histTotal(h: Hist | null): number {
  if (!h) return 0;
  let t = 0;
  for (const l of layoutsOf(h)) for (const c of l.counts) t += c;
  return t;
}

function sameBounds(a: number[], b: number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A copy that can be merged into without touching the source. */
export function cloneHist(h: Hist): Hist {
  const c: Hist = { bounds: h.bounds, counts: h.counts.slice() };
  if (h.more?.length) c.more = h.more.map((m) => ({ bounds: m.bounds, counts: m.counts.slice() }));
  return c;
}

function addLayout(acc: Hist, src: Hist): void {
  let target: Hist | undefined;
  if (sameBounds(acc.bounds, src.bounds)) target = acc;
  else target = acc.more?.find((m) => sameBounds(m.bounds, src.bounds));
  if (target) {
    const t = target.counts;
    const s = src.counts;
    for (let i = 0; i < t.length; i++) t[i] += s[i];
  } else {
    (acc.more ??= []).push({ bounds: src.bounds, counts: src.counts.slice() });
  }
}

/**
 * Adds `src` into `acc` (mutated and returned); `acc` null → a copy of src. Never re-buckets: a
 * layout acc does not have yet is kept beside the others.
 */
export function mergeHist(acc: Hist | null, src: Hist | null): Hist | null {
  if (!src) return acc;
  if (!acc) return cloneHist(src);
  if (!src.more?.length && sameBounds(acc.bounds, src.bounds)) {
    const a = acc.counts;
    const s = src.counts;
    for (let i = 0; i < a.length; i++) a[i] += s[i];
    return acc;
  }
  for (const l of layoutsOf(src)) addLayout(acc, l);
  return acc;
}

/**
 * φ-quantile with the semantics of src/prom/histogram.ts `histogramQuantile` (the one implementation;
 * its doc comment lists the special cases), adapted to the SLO contract: no answer is null, not NaN.
 * Mixed layouts: see the file comment; they follow the same special cases.
 */
export function histogramQuantile(q: number, h: Hist | null): number | null {
  if (!h || Number.isNaN(q)) return null;
  if (h.more?.length) return mixedQuantile(q, layoutsOf(h));
  const cum = scratch;
  cum.length = h.counts.length;
  let acc = 0;
  for (let i = 0; i < h.counts.length; i++) cum[i] = acc += h.counts[i];
  const v = promQuantile(q, { bounds: h.bounds, counts: cum });
  return Number.isNaN(v) ? null : v;
}

/** Cumulative counts of the histogram being read (reused: reads are synchronous). */
const scratch: number[] = [];

/** Cumulative count of one layout at x, linear inside buckets (+Inf observations never counted). */
function cdfAt(l: Hist, x: number): number {
  let cum = 0;
  for (let i = 0; i < l.bounds.length; i++) {
    const hi = l.bounds[i];
    const lo = i === 0 ? Math.min(0, hi) : l.bounds[i - 1];
    if (x >= hi) {
      cum += l.counts[i];
      continue;
    }
    if (x > lo && hi > lo) cum += (l.counts[i] * (x - lo)) / (hi - lo);
    break;
  }
  return cum;
}

function mixedQuantile(q: number, ls: Hist[]): number | null {
  const finite = ls.filter((l) => l.bounds.length > 0);
  if (!finite.length) return null;
  let total = 0;
  for (const l of ls) for (const c of l.counts) total += c;
  if (!(total > 0)) return null;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const rank = q * total;
  const union = [...new Set(finite.flatMap((l) => l.bounds))].sort((a, b) => a - b);
  const F = (x: number) => ls.reduce((s, l) => s + cdfAt(l, x), 0);
  let prevX = Math.min(0, union[0]);
  let prevF = 0;
  for (const x of union) {
    const fx = F(x);
    // rank 0 (q = 0): the lower edge of the first bucket holding an observation, as in the single layout.
    if (rank === 0 ? fx > 0 : fx >= rank) {
      if (rank === 0) return x === union[0] && x <= 0 ? x : prevX;
      // F is linear on (prevX, x]: every layout's bucket containing it is.
      if (fx === prevF) return x;
      return prevX + ((x - prevX) * (rank - prevF)) / (fx - prevF);
    }
    prevX = x;
    prevF = fx;
  }
  return union[union.length - 1];
}

/** Buckets for display: `le` null is +Inf. Counts are per bucket, not cumulative. */
export function histDistribution(h: Hist | null): { le: number | null; count: number }[] {
  if (!h) return [];
  let one: { bounds: readonly number[]; counts: readonly number[] } = h;
  if (h.more?.length) {
    const merged = mergeHistograms(layoutsOf(h).map((l) => fromPerBucket(l.bounds, l.counts)));
    one = { bounds: merged.bounds, counts: toPerBucket(merged) };
  }
  return one.counts.map((count, i) => ({ le: i < one.bounds.length ? one.bounds[i] : null, count }));
}
