/**
 * Statuses the status job records: the current one per entity and the history of transitions.
 */
import { sql, type Selectable } from 'kysely';
import type { SqlStore } from '../../../platform/backends/sql/db.js';
import type { SloStatus } from '../../math/slo.js';
import type { TargetScope } from '../../math/targets.js';
import type { StatusHistoryTable } from '../tables.js';
import { LOCK_STATUS, writeTx, type Db } from '../tx.js';
import { chunks } from './shared.js';

/** One evaluated entity, as recordStatuses stores it. */
export interface StatusEntry {
  scope: TargetScope;
  key: string;
  domain: string | null;
  status: SloStatus;
  availability: number | null;
  p95_latency: number | null;
  p99_latency: number | null;
  error_budget_remaining: number | null;
  total_requests: number;
}

export async function statusCurrent(db: Db, cluster: string): Promise<Map<string, { status: SloStatus; since: number }>> {
  const rows = await db.selectFrom('slo_status_current').select(['scope', 'key', 'status', 'since']).where('cluster_id', '=', cluster).execute();
  return new Map(rows.map((r) => [`${r.scope}\u0000${r.key}`, { status: r.status, since: Number(r.since) }]));
}

/**
 * Records a status evaluation: entities whose status changed (or that are new) get a history row
 * and their current status replaced; the others only their evaluated_at. One transaction, under the
 * status lock, compared against the stored current status — so a re-run or a second replica records
 * each transition once.
 */
export async function recordStatuses(store: SqlStore, cluster: string, evaluatedAt: number, entries: StatusEntry[]): Promise<number> {
  return writeTx(store, LOCK_STATUS, async (db) => {
    const current = await statusCurrent(db, cluster);
    const changed = entries.filter((e) => current.get(`${e.scope}\u0000${e.key}`)?.status !== e.status);
    for (const part of chunks(changed, 200)) {
      await db
        .insertInto('slo_status_history')
        .values(
          part.map((e) => ({
            cluster_id: cluster,
            scope: e.scope,
            key: e.key,
            domain: e.domain,
            ts: evaluatedAt,
            status: e.status,
            previous_status: current.get(`${e.scope}\u0000${e.key}`)?.status ?? null,
            availability: e.availability,
            p95_latency: e.p95_latency,
            p99_latency: e.p99_latency,
            error_budget_remaining: e.error_budget_remaining,
            total_requests: e.total_requests,
          })),
        )
        .execute();
      await db
        .insertInto('slo_status_current')
        .values(part.map((e) => ({ cluster_id: cluster, scope: e.scope, key: e.key, status: e.status, since: evaluatedAt, evaluated_at: evaluatedAt })))
        .onConflict((oc) =>
          oc.columns(['cluster_id', 'scope', 'key']).doUpdateSet({
            status: sql.ref('excluded.status'),
            since: sql.ref('excluded.since'),
            evaluated_at: sql.ref('excluded.evaluated_at'),
          }),
        )
        .execute();
    }
    await db.updateTable('slo_status_current').set({ evaluated_at: evaluatedAt }).where('cluster_id', '=', cluster).execute();
    return changed.length;
  });
}

export async function statusHistory(
  db: Db,
  cluster: string,
  f: { domain?: string; scope?: TargetScope; key?: string; since?: number; limit: number },
): Promise<Selectable<StatusHistoryTable>[]> {
  let q = db.selectFrom('slo_status_history').selectAll().where('cluster_id', '=', cluster);
  if (f.domain !== undefined) q = q.where('domain', '=', f.domain);
  if (f.scope !== undefined) q = q.where('scope', '=', f.scope);
  if (f.key !== undefined) q = q.where('key', '=', f.key);
  if (f.since !== undefined) q = q.where('ts', '>', f.since);
  return await q.orderBy('ts').orderBy('id').limit(f.limit).execute();
}
