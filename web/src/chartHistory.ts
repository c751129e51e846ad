/** Which part of a history series a chart draws (pure; tested in test/web/chart-history.test.ts). */

/**
 * The history points a chart draws: none from before the data starts (a young install's chart
 * fits its x-axis to the data instead of a flat line over the whole range), and not the incomplete
 * last step (it would read as a drop). A history with only an incomplete step keeps it.
 */
export function visibleHistory<T extends { timestamp: number }>(history: T[], at: { generated_at: number; step_seconds: number; data_from?: number | null }): T[] {
  const step = at.step_seconds * 1000;
  const from = at.data_from ?? -Infinity;
  const inData = history.filter((p) => p.timestamp + step > from);
  const complete = inData.filter((p) => p.timestamp + step <= at.generated_at);
  return complete.length ? complete : inData;
}

/** The x-axis of a history chart: its visible points, at least one step wide. */
export function historyRange(points: { timestamp: number }[], stepSeconds: number): [number, number] | undefined {
  if (!points.length) return undefined;
  const first = points[0].timestamp;
  const last = points[points.length - 1].timestamp;
  return [first, Math.max(last, first + stepSeconds * 1000)];
}
