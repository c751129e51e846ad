/** GET /api/v2/slo/domains/{domain}: per-route metrics, history with error budget, burn rates. */
import { WINDOW_MS, addGolden, emptyGolden, burnRates, errorBudgetRemaining, sloMetrics, worstStatus, type Golden, type SloWindow } from '../../math/slo.js';
import { DAY, HOUR, coveredSeconds, floorTo, historySeries, previousWindow, trailingHours, trailingMinutes, type Series, type TimeRange } from '../../math/time.js';
import { UnknownDomain } from '../errors.js';
import type { ReadContext } from './context.js';
import { CURRENT_RATE_MS, budgetOut, burnOut, cmp, metricsOut, round, SEP, stepSeconds, sumCounts } from './shared.js';
import { routeOut, routeRefs, routeTargets, type RouteRef } from './routes.js';

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

/** GET /api/v2/slo/domains/{domain} */
export async function domainDetail(cx: ReadContext, cluster: string, domain: string, range: TimeRange) {
  return cx.readRange(cluster, range, async (db, { now, w, u, dataFrom, seconds }) => {
    const pw = previousWindow(range, w, now);
    const s = historySeries(range, now);
    const filters = { domain };
    const prevSeconds = coveredSeconds(pw.from, pw.to, dataFrom);
    const mappings = await cx.repo.mappings(db, cluster, { domain });
    const current = await cx.repo.windowEntities(db, 'ingress', cluster, w, u, filters, { hist: true });
    const previous = await cx.previousEntities(db, 'ingress', cluster, pw, u, filters, { hist: true }, now);
    const series = await cx.repo.series(db, 'ingress', cluster, s.from, s.step, s.points, u, filters, { hist: true });
    if (!mappings.length && !current.map.size && !series.map.size && !previous.map.size && !(await cx.repo.exists(db, 'ingress', cluster, filters))) {
      throw new UnknownDomain(cluster, domain);
    }
    const targets = await cx.targetIndex(db, cluster);
    const refs = routeRefs(mappings, Math.min(w.from, s.from), current, series).get(domain) ?? new Map<string, RouteRef>();
    const routes = [...refs.values()].sort((a, b) => cmp(a.path, b.path));
    const resolved = new Map(routes.map((r) => [r, routeTargets(targets, r)]));
    const dt = targets.domain(domain);
    const windows = new Set<SloWindow>([dt.primary.window, ...[...resolved.values()].map((t) => t.primary.window)]);
    const budgets = await cx.budgetCounts(db, cluster, windows, u, filters, now);
    const burnCounts = await cx.burnCounts(db, cluster, u, filters, now);
    const burnCovered = (span: number) => coveredSeconds((span < DAY ? trailingMinutes(span, now) : trailingHours(span, now)).from, now, dataFrom);
    const nowSeconds = coveredSeconds(trailingMinutes(CURRENT_RATE_MS, now).from, now, dataFrom);
    const rateNow = (key: string | null) => (nowSeconds > 0 ? burnCounts(CURRENT_RATE_MS, key).requests / nowSeconds : null);
    // Budget series: whole buckets (an hour, or the step when longer) from one SLO window before the series.
    const maxWindow = Math.max(...[...windows].map((x) => WINDOW_MS[x]));
    const size = Math.max(s.step, HOUR);
    const anchor = floorTo(s.from, size) - maxWindow;
    const buckets = await cx.repo.bucketCounts(db, 'ingress', cluster, anchor, size, u, filters);
    const bucketsOf = new Map<string, typeof buckets>();
    for (const b of buckets) {
      const list = bucketsOf.get(b.key);
      if (list) list.push(b);
      else bucketsOf.set(b.key, [b]);
    }

    const routeOuts = routes.map((r) => {
      const key = `${domain}${SEP}${r.path}`;
      const t = resolved.get(r)!;
      const out = routeOut(cx, r, t, r.entity?.g ?? emptyGolden(), seconds, budgets.get(t.primary.window)!.get(key), rateNow(key));
      const prev = previous.get(key);
      const points = series.map.get(key)?.points ?? [];
      const budgetAt = budgetSeries(bucketsOf.get(key) ?? [], anchor, size, WINDOW_MS[t.primary.window], t.primary.availability_target, now, s, points);
      return {
        ...out,
        previous: metricsOut(sloMetrics(prev?.g ?? emptyGolden(), prevSeconds)),
        history: historyOut(points, s, budgetAt, now, dataFrom),
        burn_rates: burnRates((span) => burnCounts(span, key), t.primary.availability_target, cx.burnMinimum, burnCovered).map(burnOut),
      };
    });

    const sum = emptyGolden();
    for (const r of routes) if (r.entity) addGolden(sum, r.entity.g);
    const prevSum = emptyGolden();
    for (const e of previous.values()) addGolden(prevSum, e.g);
    const domainPoints: (Golden | undefined)[] = new Array(s.points);
    for (const e of series.map.values())
      e.points.forEach((g, i) => {
        if (g) addGolden((domainPoints[i] ??= emptyGolden()), g);
      });
    const dc = sumCounts(budgets.get(dt.primary.window)!, domain);
    const summary = sloMetrics(sum, seconds);
    const domainBudgetAt = budgetSeries(buckets, anchor, size, WINDOW_MS[dt.primary.window], dt.primary.availability_target, now, s, domainPoints);
    return {
      ...cx.judgedHead(cluster, range, { now, w, dataFrom, seconds }),
      step_seconds: s.step / 1000,
      domain,
      tls: routes.some((r) => r.mapping?.tls === 1),
      status: worstStatus(routeOuts.map((r) => r.status)),
      summary: { ...metricsOut(summary), current_rps: round(rateNow(null), 4) },
      previous: metricsOut(sloMetrics(prevSum, prevSeconds)),
      targets: dt.byWindow,
      error_budget_remaining: budgetOut(dc.requests > 0 ? errorBudgetRemaining(dc.requests, dc.failures, dt.primary.availability_target) : null),
      burn_rates: burnRates((span) => burnCounts(span, null), dt.primary.availability_target, cx.burnMinimum, burnCovered).map(burnOut),
      history: historyOut(domainPoints, s, domainBudgetAt, now, dataFrom),
      routes: routeOuts,
    };
  });
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
    const m = metricsOut(sloMetrics(g ?? emptyGolden(), stepSeconds(s, i, now, dataFrom)));
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
