import { useMemo } from 'react';
import { API } from '../api/paths';
import type { LatencyBucket, MeshEdge, MeshHistoryPoint, ServiceDetailResponse as MeshServiceDetailResponse, StatusCodeCount } from '../../../src/slo/server/schemas';
import { useApi } from '../api/useApi';
import { useCluster } from '../api/useCluster';
import { baseTooltip, timeSeriesOption } from '../charts';
import { historyRange, visibleHistory } from '../chartHistory';
import { ConnectAgent } from '../components/ConnectAgent';
import { useFaultIntervals, withFaultAreas } from '../components/faults/useFaultIntervals';
import { EChart, type ChartOption } from '../components/EChart';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { PageHeader, Panel, StatCard, StatusBadge, TimeRangePicker, parseTimeRange } from '../components/ui';
import { fmtBasis, fmtCount, fmtMs, fmtPct, fmtRps, fmtSpan } from '../format';
import { domainPath, servicePath } from '../links';
import { Link, useHref, useQueryParam } from '../router';
import { useTheme, type Palette } from '../theme';

const leLabel = (le: number | null, prev: number | null) => {
  if (le === null) return prev === null ? 'all' : `> ${fmtMs(prev)}`;
  return `≤ ${fmtMs(le)}`;
};

function histogramOption(p: Palette, buckets: LatencyBucket[]): ChartOption {
  const sorted = [...buckets].sort((a, b) => (a.le ?? Infinity) - (b.le ?? Infinity));
  const labels = sorted.map((b, i) => leLabel(b.le, i > 0 ? sorted[i - 1].le : null));
  const total = sorted.reduce((s, b) => s + b.count, 0) || 1;
  return {
    backgroundColor: 'transparent',
    animation: false,
    grid: { left: 8, right: 12, top: 12, bottom: 4, containLabel: true },
    tooltip: {
      ...baseTooltip(p),
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (xs: { dataIndex: number }[]) => {
        const i = xs[0]?.dataIndex ?? 0;
        const b = sorted[i];
        return `${labels[i]}<br/>${fmtCount(b.count)} requests (${((b.count / total) * 100).toFixed(1)}%)`;
      },
    },
    xAxis: { type: 'category', data: labels, axisLabel: { color: p.muted, fontSize: 10, rotate: labels.length > 10 ? 40 : 0 }, axisLine: { lineStyle: { color: p.border } }, axisTick: { show: false } },
    yAxis: { type: 'value', axisLabel: { color: p.muted, fontSize: 11 }, splitLine: { lineStyle: { color: p.grid } } },
    series: [{ type: 'bar', data: sorted.map((b) => b.count), itemStyle: { color: p.accent, borderRadius: [3, 3, 0, 0] }, barMaxWidth: 28 }],
  };
}

function codeColor(p: Palette, code: string) {
  const c = code.trim()[0];
  if (c === '5') return p.critical;
  if (c === '4') return p.warning;
  if (c === '3') return p.series[3];
  if (c === '2' || c === '1') return p.healthy;
  return p.unknown;
}

function codesOption(p: Palette, codes: StatusCodeCount[]): ChartOption {
  const sorted = [...codes].sort((a, b) => a.code.localeCompare(b.code));
  const total = sorted.reduce((s, c) => s + c.count, 0) || 1;
  return {
    backgroundColor: 'transparent',
    animation: false,
    grid: { left: 8, right: 40, top: 8, bottom: 4, containLabel: true },
    tooltip: {
      ...baseTooltip(p),
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (xs: { dataIndex: number }[]) => {
        const c = sorted[xs[0]?.dataIndex ?? 0];
        return `HTTP ${c.code}<br/>${fmtCount(c.count)} (${((c.count / total) * 100).toFixed(2)}%)`;
      },
    },
    xAxis: { type: 'value', axisLabel: { color: p.muted, fontSize: 11 }, splitLine: { lineStyle: { color: p.grid } } },
    yAxis: { type: 'category', data: sorted.map((c) => c.code), inverse: true, axisLabel: { color: p.text, fontSize: 11, fontFamily: 'monospace' }, axisLine: { lineStyle: { color: p.border } }, axisTick: { show: false } },
    series: [
      {
        type: 'bar',
        data: sorted.map((c) => ({ value: c.count, itemStyle: { color: codeColor(p, c.code), borderRadius: [0, 3, 3, 0] } })),
        barMaxWidth: 18,
        label: { show: true, position: 'right', color: p.muted, fontSize: 10, formatter: (x: { value: number }) => `${((x.value / total) * 100).toFixed(1)}%` },
      },
    ],
  };
}

