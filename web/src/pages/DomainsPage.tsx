import { Fragment, useMemo, useState } from 'react';
import { API } from '../api/paths';
import type { DomainSlo as DomainSLO, DomainsResponse, RouteSlo as RouteSLO, SloMetrics as SLOMetrics, SloStatus as SLOStatus } from '../../../src/slo/server/schemas';
import { useApi } from '../api/useApi';
import { useCluster } from '../api/useCluster';
import { ConnectAgent } from '../components/ConnectAgent';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { BudgetBar, Icon, PageHeader, Panel, StatCard, StatusBadge, StatusDot, TimeRangePicker, parseTimeRange } from '../components/ui';
import { fmtAvail, fmtBasis, fmtMs, fmtRps, fmtSpan, statusLabel, statusRank } from '../format';
import { Link, useHref, useQueryParam } from '../router';

type SortKey = 'status' | 'name' | 'availability' | 'p95' | 'p99' | 'rps' | 'budget';
type Dir = 'asc' | 'desc';
const SORT_KEYS: SortKey[] = ['status', 'name', 'availability', 'p95', 'p99', 'rps', 'budget'];
/** Direction a column sorts in on first click: the "worst first" one. */
const FIRST_DIR: Record<SortKey, Dir> = { status: 'asc', name: 'asc', availability: 'asc', p95: 'desc', p99: 'desc', rps: 'desc', budget: 'asc' };
const STATUSES: (SLOStatus | 'all')[] = ['all', 'critical', 'warning', 'healthy', 'insufficient_data', 'unknown'];

interface Row {
  name: string;
  status: SLOStatus;
  m: SLOMetrics;
  budget: number | null;
}

/** Nulls sort last in either direction. */
function sortValue(r: Row, key: SortKey): number | string | null {
  switch (key) {
    case 'status':
      return statusRank[r.status] ?? 9;
    case 'name':
      return r.name.toLowerCase();
    case 'availability':
      return r.m?.availability ?? null;
    case 'p95':
      return r.m?.p95_latency ?? null;
    case 'p99':
      return r.m?.p99_latency ?? null;
    case 'rps':
      return r.m?.rps ?? null;
    case 'budget':
      return r.budget;
  }
}

function comparator<T>(toRow: (x: T) => Row, key: SortKey, dir: Dir) {
  return (a: T, b: T) => {
    const ra = toRow(a);
    const rb = toRow(b);
    const va = sortValue(ra, key);
    const vb = sortValue(rb, key);
    if (va === null && vb === null) return ra.name.localeCompare(rb.name);
    if (va === null) return 1;
    if (vb === null) return -1;
    const c = typeof va === 'string' ? va.localeCompare(vb as string) : (va as number) - (vb as number);
    return c === 0 ? ra.name.localeCompare(rb.name) : dir === 'asc' ? c : -c;
  };
}

const domainRow = (d: DomainSLO): Row => ({ name: d.domain, status: d.status, m: d.summary, budget: d.error_budget_remaining });
const routeRow = (r: RouteSLO): Row => ({ name: r.path_prefix, status: r.status, m: r.current, budget: r.error_budget_remaining });

function matches(text: string, ...fields: (string | undefined)[]) {
  return fields.some((f) => f?.toLowerCase().includes(text));
}

