/**
 * Which history points the SLO charts draw (web/src/chartHistory.ts): fitted to the data on a young
 * install, without the incomplete last step.
 */
import { describe, expect, it } from 'vitest';
import { historyRange, visibleHistory } from '../../web/src/chartHistory.js';

const MIN = 60_000;
// A 1h chart of 1-minute steps, 10:00 … 10:59; answered at 10:59:30.
const T0 = Date.UTC(2026, 2, 15, 10, 0);
const history = Array.from({ length: 60 }, (_, i) => ({ timestamp: T0 + i * MIN, rps: i >= 55 ? 10 : 0 }));
const at = { generated_at: T0 + 59 * MIN + 30_000, step_seconds: 60 };

describe('visible history', () => {
  it('starts at the step holding the first data and drops the incomplete last step', () => {
    // data since 10:55:20: steps 10:55 … 10:58 are drawn; 10:59 is only half over
    const shown = visibleHistory(history, { ...at, data_from: T0 + 55 * MIN + 20_000 });
    expect(shown.map((p) => (p.timestamp - T0) / MIN)).toEqual([55, 56, 57, 58]);
    // the x-axis spans those points, not the whole hour (nor the days ECharts pads a lone point to)
    expect(historyRange(shown, 60)).toEqual([T0 + 55 * MIN, T0 + 58 * MIN]);
  });

  it('keeps an only, incomplete step rather than drawing nothing; a lone point gets a one-step axis', () => {
    const shown = visibleHistory(history, { ...at, data_from: T0 + 59 * MIN + 5_000 });
    expect(shown.map((p) => (p.timestamp - T0) / MIN)).toEqual([59]);
    expect(historyRange(shown, 60)).toEqual([T0 + 59 * MIN, T0 + 60 * MIN]);
  });

  it('an old install draws every complete step', () => {
    expect(visibleHistory(history, { ...at, data_from: T0 - 30 * 24 * 60 * MIN })).toHaveLength(59);
    expect(historyRange([], 60)).toBeUndefined();
  });
});
