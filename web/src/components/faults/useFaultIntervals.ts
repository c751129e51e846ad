/**
 * When fault policies targeting a service were in force, for shading the SLO charts: an outage
 * someone injected on purpose should not be read as a real one.
 */
import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import { useAuth } from '../../auth';
import type { ChartOption } from '../EChart';
import type { Palette } from '../../theme';
import { faultPaths, type ActiveInterval, type ActiveIntervalsReply } from './api';

export interface FaultTarget {
  service: string;
  namespace: string;
}

const POLL_MS = 15_000;

/**
 * Fault intervals of every target since `since` (epoch ms), refreshed every 15 s. A server without
 * the faults module, or a failed request, gives no intervals: the charts still draw.
 */
export function useFaultIntervals(targets: FaultTarget[], since: number | undefined): ActiveInterval[] {
  const { epoch } = useAuth();
  const [intervals, setIntervals] = useState<ActiveInterval[]>([]);
  const key = targets.map((t) => `${t.namespace}/${t.service}`).sort().join(',');
  useEffect(() => {
    if (!key || since === undefined) {
      setIntervals([]);
      return;
    }
    const ctrl = new AbortController();
    const load = async () => {
      const replies = await Promise.all(
        key.split(',').map((id) => {
          const [namespace, service] = id.split('/');
          return api<ActiveIntervalsReply>(faultPaths.intervals, { query: { service, namespace, since }, signal: ctrl.signal }).catch(() => null);
        }),
      );
      if (ctrl.signal.aborted) return;
      const seen = new Set<string>();
      const all: ActiveInterval[] = [];
      for (const r of replies) {
        for (const i of r?.intervals ?? []) {
          const k = `${i.policy}|${i.from}`;
          if (!seen.has(k)) all.push(i);
          seen.add(k);
        }
      }
      setIntervals(all.sort((a, b) => a.from - b.from));
    };
    void load();
    const id = window.setInterval(() => void load(), POLL_MS);
    return () => {
      ctrl.abort();
      window.clearInterval(id);
    };
    // `since` moves with every poll of the page; a minute's precision is enough to refetch.
  }, [key, since === undefined ? undefined : Math.floor(since / 60_000), epoch]);
  return intervals;
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