export default function DomainsPage() {
  const cluster = useCluster();
  const [trRaw, setTr] = useQueryParam('time_range', '1d');
  const timeRange = parseTimeRange(trRaw);
  const [q, setQ] = useQueryParam('q', '');
  const [statusFilter, setStatusFilter] = useQueryParam('status', 'all');
  const [sortRaw, setSort] = useQueryParam('sort', 'status:asc');
  const [sk, sd] = sortRaw.split(':');
  const sortKey: SortKey = (SORT_KEYS as string[]).includes(sk) ? (sk as SortKey) : 'status';
  const dir: Dir = sd === 'desc' ? 'desc' : 'asc';
  const href = useHref();

  const { data, error: dataError, loading: loadingData, reload, refreshing } = useApi<DomainsResponse>(
    cluster.clusterId === null ? null : API.domains,
    { cluster_id: cluster.clusterId ?? '', time_range: timeRange },
    { pollMs: 30_000 },
  );
  const loading = loadingData || (cluster.clusterId === null && cluster.loading);
  const error = dataError ?? cluster.error;
  const [expanded, setExpanded] = useState<Record<string, boolean>>({});

  const domains = data?.domains ?? [];
  const text = q.trim().toLowerCase();

  const visible = useMemo(() => {
    const out: { d: DomainSLO; routes: RouteSLO[]; forceOpen: boolean }[] = [];
    for (const d of domains) {
      const routes = d.routes ?? [];
      let shown = routes;
      let forceOpen = false;
      if (text) {
        const domainHit = matches(text, d.domain);
        const routeHits = routes.filter((r) => matches(text, r.path_prefix, r.service_name, r.namespace, r.ingress_name, `${d.domain}${r.path_prefix}`));
        if (!domainHit && routeHits.length === 0) continue;
        if (!domainHit) {
          shown = routeHits;
          forceOpen = true;
        }
      }
      if (statusFilter !== 'all') {
        const st = shown.filter((r) => r.status === statusFilter);
        if (d.status !== statusFilter && st.length === 0) continue;
        if (st.length > 0) shown = st;
      }
      out.push({ d, routes: [...shown].sort(comparator(routeRow, sortKey, dir)), forceOpen });
    }
    return out.sort((a, b) => comparator(domainRow, sortKey, dir)(a.d, b.d));
  }, [domains, text, statusFilter, sortKey, dir]);

  const defaultOpen = domains.length <= 8;
  const isOpen = (domain: string, forceOpen: boolean) => forceOpen || (expanded[domain] ?? defaultOpen);
  const setAll = (open: boolean) => setExpanded(Object.fromEntries(domains.map((d) => [d.domain, open])));

  const onSort = (key: SortKey) => {
    const next: Dir = key === sortKey ? (dir === 'asc' ? 'desc' : 'asc') : FIRST_DIR[key];
    setSort(key === 'status' && next === 'asc' ? null : `${key}:${next}`);
  };

  const th = (key: SortKey, label: string, cls = 'num') => (
    <th className={`${cls} sortable ${sortKey === key ? 'sorted' : ''}`} aria-sort={sortKey === key ? (dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" onClick={() => onSort(key)}>
        {label}
        <span className="sort-arrow">{sortKey === key ? (dir === 'asc' ? '▲' : '▼') : ''}</span>
      </button>
    </th>
  );

  const s = data?.summary;
  return (
    <div className="page" data-page="domains">
      <PageHeader
        title="Domains"
        subtitle="Service level per ingress domain and path: availability, latency, traffic and error budget."
        actions={<TimeRangePicker value={timeRange} onChange={(v) => setTr(v === '1d' ? null : v)} />}
      />

      {error && data && <InlineError>Refresh failed: {error.message}. Showing the last answer.</InlineError>}

      {s && domains.length > 0 && (
        <div className="stats">
          <StatCard label="Domains" value={s.total_domains} hint={`${domains.reduce((n, d) => n + (d.routes?.length ?? 0), 0)} paths`} />
          <StatCard label="Healthy" value={s.healthy_count} tone="healthy" />
          <StatCard label="Warning" value={s.warning_count} tone={s.warning_count > 0 ? 'warning' : undefined} />
          <StatCard label="Critical" value={s.critical_count} tone={s.critical_count > 0 ? 'critical' : undefined} />
          <StatCard label="Avg availability" value={fmtAvail(s.avg_availability)} hint={`over ${timeRange}`} />
          <StatCard label="Total traffic" value={fmtRps(s.total_rps)} hint={`per second over ${fmtSpan(data?.covered_seconds)} of data`} />
        </div>
      )}

      <Panel pad={false}>
        <div className="toolbar">
          <label className="search">
            <Icon name="search" size={14} />
            <input type="search" placeholder="Filter domains, paths, services…" value={q} onChange={(e) => setQ(e.target.value || null)} aria-label="Filter" />
          </label>
          <div className="segmented small" role="radiogroup" aria-label="Status filter">
            {STATUSES.map((st) => (
              <button key={st} type="button" role="radio" aria-checked={statusFilter === st} className={statusFilter === st ? 'on' : ''} onClick={() => setStatusFilter(st === 'all' ? null : st)}>
                {st !== 'all' && <StatusDot status={st} />}
                {st === 'all' ? 'All' : statusLabel[st]}
              </button>
            ))}
          </div>
          <div className="toolbar-spacer" />
          <button type="button" className="btn btn-sm btn-ghost" onClick={() => setAll(true)} disabled={!domains.length}>
            Expand all
          </button>
          <button type="button" className="btn btn-sm btn-ghost" onClick={() => setAll(false)} disabled={!domains.length}>
            Collapse all
          </button>
          <button type="button" className="icon-btn" onClick={reload} title="Refresh" aria-label="Refresh">
            <span className={refreshing ? 'spin' : ''}>
              <Icon name="refresh" size={15} />
            </span>
          </button>
        </div>

        {cluster.none ? (
          <ConnectAgent />
        ) : loading && !data ? (
          <Loading label="Loading domains…" />
        ) : error && !data ? (
          <ErrorState error={error} onRetry={reload} what="the SLO domains" />
        ) : domains.length === 0 ? (
          <Empty />
        ) : visible.length === 0 ? (
          <Empty title="Nothing matches">No domain or path matches the filter.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table tree" data-testid="domain-tree">
              <thead>
                <tr>
                  {th('name', 'Domain / path', 'name-col')}
                  <th>Service</th>
                  {th('availability', 'Availability')}
                  {th('p95', 'P95')}
                  {th('p99', 'P99')}
                  {th('rps', 'RPS')}
                  {th('budget', 'Error budget', 'budget-col')}
                  {th('status', 'Status', 'status-col')}
                </tr>
              </thead>
              <tbody>
                {visible.map(({ d, routes, forceOpen }) => {
                  const open = isOpen(d.domain, forceOpen);
                  return (
                    <Fragment key={d.domain}>
                      <tr className={`domain-row status-${d.status}`}>
                        <td className="name-col">
                          <div className="name-cell">
                          <button
                            type="button"
                            className={`caret ${open ? 'open' : ''}`}
                            onClick={() => setExpanded((e) => ({ ...e, [d.domain]: !open }))}
                            aria-expanded={open}
                            aria-label={open ? `Collapse ${d.domain}` : `Expand ${d.domain}`}
                          >
                            <Icon name="chevron" size={14} />
                          </button>
                          <StatusDot status={d.status} />
                          <Link to={href(`/slo/domains/${encodeURIComponent(d.domain)}`)} className="domain-link">
                            {d.domain}
                          </Link>
                          {d.tls && (
                            <span className="tls" title="TLS">
                              <Icon name="lock" size={12} />
                            </span>
                          )}
                          <span className="muted small">
                            {(d.routes?.length ?? 0) === 1 ? '1 path' : `${d.routes?.length ?? 0} paths`}
                          </span>
                          </div>
                        </td>
                        <td />
                        <td className="num strong">{fmtAvail(d.summary?.availability)}</td>
                        <td className="num">{fmtMs(d.summary?.p95_latency)}</td>
                        <td className="num">{fmtMs(d.summary?.p99_latency)}</td>
                        <td className="num">{fmtRps(d.summary?.rps)}</td>
                        <td className="budget-col">
                          <BudgetBar value={d.error_budget_remaining} />
                        </td>
                        <td className="status-col" title={fmtBasis(d.summary)}>
                          <StatusBadge status={d.status} />
                        </td>
                      </tr>
                      {open &&
                        routes.map((r, i) => (
                          <tr key={`${d.domain}${r.path_prefix}|${r.service_key}`} className={`route-row status-${r.status}`}>
                            <td className="name-col">
                              <div className="name-cell">
                              <span className="tree-glyph" aria-hidden>
                                {i === routes.length - 1 ? '└─' : '├─'}
                              </span>
                              <StatusDot status={r.status} />
                              <Link to={href(`/slo/domains/${encodeURIComponent(d.domain)}`, { path: r.path_prefix })} className="mono">
                                {r.path_prefix}
                              </Link>
                              </div>
                            </td>
                            <td className="muted small ellipsis" title={r.service_key}>
                              {r.namespace}/{r.service_name}
                            </td>
                            <td className="num">{fmtAvail(r.current?.availability)}</td>
                            <td className="num">{fmtMs(r.current?.p95_latency)}</td>
                            <td className="num">{fmtMs(r.current?.p99_latency)}</td>
                            <td className="num">{fmtRps(r.current?.rps)}</td>
                            <td className="budget-col">
                              <BudgetBar value={r.error_budget_remaining} />
                            </td>
                            <td className="status-col" title={fmtBasis(r.current)}>
                              <StatusBadge status={r.status} />
                            </td>
                          </tr>
                        ))}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      {data && (
        <p className="footnote">
          Cluster <strong>{data.cluster_id ?? '—'}</strong> · {timeRange} · rates over {fmtSpan(data.covered_seconds)} with data
          {data.status_minimum && ` · a status needs ${fmtSpan(data.status_minimum.covered_seconds)} and ${data.status_minimum.requests} requests`} · refreshed every 30 s
        </p>
      )}
    </div>
  );
}
