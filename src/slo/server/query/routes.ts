/** Routes of a domain: which exist (mappings and data), their targets, and their answer (shared by the list and the detail). */
import { errorBudgetRemaining, evaluateStatus, sloMetrics, type Counts, type Golden, type SloMetrics, type SloStatus } from '../../math/slo.js';
import { TargetIndex, type ResolvedTargets, type TargetsByWindow } from '../../math/targets.js';
import { EntityMap, type Entity, type SeriesMap } from '../entities.js';
import type { MappingRow } from '../ingest.js';
import type { ReadContext } from './context.js';
import { budgetOut, metricsOut, round, SEP } from './shared.js';

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

export interface RouteRef {
  domain: string;
  path: string;
  mapping?: MappingRow;
  entity?: Entity;
}

export function routeRefs(mappings: MappingRow[], since: number, ...maps: (EntityMap | SeriesMap | undefined)[]): Map<string, Map<string, RouteRef>> {
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

export function routeTargets(t: TargetIndex, r: RouteRef): ResolvedTargets {
  const svc = r.mapping ? { namespace: r.mapping.namespace, name: r.mapping.service_name } : undefined;
  return t.route(r.domain, r.path, svc);
}

export function routeOut(cx: ReadContext, r: RouteRef, targets: ResolvedTargets, g: Golden, seconds: number, budget: Counts | undefined, currentRps: number | null | undefined): RouteOut {
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
    status: evaluateStatus(m, targets.primary, cx.minStatus),
    error_budget_remaining: budgetOut(budget ? errorBudgetRemaining(budget.requests, budget.failures, targets.primary.availability_target) : null),
  };
}
