/**
 * SLO math with hand-computed expectations (the arithmetic is in the comments).
 */
import { describe, expect, it } from 'vitest';
import { histDistribution, histogramQuantile, mergeHist } from '../../src/slo/math/histogram.js';
import { fromPerBucket, histogramQuantile as promQuantile } from '../../src/prom/histogram.js';
import { rng } from '../support/slo-fixtures.js';
import {
  burnRate,
  burnRates,
  errorBudgetRemaining,
  evaluateStatus,
  sloMetrics,
  worstStatus,
  type Counts,
} from '../../src/slo/math/slo.js';
import { TargetIndex } from '../../src/slo/math/targets.js';
import { DAY, HOUR, coveredSeconds, previousWindow, rollupPlan, summaryWindow, historySeries } from '../../src/slo/math/time.js';

describe('histogram_quantile semantics', () => {
  // bounds 10, 20, 50 ms; per-bucket counts 2, 6, 2, 0 (+Inf) → cumulative 2, 8, 10, 10; total 10.
  const h = { bounds: [10, 20, 50], counts: [2, 6, 2, 0] };

  it('interpolates linearly inside the bucket holding the rank', () => {
    // p50: rank 0.5·10 = 5 → first cumulative ≥ 5 is 8, bucket (10, 20]; 10 + (20−10)·(5−2)/6 = 15
    expect(histogramQuantile(0.5, h)).toBeCloseTo(15, 10);
    // p95: rank 9.5 → bucket (20, 50] (cumulative 10); 20 + 30·(9.5−8)/2 = 42.5
    expect(histogramQuantile(0.95, h)).toBeCloseTo(42.5, 10);
    // p99: rank 9.9 → 20 + 30·(9.9−8)/2 = 48.5
    expect(histogramQuantile(0.99, h)).toBeCloseTo(48.5, 10);
    // p10: rank 1 → first bucket, lower bound 0: 0 + 10·1/2 = 5
    expect(histogramQuantile(0.1, h)).toBeCloseTo(5, 10);
  });

  it('a rank in the +Inf bucket answers the highest finite bound', () => {
    // counts 1, 1, 8 (+Inf): cumulative 1, 2, 10; p50 rank 5 > 2 → +Inf bucket → 20
    expect(histogramQuantile(0.5, { bounds: [10, 20], counts: [1, 1, 8] })).toBe(20);
    expect(histogramQuantile(0.99, { bounds: [10, 20], counts: [0, 0, 3] })).toBe(20);
  });

  it('no samples or no finite bucket: null; q outside [0, 1] as Prometheus', () => {
    expect(histogramQuantile(0.5, { bounds: [10], counts: [0, 0] })).toBeNull();
    expect(histogramQuantile(0.5, { bounds: [], counts: [5] })).toBeNull();
    expect(histogramQuantile(0.5, null)).toBeNull();
    expect(histogramQuantile(-0.1, h)).toBe(-Infinity);
    expect(histogramQuantile(1.1, h)).toBe(Infinity);
  });

  it('q = 0 answers the lower edge of the first bucket holding a sample, on one layout or several', () => {
    // counts 0, 3, 1 (+Inf 0): the first sample sits in (10, 20] → 10 (the platform quantile's rule)
    expect(histogramQuantile(0, { bounds: [10, 20, 50], counts: [0, 3, 1, 0] })).toBe(10);
    expect(promQuantile(0, fromPerBucket([10, 20, 50], [0, 3, 1, 0]))).toBe(10);
    // a sample in the first bucket: its lower edge 0
    expect(histogramQuantile(0, h)).toBe(0);
    // mixed layouts A (10, 20] = 2 and B (15, 20] = 1: the first mass starts above 10
    const m = mergeHist({ bounds: [10, 20], counts: [0, 2, 0] }, { bounds: [15, 20], counts: [0, 1, 0] })!;
    expect(histogramQuantile(0, m)).toBe(10);
    // empty input: no answer on either layout kind, for every q in [0, 1]
    const empty = mergeHist({ bounds: [10, 20], counts: [0, 0, 0] }, { bounds: [15], counts: [0, 0] })!;
    for (const q of [0, 0.5, 1]) {
      expect(histogramQuantile(q, { bounds: [10, 20], counts: [0, 0, 0] })).toBeNull();
      expect(histogramQuantile(q, empty)).toBeNull();
    }
  });

  it('a first bucket with a non-positive upper bound answers that bound', () => {
    expect(histogramQuantile(0.5, { bounds: [0, 10], counts: [5, 5, 0] })).toBe(0);
  });

  it('merges equal layouts bucket by bucket', () => {
    const a = { bounds: [10, 20], counts: [1, 2, 3] };
    expect(mergeHist(a, { bounds: [10, 20], counts: [4, 5, 6] })).toEqual({ bounds: [10, 20], counts: [5, 7, 9] });
  });

  it('keeps every layout when layouts differ: nothing moves to another bucket', () => {
    // A: (0,10]=1, (10,20]=2; B: (0,10]=3, (10,15]=1, (15,20]=1. Both kept as they are.
    const m = mergeHist({ bounds: [10, 20], counts: [1, 2, 0] }, { bounds: [10, 15, 20], counts: [3, 1, 1, 0] })!;
    expect(m.bounds).toEqual([10, 20]);
    expect(m.counts).toEqual([1, 2, 0]);
    expect(m.more).toEqual([{ bounds: [10, 15, 20], counts: [3, 1, 1, 0] }]);
    // merging more of either layout adds to its own kind
    mergeHist(m, { bounds: [10, 15, 20], counts: [1, 0, 0, 0] });
    mergeHist(m, { bounds: [10, 20], counts: [0, 1, 0] });
    expect(m.counts).toEqual([1, 3, 0]);
    expect(m.more![0].counts).toEqual([4, 1, 1, 0]);
    // the distribution shown keeps the bounds whose cumulative counts are exact in both layouts:
    // 15 is inside A's (10,20] which holds samples, so it goes; 10 and 20 stay: (0,10]=5, (10,20]=5
    expect(histDistribution(m)).toEqual([
      { le: 10, count: 5 },
      { le: 20, count: 5 },
      { le: null, count: 0 },
    ]);
  });

  it('a quantile over mixed layouts sums the per-layout interpolated curves', () => {
    // A: (0,10]=2, (10,20]=2 and B: (0,10]=2, (10,15]=2, (15,20]=0 — 8 samples.
    // p50: rank 4. Cumulative at 10 = 2 + 2 = 4 → 10.
    const m = mergeHist({ bounds: [10, 20], counts: [2, 2, 0] }, { bounds: [10, 15, 20], counts: [2, 2, 0, 0] })!;
    expect(histogramQuantile(0.5, m)).toBeCloseTo(10, 10);
    // p75: rank 6. At 15: A gives 2 + 2·(15−10)/10 = 3, B gives 4 → 7 ≥ 6; at 10: 4.
    // Linear between: 10 + 5·(6−4)/(7−4) = 13.333…
    expect(histogramQuantile(0.75, m)).toBeCloseTo(10 + 10 / 3, 10);
    // p100 → 20 (A's last samples reach its bound 20)
    expect(histogramQuantile(1, m)).toBeCloseTo(20, 10);
  });

  it('equals the platform histogram_quantile (src/prom/histogram.ts) on single layouts', () => {
    const r = rng(5);
    for (let n = 0; n < 200; n++) {
      const bounds = [1, 2.5, 5, 10, 25, 50, 100].slice(0, 1 + Math.floor(r() * 7));
      const counts = Array.from({ length: bounds.length + 1 }, () => (r() < 0.3 ? 0 : Math.floor(r() * 50)));
      for (const q of [0, 0.01, 0.5, 0.9, 0.95, 0.99, 1]) {
        const ours = histogramQuantile(q, { bounds, counts });
        const theirs = promQuantile(q, fromPerBucket(bounds, counts));
        if (Number.isNaN(theirs)) expect(ours).toBeNull();
        else expect(ours).toBeCloseTo(theirs, 9);
      }
    }
  });
});

