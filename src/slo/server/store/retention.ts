/**
 * Retention: what falls out of each table once it is older than its cutoff (slo.rawRetention,
 * slo.hourlyRetention, slo.statusRetention). Raw rows go only once rolled up.
 */
import type { SqlStore } from '../../../platform/backends/sql/db.js';
import { DAY, HOUR } from '../../math/time.js';
import { KINDS, tableName } from '../tables.js';
import { LOCK_ROLLUP, writeTx } from '../tx.js';
import { forgetRouteRulesOfGoneClusters } from '../route-rules.js';
import { bumpMappingVersion, clusterIds } from './catalog.js';

export interface RetentionCutoffs {
  rawBefore: number;
  hourlyBefore: number;
  statusBefore: number;
}

export interface RetentionResult {
  raw: number;
  hourly: number;
  daily: number;
  snapshots: number;
  status: number;
  mappings: number;
  /** Route lists (for routes/match) of clusters that have no agent left. */
  routeRules: number;
}

/**
 * Deletes raw rows (already rolled up) before rawBefore, hourly/daily buckets and snapshot keys
 * before hourlyBefore, status history before statusBefore, route mappings unseen since hourlyBefore,
 * agents silent since hourlyBefore and the route lists of clusters left without an agent.
 * Whole buckets only: an hour is deleted when it ended before the cutoff.
 */
export async function applyRetention(store: SqlStore, c: RetentionCutoffs): Promise<RetentionResult> {
  const out: RetentionResult = { raw: 0, hourly: 0, daily: 0, snapshots: 0, status: 0, mappings: 0, routeRules: 0 };
  const clusters = await clusterIds(store.db);
  const n = (r: { numDeletedRows: bigint }[]) => r.reduce((s, x) => s + Number(x.numDeletedRows), 0);
  for (const cluster of clusters) {
    await writeTx(store, LOCK_ROLLUP, async (db) => {
      for (const kind of KINDS) {
        out.raw += n(
          await db
            .deleteFrom(tableName(kind, 'raw'))
            .where('cluster_id', '=', cluster)
            .where('ts', '<=', c.rawBefore - 60_000)
            .where('snap_id', 'not in', db.selectFrom('slo_snapshots').select('id').where('cluster_id', '=', cluster).where('rolled', '<>', 1))
            .execute(),
        );
        out.hourly += n(await db.deleteFrom(tableName(kind, 'hourly')).where('cluster_id', '=', cluster).where('ts', '<=', c.hourlyBefore - HOUR).execute());
        out.daily += n(await db.deleteFrom(tableName(kind, 'daily')).where('cluster_id', '=', cluster).where('ts', '<=', c.hourlyBefore - DAY).execute());
      }
      await db.deleteFrom('slo_rollup_buckets').where('cluster_id', '=', cluster).where('grain', '=', 'hourly').where('ts', '<=', c.hourlyBefore - HOUR).execute();
      await db.deleteFrom('slo_rollup_buckets').where('cluster_id', '=', cluster).where('grain', '=', 'daily').where('ts', '<=', c.hourlyBefore - DAY).execute();
      const gone = n(await db.deleteFrom('slo_route_mappings').where('cluster_id', '=', cluster).where('last_seen', '<', c.hourlyBefore).execute());
      if (gone) await bumpMappingVersion(db, cluster);
      out.mappings += gone;
    });
  }
  await writeTx(store, LOCK_ROLLUP, async (db) => {
    out.snapshots += n(await db.deleteFrom('slo_snapshots').where('ts', '<', c.hourlyBefore).where('rolled', '=', 1).execute());
    // An agent silent for the whole hourly retention has no data left: forget it (and its cluster).
    await db.deleteFrom('slo_agents').where('last_seen', '<', c.hourlyBefore).execute();
    out.routeRules += await forgetRouteRulesOfGoneClusters(db);
    out.status += n(await db.deleteFrom('slo_status_history').where('ts', '<', c.statusBefore).execute());
  });
  return out;
}
