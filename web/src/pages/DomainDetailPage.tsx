import { useMemo } from 'react';
import { API } from '../api/paths';
import type { BurnRate, DomainDetailResponse, RouteSloDetail as RouteSLODetail, SloHistoryPoint as SLOHistoryPoint, TargetsByWindow } from '../../../src/slo/server/schemas';
import { useApi } from '../api/useApi';
import { useCluster } from '../api/useCluster';
import { timeSeriesOption, type LineSeries, type MarkLine } from '../charts';
import { historyRange, visibleHistory } from '../chartHistory';
import { ConnectAgent } from '../components/ConnectAgent';
import { useFaultIntervals, withFaultAreas } from '../components/faults/useFaultIntervals';
import { EChart } from '../components/EChart';
import { RouteMatchPanel } from '../components/RouteMatchPanel';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { BudgetBar, Icon, PageHeader, Panel, StatCard, StatusBadge, StatusDot, TimeRangePicker, parseTimeRange } from '../components/ui';
import { fmtAvail, fmtBasis, fmtBurn, fmtMs, fmtPct, fmtRps, fmtSpan } from '../format';
import { Link, useHref, useQueryParam } from '../router';
import { useTheme } from '../theme';
import { TargetsEditor } from './TargetsEditor';

/** The target the charts draw: 30d if set, else the first window present. */
function primaryTarget(t: TargetsByWindow | undefined) {
  if (!t) return undefined;
  return t['30d'] ?? t['7d'] ?? t['1d'];
}

const pick = (h: SLOHistoryPoint[], f: (p: SLOHistoryPoint) => number | null): [number, number | null][] => h.map((p) => [p.timestamp, f(p)]);

