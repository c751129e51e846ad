/** The report's timeline as ECharts stacked bars: one bar per minute with data, one stack segment per level. */
import { baseTooltip } from '../../charts';
import type { ChartOption } from '../EChart';
import type { Palette } from '../../theme';
import type { BatchReport } from './api';

const LEVEL_ORDER = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose', 'unknown'];

function levelColor(p: Palette, level: string): string {
  switch (level) {
    case 'fatal':
      return p.name === 'dark' ? '#ff8a8a' : '#9b1c1c';
    case 'error':
      return p.critical;
    case 'warn':
      return p.warning;
    case 'info':
      return p.accent;
    case 'debug':
      return p.series[1] ?? p.muted;
    default:
      return p.unknown;
  }
}

const pad = (n: number) => String(n).padStart(2, '0');
/** Minutes in UTC, as the logs' own clocks are: "03-04 12:05". */
export const minuteLabel = (ms: number): string => {
  const d = new Date(ms);
  return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
};

export function timelineOption(p: Palette, timeline: BatchReport['timeline']): ChartOption {
  const present = new Set<string>();
  for (const t of timeline) for (const [k, v] of Object.entries(t.counts)) if (v) present.add(k);
  const rank = (l: string) => (LEVEL_ORDER.includes(l) ? LEVEL_ORDER.indexOf(l) : LEVEL_ORDER.length);
  const levels = [...present].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  return {
    backgroundColor: 'transparent',
    animation: false,
    grid: { left: 8, right: 16, top: 30, bottom: timeline.length > 30 ? 36 : 6, containLabel: true },
    legend: { top: 0, left: 0, type: 'scroll', icon: 'roundRect', itemWidth: 10, itemHeight: 8, textStyle: { color: p.muted, fontSize: 11 }, pageTextStyle: { color: p.muted } },
    tooltip: { ...baseTooltip(p), trigger: 'axis', axisPointer: { type: 'shadow' } },
    dataZoom: timeline.length > 30 ? [{ type: 'slider', height: 16, bottom: 4, borderColor: p.border, textStyle: { color: p.muted } }, { type: 'inside' }] : undefined,
    xAxis: {
      type: 'category',
      data: timeline.map((t) => minuteLabel(t.minute)),
      axisLine: { lineStyle: { color: p.border } },
      axisTick: { show: false },
      axisLabel: { color: p.muted, fontSize: 11, hideOverlap: true },
      name: 'minute (UTC)',
      nameLocation: 'end',
      nameTextStyle: { color: p.muted, fontSize: 10 },
    },
    yAxis: { type: 'value', minInterval: 1, axisLabel: { color: p.muted, fontSize: 11 }, splitLine: { lineStyle: { color: p.grid } } },
    series: levels.map((level) => ({
      name: level,
      type: 'bar',
      stack: 'level',
      barMaxWidth: 28,
      itemStyle: { color: levelColor(p, level) },
      emphasis: { focus: 'series' },
      data: timeline.map((t) => (t.counts as Record<string, number | undefined>)[level] ?? 0),
    })),
  };
}
