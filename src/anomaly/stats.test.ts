import { describe, expect, it } from 'vitest';
import { computeBaseline, madSorted, meanStd, medianSorted, p95NearestRank, parseDurations, percentileNearestRank, sortNumeric } from './stats.js';
import { seededRandom } from '../simulate/random.js';

/** Reference MAD: allocate, sort, take the median — what madSorted must agree with. */
function naiveMad(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const d = s.map((x) => Math.abs(x - m)).sort((a, b) => a - b);
  return d.length % 2 ? d[d.length >> 1] : (d[d.length / 2 - 1] + d[d.length / 2]) / 2;
}

const rng = seededRandom;

describe('median', () => {
  it('is the middle value, or the mean of the two middle values', () => {
    expect(medianSorted(sortNumeric([3, 1, 2]))).toBe(2);
    expect(medianSorted(sortNumeric([4, 1, 3, 2]))).toBe(2.5);
    expect(medianSorted(new Float64Array(0))).toBeNaN();
  });

  it('sorts numerically, not as text', () => {
    // as strings, [10, 9, 100] would sort "10","100","9" and give 100
    expect(computeBaseline([10, 9, 100], 0)!.p50).toBe(10);
  });
});

describe('p95 nearest rank', () => {
  it('takes the value at rank ceil(0.95 n)', () => {
    const r = (n: number) => sortNumeric(Array.from({ length: n }, (_, i) => i + 1));
    expect(p95NearestRank(r(100))).toBe(95); // ceil(95) = 95
    expect(p95NearestRank(r(20))).toBe(19); // ceil(19) = 19
    expect(p95NearestRank(r(10))).toBe(10); // ceil(9.5) = 10
    expect(p95NearestRank(r(1))).toBe(1);
    expect(p95NearestRank(r(1000))).toBe(950);
    expect(percentileNearestRank(r(4), 0.5)).toBe(2);
    expect(p95NearestRank(new Float64Array(0))).toBeNaN();
  });
});

describe('MAD', () => {
  it('is the median absolute deviation from the median', () => {
    // median 2; |x-2| = 1,1,0,0,2,4,7 → sorted 0,0,1,1,2,4,7 → 1
    expect(madSorted(sortNumeric([1, 1, 2, 2, 4, 6, 9]))).toBe(1);
    // median 2.5; deviations 1.5,0.5,0.5,1.5 → (0.5+1.5)/2 = 1
    expect(madSorted(sortNumeric([1, 2, 3, 4]))).toBe(1);
    expect(madSorted(sortNumeric([7]))).toBe(0);
  });

  it('is 0 when at least half the values are equal (the case the rule floors)', () => {
    expect(madSorted(sortNumeric([5, 5, 5, 6, 100]))).toBe(0);
  });

  it('agrees with the allocate-and-sort definition on random data with ties', () => {
    const r = rng(7);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(r() * 60);
      const v = Array.from({ length: n }, () => (r() < 0.3 ? 5 : Math.round(r() * 200) / 4));
      expect(madSorted(sortNumeric(v))).toBeCloseTo(naiveMad(v), 12);
    }
  });
});

describe('computeBaseline', () => {
  it('gives p50, p95, MAD and the sample count of 1..100', () => {
    const b = computeBaseline(
      Array.from({ length: 100 }, (_, i) => 100 - i),
      1234,
    )!;
    // median (50+51)/2; p95 rank 95; deviations 0.5,0.5,1.5,1.5,… → 50th and 51st are 24.5 and 25.5
    expect(b).toEqual({ p50: 50.5, p95: 95, mad: 25, sampleCount: 100, updatedAt: 1234 });
  });

  it('is null for an empty window and leaves its input unsorted', () => {
    expect(computeBaseline([], 0)).toBeNull();
    const input = Float64Array.from([3, 1, 2]);
    computeBaseline(input, 0);
    expect([...input]).toEqual([3, 1, 2]);
  });
});

describe('parseDurations', () => {
  it('drops entries that are not finite non-negative numbers', () => {
    expect([...parseDurations(['12.5', 'x', '', '-1', 'Infinity', '0', '7'])]).toEqual([12.5, 0, 7]);
  });
});

describe('meanStd', () => {
  it('gives the mean and population standard deviation', () => {
    const { mean, std } = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(mean).toBe(5);
    expect(std).toBe(2);
  });
});
