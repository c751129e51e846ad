import { describe, expect, it } from 'vitest';
import { formatG } from './format-g.js';

// Expected strings are what C's printf("%g") prints (glibc; checked with dlt-convert and printf).
const CASES: [number, string][] = [
  [0.1, '0.1'],
  [1.5, '1.5'],
  [1e6, '1e+06'],
  [123456789, '1.23457e+08'],
  [1e-5, '1e-05'],
  [0.0001, '0.0001'],
  [0.00012345678, '0.000123457'],
  [1 / 3, '0.333333'],
  [2.5e-300, '2.5e-300'],
  [100000, '100000'],
  [100000.5, '100000'], // a tie: half to even
  [123456.5, '123456'],
  [654321.5, '654322'],
  [999999.5, '1e+06'],
  [1234565, '1.23456e+06'],
  [9.999995, '10'], // just above the tie as a double
  [1e21, '1e+21'],
  [1.5e300, '1.5e+300'],
  [-7.25, '-7.25'],
  [5e-324, '4.94066e-324'],
  [3.4028234663852886e38, '3.40282e+38'],
];

describe('formatG', () => {
  it.each(CASES)('%s → %s', (x, want) => {
    expect(formatG(x)).toBe(want);
  });

  it('prints zeros, infinities and NaN as glibc does', () => {
    expect(formatG(0)).toBe('0');
    expect(formatG(-0)).toBe('-0');
    expect(formatG(Infinity)).toBe('inf');
    expect(formatG(-Infinity)).toBe('-inf');
    expect(formatG(NaN)).toBe('nan');
    expect(formatG(NaN, true)).toBe('-nan');
  });
});
