/**
 * Retention settings checked against the reads they feed (pure). Checked at start; the decision:
 *
 * - REFUSE (errors) what makes a judged number wrong — a status, a burn alert or an error budget:
 *   - slo.rawRetention < 6 h: the 6h/30m and 3d/6h burn pairs read the last 6 h of raw rows; with less
 *     kept they undercount and an alert that should fire stays quiet;
 *   - slo.hourlyRetention < 30 d: the 30d error budget (the default SLO window), the 3d burn window and
 *     the 30d range read hourly rollups; with less kept the budget is computed over a truncated window.
 * - WARN what only leaves a chart or a comparison short:
 *   - slo.rawRetention < 24 h: the 1d charts (15-minute steps from raw rows) lose their start;
 *   - slo.hourlyRetention < 60 d: `previous` of the 30d range (the 30 days before) is truncated.
 */
import { HOUR, DAY } from './time.js';

export interface RetentionSettings {
  rawRetentionMs: number;
  hourlyRetentionMs: number;
}

export interface RetentionFindings {
  errors: string[];
  warnings: string[];
}

const fmt = (ms: number) => (ms % DAY === 0 ? `${ms / DAY}d` : ms % HOUR === 0 ? `${ms / HOUR}h` : `${Math.round(ms / 60_000)}m`);

export function checkRetention(s: RetentionSettings): RetentionFindings {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (s.rawRetentionMs < 6 * HOUR) {
    errors.push(`slo.rawRetention (${fmt(s.rawRetentionMs)}) must be at least 6h: the 6h/30m and 3d/6h burn rates read the last 6 h of raw rows and would undercount`);
  } else if (s.rawRetentionMs < DAY) {
    warnings.push(`slo.rawRetention (${fmt(s.rawRetentionMs)}) is under 24h: the 1d charts (15-minute steps from raw rows) will be empty before ${fmt(s.rawRetentionMs)} ago`);
  }
  if (s.hourlyRetentionMs < 30 * DAY) {
    errors.push(`slo.hourlyRetention (${fmt(s.hourlyRetentionMs)}) must be at least 30d: the 30d error budget and the 30d range read hourly rollups and would cover a truncated window`);
  } else if (s.hourlyRetentionMs < 60 * DAY) {
    warnings.push(`slo.hourlyRetention (${fmt(s.hourlyRetentionMs)}) is under 60d: "previous" of the 30d range (the 30 days before) will be truncated`);
  }
  return { errors, warnings };
}
