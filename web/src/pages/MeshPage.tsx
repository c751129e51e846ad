import { useMemo } from 'react';
import { API, type MeshEdge, type MeshNode, type MeshTopologyResponse } from '../api/types';
import { useApi } from '../api/useApi';
import { baseTooltip } from '../charts';
import { EChart, type ChartEvent, type ChartOption } from '../components/EChart';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { Icon, PageHeader, Panel, StatCard, StatusBadge, StatusDot, TimeRangePicker, parseTimeRange } from '../components/ui';
import { fmtMs, fmtPct, fmtRps, statusLabel, statusRank } from '../format';
import { Link, useHref, useQueryParam, useRouter } from '../router';
import { useTheme, type Palette } from '../theme';
import { servicePath } from '../links';

function esc(s: string) {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function graphOption(p: Palette, nodes: MeshNode[], edges: MeshEdge[]): ChartOption {
  const maxRps = Math.max(1e-9, ...nodes.map((n) => n.rps));
  const maxEdge = Math.max(1e-9, ...edges.map((e) => e.rps));
  const color = (s: string) => (p as unknown as Record<string, string>)[s] ?? p.unknown;
  const ids = new Set(nodes.map((n) => n.id));
  // Edges in both directions get opposite curvature so both labels stay readable.
  const pairs = new Set(edges.map((e) => `${e.source}→${e.target}`));
  return {
    backgroundColor: 'transparent',
    animationDurationUpdate: 300,
    tooltip: {
      ...baseTooltip(p),
      formatter: (params: { dataType: string; data: { node?: MeshNode; edge?: MeshEdge } }) => {
        if (params.dataType === 'node' && params.data.node) {
          const n = params.data.node;
          return [
            `<b>${esc(n.id)}</b> · ${statusLabel[n.status] ?? n.status}`,
            `${fmtRps(n.rps)} · error ${fmtPct(n.error_rate)}`,
            `p50 ${fmtMs(n.p50_latency)} · p95 ${fmtMs(n.p95_latency)} · p99 ${fmtMs(n.p99_latency)}`,
            `mTLS ${fmtPct(n.mtls_percent, 0)}`,
          ].join('<br/>');
        }
        if (params.dataType === 'edge' && params.data.edge) {
          const e = params.data.edge;
          return [
            `<b>${esc(e.source)} → ${esc(e.target)}</b>`,
            `${fmtRps(e.rps)} · error ${fmtPct(e.error_rate)}`,
            `p95 ${fmtMs(e.p95_latency)} · avg ${fmtMs(e.avg_latency)}`,
          ].join('<br/>');
        }
        return '';
      },
    },
    series: [
      {
        type: 'graph',
        layout: 'force',
        roam: true,
        draggable: true,
        force: { initLayout: 'circular', repulsion: 620, edgeLength: [110, 190], gravity: 0.12, layoutAnimation: false },
        scaleLimit: { min: 0.3, max: 4 },
        label: {
          show: true,
          position: 'bottom',
          formatter: (x: { data: { node: MeshNode } }) => `{n|${x.data.node.name}}\n{ns|${x.data.node.namespace}}`,
          rich: { n: { color: p.text, fontSize: 11, fontWeight: 600, lineHeight: 14 }, ns: { color: p.muted, fontSize: 10, lineHeight: 12 } },
        },
        edgeSymbol: ['none', 'arrow'],
        edgeSymbolSize: [0, 7],
        edgeLabel: {
          show: true,
          fontSize: 10,
          color: p.muted,
          formatter: (x: { data: { edge: MeshEdge } }) => `${fmtRps(x.data.edge.rps)} · ${fmtMs(x.data.edge.p95_latency)}`,
        },
        emphasis: { focus: 'adjacency', lineStyle: { width: 3 } },
        blur: { itemStyle: { opacity: 0.25 }, lineStyle: { opacity: 0.1 }, label: { opacity: 0.3 }, edgeLabel: { opacity: 0.2 } },
        data: nodes.map((n) => ({
          id: n.id,
          name: n.id,
          node: n,
          symbolSize: 16 + 34 * Math.sqrt(n.rps / maxRps),
          itemStyle: { color: color(n.status), borderColor: p.panel, borderWidth: 2, shadowBlur: 6, shadowColor: 'rgba(0,0,0,.18)' },
        })),
        links: edges
          .filter((e) => ids.has(e.source) && ids.has(e.target))
          .map((e) => {
            const bad = (e.error_rate ?? 0) >= 5 ? p.critical : (e.error_rate ?? 0) >= 1 ? p.warning : p.muted;
            const back = pairs.has(`${e.target}→${e.source}`);
            return {
              source: e.source,
              target: e.target,
              edge: e,
              lineStyle: { color: bad, opacity: 0.7, width: 1 + 3 * Math.sqrt(e.rps / maxEdge), curveness: back ? 0.2 : 0.05 },
            };
          }),
      },
    ],
  };
}

export default function MeshPage() {
  const [clusterId] = useQueryParam('cluster_id', '');
  const [trRaw, setTr] = useQueryParam('time_range', '1d');
  const timeRange = parseTimeRange(trRaw);
  const [ns, setNs] = useQueryParam('namespace', '');
  const { palette } = useTheme();
  const { navigate } = useRouter();
  const href = useHref();

  const { data, error, loading, reload, refreshing } = useApi<MeshTopologyResponse>(API.meshTopology, { cluster_id: clusterId, time_range: timeRange }, { pollMs: 30_000 });
  const allNodes = data?.nodes ?? [];
  const namespaces = useMemo(() => [...new Set(allNodes.map((n) => n.namespace))].sort(), [allNodes]);
  const nodes = useMemo(() => (ns ? allNodes.filter((n) => n.namespace === ns) : allNodes), [allNodes, ns]);
  const edges = useMemo(() => {
    const ids = new Set(nodes.map((n) => n.id));
    return (data?.edges ?? []).filter((e) => ids.has(e.source) && ids.has(e.target));
  }, [data, nodes]);
  const option = useMemo(() => graphOption(palette, nodes, edges), [palette, nodes, edges]);
  const sorted = useMemo(() => [...nodes].sort((a, b) => (statusRank[a.status] ?? 9) - (statusRank[b.status] ?? 9) || b.rps - a.rps), [nodes]);

  const onClick = (e: ChartEvent) => {
    if (e.dataType === 'node') navigate(href(servicePath((e.data as { id: string }).id)));
  };

  const counts = { healthy: 0, warning: 0, critical: 0, unknown: 0 } as Record<string, number>;
  for (const n of nodes) counts[n.status] = (counts[n.status] ?? 0) + 1;
  const totalRps = nodes.reduce((s, n) => s + n.rps, 0);
  const mtlsNodes = nodes.filter((n) => n.mtls_percent !== null);
  const mtls = mtlsNodes.length ? mtlsNodes.reduce((s, n) => s + (n.mtls_percent ?? 0) * n.rps, 0) / Math.max(1e-9, mtlsNodes.reduce((s, n) => s + n.rps, 0)) : null;

  return (
    <div className="page" data-page="mesh">
      <PageHeader
        title="Mesh"
        subtitle="Live service topology from the mesh: nodes coloured by health, edges labelled with traffic and p95 latency. Click a service for details."
        actions={
          <>
            {namespaces.length > 1 && (
              <select className="select" value={ns} onChange={(e) => setNs(e.target.value || null)} aria-label="Namespace">
                <option value="">All namespaces</option>
                {namespaces.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            )}
            <TimeRangePicker value={timeRange} onChange={(v) => setTr(v === '1d' ? null : v)} />
          </>
        }
      />
      {error && data && <InlineError>Refresh failed: {error.message}. Showing the last answer.</InlineError>}

      {loading && !data ? (
        <Loading label="Loading topology…" />
      ) : error && !data ? (
        <Panel>
          <ErrorState error={error} onRetry={reload} what="the mesh topology" />
        </Panel>
      ) : allNodes.length === 0 ? (
        <Panel>
          <Empty>No meshed services yet — is an agent shipping? Vigil reads Linkerd proxy metrics scraped by <code>vigil agent</code>.</Empty>
        </Panel>
      ) : (
        <>
          <div className="stats">
            <StatCard label="Services" value={nodes.length} hint={`${edges.length} edges`} />
            <StatCard label="Healthy" value={counts.healthy} tone="healthy" />
            <StatCard label="Warning" value={counts.warning} tone={counts.warning ? 'warning' : undefined} />
            <StatCard label="Critical" value={counts.critical} tone={counts.critical ? 'critical' : undefined} />
            <StatCard label="Traffic" value={fmtRps(totalRps)} hint="inbound, all services" />
            <StatCard label="mTLS" value={fmtPct(mtls, 1)} hint="traffic-weighted" />
          </div>
          <Panel
            title="Topology"
            pad={false}
            actions={
              <>
                <span className="legend">
                  {(['healthy', 'warning', 'critical', 'unknown'] as const).map((s) => (
                    <span key={s}>
                      <StatusDot status={s} /> {statusLabel[s]}
                    </span>
                  ))}
                </span>
                <button type="button" className="icon-btn" onClick={reload} title="Refresh" aria-label="Refresh">
                  <span className={refreshing ? 'spin' : ''}>
                    <Icon name="refresh" size={15} />
                  </span>
                </button>
              </>
            }
          >
            <EChart option={option} height={560} onClick={onClick} ariaLabel="Service mesh topology" />
          </Panel>
          <Panel title="Services" pad={false}>
            <table className="table compact">
              <thead>
                <tr>
                  <th>Service</th>
                  <th className="num">RPS</th>
                  <th className="num">P50</th>
                  <th className="num">P95</th>
                  <th className="num">P99</th>
                  <th className="num">Errors</th>
                  <th className="num">mTLS</th>
                  <th>Status</th>
                </tr>
              </thead>
              <tbody>
                {sorted.map((n) => (
                  <tr key={n.id}>
                    <td>
                      <Link to={href(servicePath(n.id))}>
                        <span className="muted">{n.namespace}/</span>
                        {n.name}
                      </Link>
                    </td>
                    <td className="num">{fmtRps(n.rps)}</td>
                    <td className="num">{fmtMs(n.p50_latency)}</td>
                    <td className="num">{fmtMs(n.p95_latency)}</td>
                    <td className="num">{fmtMs(n.p99_latency)}</td>
                    <td className={`num ${(n.error_rate ?? 0) >= 1 ? 'text-critical' : ''}`}>{fmtPct(n.error_rate)}</td>
                    <td className="num">{fmtPct(n.mtls_percent, 0)}</td>
                    <td>
                      <StatusBadge status={n.status} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Panel>
        </>
      )}
    </div>
  );
}
