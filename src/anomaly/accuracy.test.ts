import { describe, expect, it } from 'vitest';
import { run } from '../../bench/anomaly-accuracy.js';

// The claim bench/anomaly-accuracy.ts prints, checked on a shorter run (4 weeks of training, 1 scored).
describe('anomaly accuracy on the labelled synthetic workload', () => {
  it('the time-aware rule has a better F1 than a global 2×p95 threshold and a z-score', async () => {
    const r = await run({ weeks: 5, trainWeeks: 4 });
    const [timeAware, global, z] = r.rows;
    expect(r.testAnomalies).toBeGreaterThan(200);
    expect(timeAware.f1).toBeGreaterThan(global.f1);
    expect(timeAware.f1).toBeGreaterThan(z.f1);
    // Labels come from the generator's incident model (1.5–10 × a request's own duration), not from
    // the rule's p95: mild incidents stay below the threshold, so recall is a real measurement.
    expect(timeAware.recall).toBeLessThan(1);
    expect(timeAware.recall).toBeGreaterThan(global.recall);
    expect(timeAware.precision).toBeGreaterThan(z.precision);
    expect(r.fallbackLevels.neighbours).toBeGreaterThan(0); // thin night/weekend buckets were pooled
  });
});
