import { useMemo } from 'react';
import { API, type BurnRate, type DomainDetailResponse, type RouteSLODetail, type SLOHistoryPoint, type TargetsByWindow } from '../api/types';
import { useApi } from '../api/useApi';
import { timeSeriesOption, type LineSeries, type MarkLine } from '../charts';
import { EChart } from '../components/EChart';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { BudgetBar, Icon, PageHeader, Panel, StatCard, StatusBadge, StatusDot, TimeRangePicker, parseTimeRange } from '../components/ui';
import { fmtAvail, fmtMs, fmtPct, fmtRps } from '../format';
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
            <td className={`num ${r.long_rate !== null && r.long_rate > r.threshold ? 'text-critical' : ''}`}>{r.long_rate === null ? '—' : `${r.long_rate.toFixed(2)}×`}</td>
            <td className={`num ${r.short_rate !== null && r.short_rate > r.threshold ? 'text-critical' : ''}`}>{r.short_rate === null ? '—' : `${r.short_rate.toFixed(2)}×`}</td>
            <td className="num">{r.threshold}×</td>
            <td>{r.firing ? <StatusBadge status="critical" label="Firing" /> : <StatusBadge status="healthy" label="OK" />}</td>
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
  const [clusterId] = useQueryParam('cluster_id', '');
  const [trRaw, setTr] = useQueryParam('time_range', '1d');
  const timeRange = parseTimeRange(trRaw);
  const [pathSel, setPath] = useQueryParam('path', '');
  const href = useHref();
  const { palette } = useTheme();

  const { data, error, loading, reload } = useApi<DomainDetailResponse>(API.domain(domain), { cluster_id: clusterId, time_range: timeRange }, { pollMs: 60_000 });
  const routes = data?.routes ?? [];
  const selected: RouteSLODetail | undefined = routes.find((r) => r.path_prefix === pathSel);
  const paths = useMemo(() => routes.map((r) => r.path_prefix), [routes]);

  const charts = useMemo(() => {
    if (!data) return null;
    const series = (f: (p: SLOHistoryPoint) => number | null): LineSeries[] =>
      selected ? [{ name: selected.path_prefix, data: pick(selected.history ?? [], f), area: true }] : routes.map((r) => ({ name: r.path_prefix, data: pick(r.history ?? [], f) }));
    const target = primaryTarget(selected ? selected.targets : data.targets);
    const availMarks: MarkLine[] = target ? [{ value: target.availability_target, label: `target ${target.availability_target}%` }] : [];
    const latMarks: MarkLine[] = target ? [{ value: target.p95_latency_target, label: `p95 target ${fmtMs(target.p95_latency_target)}` }] : [];
    const latency: LineSeries[] = selected
      ? [
          { name: 'p95', data: pick(selected.history ?? [], (p) => p.p95_latency), color: palette.series[0] },
          { name: 'p99', data: pick(selected.history ?? [], (p) => p.p99_latency), color: palette.series[2], dashed: true },
        ]
      : series((p) => p.p95_latency);
    return {
      availability: timeSeriesOption(palette, { series: series((p) => p.availability), format: (v) => fmtPct(v, v >= 99.9 ? 3 : 2), markLines: availMarks, yMax: 100 }),
      latency: timeSeriesOption(palette, { series: latency, format: fmtMs, markLines: latMarks, legend: true }),
      rps: timeSeriesOption(palette, { series: series((p) => p.rps), format: fmtRps, yMin: 0 }),
      budget: timeSeriesOption(palette, {
        series: series((p) => p.error_budget_remaining),
        format: (v) => `${v.toFixed(1)}%`,
        markLines: [{ value: 0, label: 'exhausted' }],
        yMax: 100,
      }),
    };
  }, [data, routes, selected, palette]);

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
    </span>
  );

  const summary = selected ? selected.current : data?.summary;
  const budget = selected ? selected.error_budget_remaining : data?.error_budget_remaining;
  const burn = (selected?.burn_rates?.length ? selected.burn_rates : data?.burn_rates) ?? [];

  return (
    <div className="page" data-page="domain-detail">
      <PageHeader crumbs={crumbs} title={title} subtitle="Availability, latency, traffic and error budget per path." actions={<TimeRangePicker value={timeRange} onChange={(v) => setTr(v === '1d' ? null : v)} />} />

      {loading && !data ? (
        <Loading label={`Loading ${domain}…`} />
      ) : error && !data ? (
        <Panel>
          <ErrorState error={error} onRetry={reload} what={`the SLOs of ${domain}`} />
        </Panel>
      ) : data ? (
        <>
          {error && <InlineError>Refresh failed: {error.message}. Showing the last answer.</InlineError>}
          <div className="stats">
            <StatCard label="Availability" value={fmtAvail(summary?.availability)} hint={`target ${primaryTarget(selected?.targets ?? data.targets)?.availability_target ?? '—'}%`} />
            <StatCard label="P95 latency" value={fmtMs(summary?.p95_latency)} hint={`p50 ${fmtMs(summary?.p50_latency)}`} />
            <StatCard label="P99 latency" value={fmtMs(summary?.p99_latency)} />
            <StatCard label="Traffic" value={fmtRps(summary?.rps)} hint={`${(summary?.total_requests ?? 0).toLocaleString('en-US')} requests`} />
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
                  <EChart option={charts.availability} ariaLabel="Availability over time" />
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

          <TargetsEditor domain={domain} paths={paths} clusterId={data.cluster_id ?? clusterId} onSaved={reload} />
        </>
      ) : null}
    </div>
  );
}
