/**
 * What the reads start from: the clusters there are, where a cluster's data starts, which snapshots
 * are not rolled up yet, the route mappings (kept in memory by version) and the rollup bucket versions.
 */
import { sql } from 'kysely';
import { DAY, floorTo } from '../../math/time.js';
import type { MappingRow } from '../ingest.js';
import type { Db } from '../tx.js';
import type { BucketVersion, Unrolled } from './shared.js';

export async function clusterIds(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('slo_agents').select('cluster_id').distinct().orderBy('cluster_id').execute();
  return rows.map((r) => r.cluster_id);
}

export async function clusters(db: Db): Promise<{ cluster_id: string; last_seen: number; first_seen: number }[]> {
  const rows = await db
    .selectFrom('slo_agents')
    .select(['cluster_id', sql<number>`max(last_seen)`.as('last_seen'), sql<number>`min(first_seen)`.as('first_seen')])
    .groupBy('cluster_id')
    .execute();
  return rows
    .map((r) => ({ cluster_id: r.cluster_id, last_seen: Number(r.last_seen), first_seen: Number(r.first_seen) }))
    .sort((a, b) => b.last_seen - a.last_seen || (a.cluster_id < b.cluster_id ? -1 : 1));
}

/** Timestamp of the cluster's oldest kept snapshot (where its data starts), null before any. */
export async function firstDataAt(db: Db, cluster: string): Promise<number | null> {
  const r = await db.selectFrom('slo_snapshots').select('ts').where('cluster_id', '=', cluster).orderBy('ts').limit(1).executeTakeFirst();
  return r ? Number(r.ts) : null;
}

export async function unrolled(db: Db, cluster: string): Promise<Unrolled> {
  const rows = await db.selectFrom('slo_snapshots').select(['id', 'ts']).where('cluster_id', '=', cluster).where('rolled', '=', 0).execute();
  const snaps = rows.map((r) => ({ id: Number(r.id), minute: floorTo(Number(r.ts), 60_000) }));
  return { ids: snaps.map((s) => s.id), minutes: [...new Set(snaps.map((s) => s.minute))], snaps };
}

/** Versions of a cluster's rollup buckets from `from` on (a bucket without one holds no rows). */
export async function bucketVersions(db: Db, cluster: string, from: number): Promise<BucketVersion[]> {
  const rows = await db
    .selectFrom('slo_rollup_buckets')
    .select(['grain', 'ts', 'version'])
    .where('cluster_id', '=', cluster)
    .where('ts', '>=', floorTo(from, DAY))
    .execute();
  return rows.map((r) => ({ grain: r.grain, ts: Number(r.ts), version: Number(r.version) }));
}

/** Tells readers on every replica that the cluster's mappings changed (their in-memory copy is stale). */
export async function bumpMappingVersion(db: Db, cluster: string): Promise<void> {
  await db
    .insertInto('slo_mapping_versions')
    .values({ cluster_id: cluster, version: 1 })
    .onConflict((oc) => oc.column('cluster_id').doUpdateSet({ version: sql`slo_mapping_versions.version + 1` }))
    .execute();
}

/** Route mappings of a cluster; the unfiltered list is shared (read-only) and kept in memory by version. */
export class MappingReads {
  private cache = new Map<string, { version: number; rows: MappingRow[] }>();

  async mappings(db: Db, cluster: string, filters: { domain?: string; namespace?: string; service_name?: string } = {}): Promise<MappingRow[]> {
    const unfiltered = filters.domain === undefined && filters.namespace === undefined && filters.service_name === undefined;
    let version = -1;
    if (unfiltered) {
      const v = await db.selectFrom('slo_mapping_versions').select('version').where('cluster_id', '=', cluster).executeTakeFirst();
      version = Number(v?.version ?? 0);
      const hit = this.cache.get(cluster);
      if (hit && hit.version === version) return hit.rows;
    }
    let q = db.selectFrom('slo_route_mappings').selectAll().where('cluster_id', '=', cluster);
    if (filters.domain !== undefined) q = q.where('domain', '=', filters.domain);
    if (filters.service_name !== undefined) q = q.where('service_name', '=', filters.service_name);
    if (filters.namespace !== undefined) q = q.where('namespace', '=', filters.namespace);
    const rows = await q.execute();
    for (const r of rows) {
      r.tls = Number(r.tls);
      r.service_port = Number(r.service_port);
      r.first_seen = Number(r.first_seen);
      r.last_seen = Number(r.last_seen);
    }
    if (unfiltered) {
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(cluster, { version, rows });
    }
    return rows;
  }
}