describe('availability, error budget, burn rate, status', () => {
  it('availability and error rate in percent', () => {
    // 1000 requests, 3 failures: availability 100·997/1000 = 99.7, error rate 0.3
    const m = sloMetrics({ requests: 1000, failures: 3, tls: 0, codes: null, hist: null, sumMs: 0 }, 100);
    expect(m.availability).toBeCloseTo(99.7, 10);
    expect(m.error_rate).toBeCloseTo(0.3, 10);
    expect(m.rps).toBe(10); // 1000 / 100 s
    expect(sloMetrics({ requests: 0, failures: 0, tls: 0, codes: null, hist: null, sumMs: 0 }, 100).availability).toBeNull();
  });

  it('error budget remaining', () => {
    // target 99.9 → allowed error ratio 0.001. 100 000 requests, 50 failures → observed 0.0005
    // → used 0.0005/0.001 = 50 % → remaining 50 %
    expect(errorBudgetRemaining(100_000, 50, 99.9)).toBeCloseTo(50, 6);
    // 200 failures → observed 0.002 → used 200 % → remaining −100 %
    expect(errorBudgetRemaining(100_000, 200, 99.9)).toBeCloseTo(-100, 6);
    // no failures → 100 %; no traffic → null
    expect(errorBudgetRemaining(10, 0, 99.9)).toBe(100);
    expect(errorBudgetRemaining(0, 0, 99.9)).toBeNull();
    // a 100 % target has no budget: any failure spends it
    expect(errorBudgetRemaining(10, 1, 100)).toBe(-100);
  });

  it('burn rate = observed error ratio / allowed error ratio', () => {
    // 99.9 % target: 10 000 requests with 200 failures → 0.02 / 0.001 = 20
    expect(burnRate(10_000, 200, 99.9)).toBeCloseTo(20, 6);
    // 99 % target: 1000 requests, 10 failures → 0.01 / 0.01 = 1 (exactly on budget)
    expect(burnRate(1000, 10, 99)).toBeCloseTo(1, 6);
    expect(burnRate(0, 0, 99)).toBeNull();
  });

  it('multi-window pairs fire only when both windows exceed the threshold and traffic suffices', () => {
    const counts: Record<number, Counts> = {
      [5 * 60_000]: { requests: 1000, failures: 20 }, //   5m: 0.02 / 0.001 = 20
      [HOUR]: { requests: 10_000, failures: 200 }, //       1h: 20 > 14.4 → with 5m (20 > 14.4): fires
      [30 * 60_000]: { requests: 5000, failures: 100 }, // 30m: 20
      [6 * HOUR]: { requests: 60_000, failures: 300 }, //   6h: 0.005 / 0.001 = 5 < 6 → 6h/30m does not fire
      [2 * HOUR]: { requests: 20_000, failures: 30 }, //    2h: 1.5
      [DAY]: { requests: 240_000, failures: 800 }, //       1d: 3.333… > 3 but 2h 1.5 < 3 → no
      [3 * DAY]: { requests: 720_000, failures: 1000 }, //  3d: 1.388… > 1 and 6h 5 > 1 → fires
    };
    const r = burnRates((span) => counts[span], 99.9, { requests: 100, coveredSeconds: 0 });
    const by = Object.fromEntries(r.map((x) => [x.window, x]));
    expect(by['1h/5m'].long_rate).toBeCloseTo(20, 6);
    expect(by['1h/5m'].short_rate).toBeCloseTo(20, 6);
    expect(by['1h/5m'].threshold).toBe(14.4);
    expect(by['1h/5m'].firing).toBe(true);
    expect(by['6h/30m'].long_rate).toBeCloseTo(5, 6);
    expect(by['6h/30m'].firing).toBe(false);
    expect(by['1d/2h'].long_rate).toBeCloseTo(800 / 240_000 / 0.001, 6);
    expect(by['1d/2h'].short_rate).toBeCloseTo(1.5, 6);
    expect(by['1d/2h'].firing).toBe(false);
    expect(by['3d/6h'].long_rate).toBeCloseTo(1000 / 720_000 / 0.001, 6);
    expect(by['3d/6h'].firing).toBe(true);
  });

  it('the minimum-traffic guard keeps a few requests from paging', () => {
    // 50 requests, 5 failures in both windows: 0.1 / 0.001 = 100 ≫ 14.4, but 50 < 100 requests
    const r = burnRates(() => ({ requests: 50, failures: 5 }), 99.9, { requests: 100, coveredSeconds: 0 });
    expect(r[0].long_rate).toBeCloseTo(100, 6);
    expect(r.every((x) => !x.firing && x.insufficient_data)).toBe(true);
    // the same with the guard at 50 fires every pair
    expect(burnRates(() => ({ requests: 50, failures: 5 }), 99.9, { requests: 50, coveredSeconds: 0 }).every((x) => x.firing)).toBe(true);
  });

  it('a long window with too little covered time does not fire: 1 failure in 600 two minutes after start', () => {
    // 600 requests, 1 failure, 99.9 %: 0.001667 / 0.001 = 1.67 > 1 (the 3d/6h threshold) in every window.
    const counts = () => ({ requests: 600, failures: 1 });
    const twoMinutes = () => 120;
    const r = burnRates(counts, 99.9, { requests: 100, coveredSeconds: 600 }, twoMinutes);
    const by = Object.fromEntries(r.map((x) => [x.window, x]));
    expect(by['3d/6h'].long_rate).toBeCloseTo(1.6667, 3);
    expect(by['3d/6h'].firing).toBe(false);
    expect(by['3d/6h'].insufficient_data).toBe(true);
    expect(by['3d/6h'].long_covered_seconds).toBe(120);
    // 7 h of data: enough for 3d/6h (≥ its 6 h short window and ≥ 10 min) — it fires
    const r7 = burnRates(counts, 99.9, { requests: 100, coveredSeconds: 600 }, () => 7 * 3600);
    expect(r7.find((x) => x.window === '3d/6h')!.firing).toBe(true);
    // 1 h of data: the 3d/6h pair still waits for 6 h of covered time
    const r1 = burnRates(counts, 99.9, { requests: 100, coveredSeconds: 600 }, () => 3600);
    expect(r1.find((x) => x.window === '3d/6h')!.insufficient_data).toBe(true);
  });

  it('status below the sample minimum is insufficient_data, never critical', () => {
    const t = { availability_target: 99.9, p95_latency_target: 500 };
    // 1 failure in 600 → 99.8333 % < 99.9: critical without a minimum …
    const m = { total_requests: 600, availability: (100 * 599) / 600, p95_latency: 100, p99_latency: 120, covered_seconds: 120 };
    expect(evaluateStatus(m, t)).toBe('critical');
    // … insufficient_data with 10 min of covered time required (2 min here), or 1000 requests
    expect(evaluateStatus(m, t, { requests: 100, coveredSeconds: 600 })).toBe('insufficient_data');
    expect(evaluateStatus(m, t, { requests: 1000, coveredSeconds: 0 })).toBe('insufficient_data');
    // enough of both: judged
    expect(evaluateStatus({ ...m, covered_seconds: 840 }, t, { requests: 100, coveredSeconds: 600 })).toBe('critical');
    // no traffic stays unknown
    expect(evaluateStatus({ ...m, total_requests: 0, availability: null }, t, { requests: 100, coveredSeconds: 600 })).toBe('unknown');
    // a judged route outranks a thin one; all thin → insufficient_data
    expect(worstStatus(['insufficient_data', 'healthy'])).toBe('healthy');
    expect(worstStatus(['insufficient_data', 'unknown'])).toBe('insufficient_data');
  });

  it('status: critical below the availability target, warning above a latency target', () => {
    const t = { availability_target: 99.9, p95_latency_target: 500, p99_latency_target: 800 };
    const m = (availability: number | null, p95: number | null, p99: number | null, total = 1000) => ({ total_requests: total, availability, p95_latency: p95, p99_latency: p99 });
    expect(evaluateStatus(m(99.95, 300, 700), t)).toBe('healthy');
    expect(evaluateStatus(m(99.9, 500, 800), t)).toBe('healthy'); // equal meets the target
    expect(evaluateStatus(m(99.8, 300, 700), t)).toBe('critical');
    expect(evaluateStatus(m(99.8, 900, 1000), t)).toBe('critical'); // availability wins over latency
    expect(evaluateStatus(m(99.95, 600, 700), t)).toBe('warning');
    expect(evaluateStatus(m(99.95, 300, 900), t)).toBe('warning');
    expect(evaluateStatus(m(99.95, 300, 900), { ...t, p99_latency_target: null })).toBe('healthy');
    expect(evaluateStatus(m(null, null, null, 0), t)).toBe('unknown');
    expect(worstStatus(['healthy', 'unknown', 'warning'])).toBe('warning');
    expect(worstStatus(['unknown', 'unknown'])).toBe('unknown');
    expect(worstStatus(['healthy', 'critical', 'warning'])).toBe('critical');
  });

  it('targets resolve per window along route → domain → service → default', () => {
    const idx = new TargetIndex(
      [
        { scope: 'domain', key: 'a.com', window: '30d', availability_target: 99.5, p95_latency_target: 400 },
        { scope: 'route', key: 'a.com/api', window: '1d', availability_target: 99, p95_latency_target: 300 },
        { scope: 'service', key: 'ns/svc', window: '7d', availability_target: 98, p95_latency_target: 200 },
      ],
      { availability_target: 99.9, p95_latency_target: 500, p99_latency_target: null, window: '30d' },
    );
    const r = idx.route('a.com', '/api', { namespace: 'ns', name: 'svc' });
    expect(r.primary).toMatchObject({ window: '1d', source: 'route', availability_target: 99 });
    expect(r.byWindow['30d']).toMatchObject({ source: 'domain', availability_target: 99.5 });
    expect(r.byWindow['7d']).toMatchObject({ source: 'service', availability_target: 98 });
    expect(idx.route('a.com', '/', undefined).primary).toMatchObject({ source: 'domain', window: '30d' });
    expect(idx.route('b.com', '/', undefined).primary).toMatchObject({ source: 'default', availability_target: 99.9 });
  });
});

