/**
 * Sample name suffixes relative to their family name (`x_total` of family `x`), and which ones
 * each metric type allows: this is what decides where one family ends and the next begins.
 */
import type { MetricType } from './types.js';

export const K_NONE = -1;
export const K_EXACT = 0;
export const K_TOTAL = 1;
export const K_CREATED = 2;
export const K_BUCKET = 3;
export const K_COUNT = 4;
export const K_SUM = 5;
export const K_GCOUNT = 6;
export const K_GSUM = 7;
export const K_INFO = 8;
export const SUFFIX_TEXT = ['', '_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info'];

/** Suffix kind of `sample` relative to family `fam`, or K_NONE when it is not one of its samples. */
export function suffixKind(sample: string, fam: string): number {
  const fl = fam.length;
  const sl = sample.length;
  if (sl === fl) return sample === fam ? K_EXACT : K_NONE;
  const rest = sl - fl;
  if (rest < 4 || rest > 8 || sample.charCodeAt(fl) !== 95 || !sample.startsWith(fam)) return K_NONE;
  switch (rest) {
    case 4:
      return sample.endsWith('_sum') ? K_SUM : K_NONE;
    case 5:
      return sample.endsWith('_info') ? K_INFO : sample.endsWith('_gsum') ? K_GSUM : K_NONE;
    case 6:
      return sample.endsWith('_total') ? K_TOTAL : sample.endsWith('_count') ? K_COUNT : K_NONE;
    case 7:
      return sample.endsWith('_bucket') ? K_BUCKET : sample.endsWith('_gcount') ? K_GCOUNT : K_NONE;
    default:
      return sample.endsWith('_created') ? K_CREATED : K_NONE;
  }
}

const bit = (k: number): number => 1 << k;

/** Allowed sample suffixes (bit per kind) of a family type; OpenMetrics counters need `_total`. */
export function suffixMask(type: MetricType, om: boolean): number {
  switch (type) {
    case 'counter':
      return om ? bit(K_TOTAL) | bit(K_CREATED) : bit(K_EXACT) | bit(K_TOTAL) | bit(K_CREATED);
    case 'histogram':
      return bit(K_BUCKET) | bit(K_COUNT) | bit(K_SUM) | bit(K_CREATED);
    case 'gaugehistogram':
      return bit(K_BUCKET) | bit(K_GCOUNT) | bit(K_GSUM);
    case 'summary':
      return bit(K_EXACT) | bit(K_COUNT) | bit(K_SUM) | bit(K_CREATED);
    case 'info':
      return bit(K_INFO);
    default:
      return bit(K_EXACT); // gauge, stateset, unknown
  }
}
