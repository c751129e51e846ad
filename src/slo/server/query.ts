/**
 * The SLO read model: builds the /api/v2/slo answers (shapes of web/src/api/types.ts, field names of
 * seed 001) from the repository's reads. Every answer is computed inside one read transaction.
 *
 * Semantics (also in docs of each response):
 * - `current`/`summary` cover the summary window of the time range (src/slo/math/time.ts): the 1h range
 *   whole minutes from raw rows, 6h…30d whole hours from rollups plus not-yet-rolled raw rows.
 *   `rps` divides by `covered_seconds`, the part of the window from the cluster's first snapshot on;
 *   `current_rps` is the last 5 minutes (raw rows), as Linkerd viz shows it. `previous` is the same
 *   span one range earlier.
 * - `status` judges those metrics against the primary target: critical below the availability
 *   target, warning above a latency target, unknown without traffic, `insufficient_data` below the
 *   sample minimum (slo.minStatusRequests requests and slo.minCoveredTime of covered time, echoed as
 *   `status_minimum`). A domain is the worst of its routes.
 * - `error_budget_remaining` is over the primary target's own window (1d/7d/30d, hour-aligned), not the
 *   time range: it is what is left of the SLO's budget now.
 * - Burn rates use the SRE workbook pairs; windows under a day are exact (raw minutes), a day and
 *   more hour-aligned. A rate of failures against a 100 % target is infinite: JSON has no Infinity, so
 *   the rate is null with `long_infinite`/`short_infinite` true (null alone means no traffic).
 * - History `error_budget_remaining` is, at each step's end t, what the card would have shown at t:
 *   the hour-aligned SLO window [floor_hour(t) − (N − 1) h, t), never counting data after t.
 */
import { badRequest, notFound } from '../../platform/http/errors.js';
import { histDistribution, histTotal, histogramQuantile, type Hist } from '../math/histogram.js';
import {
  BURN_SPANS_MS,
  NO_MINIMUM,
  WINDOW_MS,
  addGolden,
  burnRates,
  errorBudgetRemaining,
  evaluateStatus,
  sloMetrics,
  worstStatus,
  type BurnRateResult,
  type Counts,
  type Golden,
  type SampleMinimum,
  type SloMetrics,
  type SloStatus,
  type SloWindow,
  type TargetSpec,
} from '../math/slo.js';
import { TargetIndex, routeKey, serviceKey, type ResolvedTargets, type StoredTarget, type TargetScope, type TargetsByWindow } from '../math/targets.js';
import {
  DAY,
  HOUR,
  MINUTE,
  coveredSeconds,
  floorTo,
  historySeries,
  previousWindow,
  summaryWindow,
  trailingHours,
  trailingMinutes,
  type Series,
  type TimeRange,
  type Window,
} from '../math/time.js';
import { EntityMap, newGolden, type Entity, type LoadOpts, type SeriesMap } from './entities.js';
import type { EntityKind } from './tables.js';
import type { MappingRow } from './ingest.js';
import type { Filters, SloRepository, Unrolled } from './repository.js';
import type { Db } from './tx.js';

export interface QueryOptions {
  now?: () => number;
  minBurnRequests: number;
  defaults: TargetSpec & { window: SloWindow };
  /** Least traffic and covered time a status needs (slo.minStatusRequests, slo.minCoveredTime); none when absent. */
  minStatus?: SampleMinimum;
  /** How far back raw rows reach (slo.rawRetention): exact partial hours of `previous` need them. */
  rawRetentionMs?: number;
}

/** The trailing span of `current_rps`. */
export const CURRENT_RATE_MS = 5 * MINUTE;

export const DEFAULT_TARGET: TargetSpec & { window: SloWindow } = { availability_target: 99.9, p95_latency_target: 500, p99_latency_target: null, window: '30d' };

// ------------------------------------------------------------------ output rounding