const pick = (h: MeshHistoryPoint[], f: (x: MeshHistoryPoint) => number | null): [number, number | null][] => h.map((x) => [x.timestamp, f(x)]);

function EdgeTable({ edges, side, empty }: { edges: MeshEdge[]; side: 'source' | 'target'; empty: string }) {
  const href = useHref();
  if (!edges.length) return <div className="muted small pad">{empty}</div>;
  return (
    <table className="table compact">
      <thead>
        <tr>
          <th>{side === 'source' ? 'Caller' : 'Callee'}</th>
          <th className="num">RPS</th>
          <th className="num">P95</th>
          <th className="num">Avg</th>
          <th className="num">Errors</th>
        </tr>
      </thead>
      <tbody>
        {[...edges]
          .sort((a, b) => b.rps - a.rps)
          .map((e) => (
            <tr key={`${e.source}→${e.target}`}>
              <td>
                <Link to={href(servicePath(e[side]))}>{e[side]}</Link>
              </td>
              <td className="num">{fmtRps(e.rps)}</td>
              <td className="num">{fmtMs(e.p95_latency)}</td>
              <td className="num">{fmtMs(e.avg_latency)}</td>
              <td className={`num ${(e.error_rate ?? 0) >= 1 ? 'text-critical' : ''}`}>{fmtPct(e.error_rate)}</td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}

export default function ServiceDetailPage({ namespace, name }: { namespace: string; name: string }) {
  const cluster = useCluster();
  const [trRaw, setTr] = useQueryParam('time_range', '1d');
  const timeRange = parseTimeRange(trRaw);
  const { palette } = useTheme();
  const href = useHref();
  const { data, error: dataError, loading: loadingData, reload } = useApi<MeshServiceDetailResponse>(
    cluster.clusterId === null ? null : API.meshService(namespace, name),
    { cluster_id: cluster.clusterId ?? '', time_range: timeRange },
    { pollMs: 60_000 },
  );
  const loading = loadingData || (cluster.clusterId === null && cluster.loading);
  const error = dataError ?? cluster.error;
  const faults = useFaultIntervals([{ service: name, namespace }], data?.history?.[0]?.timestamp);

  const charts = useMemo(() => {
    if (!data) return null;
    const h = visibleHistory(data.history ?? [], data);
    const xRange = historyRange(h, data.step_seconds);
    return {
      hist: histogramOption(palette, data.node.latency_distribution ?? []),
      codes: codesOption(palette, data.node.status_codes ?? []),
      rps: timeSeriesOption(palette, { series: [{ name: 'rps', data: pick(h, (x) => x.rps), area: true }], format: fmtRps, yMin: 0, xRange }),
      latency: withFaultAreas(
        timeSeriesOption(palette, {
          series: [
            { name: 'p50', data: pick(h, (x) => x.p50_latency), color: palette.series[1] },
            { name: 'p95', data: pick(h, (x) => x.p95_latency), color: palette.series[0] },
            { name: 'p99', data: pick(h, (x) => x.p99_latency), color: palette.series[2], dashed: true },
          ],
          format: fmtMs,
          xRange,
        }),
        faults,
        palette,
        data.generated_at,
      ),
      errors: withFaultAreas(
        timeSeriesOption(palette, { series: [{ name: 'error rate', data: pick(h, (x) => x.error_rate), color: palette.critical, area: true }], format: (v) => fmtPct(v), yMin: 0, xRange }),
        faults,
        palette,
        data.generated_at,
      ),
    };
  }, [data, palette, faults]);

  const n = data?.node;
  const crumbs = (
    <>
      <Link to={href('/slo/mesh')}>Mesh</Link>
      <span className="crumb-sep">/</span>
      <Link to={href('/slo/mesh', { namespace })}>{namespace}</Link>
      <span className="crumb-sep">/</span>
    </>
  );

  return (
    <div className="page" data-page="service-detail">
      <PageHeader
        crumbs={crumbs}
        title={
          <span className="title-with-badge">
            {name}
            {n && (n.role === 'source' ? <StatusBadge status="source" label="Source" /> : <StatusBadge status={n.status} />)}
            {n && n.role !== 'source' && (
              <span className="basis" data-testid="status-basis">
                {fmtBasis(n)}
              </span>
            )}
          </span>
        }
        subtitle={`Service ${namespace}/${name} in the mesh: latency distribution, status codes, traffic and its callers and callees.`}
        actions={<TimeRangePicker value={timeRange} onChange={(v) => setTr(v === '1d' ? null : v)} />}
      />
      {cluster.none ? (
        <Panel>
          <ConnectAgent />
        </Panel>
      ) : loading && !data ? (
        <Loading label={`Loading ${namespace}/${name}…`} />
      ) : error && !data ? (
        <Panel>
          <ErrorState error={error} onRetry={reload} what={`service ${namespace}/${name}`} />
        </Panel>
      ) : data && n && charts ? (
        <>
          {error && <InlineError>Refresh failed: {error.message}. Showing the last answer.</InlineError>}
          <div className="stats">
            {n.role === 'source' ? (
              <StatCard label="Traffic" value={`→ ${fmtRps(n.outbound_rps)}`} hint="sent into the mesh (a source: no inbound traffic)" />
            ) : (
              <StatCard label="Traffic" value={fmtRps(n.rps)} hint={`now ${fmtRps(n.current_rps)} · ${fmtCount(n.total_requests)} requests in ${fmtSpan(n.covered_seconds)}`} />
            )}
            <StatCard label="P50" value={fmtMs(n.p50_latency)} />
            <StatCard label="P95" value={fmtMs(n.p95_latency)} />
            <StatCard label="P99" value={fmtMs(n.p99_latency)} />
            <StatCard label="Error rate" value={fmtPct(n.error_rate)} tone={(n.error_rate ?? 0) >= 1 ? 'critical' : undefined} />
            <StatCard label="mTLS" value={fmtPct(n.mtls_percent, 1)} tone={n.mtls_percent !== null && n.mtls_percent < 100 ? 'warning' : undefined} />
          </div>
          {n.total_requests === 0 && n.role !== 'source' && (
            <Panel>
              <Empty>This service has had no requests in the last {timeRange}.</Empty>
            </Panel>
          )}
          <div className="chart-grid">
            <Panel title="Latency distribution">
              {n.latency_distribution?.length ? <EChart option={charts.hist} height={240} ariaLabel="Latency histogram" /> : <Empty title="No histogram">No latency samples in this range.</Empty>}
            </Panel>
            <Panel title="Status codes">
              {n.status_codes?.length ? <EChart option={charts.codes} height={240} ariaLabel="Status codes" /> : <Empty title="No responses">No responses in this range.</Empty>}
            </Panel>
            <Panel title="Requests per second">
              <EChart option={charts.rps} ariaLabel="Requests per second over time" />
            </Panel>
            <Panel title="Latency (p50, p95, p99)">
              <EChart option={charts.latency} ariaLabel="Latency over time" />
            </Panel>
            <Panel title="Error rate">
              <EChart option={charts.errors} ariaLabel={`Error rate over time${faults.length ? `; ${faults.length} fault interval(s) shaded` : ''}`} />
            </Panel>
            <Panel title="Ingress routes" pad={false}>
              {data.routes?.length ? (
                <table className="table compact">
                  <tbody>
                    {data.routes.map((r) => (
                      <tr key={`${r.domain}${r.path_prefix}`}>
                        <td>
                          <Link to={href(domainPath(r.domain), { path: r.path_prefix })}>
                            {r.domain}
                            <span className="mono">{r.path_prefix}</span>
                          </Link>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <div className="muted small pad">No ingress route sends traffic to this service; it is reached only inside the mesh.</div>
              )}
            </Panel>
          </div>
          <div className="two-col">
            <Panel title={`Inbound · ${data.inbound?.length ?? 0}`} pad={false}>
              <EdgeTable edges={data.inbound ?? []} side="source" empty="No meshed callers in this range." />
            </Panel>
            <Panel title={`Outbound · ${data.outbound?.length ?? 0}`} pad={false}>
              <EdgeTable edges={data.outbound ?? []} side="target" empty="Calls no meshed service in this range." />
            </Panel>
          </div>
        </>
      ) : null}
    </div>
  );
}
