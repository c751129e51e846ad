/**
 * Time windows of the SLO queries (pure). All times are UTC epoch ms; hour and day buckets are UTC.
 *
 * - Summaries ("current") of the 1h range cover whole minutes from raw rows: [floor_minute(now) − 59 min, now].
 * - Summaries of 6h…30d are hour-aligned so they can be served by hourly/daily rollups:
 *   [floor_hour(now) − (N − 1) h, now], N the range in hours. They cover between N − 1 and N hours;
 *   rates divide by the time actually covered.
 * - History series have fixed steps aligned to the step: [floor_step(now) − (P − 1)·step, now], P points.
 * - "previous" is the summary window shifted back by one range (the same span).
 * - Rates divide by the covered seconds: the part of a window from the first snapshot on.
 */
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export type TimeRange = '1h' | '6h' | '1d' | '7d' | '30d';
export const TIME_RANGES: readonly TimeRange[] = ['1h', '6h', '1d', '7d', '30d'];
export const RANGE_MS: Record<TimeRange, number> = { '1h': HOUR, '6h': 6 * HOUR, '1d': DAY, '7d': 7 * DAY, '30d': 30 * DAY };
/** History step per range. Sub-hour steps are served from raw rows, the others from hourly rollups. */
export const STEP_MS: Record<TimeRange, number> = { '1h': MINUTE, '6h': 5 * MINUTE, '1d': 15 * MINUTE, '7d': HOUR, '30d': 6 * HOUR };

export const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
export const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;

export interface Window {
  from: number;
  /** Exclusive end; Infinity = up to now (the newest data). */
  to: number;
  /** Wall time covered, for rates. */
  seconds: number;
  /** Granularity the window is aligned to. */
  grain: 'minute' | 'hour';
}

export function summaryWindow(range: TimeRange, now: number): Window {
  if (range === '1h') {
    const from = floorTo(now, MINUTE) - 59 * MINUTE;
    return { from, to: Infinity, seconds: Math.max(1, (now - from) / 1000), grain: 'minute' };
  }
  const from = floorTo(now, HOUR) - (RANGE_MS[range] / HOUR - 1) * HOUR;
  return { from, to: Infinity, seconds: Math.max(1, (now - from) / 1000), grain: 'hour' };
}

/**
 * The summary window `w` one range earlier: [w.from − R, now − R), the same span as `w` (which covers
 * N − 1 to N hours), so current and previous compare like with like.
 */
export function previousWindow(range: TimeRange, w: Window, now: number): Window {
  const from = w.from - RANGE_MS[range];
  const to = now - RANGE_MS[range];
  return { from, to, seconds: Math.max(1, (to - from) / 1000), grain: w.grain };
}

/**
 * Seconds of [from, to) that have data, data starting at `dataFrom` (the first snapshot; null =
 * none yet). Rates divide by this, not by the window: 1 977 requests in the first 2.6 minutes of a
 * fresh install are 12.7/s, not 0.55/s over an hour.
 */
export function coveredSeconds(from: number, to: number, dataFrom: number | null): number {
  if (dataFrom === null) return 0;
  return Math.max(0, (to - Math.max(from, dataFrom)) / 1000);
}

/** An hour-aligned trailing window of `spanMs` (≥ 1 h) ending now, like the 6h…30d summaries. */
export function trailingHours(spanMs: number, now: number): Window {
  const from = floorTo(now, HOUR) - (Math.round(spanMs / HOUR) - 1) * HOUR;
  return { from, to: Infinity, seconds: Math.max(1, (now - from) / 1000), grain: 'hour' };
}

/** A minute-aligned trailing window of `spanMs` ending now. */
export function trailingMinutes(spanMs: number, now: number): Window {
  const from = floorTo(now, MINUTE) - (Math.round(spanMs / MINUTE) - 1) * MINUTE;
  return { from, to: Infinity, seconds: Math.max(1, (now - from) / 1000), grain: 'minute' };
}

export interface Series {
  from: number;
  step: number;
  points: number;
}

export function historySeries(range: TimeRange, now: number): Series {
  const step = STEP_MS[range];
  const points = RANGE_MS[range] / step;
  return { from: floorTo(now, step) - (points - 1) * step, step, points };
}

/**
 * Which rollup rows cover the hour-aligned window [from, to): whole UTC days from the daily table, the
 * hours around them from the hourly table. With to = Infinity the current day's daily row (which the
 * rollup keeps up to date) covers everything from the first midnight on.
 */
export function rollupPlan(from: number, to: number): { hourly: [number, number][]; daily: [number, number][] } {
  const d1 = ceilTo(from, DAY);
  if (to === Infinity) return { hourly: d1 > from ? [[from, d1]] : [], daily: [[d1, Infinity]] };
  const d2 = floorTo(to, DAY);
  if (d1 >= d2) return { hourly: [[from, to]], daily: [] };
  const hourly: [number, number][] = [];
  if (d1 > from) hourly.push([from, d1]);
  if (to > d2) hourly.push([d2, to]);
  return { hourly, daily: [[d1, d2]] };
}
