import { useMemo } from 'react';
import { API } from '../api/paths';
import type { TopologyResponse as MeshTopologyResponse } from '../../../src/slo/server/schemas';
import { useApi } from '../api/useApi';
import { useCluster } from '../api/useCluster';
import { ConnectAgent } from '../components/ConnectAgent';
import { EChart, type ChartEvent } from '../components/EChart';
import { graphOption, isSource } from '../meshGraph';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { Icon, PageHeader, Panel, StatCard, StatusBadge, StatusDot, TimeRangePicker, parseTimeRange } from '../components/ui';
import { fmtMs, fmtPct, fmtRps, statusLabel, statusRank } from '../format';
import { Link, useHref, useNavigate, useQueryParam } from '../router';
import { useTheme } from '../theme';
import { servicePath } from '../links';

export default function MeshPage() {
  const cluster = useCluster();
  const [trRaw, setTr] = useQueryParam('time_range', '1d');
  const timeRange = parseTimeRange(trRaw);
  const [ns, setNs] = useQueryParam('namespace', '');
  const { palette } = useTheme();
  const navigate = useNavigate();
  const href = useHref();

  const { data, error: dataError, loading: loadingData, reload, refreshing } = useApi<MeshTopologyResponse>(
    cluster.clusterId === null ? null : API.meshTopology,
    { cluster_id: cluster.clusterId ?? '', time_range: timeRange },
    { pollMs: 30_000 },
  );
  const loading = loadingData || (cluster.clusterId === null && cluster.loading);
  const error = dataError ?? cluster.error;
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
  for (const n of nodes) if (!isSource(n)) counts[n.status] = (counts[n.status] ?? 0) + 1;
  const services = nodes.filter((n) => !isSource(n));
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

      {cluster.none ? (
        <Panel>
          <ConnectAgent />
        </Panel>
      ) : loading && !data ? (
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
            <StatCard label="Services" value={services.length} hint={`${edges.length} edges${nodes.length > services.length ? ` · ${nodes.length - services.length} source` : ''}`} />
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
                  {(['healthy', 'warning', 'critical', 'insufficient_data', 'unknown'] as const).map((s) => (
                    <span key={s}>
                      <StatusDot status={s} /> {statusLabel[s]}
                    </span>
                  ))}
                  <span>
                    <span className="dot" style={{ background: palette.accent, borderRadius: 2 }} aria-hidden /> Source (ingress)
                  </span>
                </span>
                <button type="button" className="icon-btn" onClick={reload} title="Refresh" aria-label="Refresh">
                  <span className={refreshing ? 'spin' : ''}>
                    <Icon name="refresh" size={15} />
                  </span>
                </button>
              </>
            }
          >
            <EChart option={option} height={560} onClick={onClick} merge ariaLabel="Service mesh topology" />
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
                    <td className="num" title={isSource(n) ? 'sent into the mesh' : undefined}>
                      {isSource(n) ? `→ ${fmtRps(n.outbound_rps)}` : fmtRps(n.rps)}
                    </td>
                    <td className="num">{fmtMs(n.p50_latency)}</td>
                    <td className="num">{fmtMs(n.p95_latency)}</td>
                    <td className="num">{fmtMs(n.p99_latency)}</td>
                    <td className={`num ${(n.error_rate ?? 0) >= 1 ? 'text-critical' : ''}`}>{fmtPct(n.error_rate)}</td>
                    <td className="num">{fmtPct(n.mtls_percent, 0)}</td>
                    <td>{isSource(n) ? <StatusBadge status="source" label="Source" /> : <StatusBadge status={n.status} />}</td>
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
