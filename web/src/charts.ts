/** ECharts option builders that follow the current theme palette. */
import type { ChartOption } from './components/EChart';
import type { Palette } from './theme';

export interface LineSeries {
  name: string;
  data: [number, number | null][];
  color?: string;
  /** Dashed line (e.g. p99 beside p95). */
  dashed?: boolean;
  area?: boolean;
}

export interface MarkLine {
  value: number;
  label: string;
  color?: string;
}

export function baseTooltip(p: Palette) {
  return {
    backgroundColor: p.panel,
    borderColor: p.border,
    textStyle: { color: p.text, fontSize: 12 },
    extraCssText: 'box-shadow: 0 4px 14px rgba(0,0,0,.18); border-radius: 6px;',
  };
}

function axisCommon(p: Palette) {
  return {
    axisLine: { lineStyle: { color: p.border } },
    axisTick: { show: false },
    axisLabel: { color: p.muted, fontSize: 11 },
    splitLine: { lineStyle: { color: p.grid } },
  };
}


/** A time-series line chart with optional target lines. */
export function timeSeriesOption(
  p: Palette,
  opts: {
    series: LineSeries[];
    format: (v: number) => string;
    markLines?: MarkLine[];
    yMin?: number | 'dataMin';
    yMax?: number;
    legend?: boolean;
    /** x-axis bounds (epoch ms); default: ECharts' own, which pads a young install's few points out to days. */
    xRange?: [number, number];
  },
): ChartOption {
  const showLegend = opts.legend ?? opts.series.length > 1;
  return {
    backgroundColor: 'transparent',
    animation: false,
    grid: { left: 8, right: 16, top: showLegend ? 30 : 14, bottom: 6, containLabel: true },
    legend: showLegend
      ? { top: 0, left: 0, type: 'scroll', icon: 'roundRect', itemWidth: 10, itemHeight: 4, textStyle: { color: p.muted, fontSize: 11 }, pageTextStyle: { color: p.muted } }
      : undefined,
    tooltip: {
      ...baseTooltip(p),
      trigger: 'axis',
      axisPointer: { type: 'line', lineStyle: { color: p.muted, type: 'dashed' } },
      valueFormatter: (v: unknown) => (typeof v === 'number' ? opts.format(v) : '—'),
    },
    xAxis: {
      type: 'time',
      ...(opts.xRange ? { min: opts.xRange[0], max: opts.xRange[1] } : {}),
      ...axisCommon(p),
      splitLine: { show: false },
      // Labels by level: dates at day boundaries, times within a day.
      axisLabel: {
        color: p.muted,
        fontSize: 11,
        hideOverlap: true,
        formatter: { year: '{yyyy}', month: '{MMM}', day: '{M}/{d}', hour: '{HH}:{mm}', minute: '{HH}:{mm}', second: '{HH}:{mm}:{ss}' },
      },
    },
    yAxis: {
      type: 'value',
      min: opts.yMin,
      max: opts.yMax,
      scale: opts.yMin === undefined,
      ...axisCommon(p),
      axisLabel: { color: p.muted, fontSize: 11, formatter: (v: number) => opts.format(v) },
    },
    series: opts.series.map((s, i) => {
      const color = s.color ?? p.series[i % p.series.length];
      // A point with gaps on both sides draws no line segment; give it a dot so it is not invisible.
      const isolated = new Set<number>();
      s.data.forEach(([, v], j, a) => {
        if (v !== null && (a[j - 1]?.[1] ?? null) === null && (a[j + 1]?.[1] ?? null) === null) isolated.add(j);
      });
      return {
        name: s.name,
        type: 'line',
        data: s.data,
        showSymbol: isolated.size > 0,
        symbol: 'circle',
        symbolSize: (_v: unknown, params: { dataIndex: number }) => (isolated.has(params.dataIndex) ? 5 : 0),
        connectNulls: false,
        smooth: false,
        lineStyle: { width: 1.6, color, type: s.dashed ? 'dashed' : 'solid' },
        itemStyle: { color },
        areaStyle: s.area ? { color, opacity: 0.08 } : undefined,
        markLine:
          i === 0 && opts.markLines?.length
            ? {
                silent: true,
                symbol: 'none',
                data: opts.markLines.map((m) => ({
                  yAxis: m.value,
                  lineStyle: { color: m.color ?? p.critical, type: 'dashed', width: 1 },
                  label: { formatter: m.label, color: m.color ?? p.critical, fontSize: 10, position: 'insideEndTop' },
                })),
              }
            : undefined,
      };
    }),
  };
}
