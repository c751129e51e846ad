/**
 * When fault policies targeting a service were in force, for shading the SLO charts: an outage
 * someone injected on purpose should not be read as a real one.
 */
import { useQueries, type QueryObserverResult } from '@tanstack/react-query';
import { apiKey, fetchApi } from '../../api/useApi';
import type { ChartOption } from '../EChart';
import type { Palette } from '../../theme';
import { faultPaths, type ActiveInterval, type ActiveIntervalsReply } from './api';

export interface FaultTarget {
  service: string;
  namespace: string;
}

const POLL_MS = 15_000;
const NONE: ActiveInterval[] = [];

/** The intervals of every reply, each once (two targets may share a wildcard policy), oldest first. */
function merge(results: QueryObserverResult<ActiveIntervalsReply>[]): ActiveInterval[] {
  const seen = new Set<string>();
  const all: ActiveInterval[] = [];
  for (const r of results) {
    for (const i of r.data?.intervals ?? []) {
      const k = `${i.policy}|${i.from}`;
      if (!seen.has(k)) all.push(i);
      seen.add(k);
    }
  }
  return all.length ? all.sort((a, b) => a.from - b.from) : NONE;
}

/**
 * Fault intervals of every target since `since` (epoch ms), refreshed every 15 s. A server without
 * the faults module, or a failed request, gives no intervals: the charts still draw.
 */
export function useFaultIntervals(targets: FaultTarget[], since: number | undefined): ActiveInterval[] {
  const ids = [...new Set(targets.map((t) => `${t.namespace}/${t.service}`))].sort();
  // `since` moves with every poll of the page; to the minute it keeps one cache entry per target.
  const from = since === undefined ? undefined : Math.floor(since / 60_000) * 60_000;
  return useQueries({
    queries: ids.map((id) => {
      const [namespace, service] = id.split('/');
      return {
        queryKey: apiKey(faultPaths.intervals, { service, namespace, since: from }),
        queryFn: fetchApi<ActiveIntervalsReply>,
        enabled: from !== undefined,
        refetchInterval: POLL_MS,
      };
    }),
    combine: merge,
  });
}

/**
 * The chart with the fault intervals shaded (ECharts markArea on its first series). Intervals still
 * active end at `now`; everything is clipped to the chart's x range when it has one.
 */
export function withFaultAreas(option: ChartOption, intervals: ActiveInterval[], p: Palette, now = Date.now()): ChartOption {
  const series = (option as { series?: Record<string, unknown>[] }).series;
  if (!intervals.length || !series?.length) return option;
  const x = (option as { xAxis?: { min?: number; max?: number } }).xAxis;
  const lo = x?.min ?? -Infinity;
  const hi = x?.max ?? Infinity;
  const data = intervals
    .map((i) => ({ policy: i.policy, from: Math.max(lo, i.from), to: Math.min(hi, i.to ?? now) }))
    .filter((i) => i.to > i.from)
    .map((i) => [{ name: `fault: ${i.policy}`, xAxis: i.from }, { xAxis: i.to }]);
  if (!data.length) return option;
  const markArea = {
    silent: true,
    itemStyle: { color: p.warning, opacity: 0.14 },
    label: { color: p.muted, fontSize: 10, position: 'insideTop' },
    data,
  };
  return { ...option, series: series.map((s, i) => (i === 0 ? { ...s, markArea } : s)) } as ChartOption;
}
