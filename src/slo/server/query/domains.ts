/** GET /api/v2/slo/domains: every domain of a cluster with its routes, and the fleet summary. */
import { addGolden, emptyGolden, errorBudgetRemaining, sloMetrics, worstStatus, type SloStatus, type SloWindow } from '../../math/slo.js';
import type { ResolvedTargets } from '../../math/targets.js';
import type { TimeRange } from '../../math/time.js';
import type { ReadContext } from './context.js';
import { budgetOut, cmp, metricsOut, round, SEP, sumCounts } from './shared.js';
import { routeOut, routeRefs, routeTargets, type RouteRef } from './routes.js';

/** GET /api/v2/slo/domains */
export async function domainList(cx: ReadContext, cluster: string, range: TimeRange) {
  return cx.readRange(cluster, range, async (db, { now, w, u, dataFrom, seconds }) => {
    const mappings = await cx.repo.mappings(db, cluster);
    const current = await cx.repo.windowEntities(db, 'ingress', cluster, w, u, {}, { hist: true });
    const targets = await cx.targetIndex(db, cluster);
    const refs = routeRefs(mappings, w.from, current);

    const resolved = new Map<RouteRef, ResolvedTargets>();
    const windows = new Set<SloWindow>();
    for (const [domain, routes] of refs) {
      windows.add(targets.domain(domain).primary.window);
      for (const r of routes.values()) {
        const t = routeTargets(targets, r);
        resolved.set(r, t);
        windows.add(t.primary.window);
      }
    }
    const budgets = await cx.budgetCounts(db, cluster, windows, u, {}, now);

    const domains = [...refs.keys()].sort(cmp).map((domain) => {
      const routes = [...refs.get(domain)!.values()].sort((a, b) => cmp(a.path, b.path));
      const sum = emptyGolden();
      const outs = routes.map((r) => {
        const g = r.entity?.g ?? emptyGolden();
        addGolden(sum, g);
        const t = resolved.get(r)!;
        // No current rate in the list: it would scan every route's raw rows of the last minutes on
        // each poll (bench/slo-query: 4× slower with frequent snapshots); the detail pages have it.
        return routeOut(cx, r, t, g, seconds, budgets.get(t.primary.window)!.get(`${domain}${SEP}${r.path}`), undefined);
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
      ...cx.judgedHead(cluster, range, { now, w, dataFrom, seconds }),
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
