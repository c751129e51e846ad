import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, GraphChart, HeatmapChart, LineChart, PieChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { EChartsCoreOption, ECElementEvent } from 'echarts/core';

echarts.use([
  BarChart,
  GraphChart,
  HeatmapChart,
  LineChart,
  PieChart,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type { EChartsCoreOption as ChartOption, ECElementEvent as ChartEvent };

interface Props {
  option: EChartsCoreOption;
  height?: number | string;
  onClick?: (e: ECElementEvent) => void;
  /** Merge new options into the chart instead of replacing (keeps a force layout's positions). */
  merge?: boolean;
  className?: string;
  ariaLabel?: string;
}

/** An ECharts instance bound to a div: resizes with it, disposed on unmount. */
export function EChart({ option, height = 220, onClick, merge, className, ariaLabel }: Props) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const clickRef = useRef(onClick);
  clickRef.current = onClick;

  useEffect(() => {
    if (!el.current) return;
    const c = echarts.init(el.current, undefined, { renderer: 'canvas' });
    chart.current = c;
    c.on('click', (e) => clickRef.current?.(e as ECElementEvent));
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, merge ? { notMerge: false, lazyUpdate: true } : { notMerge: true, lazyUpdate: true });
  }, [option, merge]);

  return <div ref={el} className={className} style={{ height, width: '100%' }} role="img" aria-label={ariaLabel} />;
}
