/**
 * The SLO read model: builds the /api/v2/slo answers (shapes of schemas.ts, field names of
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
import type { SloWindow } from '../math/slo.js';
import type { StoredTarget, TargetScope } from '../math/targets.js';
import type { TimeRange } from '../math/time.js';
import type { SloRepository } from './repository.js';
import { ReadContext, resolveCluster } from './query/context.js';
import { domainDetail } from './query/domain.js';
import { domainList } from './query/domains.js';
import { serviceDetail, topology } from './query/mesh.js';
import type { QueryOptions } from './query/shared.js';
import { recordStatuses, statusHistory, targetList } from './query/status.js';

export { CURRENT_RATE_MS, DEFAULT_TARGET, STATUS_RANGE, metricsOut, type QueryOptions } from './query/shared.js';
export type { RouteOut } from './query/routes.js';

/** The read model's one surface: each endpoint lives in its own file under query/. */
export class SloQueries {
  readonly now: () => number;
  private readonly cx: ReadContext;

  constructor(
    readonly repo: SloRepository,
    readonly opts: QueryOptions,
  ) {
    this.cx = new ReadContext(repo, opts);
    this.now = this.cx.now;
  }

  async clusters() {
    return { clusters: await this.repo.clusters() };
  }

  /** The cluster a read is about (see query/context.ts); throws UnknownCluster or ClusterRequired. */
  resolveCluster(given: string | undefined, allowUnknown = false): Promise<string> {
    return resolveCluster(this.repo, given, allowUnknown);
  }

  /** GET /api/v2/slo/domains */
  domains(cluster: string, range: TimeRange) {
    return domainList(this.cx, cluster, range);
  }

  /** GET /api/v2/slo/domains/{domain}; throws UnknownDomain. */
  domain(cluster: string, domain: string, range: TimeRange) {
    return domainDetail(this.cx, cluster, domain, range);
  }

  /** GET /api/v2/slo/mesh/topology */
  topology(cluster: string, range: TimeRange) {
    return topology(this.cx, cluster, range);
  }

  /** GET /api/v2/slo/mesh/services/{namespace}/{name}; throws UnknownService. */
  service(cluster: string, namespace: string, name: string, range: TimeRange) {
    return serviceDetail(this.cx, cluster, namespace, name, range);
  }

  targets(cluster: string) {
    return targetList(this.cx, cluster);
  }

  async putTargets(cluster: string, upserts: StoredTarget[], removals: { scope: TargetScope; key: string; window: SloWindow }[], by: string) {
    await this.repo.putTargets(cluster, upserts, removals, by, this.now());
    return this.targets(cluster);
  }

  statusHistory(cluster: string, f: { domain?: string; scope?: TargetScope; key?: string; since?: number; limit: number }) {
    return statusHistory(this.cx, cluster, f);
  }

  /**
   * Evaluates every domain, route and mesh service of a cluster over STATUS_RANGE and records
   * transitions. Returns how many.
   */
  recordStatuses(cluster: string): Promise<number> {
    return recordStatuses(this.cx, cluster);
  }
}
