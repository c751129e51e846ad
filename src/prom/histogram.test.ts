import { describe, expect, it } from 'vitest';
import {
  assertLayout,
  bucketsFromPairs,
  formatLe,
  fromPerBucket,
  histogramQuantile,
  histogramsFromFamily,
  mergeHistograms,
  parseLe,
  toPerBucket,
  type HistogramBuckets,
} from './histogram.js';
import { parseToFamilies } from './textparse/index.js';

const h = (bounds: number[], counts: number[], sum?: number): HistogramBuckets => (sum === undefined ? { bounds, counts } : { bounds, counts, sum });

describe('le values', () => {
  it('compares bounds numerically', () => {
    expect(parseLe('1')).toBe(1);
    expect(parseLe('1.0')).toBe(1);
    expect(parseLe('1e0')).toBe(1);
    expect(parseLe('0.00011000000000000022')).toBe(0.00011000000000000022);
    expect(parseLe('+Inf')).toBe(Infinity);
    expect(parseLe('Inf')).toBe(Infinity);
    expect(parseLe('+inf')).toBe(Infinity);
    expect(parseLe('-Inf')).toBe(-Infinity);
    for (const bad of ['', 'foo', 'NaN', '0x1', '1_0', ' 1']) expect(parseLe(bad), bad).toBeNaN();
  });

  it('formats bounds', () => {
    expect(formatLe(Infinity)).toBe('+Inf');
    expect(formatLe(0.25)).toBe('0.25');
    expect(formatLe(1e-5)).toBe('0.00001');
  });

  it('builds a layout from unsorted text pairs, coalescing equal bounds', () => {
    const b = bucketsFromPairs(
      [
        { le: '+Inf', count: 10 },
        { le: '10', count: 8 },
        { le: '2', count: 4 },
        { le: '1e1', count: 1 }, // same bound as "10": added, as after `sum by (le)`
        { le: '0.5', count: 1 },
      ],
      42,
    );
    expect(b).toEqual({ bounds: [0.5, 2, 10], counts: [1, 4, 9, 10], sum: 42 });
    expect(bucketsFromPairs([{ le: '1', count: 1 }])).toBeUndefined(); // no +Inf bucket
    expect(bucketsFromPairs([{ le: 'x', count: 1 }, { le: '+Inf', count: 1 }])).toBeUndefined();
  });

  it('keeps the layout of a parsed histogram exactly, ordered by numeric le', () => {
    const text = [
      '# TYPE lat histogram',
      'lat_bucket{svc="a",le="2"} 1',
      'lat_bucket{svc="a",le="10"} 3',
      'lat_bucket{svc="a",le="1e2"} 4',
      'lat_bucket{svc="a",le="+Inf"} 5',
      'lat_sum{svc="a"} 250',
      'lat_count{svc="a"} 5',
      '# EOF',
    ].join('\n');
    const fam = parseToFamilies(text, { format: 'openmetrics', lenient: false }).families[0];
    const [series] = histogramsFromFamily(fam);
    expect(series).toEqual({ labels: { svc: 'a' }, buckets: { bounds: [2, 10, 100], counts: [1, 3, 4, 5], sum: 250 }, count: 5 });
  });
});

describe('per-bucket conversion', () => {
  it('round-trips cumulative and per-bucket counts', () => {
    const c = h([1, 2, 4], [10, 20, 30, 31], 50);
    expect(toPerBucket(c)).toEqual([10, 10, 10, 1]);
    expect(fromPerBucket([1, 2, 4], [10, 10, 10, 1], 50)).toEqual(c);
  });

  it('rejects invalid layouts', () => {
    expect(() => assertLayout(h([2, 1], [0, 0, 0]))).toThrow(RangeError);
    expect(() => assertLayout(h([1, 1], [0, 0, 0]))).toThrow(RangeError);
    expect(() => assertLayout(h([1, Infinity], [0, 0, 0]))).toThrow(RangeError);
    expect(() => assertLayout(h([1], [0]))).toThrow(RangeError);
    expect(() => assertLayout(h([1], [0, 0]))).not.toThrow();
  });
});

describe('histogramQuantile', () => {
  // bounds 1, 2, 4; cumulative 10, 20, 30; +Inf 30 (no observation above 4)
  const base = h([1, 2, 4], [10, 20, 30, 30]);

  it('interpolates linearly inside the bucket that holds the rank', () => {
    // q=0.5: rank 15 → bucket (1,2] (before 10, count 10) → 1 + 1 × 5/10 = 1.5
    expect(histogramQuantile(0.5, base)).toBe(1.5);
    // q=0.25: rank 7.5 → first bucket, lower bound 0 → 0 + 1 × 7.5/10 = 0.75
    expect(histogramQuantile(0.25, base)).toBe(0.75);
    // q=0.9: rank 27 → bucket (2,4] (before 20, count 10) → 2 + 2 × 7/10 = 3.4
    expect(histogramQuantile(0.9, base)).toBeCloseTo(3.4, 12);
    // q=1: rank 30 → bucket (2,4] fully → 4
    expect(histogramQuantile(1, base)).toBe(4);
  });

  it('returns the highest finite bound when the rank falls in the +Inf bucket', () => {
    // cumulative 1, 2, +Inf 10: q=0.5 → rank 5 > 2 → +Inf bucket → highest finite bound 2
    expect(histogramQuantile(0.5, h([1, 2], [1, 2, 10]))).toBe(2);
    expect(histogramQuantile(0.99, h([0.1], [0, 7]))).toBe(0.1);
  });

  it('returns the first upper bound when it is <= 0 and the rank is in the first bucket', () => {
    const neg = h([-1, 0, 1], [5, 5, 10, 10]);
    // q=0.2: rank 2 in the first bucket whose upper bound -1 <= 0 → -1
    expect(histogramQuantile(0.2, neg)).toBe(-1);
    // q=0.75: rank 7.5 → (0,1] (before 5, count 5) → 0 + 1 × 2.5/5 = 0.5
    expect(histogramQuantile(0.75, neg)).toBe(0.5);
  });

  it('returns NaN without data and ±Inf for q outside [0, 1]', () => {
    expect(histogramQuantile(0.5, h([1, 2], [0, 0, 0]))).toBeNaN();
    expect(histogramQuantile(0.5, h([], [5]))).toBeNaN(); // only the +Inf bucket
    expect(histogramQuantile(0.5, h([1], [1, 2, 3]))).toBeNaN(); // invalid layout
    expect(histogramQuantile(NaN, base)).toBeNaN();
    expect(histogramQuantile(-0.1, base)).toBe(-Infinity);
    expect(histogramQuantile(1.1, base)).toBe(Infinity);
  });

  it('repairs non-monotonic cumulative counts with a running maximum', () => {
    // 5, 4, 10 → 5, 5, 10: q=0.5 → rank 5 → first bucket → 1 × 5/5 = 1
    expect(histogramQuantile(0.5, h([1, 2, 3], [5, 4, 10, 10]))).toBe(1);
  });

  it('q=0 gives the lower edge of the first non-empty bucket', () => {
    // buckets (0,1] and (1,2] empty, 4 observations in (2,3] → 2 (Prometheus would compute 0/0)
    expect(histogramQuantile(0, h([1, 2, 3], [0, 0, 4, 4]))).toBe(2);
  });
});