function BurnRates({ rates }: { rates: BurnRate[] }) {
  if (!rates.length) return <Empty title="No burn rates">Burn rates appear once the domain has traffic and an availability target.</Empty>;
  return (
    <table className="table compact">
      <thead>
        <tr>
          <th>Window (long/short)</th>
          <th className="num">Long</th>
          <th className="num">Short</th>
          <th className="num">Threshold</th>
          <th>State</th>
        </tr>
      </thead>
      <tbody>
        {rates.map((r) => (
          <tr key={r.window}>
            <td className="mono">
              {r.window}
              {r.severity && <span className="muted small"> · {r.severity}</span>}
            </td>
            <td className={`num ${r.long_infinite || (r.long_rate !== null && r.long_rate > r.threshold) ? 'text-critical' : ''}`} title={r.long_infinite ? 'Budget exhausted: failures against a 100 % target' : undefined}>
              {fmtBurn(r.long_rate, r.long_infinite)}
            </td>
            <td className={`num ${r.short_infinite || (r.short_rate !== null && r.short_rate > r.threshold) ? 'text-critical' : ''}`} title={r.short_infinite ? 'Budget exhausted: failures against a 100 % target' : undefined}>
              {fmtBurn(r.short_rate, r.short_infinite)}
            </td>
            <td className="num">{r.threshold}×</td>
            <td>
              {r.firing ? (
                <StatusBadge status="critical" label="Firing" />
              ) : r.insufficient_data ? (
                <span title={`Needs more data: ${fmtSpan(r.long_covered_seconds)} covered of the long window`}>
                  <StatusBadge status="insufficient_data" label="Too little data" />
                </span>
              ) : (
                <StatusBadge status="healthy" label="OK" />
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function targetText(t: TargetsByWindow | undefined) {
  const p = primaryTarget(t);
  if (!p) return '—';
  return `${p.availability_target}% · ${fmtMs(p.p95_latency_target)}`;
}

export default function DomainDetailPage({ domain }: { domain: string }) {
  const cluster = useCluster();
  const clusterId = cluster.clusterId ?? '';
  const [trRaw, setTr] = useQueryParam('time_range', '1d');
  const timeRange = parseTimeRange(trRaw);
  const [pathSel, setPath] = useQueryParam('path', '');
  const href = useHref();
  const { palette } = useTheme();

  const { data, error, loading: loadingData, reload } = useApi<DomainDetailResponse>(cluster.clusterId === null ? null : API.domain(domain), { cluster_id: clusterId, time_range: timeRange }, { pollMs: 60_000 });
  const loading = loadingData || (cluster.clusterId === null && cluster.loading);
  const routes = data?.routes ?? [];
  const selected: RouteSLODetail | undefined = routes.find((r) => r.path_prefix === pathSel);
  const paths = useMemo(() => routes.map((r) => r.path_prefix), [routes]);
  const faults = useFaultIntervals((selected ? [selected] : routes).map((r) => ({ service: r.service_name, namespace: r.namespace })), data?.history?.[0]?.timestamp);

  const charts = useMemo(() => {
    if (!data) return null;
    const shown = (h: SLOHistoryPoint[] | undefined) => visibleHistory(h ?? [], data);
    const xRange = historyRange(shown(data.history), data.step_seconds);
    const series = (f: (p: SLOHistoryPoint) => number | null): LineSeries[] =>
      selected ? [{ name: selected.path_prefix, data: pick(shown(selected.history), f), area: true }] : routes.map((r) => ({ name: r.path_prefix, data: pick(shown(r.history), f) }));
    const target = primaryTarget(selected ? selected.targets : data.targets);
    const availMarks: MarkLine[] = target ? [{ value: target.availability_target, label: `target ${target.availability_target}%` }] : [];
    const latMarks: MarkLine[] = target ? [{ value: target.p95_latency_target, label: `p95 target ${fmtMs(target.p95_latency_target)}` }] : [];
    const latency: LineSeries[] = selected
      ? [
          { name: 'p95', data: pick(shown(selected.history), (p) => p.p95_latency), color: palette.series[0] },
          { name: 'p99', data: pick(shown(selected.history), (p) => p.p99_latency), color: palette.series[2], dashed: true },
        ]
      : series((p) => p.p95_latency);
    return {
      availability: withFaultAreas(
        timeSeriesOption(palette, { series: series((p) => p.availability), format: (v) => fmtPct(v, v >= 99.9 ? 3 : 2), markLines: availMarks, yMax: 100, xRange }),
        faults,
        palette,
        data.generated_at,
      ),
      latency: timeSeriesOption(palette, { series: latency, format: fmtMs, markLines: latMarks, legend: true, xRange }),
      rps: timeSeriesOption(palette, { series: series((p) => p.rps), format: fmtRps, yMin: 0, xRange }),
      budget: timeSeriesOption(palette, {
        xRange,
        series: series((p) => p.error_budget_remaining),
        format: (v) => `${v.toFixed(1)}%`,
        markLines: [{ value: 0, label: 'exhausted' }],
        yMax: 100,
      }),
    };
  }, [data, routes, selected, palette, faults]);

  const crumbs = (
    <>
      <Link to={href('/slo/domains')}>Domains</Link>
      <span className="crumb-sep">/</span>
    </>
  );

  const title = (
    <span className="title-with-badge">
      {domain}
      {data?.tls && (
        <span className="tls" title="TLS">
          <Icon name="lock" size={14} />
        </span>
      )}
      {data && <StatusBadge status={data.status} />}
      {data && (
        <span className="basis" data-testid="status-basis" title={data.status_minimum ? `A status needs ${fmtSpan(data.status_minimum.covered_seconds)} and ${data.status_minimum.requests} requests` : undefined}>
          {fmtBasis(selected ? selected.current : data.summary)}
        </span>
      )}
    </span>
  );

  const summary = selected ? selected.current : data?.summary;
  const budget = selected ? selected.error_budget_remaining : data?.error_budget_remaining;
  const burn = (selected?.burn_rates?.length ? selected.burn_rates : data?.burn_rates) ?? [];

  return (
    <div className="page" data-page="domain-detail">
      <PageHeader crumbs={crumbs} title={title} subtitle="Availability, latency, traffic and error budget per path." actions={<TimeRangePicker value={timeRange} onChange={(v) => setTr(v === '1d' ? null : v)} />} />

      {cluster.none ? (
        <Panel>
          <ConnectAgent />
        </Panel>
      ) : loading && !data ? (
        <Loading label={`Loading ${domain}…`} />
      ) : (error || cluster.error) && !data ? (
        <Panel>
          <ErrorState error={error ?? cluster.error!} onRetry={reload} what={`the SLOs of ${domain}`} />
        </Panel>
      ) : data ? (
        <>
          {error && <InlineError>Refresh failed: {error.message}. Showing the last answer.</InlineError>}
          <div className="stats">
            <StatCard label="Availability" value={fmtAvail(summary?.availability)} hint={`target ${primaryTarget(selected?.targets ?? data.targets)?.availability_target ?? '—'}%`} />
            <StatCard label="P95 latency" value={fmtMs(summary?.p95_latency)} hint={`p50 ${fmtMs(summary?.p50_latency)}`} />
            <StatCard label="P99 latency" value={fmtMs(summary?.p99_latency)} />
            <StatCard
              label="Traffic"
              value={fmtRps(summary?.rps)}
              hint={
                <>
                  now {fmtRps(summary?.current_rps)} · {(summary?.total_requests ?? 0).toLocaleString('en-US')} requests in {fmtSpan(summary?.covered_seconds)}
                </>
              }
            />
            <StatCard label="Error rate" value={fmtPct(summary?.error_rate, 3)} tone={summary?.error_rate && summary.error_rate > 1 ? 'critical' : undefined} />
            <StatCard label="Error budget left" value={<BudgetBar value={budget} />} />
          </div>

          <div className="path-tabs" role="tablist" aria-label="Path">
            <button type="button" role="tab" aria-selected={!selected} className={!selected ? 'on' : ''} onClick={() => setPath(null)}>
              All paths
            </button>
            {routes.map((r) => (
              <button key={r.path_prefix} type="button" role="tab" aria-selected={selected === r} className={selected === r ? 'on' : ''} onClick={() => setPath(r.path_prefix)}>
                <StatusDot status={r.status} />
                <span className="mono">{r.path_prefix}</span>
              </button>
            ))}
          </div>

          {routes.length === 0 ? (
            <Panel>
              <Empty>This domain has no paths with data yet — is an agent shipping?</Empty>
            </Panel>
          ) : (
            charts && (
              <div className="chart-grid">
                <Panel title="Availability">
                  <EChart option={charts.availability} ariaLabel={`Availability over time${faults.length ? `; ${faults.length} fault interval(s) shaded` : ''}`} />
                </Panel>
                <Panel title={selected ? 'Latency (p95, p99)' : 'Latency p95'}>
                  <EChart option={charts.latency} ariaLabel="Latency over time" />
                </Panel>
                <Panel title="Requests per second">
                  <EChart option={charts.rps} ariaLabel="Requests per second over time" />
                </Panel>
                <Panel title="Error budget remaining">
                  <EChart option={charts.budget} ariaLabel="Error budget over time" />
                </Panel>
              </div>
            )
          )}

          <div className="two-col">
            <Panel title="Paths" pad={false}>
              <table className="table compact">
                <thead>
                  <tr>
                    <th>Path</th>
                    <th>Service</th>
                    <th className="num">Avail.</th>
                    <th className="num">P95</th>
                    <th className="num">RPS</th>
                    <th>Budget</th>
                    <th>Target</th>
                  </tr>
                </thead>
                <tbody>
                  {routes.map((r) => (
                    <tr key={r.path_prefix} className={selected === r ? 'selected' : ''}>
                      <td>
                        <button type="button" className="link-btn mono" onClick={() => setPath(r.path_prefix)}>
                          <StatusDot status={r.status} /> {r.path_prefix}
                        </button>
                      </td>
                      <td className="small">
                        <Link to={href(`/slo/mesh/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.service_name)}`)}>
                          {r.namespace}/{r.service_name}
                        </Link>
                      </td>
                      <td className="num">{fmtAvail(r.current?.availability)}</td>
                      <td className="num">{fmtMs(r.current?.p95_latency)}</td>
                      <td className="num">{fmtRps(r.current?.rps)}</td>
                      <td>
                        <BudgetBar value={r.error_budget_remaining} />
                      </td>
                      <td className="small muted">{targetText(r.targets)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Panel>
            <Panel title={`Burn rates${selected ? ` · ${selected.path_prefix}` : ''}`} pad={false}>
              <BurnRates rates={burn} />
            </Panel>
          </div>

          <TargetsEditor domain={domain} paths={paths} clusterId={data.cluster_id ?? clusterId} />
          <RouteMatchPanel domain={domain} clusterId={data.cluster_id ?? clusterId} />
        </>
      ) : null}
    </div>
  );
}
