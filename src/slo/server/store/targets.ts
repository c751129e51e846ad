/** SLO targets of a cluster: per (scope, key, window), read and replaced by the targets API. */
import { sql } from 'kysely';
import type { SqlStore } from '../../../platform/backends/sql/db.js';
import type { SloWindow } from '../../math/slo.js';
import type { StoredTarget, TargetScope } from '../../math/targets.js';
import { writeTx, type Db } from '../tx.js';

export async function targets(db: Db, cluster: string): Promise<(StoredTarget & { updated_at: number; updated_by: string })[]> {
  const rows = await db
    .selectFrom('slo_targets')
    .selectAll()
    .where('cluster_id', '=', cluster)
    .orderBy('scope')
    .orderBy('key')
    .orderBy('slo_window')
    .execute();
  return rows.map((r) => ({
    scope: r.scope,
    key: r.key,
    window: r.slo_window,
    availability_target: Number(r.availability_target),
    p95_latency_target: Number(r.p95_latency_target),
    p99_latency_target: r.p99_latency_target === null ? null : Number(r.p99_latency_target),
    updated_at: Number(r.updated_at),
    updated_by: r.updated_by ?? '',
  }));
}

export async function putTargets(store: SqlStore, cluster: string, upserts: StoredTarget[], removals: { scope: TargetScope; key: string; window: SloWindow }[], by: string, now: number): Promise<void> {
  await writeTx(store, null, async (db) => {
    for (const r of removals) {
      await db.deleteFrom('slo_targets').where('cluster_id', '=', cluster).where('scope', '=', r.scope).where('key', '=', r.key).where('slo_window', '=', r.window).execute();
    }
    for (const t of upserts) {
      await db
        .insertInto('slo_targets')
        .values({
          cluster_id: cluster,
          scope: t.scope,
          key: t.key,
          slo_window: t.window,
          availability_target: t.availability_target,
          p95_latency_target: t.p95_latency_target,
          p99_latency_target: t.p99_latency_target ?? null,
          updated_at: now,
          updated_by: by,
        })
        .onConflict((oc) =>
          oc.columns(['cluster_id', 'scope', 'key', 'slo_window']).doUpdateSet({
            availability_target: sql.ref('excluded.availability_target'),
            p95_latency_target: sql.ref('excluded.p95_latency_target'),
            p99_latency_target: sql.ref('excluded.p99_latency_target'),
            updated_at: sql.ref('excluded.updated_at'),
            updated_by: sql.ref('excluded.updated_by'),
          }),
        )
        .execute();
    }
  });
}