describe('time windows', () => {
  it('hour-aligned summaries and the rollup plan', () => {
    const now = Date.UTC(2026, 0, 10, 13, 25);
    // 1d: floor_hour(now) − 23 h = Jan 9 14:00
    expect(summaryWindow('1d', now).from).toBe(Date.UTC(2026, 0, 9, 14));
    // 1h: whole minutes: 13:25 − 59 min = 12:26
    expect(summaryWindow('1h', now).from).toBe(Date.UTC(2026, 0, 10, 12, 26));
    // plan of [Jan 9 14:00, now): hours 14:00–24:00 of Jan 9 hourly, Jan 10 on from the daily table
    expect(rollupPlan(Date.UTC(2026, 0, 9, 14), Infinity)).toEqual({ hourly: [[Date.UTC(2026, 0, 9, 14), Date.UTC(2026, 0, 10)]], daily: [[Date.UTC(2026, 0, 10), Infinity]] });
    // a closed range spanning days: hours before the first midnight, whole days, hours after the last
    expect(rollupPlan(Date.UTC(2026, 0, 1, 20), Date.UTC(2026, 0, 4, 3))).toEqual({
      hourly: [
        [Date.UTC(2026, 0, 1, 20), Date.UTC(2026, 0, 2)],
        [Date.UTC(2026, 0, 4), Date.UTC(2026, 0, 4, 3)],
      ],
      daily: [[Date.UTC(2026, 0, 2), Date.UTC(2026, 0, 4)]],
    });
    // previous of 6h at 13:25: the summary covers 08:00–13:25 (5 h 25 min); previous 02:00–07:25, the same span
    const pw = previousWindow('6h', summaryWindow('6h', now), now);
    expect([pw.from, pw.to]).toEqual([Date.UTC(2026, 0, 10, 2), Date.UTC(2026, 0, 10, 7, 25)]);
    expect(pw.seconds).toBe(5 * 3600 + 25 * 60);
    // covered time: from the first snapshot (13:20) on, not the whole window
    expect(coveredSeconds(Date.UTC(2026, 0, 10, 12, 26), now, Date.UTC(2026, 0, 10, 13, 20))).toBe(300);
    expect(coveredSeconds(Date.UTC(2026, 0, 10, 12, 26), now, Date.UTC(2026, 0, 1))).toBe(59 * 60);
    expect(coveredSeconds(Date.UTC(2026, 0, 10, 12, 26), now, null)).toBe(0);
    // 30d history: 120 points of 6 h, the last one holding now
    const s = historySeries('30d', now);
    expect(s.points).toBe(120);
    expect(s.from + 119 * s.step).toBe(Date.UTC(2026, 0, 10, 12));
  });
});
