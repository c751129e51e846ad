/** Targets (read and replaced through the API) and status transitions (recorded by the status job). */
import { routeKey, type TargetScope } from '../../math/targets.js';
import type { SloRepository } from '../repository.js';
import type { StatusHistoryResponse } from '../schemas.js';
import type { ReadContext } from './context.js';
import { STATUS_RANGE, round } from './shared.js';
import { domainList } from './domains.js';
import { topology } from './mesh.js';

export async function targetList(cx: ReadContext, cluster: string) {
  const targets = await cx.repo.targets(cx.repo.store.db, cluster);
  const d = cx.opts.defaults;
  return {
    cluster_id: cluster,
    targets,
    defaults: { availability_target: d.availability_target, p95_latency_target: d.p95_latency_target, p99_latency_target: d.p99_latency_target ?? null, window: d.window },
  };
}

export async function statusHistory(
  cx: ReadContext,
  cluster: string,
  f: { domain?: string; scope?: TargetScope; key?: string; since?: number; limit: number },
): Promise<StatusHistoryResponse> {
  const rows = await cx.repo.read((db) => cx.repo.statusHistory(db, cluster, f));
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
export async function recordStatuses(cx: ReadContext, cluster: string): Promise<number> {
  const domains = await domainList(cx, cluster, STATUS_RANGE);
  const mesh = await topology(cx, cluster, STATUS_RANGE);
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
  return cx.repo.recordStatuses(cluster, domains.generated_at, entries);
}
