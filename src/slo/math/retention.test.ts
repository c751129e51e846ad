import { describe, expect, it } from 'vitest';
import { checkRetention } from './retention.js';

const H = 3_600_000;
const D = 24 * H;

describe('retention settings against the reads they feed', () => {
  it('the defaults (48h raw, 90d hourly) pass without a word', () => {
    expect(checkRetention({ rawRetentionMs: 48 * H, hourlyRetentionMs: 90 * D })).toEqual({ errors: [], warnings: [] });
  });

  it('refuses raw rows kept under 6 h (burn rates undercount), naming the key', () => {
    const r = checkRetention({ rawRetentionMs: 5 * H, hourlyRetentionMs: 90 * D });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^slo\.rawRetention \(5h\) must be at least 6h/);
  });

  it('warns when raw rows are kept under 24 h (the 1d charts lose their start)', () => {
    const r = checkRetention({ rawRetentionMs: 12 * H, hourlyRetentionMs: 90 * D });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/^slo\.rawRetention \(12h\) is under 24h/);
  });

  it('refuses hourly rollups kept under 30 d (the 30d budget is truncated); warns under 60 d', () => {
    expect(checkRetention({ rawRetentionMs: 48 * H, hourlyRetentionMs: 29 * D }).errors[0]).toMatch(/^slo\.hourlyRetention \(29d\) must be at least 30d/);
    const w = checkRetention({ rawRetentionMs: 48 * H, hourlyRetentionMs: 45 * D });
    expect(w.errors).toEqual([]);
    expect(w.warnings[0]).toMatch(/^slo\.hourlyRetention \(45d\) is under 60d/);
  });
});