const round = (v: number | null, digits: number): number | null => {
  if (v === null || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

export function metricsOut(m: SloMetrics): SloMetrics {
  return {
    covered_seconds: round(m.covered_seconds, 3) ?? 0,
    availability: round(m.availability, 5),
    p50_latency: round(m.p50_latency, 3),
    p95_latency: round(m.p95_latency, 3),
    p99_latency: round(m.p99_latency, 3),
    rps: round(m.rps, 4) ?? 0,
    total_requests: round(m.total_requests, 6) ?? 0,
    error_rate: round(m.error_rate, 5),
  };
}

function burnOut(b: BurnRateResult) {
  return {
    window: b.window,
    long_rate: b.long_rate === Infinity ? null : round(b.long_rate, 4),
    short_rate: b.short_rate === Infinity ? null : round(b.short_rate, 4),
    long_infinite: b.long_rate === Infinity,
    short_infinite: b.short_rate === Infinity,
    threshold: b.threshold,
    firing: b.firing,
    severity: b.severity,
    long_requests: round(b.long_requests, 3) ?? 0,
    long_covered_seconds: round(b.long_covered_seconds, 3) ?? 0,
    insufficient_data: b.insufficient_data,
  };
}

const budgetOut = (v: number | null) => round(v, 3);

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const SEP = '\u0000';

// ------------------------------------------------------------------ shapes

export interface RouteOut {
  path_prefix: string;
  ingress_name: string;
  namespace: string;
  service_key: string;
  service_name: string;
  service_port?: number;
  current: SloMetrics;
  previous?: SloMetrics;
  targets?: TargetsByWindow;
  status: SloStatus;
  error_budget_remaining: number | null;
}

interface RouteRef {
  domain: string;
  path: string;
  mapping?: MappingRow;
  entity?: Entity;
}

interface HistoryPoint {
  timestamp: number;
  total_requests: number;
  availability: number | null;
  p95_latency: number | null;
  p99_latency: number | null;
  rps: number;
  error_rate: number | null;
  error_budget_remaining: number | null;
  covered_seconds: number;
}

export class SloQueries {
  readonly now: () => number;

  constructor(
    readonly repo: SloRepository,
    readonly opts: QueryOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  // ------------------------------------------------------------------ clusters

  async clusters() {
    return { clusters: await this.repo.clusters() };
  }

  /**
   * The cluster a read is about: the given one (404 when it never shipped a snapshot, unless
   * `allowUnknown`), or — omitted — the only cluster there is; otherwise 400 naming cluster_id.
   */
  async resolveCluster(given: string | undefined, allowUnknown = false): Promise<string> {
    const known = await this.repo.clusterIds();
    if (given !== undefined && given !== '') {
      if (!allowUnknown && !known.includes(given)) throw notFound(`cluster ${given} has not shipped any snapshot`);
      return given;
    }
    if (known.length === 1) return known[0];
    if (known.length === 0) throw badRequest('cluster_id is required: no cluster has shipped a snapshot yet', 'cluster_id');
    throw badRequest(`cluster_id is required when several clusters report (${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''})`, 'cluster_id');
  }

  private async targetIndex(db: Db, cluster: string): Promise<TargetIndex> {
    return new TargetIndex(await this.repo.targets(db, cluster), this.opts.defaults);
  }

  private get minStatus(): SampleMinimum {
    return this.opts.minStatus ?? NO_MINIMUM;
  }

  /** The sample minimum as the answers state it (next to every status). */
  private minimumOut() {
    return { requests: this.minStatus.requests, covered_seconds: this.minStatus.coveredSeconds };
  }

  /**
   * Requests per second over the last CURRENT_RATE_MS (raw rows, minute-aligned like the burn
   * windows), per entity key; `rate(key)` null when the span has no covered time yet.
   */
  private async currentRates(db: Db, kind: EntityKind, cluster: string, filters: Filters, now: number, dataFrom: number | null) {
    const w = trailingMinutes(CURRENT_RATE_MS, now);
    const seconds = coveredSeconds(w.from, now, dataFrom);
    const counts = await this.repo.rawCountsSince(db, kind, cluster, [w.from], filters);
    return (key: string | null): number | null => {
      if (!(seconds > 0)) return null;
      if (key !== null) return (counts.get(key)?.counts[0].requests ?? 0) / seconds;
      let r = 0;
      for (const c of counts.values()) r += c.counts[0].requests;
      return r / seconds;
    };
  }

  /**
   * Entities over `pw` (previous window, hour-aligned start, end anywhere): whole hours from the
   * rollups, the trailing partial hour from raw rows while they are kept, else that hour pro rata.
   */
  private async previousEntities(db: Db, kind: EntityKind, cluster: string, pw: Window, u: Unrolled, filters: Filters, opts: LoadOpts, now: number): Promise<EntityMap> {
    if (pw.grain === 'minute') return this.repo.windowEntities(db, kind, cluster, pw, u, filters, opts);
    const h = floorTo(pw.to, HOUR);
    const out = new EntityMap(kind);
    for (const e of (await this.repo.windowEntities(db, kind, cluster, { ...pw, to: h }, u, filters, opts)).values()) out.merge(e, opts);
    if (pw.to > h) {
      const rawKept = this.opts.rawRetentionMs === undefined || h >= now - this.opts.rawRetentionMs;
      if (rawKept) {
        for (const e of (await this.repo.windowEntities(db, kind, cluster, { from: h, to: pw.to, seconds: 0, grain: 'minute' }, u, filters, opts)).values()) out.merge(e, opts);
      } else {
        const f = (pw.to - h) / HOUR;
        for (const e of (await this.repo.windowEntities(db, kind, cluster, { from: h, to: h + HOUR, seconds: 0, grain: 'hour' }, u, filters, opts)).values()) {
          out.merge({ ...e, g: scaleGolden(e.g, f) }, opts);
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ domains

  private routeRefs(mappings: MappingRow[], since: number, ...maps: (EntityMap | SeriesMap | undefined)[]): Map<string, Map<string, RouteRef>> {
    const domains = new Map<string, Map<string, RouteRef>>();
    const ref = (domain: string, path: string): RouteRef => {
      let d = domains.get(domain);
      if (!d) domains.set(domain, (d = new Map()));
      let r = d.get(path);
      if (!r) d.set(path, (r = { domain, path }));
      return r;
    };
    for (const m of mappings) if (m.last_seen >= since) ref(m.domain, m.path_prefix).mapping = m;
    for (const map of maps) {
      if (!map) continue;
      for (const e of map.map.values()) {
        const r = ref(e.parts.domain, e.parts.path_prefix);
        if ('g' in e) r.entity = e as Entity;
      }
    }
    // A route seen only through data still gets its stored mapping (if any) for names.
    const byKey = new Map(mappings.map((m) => [`${m.domain}${SEP}${m.path_prefix}`, m]));
    for (const d of domains.values()) for (const r of d.values()) r.mapping ??= byKey.get(`${r.domain}${SEP}${r.path}`);
    return domains;
  }

  private routeTargets(t: TargetIndex, r: RouteRef): ResolvedTargets {
    const svc = r.mapping ? { namespace: r.mapping.namespace, name: r.mapping.service_name } : undefined;
    return t.route(r.domain, r.path, svc);
  }

  /** Budget counts per needed window, per route key (domain SEP path). */
  private async budgetCounts(db: Db, cluster: string, windows: Set<SloWindow>, u: Unrolled, filters: Filters, now: number) {
    const out = new Map<SloWindow, Map<string, Counts>>();
    for (const w of windows) {
      const counts = await this.repo.windowCounts(db, 'ingress', cluster, trailingHours(WINDOW_MS[w], now), u, filters);
      out.set(w, new Map([...counts].map(([k, v]) => [k, v.counts])));
    }
    return out;
  }

  private routeOut(r: RouteRef, targets: ResolvedTargets, g: Golden, seconds: number, budget: Counts | undefined, currentRps: number | null | undefined): RouteOut {
    const m = sloMetrics(g, seconds);
    return {
      path_prefix: r.path,
      ingress_name: r.mapping?.ingress_name ?? '',
      namespace: r.mapping?.namespace ?? '',
      service_key: r.mapping?.service_key ?? r.entity?.attrs.service_key ?? '',
      service_name: r.mapping?.service_name ?? r.entity?.attrs.service_name ?? '',
      ...(r.mapping ? { service_port: r.mapping.service_port } : {}),
      current: currentRps === undefined ? metricsOut(m) : { ...metricsOut(m), current_rps: round(currentRps, 4) },
      targets: targets.byWindow,
      status: evaluateStatus(m, targets.primary, this.minStatus),
      error_budget_remaining: budgetOut(budget ? errorBudgetRemaining(budget.requests, budget.failures, targets.primary.availability_target) : null),
    };
  }

  /** GET /api/v2/slo/domains */
  async domains(cluster: string, range: TimeRange) {
    const now = this.now();
    const w = summaryWindow(range, now);
    return this.repo.read(async (db) => {
      const u = await this.repo.unrolled(db, cluster);
      const dataFrom = await this.repo.firstDataAt(db, cluster);
      const seconds = coveredSeconds(w.from, now, dataFrom);
      const mappings = await this.repo.mappings(db, cluster);
      const current = await this.repo.windowEntities(db, 'ingress', cluster, w, u, {}, { hist: true });
      const targets = await this.targetIndex(db, cluster);
      const refs = this.routeRefs(mappings, w.from, current);

      const resolved = new Map<RouteRef, ResolvedTargets>();
      const windows = new Set<SloWindow>();
      for (const [domain, routes] of refs) {
        windows.add(targets.domain(domain).primary.window);
        for (const r of routes.values()) {
          const t = this.routeTargets(targets, r);
          resolved.set(r, t);
          windows.add(t.primary.window);
        }
      }
      const budgets = await this.budgetCounts(db, cluster, windows, u, {}, now);

      const domains = [...refs.keys()].sort(cmp).map((domain) => {
        const routes = [...refs.get(domain)!.values()].sort((a, b) => cmp(a.path, b.path));
        const sum = newGolden();
        const outs = routes.map((r) => {
          const g = r.entity?.g ?? newGolden();
          addGolden(sum, g);
          const t = resolved.get(r)!;
          // No current rate in the list: it would scan every route's raw rows of the last minutes on
          // each poll (bench/slo-query: 4× slower with frequent snapshots); the detail pages have it.
          return this.routeOut(r, t, g, seconds, budgets.get(t.primary.window)!.get(`${domain}${SEP}${r.path}`), undefined);
        });
        const dt = targets.domain(domain);
        const dc = sumCounts(budgets.get(dt.primary.window)!, domain);
        const summary = sloMetrics(sum, seconds);
        return {
          domain,
          tls: routes.some((r) => r.mapping?.tls === 1),
          routes: outs,
          summary: metricsOut(summary),
          targets: dt.byWindow,
          status: worstStatus(outs.map((o) => o.status)),
          error_budget_remaining: budgetOut(dc.requests > 0 ? errorBudgetRemaining(dc.requests, dc.failures, dt.primary.availability_target) : null),
          _golden: sum,
        };
      });

      let req = 0;
      let fail = 0;
      for (const d of domains) {
        req += d._golden.requests;
        fail += d._golden.failures;
      }
      const count = (s: SloStatus) => domains.filter((d) => d.status === s).length;
      return {
        cluster_id: cluster,
        time_range: range,
        generated_at: now,
        window: { from: w.from, to: now },
        data_from: dataFrom,
        covered_seconds: round(seconds, 3) ?? 0,
        status_minimum: this.minimumOut(),
        domains: domains.map(({ _golden, ...d }) => (void _golden, d)),
        summary: {
          total_domains: domains.length,
          healthy_count: count('healthy'),
          warning_count: count('warning'),
          critical_count: count('critical'),
          unknown_count: count('unknown'),
          insufficient_data_count: count('insufficient_data'),
          avg_availability: round(req > 0 ? (100 * (req - fail)) / req : null, 5),
          total_rps: round(seconds > 0 ? req / seconds : 0, 4) ?? 0,
        },
      };
    });
  }

  /** GET /api/v2/slo/domains/{domain} */
  async domain(cluster: string, domain: string, range: TimeRange) {
    const now = this.now();
    const w = summaryWindow(range, now);
    const pw = previousWindow(range, w, now);
    const s = historySeries(range, now);
    const filters = { domain };
    return this.repo.read(async (db) => {
      const u = await this.repo.unrolled(db, cluster);
      const dataFrom = await this.repo.firstDataAt(db, cluster);
      const seconds = coveredSeconds(w.from, now, dataFrom);
      const prevSeconds = coveredSeconds(pw.from, pw.to, dataFrom);
      const mappings = await this.repo.mappings(db, cluster, { domain });
      const current = await this.repo.windowEntities(db, 'ingress', cluster, w, u, filters, { hist: true });
      const previous = await this.previousEntities(db, 'ingress', cluster, pw, u, filters, { hist: true }, now);
      const series = await this.repo.series(db, 'ingress', cluster, s.from, s.step, s.points, u, filters, { hist: true });
      if (!mappings.length && !current.map.size && !series.map.size && !previous.map.size && !(await this.repo.exists(db, 'ingress', cluster, filters))) {
        throw notFound(`cluster ${cluster} has no domain ${domain}`);
      }
      const targets = await this.targetIndex(db, cluster);
      const refs = this.routeRefs(mappings, Math.min(w.from, s.from), current, series).get(domain) ?? new Map<string, RouteRef>();
      const routes = [...refs.values()].sort((a, b) => cmp(a.path, b.path));
      const resolved = new Map(routes.map((r) => [r, this.routeTargets(targets, r)]));
      const dt = targets.domain(domain);
      const windows = new Set<SloWindow>([dt.primary.window, ...[...resolved.values()].map((t) => t.primary.window)]);
      const budgets = await this.budgetCounts(db, cluster, windows, u, filters, now);
      const burnCounts = await this.burnCounts(db, cluster, u, filters, now);
      const burnCovered = (span: number) => coveredSeconds((span < DAY ? trailingMinutes(span, now) : trailingHours(span, now)).from, now, dataFrom);
      const nowSeconds = coveredSeconds(trailingMinutes(CURRENT_RATE_MS, now).from, now, dataFrom);
      const rateNow = (key: string | null) => (nowSeconds > 0 ? burnCounts(CURRENT_RATE_MS, key).requests / nowSeconds : null);
      // Budget series: whole buckets (an hour, or the step when longer) from one SLO window before the series.
      const maxWindow = Math.max(...[...windows].map((x) => WINDOW_MS[x]));
      const size = Math.max(s.step, HOUR);
      const anchor = floorTo(s.from, size) - maxWindow;
      const buckets = await this.repo.bucketCounts(db, 'ingress', cluster, anchor, size, u, filters);
      const bucketsOf = new Map<string, typeof buckets>();
      for (const b of buckets) {
        const list = bucketsOf.get(b.key);
        if (list) list.push(b);
        else bucketsOf.set(b.key, [b]);
      }

      const routeOuts = routes.map((r) => {
        const key = `${domain}${SEP}${r.path}`;
        const t = resolved.get(r)!;
        const out = this.routeOut(r, t, r.entity?.g ?? newGolden(), seconds, budgets.get(t.primary.window)!.get(key), rateNow(key));
        const prev = previous.get(key);
        const points = series.map.get(key)?.points ?? [];
        const budgetAt = budgetSeries(bucketsOf.get(key) ?? [], anchor, size, WINDOW_MS[t.primary.window], t.primary.availability_target, now, s, points);
        return {
          ...out,
          previous: metricsOut(sloMetrics(prev?.g ?? newGolden(), prevSeconds)),
          history: historyOut(points, s, budgetAt, now, dataFrom),
          burn_rates: burnRates((span) => burnCounts(span, key), t.primary.availability_target, this.burnMinimum, burnCovered).map(burnOut),
        };
      });

      const sum = newGolden();
      for (const r of routes) if (r.entity) addGolden(sum, r.entity.g);
      const prevSum = newGolden();
      for (const e of previous.values()) addGolden(prevSum, e.g);
      const domainPoints: (Golden | undefined)[] = new Array(s.points);
      for (const e of series.map.values())
        e.points.forEach((g, i) => {
          if (g) addGolden((domainPoints[i] ??= newGolden()), g);
        });
      const dc = sumCounts(budgets.get(dt.primary.window)!, domain);
      const summary = sloMetrics(sum, seconds);
      const domainBudgetAt = budgetSeries(buckets, anchor, size, WINDOW_MS[dt.primary.window], dt.primary.availability_target, now, s, domainPoints);
      return {
        cluster_id: cluster,
        time_range: range,
        generated_at: now,
        window: { from: w.from, to: now },
        data_from: dataFrom,
        covered_seconds: round(seconds, 3) ?? 0,
        status_minimum: this.minimumOut(),
        step_seconds: s.step / 1000,
        domain,
        tls: routes.some((r) => r.mapping?.tls === 1),
        status: worstStatus(routeOuts.map((r) => r.status)),
        summary: { ...metricsOut(summary), current_rps: round(rateNow(null), 4) },
        previous: metricsOut(sloMetrics(prevSum, prevSeconds)),
        targets: dt.byWindow,
        error_budget_remaining: budgetOut(dc.requests > 0 ? errorBudgetRemaining(dc.requests, dc.failures, dt.primary.availability_target) : null),
        burn_rates: burnRates((span) => burnCounts(span, null), dt.primary.availability_target, this.burnMinimum, burnCovered).map(burnOut),
        history: historyOut(domainPoints, s, domainBudgetAt, now, dataFrom),
        routes: routeOuts,
      };
    });
  }

  /** Burn alerts need slo.minBurnRequests requests and the status' covered time (see burnRates). */
  private get burnMinimum(): SampleMinimum {
    return { requests: this.opts.minBurnRequests, coveredSeconds: this.minStatus.coveredSeconds };
  }

  /** Counts per burn-rate span: exact raw minutes under a day, hour-aligned rollups from a day on. */
  private async burnCounts(db: Db, cluster: string, u: Unrolled, filters: Filters, now: number): Promise<(span: number, key: string | null) => Counts> {
    const short = BURN_SPANS_MS.filter((x) => x < DAY);
    const long = BURN_SPANS_MS.filter((x) => x >= DAY);
    const raw = await this.repo.rawCountsSince(
      db,
      'ingress',
      cluster,
      short.map((x) => trailingMinutes(x, now).from),
      filters,
    );
    const rolled = new Map<number, Map<string, { counts: Counts }>>();
    for (const x of long) rolled.set(x, await this.repo.windowCounts(db, 'ingress', cluster, trailingHours(x, now), u, filters));
    return (span, key) => {
      const total: Counts = { requests: 0, failures: 0 };
      const add = (c: Counts) => {
        total.requests += c.requests;
        total.failures += c.failures;
      };
      if (span < DAY) {
        const i = short.indexOf(span);
        if (key === null) for (const e of raw.values()) add(e.counts[i]);
        else if (raw.get(key)) add(raw.get(key)!.counts[i]);
      } else {
        const m = rolled.get(span)!;
        if (key === null) for (const e of m.values()) add(e.counts);
        else if (m.get(key)) add(m.get(key)!.counts);
      }
      return total;
    };
  }

  // ------------------------------------------------------------------ mesh

  private nodeOut(namespace: string, name: string, g: Golden, seconds: number, t: ResolvedTargets, currentRps: number | null = null, outbound?: Golden) {
    const m = sloMetrics(g, seconds);
    const codes = Object.entries(g.codes ?? {})
      .map(([code, count]) => ({ code, count }))
      .sort((a, b) => cmp(a.code, b.code));
    return {
      id: serviceKey(namespace, name),
      namespace,
      name,
      rps: metricsOut(m).rps,
      total_requests: round(g.requests, 6) ?? 0,
      p50_latency: round(m.p50_latency, 3),
      p95_latency: round(m.p95_latency, 3),
      p99_latency: round(m.p99_latency, 3),
      error_rate: round(m.error_rate, 5),
      mtls_percent: round(g.requests > 0 ? (100 * g.tls) / g.requests : null, 3),
      status: evaluateStatus(m, t.primary, this.minStatus),
      latency_distribution: histDistribution(g.hist),
      status_codes: codes,
      covered_seconds: round(seconds, 3) ?? 0,
      current_rps: round(currentRps, 4),
      // A caller the mesh sees no inbound traffic for (the ingress, a job): drawn as a source of its calls.
      role: g.requests === 0 && outbound && outbound.requests > 0 ? ('source' as const) : ('service' as const),
      outbound_rps: round(outbound && seconds > 0 ? outbound.requests / seconds : 0, 4) ?? 0,
    };
  }

  private edgeOut(e: Entity, seconds: number) {
    const g = e.g;
    // Every layout counts: a mean over the first layout's count alone doubles when two layouts mix.
    const histCount = histTotal(g.hist);
    return {
      source: serviceKey(e.parts.src_namespace, e.parts.src_name),
      target: serviceKey(e.parts.dst_namespace, e.parts.dst_name),
      rps: round(seconds > 0 ? g.requests / seconds : 0, 4) ?? 0,
      total_requests: round(g.requests, 6) ?? 0,
      p95_latency: round(histogramQuantile(0.95, g.hist), 3),
      avg_latency: round(histCount > 0 ? g.sumMs / histCount : null, 3),
      error_rate: round(g.requests > 0 ? (100 * g.failures) / g.requests : null, 5),
    };
  }

  /** GET /api/v2/slo/mesh/topology */
  async topology(cluster: string, range: TimeRange) {
    const now = this.now();
    const w = summaryWindow(range, now);
    return this.repo.read(async (db) => {
      const u = await this.repo.unrolled(db, cluster);
      const dataFrom = await this.repo.firstDataAt(db, cluster);
      const seconds = coveredSeconds(w.from, now, dataFrom);
      const rateNow = await this.currentRates(db, 'service', cluster, {}, now, dataFrom);
      const services = await this.repo.windowEntities(db, 'service', cluster, w, u, {}, { hist: true, codes: true });
      const edges = await this.repo.windowEntities(db, 'edge', cluster, w, u, {}, { hist: true });
      const targets = await this.targetIndex(db, cluster);
      const nodes = new Map<string, { namespace: string; name: string; g: Golden; key: string | null; out: Golden }>();
      for (const e of services.values()) nodes.set(serviceKey(e.parts.namespace, e.parts.name), { namespace: e.parts.namespace, name: e.parts.name, g: e.g, key: e.key, out: newGolden() });
      for (const e of edges.values()) {
        for (const [ns, n] of [
          [e.parts.src_namespace, e.parts.src_name],
          [e.parts.dst_namespace, e.parts.dst_name],
        ]) {
          const id = serviceKey(ns, n);
          if (!nodes.has(id)) nodes.set(id, { namespace: ns, name: n, g: newGolden(), key: null, out: newGolden() });
        }
        const src = nodes.get(serviceKey(e.parts.src_namespace, e.parts.src_name))!;
        src.out.requests += e.g.requests;
        src.out.failures += e.g.failures;
      }
      return {
        cluster_id: cluster,
        time_range: range,
        generated_at: now,
        window: { from: w.from, to: now },
        data_from: dataFrom,
        covered_seconds: round(seconds, 3) ?? 0,
        status_minimum: this.minimumOut(),
        nodes: [...nodes.entries()]
          .sort(([a], [b]) => cmp(a, b))
          .map(([, n]) => this.nodeOut(n.namespace, n.name, n.g, seconds, targets.service(n.namespace, n.name), n.key === null ? null : rateNow(n.key), n.out)),
        edges: [...edges.values()].map((e) => this.edgeOut(e, seconds)).sort((a, b) => cmp(a.source, b.source) || cmp(a.target, b.target)),
      };
    });
  }

  /** GET /api/v2/slo/mesh/services/{namespace}/{name} */
  async service(cluster: string, namespace: string, name: string, range: TimeRange) {
    const now = this.now();
    const w = summaryWindow(range, now);
    const s = historySeries(range, now);
    return this.repo.read(async (db) => {
      const u = await this.repo.unrolled(db, cluster);
      const dataFrom = await this.repo.firstDataAt(db, cluster);
      const seconds = coveredSeconds(w.from, now, dataFrom);
      const filters = { namespace, name };
      const rateNow = await this.currentRates(db, 'service', cluster, filters, now, dataFrom);
      const svc = await this.repo.windowEntities(db, 'service', cluster, w, u, filters, { hist: true, codes: true });
      const inbound = await this.repo.windowEntities(db, 'edge', cluster, w, u, { dst_namespace: namespace, dst_name: name }, { hist: true });
      const outbound = await this.repo.windowEntities(db, 'edge', cluster, w, u, { src_namespace: namespace, src_name: name }, { hist: true });
      const series = await this.repo.series(db, 'service', cluster, s.from, s.step, s.points, u, filters, { hist: true });
      if (
        !svc.map.size &&
        !inbound.map.size &&
        !outbound.map.size &&
        !series.map.size &&
        !(await this.repo.exists(db, 'service', cluster, filters)) &&
        !(await this.repo.exists(db, 'edge', cluster, { dst_namespace: namespace, dst_name: name })) &&
        !(await this.repo.exists(db, 'edge', cluster, { src_namespace: namespace, src_name: name }))
      ) {
        throw notFound(`cluster ${cluster} has no mesh service ${namespace}/${name}`);
      }
      const targets = await this.targetIndex(db, cluster);
      const mappings = (await this.repo.mappings(db, cluster, { service_name: name })).filter((m) => !m.namespace || m.namespace === namespace);
      const g = [...svc.values()][0]?.g ?? newGolden();
      const out = newGolden();
      for (const e of outbound.values()) {
        out.requests += e.g.requests;
        out.failures += e.g.failures;
      }
      const points = [...series.map.values()][0]?.points ?? [];
      const history = Array.from({ length: s.points }, (_, i) => {
        const p = points[i];
        const m = sloMetrics(p ?? newGolden(), stepSeconds(s, i, now, dataFrom));
        return {
          timestamp: s.from + i * s.step,
          rps: round(m.rps, 4) ?? 0,
          p50_latency: round(m.p50_latency, 3),
          p95_latency: round(m.p95_latency, 3),
          p99_latency: round(m.p99_latency, 3),
          error_rate: round(m.error_rate, 5),
          mtls_percent: round(p && p.requests > 0 ? (100 * p.tls) / p.requests : null, 3),
        };
      });
      return {
        cluster_id: cluster,
        time_range: range,
        generated_at: now,
        window: { from: w.from, to: now },
        data_from: dataFrom,
        covered_seconds: round(seconds, 3) ?? 0,
        status_minimum: this.minimumOut(),
        step_seconds: s.step / 1000,
        node: this.nodeOut(namespace, name, g, seconds, targets.service(namespace, name), rateNow(null), out),
        targets: targets.service(namespace, name).byWindow,
        history,
        inbound: [...inbound.values()].map((e) => this.edgeOut(e, seconds)).sort((a, b) => cmp(a.source, b.source)),
        outbound: [...outbound.values()].map((e) => this.edgeOut(e, seconds)).sort((a, b) => cmp(a.target, b.target)),
        routes: mappings.map((m) => ({ domain: m.domain, path_prefix: m.path_prefix })).sort((a, b) => cmp(a.domain, b.domain) || cmp(a.path_prefix, b.path_prefix)),
      };
    });
  }

  // ------------------------------------------------------------------ targets

  async targets(cluster: string) {
    const targets = await this.repo.targets(this.repo.store.db, cluster);
    const d = this.opts.defaults;
    return {
      cluster_id: cluster,
      targets,
      defaults: { availability_target: d.availability_target, p95_latency_target: d.p95_latency_target, p99_latency_target: d.p99_latency_target ?? null, window: d.window },
    };
  }

  async putTargets(cluster: string, upserts: StoredTarget[], removals: { scope: TargetScope; key: string; window: SloWindow }[], by: string) {
    await this.repo.putTargets(cluster, upserts, removals, by, this.now());
    return this.targets(cluster);
  }

  // ------------------------------------------------------------------ status

  async statusHistory(cluster: string, f: { domain?: string; scope?: TargetScope; key?: string; since?: number; limit: number }) {
    const rows = await this.repo.read((db) => this.repo.statusHistory(db, cluster, f));
    return {
      cluster_id: cluster,
      evaluation_range: STATUS_RANGE,
      transitions: rows.map((r) => ({
        timestamp: Number(r.ts),
        scope: r.scope,
        key: r.key,
        domain: r.domain ?? null,
        status: r.status,
        previous_status: r.previous_status ?? null,
        availability: r.availability === null ? null : Number(r.availability),
        p95_latency: r.p95_latency === null ? null : Number(r.p95_latency),
        p99_latency: r.p99_latency === null ? null : Number(r.p99_latency),
        error_budget_remaining: r.error_budget_remaining === null ? null : Number(r.error_budget_remaining),
        total_requests: Number(r.total_requests),
      })),
    };
  }

  /**
   * Evaluates every domain, route and mesh service of a cluster over STATUS_RANGE (the dashboard's
   * default range, so the list and the history agree) and records transitions. Returns how many.
   */
  async recordStatuses(cluster: string): Promise<number> {
    const domains = await this.domains(cluster, STATUS_RANGE);
    const mesh = await this.topology(cluster, STATUS_RANGE);
    const entries: Parameters<SloRepository['recordStatuses']>[2] = [];
    for (const d of domains.domains) {
      entries.push({
        scope: 'domain',
        key: d.domain,
        domain: d.domain,
        status: d.status,
        availability: d.summary.availability,
        p95_latency: d.summary.p95_latency,
        p99_latency: d.summary.p99_latency,
        error_budget_remaining: d.error_budget_remaining,
        total_requests: d.summary.total_requests,
      });
      for (const r of d.routes) {
        entries.push({
          scope: 'route',
          key: routeKey(d.domain, r.path_prefix),
          domain: d.domain,
          status: r.status,
          availability: r.current.availability,
          p95_latency: r.current.p95_latency,
          p99_latency: r.current.p99_latency,
          error_budget_remaining: r.error_budget_remaining,
          total_requests: r.current.total_requests,
        });
      }
    }
    for (const n of mesh.nodes) {
      entries.push({
        scope: 'service',
        key: n.id,
        domain: null,
        status: n.status,
        availability: n.error_rate === null ? null : round(100 - n.error_rate, 5),
        p95_latency: n.p95_latency,
        p99_latency: n.p99_latency,
        error_budget_remaining: null,
        total_requests: n.total_requests,
      });
    }
    return this.repo.recordStatuses(cluster, domains.generated_at, entries);
  }
}

export const STATUS_RANGE: TimeRange = '1d';

const domainSums = new WeakMap<Map<string, Counts>, Map<string, Counts>>();

/** Sum of the counts of a domain's routes (keys "domain SEP path"), computed once per map. */
function sumCounts(m: Map<string, Counts>, domain: string): Counts {
  let sums = domainSums.get(m);
  if (!sums) {
    sums = new Map();
    for (const [k, v] of m) {
      const d = k.slice(0, k.indexOf(SEP));
      const c = sums.get(d) ?? { requests: 0, failures: 0 };
      c.requests += v.requests;
      c.failures += v.failures;
      sums.set(d, c);
    }
    domainSums.set(m, sums);
  }
  return sums.get(domain) ?? { requests: 0, failures: 0 };
}

/**
 * Seconds of history step i that have data: the step, cut at now (the incomplete last step) and at
 * the first snapshot (a young install), so a step's rate is its requests over the time it covers.
 */
function stepSeconds(s: Series, i: number, now: number, dataFrom: number | null): number {
  const start = s.from + i * s.step;
  return coveredSeconds(start, Math.min(start + s.step, now), dataFrom);
}

/**
 * Error budget remaining at each history step's end t, as the card would have shown it at t: over
 * the hour-aligned SLO window [floor_hour(t) − (N − 1) h, t) (src/slo/math/time.ts trailingHours).
 * `buckets` are counts in buckets of `size` from `anchor` (an hour, or the step when longer, whose
 * ends are then bucket-aligned); for sub-hour steps the hour holding t is cut at t with the step
 * counts `fine` of the series (whole hour minus the steps after t), so no point counts data from
 * after its own time.
 */
function budgetSeries(
  buckets: { ts: number; requests: number; failures: number }[],
  anchor: number,
  size: number,
  windowMs: number,
  target: number,
  now: number,
  s: Series,
  fine: (Golden | undefined)[],
): (end: number) => number | null {
  const n = Math.max(1, Math.ceil((now + 1 - anchor) / size));
  const preR = new Float64Array(n + 1);
  const preF = new Float64Array(n + 1);
  for (const b of buckets) {
    const i = Math.round((b.ts - anchor) / size);
    if (i < 0 || i >= n) continue;
    preR[i + 1] += b.requests;
    preF[i + 1] += b.failures;
  }
  for (let i = 1; i <= n; i++) {
    preR[i] += preR[i - 1];
    preF[i] += preF[i - 1];
  }
  // Suffix-ready prefix sums of the series steps.
  const fineR = new Float64Array(s.points + 1);
  const fineF = new Float64Array(s.points + 1);
  for (let i = 0; i < s.points; i++) {
    fineR[i + 1] = fineR[i] + (fine[i]?.requests ?? 0);
    fineF[i + 1] = fineF[i] + (fine[i]?.failures ?? 0);
  }
  const stepIndex = (t: number) => Math.min(s.points, Math.max(0, Math.round((t - s.from) / s.step)));
  const whole = Math.round(windowMs / size) - (size === HOUR ? 1 : 0);
  return (end) => {
    const start = floorTo(end - anchor, size) + anchor;
    const e = Math.min(n, Math.max(0, Math.round((start - anchor) / size)));
    const a = Math.max(0, e - whole);
    let r = preR[e] - preR[a];
    let f = preF[e] - preF[a];
    if (end > start && e < n) {
      // The hour holding `end`, cut at `end`.
      const i0 = stepIndex(end);
      const i1 = stepIndex(start + size);
      r += preR[e + 1] - preR[e] - (fineR[i1] - fineR[i0]);
      f += preF[e + 1] - preF[e] - (fineF[i1] - fineF[i0]);
    }
    return r > 0 ? errorBudgetRemaining(r, Math.max(0, f), target) : null;
  };
}

function historyOut(
  points: (Golden | undefined)[],
  s: Series,
  budgetAt: (end: number) => number | null,
  now: number,
  dataFrom: number | null,
): HistoryPoint[] {
  return Array.from({ length: s.points }, (_, i) => {
    const g = points[i];
    const start = s.from + i * s.step;
    const m = metricsOut(sloMetrics(g ?? newGolden(), stepSeconds(s, i, now, dataFrom)));
    return {
      timestamp: start,
      total_requests: m.total_requests,
      availability: m.availability,
      p95_latency: m.p95_latency,
      p99_latency: m.p99_latency,
      rps: m.rps,
      error_rate: m.error_rate,
      // The last step ends after now; no data exists past now, so its budget is the budget now.
      error_budget_remaining: budgetOut(budgetAt(start + s.step)),
      covered_seconds: m.covered_seconds,
    };
  });
}

/** `g` scaled by f (a pro-rata part of an hour); the histogram is left out (not needed pro rata). */
function scaleGolden(g: Golden, f: number): Golden {
  return { requests: g.requests * f, failures: g.failures * f, tls: g.tls * f, sumMs: g.sumMs * f, codes: null, hist: g.hist ? scaleHist(g.hist, f) : null };
}

function scaleHist(h: Hist, f: number): Hist {
  const out: Hist = { bounds: h.bounds, counts: h.counts.map((c) => c * f) };
  if (h.more?.length) out.more = h.more.map((m) => ({ bounds: m.bounds, counts: m.counts.map((c) => c * f) }));
  return out;
}