describe('mergeHistograms', () => {
  it('adds identical layouts bucket by bucket', () => {
    const m = mergeHistograms([h([1, 2], [1, 3, 4], 5), h([1, 2], [2, 2, 6], 7)]);
    expect(m).toEqual({ bounds: [1, 2], counts: [3, 5, 10], sum: 12, droppedBounds: [] });
  });

  it('treats "1", "1.0" and "1e0" as one bound', () => {
    const a = bucketsFromPairs([{ le: '1', count: 2 }, { le: '+Inf', count: 3 }])!;
    const b = bucketsFromPairs([{ le: '1.0', count: 1 }, { le: '+Inf', count: 1 }])!;
    const c = bucketsFromPairs([{ le: '1e0', count: 4 }, { le: '+Inf', count: 5 }])!;
    expect(mergeHistograms([a, b, c])).toEqual({ bounds: [1], counts: [7, 9], droppedBounds: [] });
  });

  it('keeps the union of bounds where every count is exact', () => {
    // a has no observation in (1,5], so its count at 2 is exactly its count at 1 (2).
    const a = h([1, 5], [2, 2, 3]);
    const b = h([1, 2, 5], [1, 4, 4, 4]);
    // le=1: 2+1=3; le=2: 2+4=6; le=5: 2+4=6; +Inf: 3+4=7
    expect(mergeHistograms([a, b])).toEqual({ bounds: [1, 2, 5], counts: [3, 6, 6, 7], droppedBounds: [] });
  });

  it('drops a bound whose count would have to be guessed, and reports it', () => {
    // a has 4 observations in (1,5]: how many are <= 2 is unknown → bound 2 dropped.
    const a = h([1, 5], [2, 6, 6]);
    const b = h([1, 2, 5], [1, 4, 4, 4]);
    const m = mergeHistograms([a, b]);
    expect(m).toEqual({ bounds: [1, 5], counts: [3, 10, 10], droppedBounds: [2] });
    // the merged histogram answers like the sum of the common buckets: p50 rank 5 in (1,5]
    // (before 3, count 7) → 1 + 4 × 2/7
    expect(histogramQuantile(0.5, m)).toBeCloseTo(1 + (4 * 2) / 7, 12);
  });

  it('handles bounds below the first and above the last finite bound', () => {
    // b's first bucket (-inf,1] holds 2 observations: its count at 0.5 is unknown → dropped
    expect(mergeHistograms([h([0.5, 1], [0, 3, 3]), h([1], [2, 5])])).toEqual({ bounds: [1], counts: [5, 8], droppedBounds: [0.5] });
    // same but b's first bucket is empty → count at 0.5 is exactly 0 → kept
    expect(mergeHistograms([h([0.5, 1], [0, 3, 3]), h([1], [0, 5])])).toEqual({ bounds: [0.5, 1], counts: [0, 3, 8], droppedBounds: [] });
    // a has nothing above 1, so its count at 10 is exactly 3: 3 + 2 = 5
    expect(mergeHistograms([h([1], [3, 3]), h([1, 10], [1, 2, 2])])).toEqual({ bounds: [1, 10], counts: [4, 5, 5], droppedBounds: [] });
  });

  it('keeps the sum only when every input has one', () => {
    expect(mergeHistograms([h([1], [1, 1], 0.5), h([1], [1, 1])]).sum).toBeUndefined();
    expect(mergeHistograms([h([1], [1, 1], 0.5), h([2], [0, 1], 1.5)]).sum).toBe(2);
  });

  it('rejects invalid inputs and merges nothing into an empty histogram', () => {
    expect(() => mergeHistograms([h([1], [1, 1]), h([2, 1], [0, 0, 0])])).toThrow(RangeError);
    expect(mergeHistograms([])).toEqual({ bounds: [], counts: [0], droppedBounds: [] });
  });

  it('does not modify its inputs', () => {
    const a = h([1, 2], [1, 2, 3]);
    const b = h([1, 2], [1, 1, 1]);
    mergeHistograms([a, b]);
    expect(a).toEqual(h([1, 2], [1, 2, 3]));
  });
});
