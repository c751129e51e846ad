/**
 * Writing a snapshot: its idempotency key, the agent's last-seen, the route mappings and the raw rows,
 * in one transaction (see repository.ts for the invariant the rollup keeps).
 */
import { sql } from 'kysely';
import type { SqlStore } from '../../../platform/backends/sql/db.js';
import type { Snapshot } from '../../snapshot.js';
import type { SnapshotCache } from '../cache.js';
import { prepareRows, resolveIngress, type MappingRow } from '../ingest.js';
import { tableName } from '../tables.js';
import { bulkInsert, ingestLockKey, writeTx } from '../tx.js';
import { bumpMappingVersion } from './catalog.js';
import { RouteRulesWriter } from '../route-rules.js';
import { ROWS_PER_INSERT, chunks } from './shared.js';

export interface IngestResult {
  status: 'accepted' | 'duplicate';
  snapshot_id: number | null;
  rows: { services: number; edges: number; ingress: number; routes: number };
}

/**
 * Route mappings are re-written when they change, else at most this often (their last_seen is that
 * coarse; reads filter routes by last_seen against windows of an hour and more).
 */
const MAPPING_REFRESH_MS = 10 * 60_000;

export class SnapshotWriter {
  /** Per cluster: mapping key → attributes JSON and snapshot time last written (skips unchanged upserts). */
  private written = new Map<string, Map<string, { attrs: string; at: number }>>();
  private readonly rules = new RouteRulesWriter();

  constructor(
    private readonly store: SqlStore,
    /** This replica's readers get the rows of the snapshots it accepts without reading them back. */
    private readonly snapshots: SnapshotCache,
  ) {}

  /** Mappings of a snapshot that changed or were not refreshed for MAPPING_REFRESH_MS. */
  private mappingsToWrite(cluster: string, rows: MappingRow[]): { rows: MappingRow[]; commit: () => void } {
    const seen = this.written.get(cluster) ?? new Map<string, { attrs: string; at: number }>();
    const todo: { row: MappingRow; attrs: string; key: string }[] = [];
    for (const r of rows) {
      const key = `${r.domain}\u0000${r.path_prefix}`;
      const attrs = `${r.ingress_name}\u0000${r.namespace}\u0000${r.tls}\u0000${r.service_key}\u0000${r.service_name}\u0000${r.service_port}`;
      const w = seen.get(key);
      if (!w || w.attrs !== attrs || r.last_seen - w.at >= MAPPING_REFRESH_MS || r.last_seen < w.at) todo.push({ row: r, attrs, key });
    }
    return {
      rows: todo.map((t) => t.row),
      // Remembered only after the transaction commits.
      commit: () => {
        if (!this.written.has(cluster)) {
          if (this.written.size > 1000) this.written.clear();
          this.written.set(cluster, seen);
        }
        for (const t of todo) seen.set(t.key, { attrs: t.attrs, at: t.row.last_seen });
        if (seen.size > 100_000) seen.clear();
      },
    };
  }

  /**
   * Writes one snapshot in one transaction: its idempotency key, the agent's last-seen, the route
   * mappings, and the raw rows. A key already present makes it a no-op ('duplicate').
   */
  async ingest(s: Snapshot, receivedAt: number): Promise<IngestResult> {
    const p = prepareRows(s);
    const mappings = this.mappingsToWrite(s.cluster_id, p.routes);
    const rules = this.rules.toWrite(s);
    const result = await writeTx(this.store, ingestLockKey(s.cluster_id), async (db): Promise<IngestResult> => {
      const inserted = await db
        .insertInto('slo_snapshots')
        .values({ cluster_id: s.cluster_id, agent_id: s.agent_id, seq: s.seq, ts: s.timestamp, received_at: receivedAt, rolled: 0 })
        .onConflict((oc) => oc.columns(['cluster_id', 'agent_id', 'seq']).doNothing())
        .returning('id')
        .executeTakeFirst();
      const rows = { services: p.services.length, edges: p.edges.length, ingress: p.ingress.length, routes: p.routes.length };
      if (!inserted) return { status: 'duplicate', snapshot_id: null, rows };
      const snapId = Number(inserted.id);

      await db
        .insertInto('slo_agents')
        .values({ cluster_id: s.cluster_id, agent_id: s.agent_id, first_seen: receivedAt, last_seen: receivedAt, last_seq: s.seq })
        .onConflict((oc) =>
          oc.columns(['cluster_id', 'agent_id']).doUpdateSet({
            last_seen: sql`case when excluded.last_seen > slo_agents.last_seen then excluded.last_seen else slo_agents.last_seen end`,
            last_seq: sql`case when excluded.last_seq > slo_agents.last_seq then excluded.last_seq else slo_agents.last_seq end`,
          }),
        )
        .execute();

      if (mappings.rows.length) await bumpMappingVersion(db, s.cluster_id);
      for (const part of chunks(mappings.rows, ROWS_PER_INSERT)) {
        await db
          .insertInto('slo_route_mappings')
          .values(part)
          .onConflict((oc) =>
            oc
              .columns(['cluster_id', 'domain', 'path_prefix'])
              .doUpdateSet({
                ingress_name: sql.ref('excluded.ingress_name'),
                namespace: sql.ref('excluded.namespace'),
                tls: sql.ref('excluded.tls'),
                service_key: sql.ref('excluded.service_key'),
                service_name: sql.ref('excluded.service_name'),
                service_port: sql.ref('excluded.service_port'),
                last_seen: sql.ref('excluded.last_seen'),
              })
              .where(sql<boolean>`excluded.last_seen >= slo_route_mappings.last_seen`),
          )
          .execute();
      }

      await rules.write(db);

      if (p.ingress.length) {
        const own = new Set(p.routes.map((r) => r.service_key));
        const missing = [...new Set(p.ingress.map((r) => r.service_key as string))].filter((k) => !own.has(k));
        const stored = new Map<string, MappingRow>();
        for (const part of chunks(missing, 500)) {
          const found = await db
            .selectFrom('slo_route_mappings')
            .selectAll()
            .where('cluster_id', '=', s.cluster_id)
            .where('service_key', 'in', part)
            .orderBy('last_seen', 'desc')
            .orderBy('domain')
            .orderBy('path_prefix')
            .execute();
          for (const m of found) if (!stored.has(m.service_key)) stored.set(m.service_key, m);
        }
        resolveIngress(p.ingress, p.routes, stored);
      }

      for (const [kind, list] of [
        ['service', p.services],
        ['edge', p.edges],
        ['ingress', p.ingress],
      ] as const) {
        for (const r of list) r.snap_id = snapId;
        await bulkInsert(db, this.store.kind, tableName(kind, 'raw'), list, ROWS_PER_INSERT);
      }
      return { status: 'accepted', snapshot_id: snapId, rows };
    });
    if (result.status === 'accepted') {
      mappings.commit();
      rules.commit();
      this.snapshots.putRows(result.snapshot_id!, { service: p.services, edge: p.edges, ingress: p.ingress });
    }
    return result;
  }
}
