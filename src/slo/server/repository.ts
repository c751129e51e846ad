/**
 * SQL of the SLO module: ingest, rollup, retention, and the reads the query layer builds on.
 *
 * Invariant that makes rollup and queries exact: every accepted count lives in exactly one of
 *   (a) the hourly and daily rollups — once its snapshot is marked `rolled`, or
 *   (b) the raw rows of a snapshot not yet rolled.
 * The rollup moves snapshots from (b) to (a) in one transaction (rows merged into hourly AND daily
 * buckets, the snapshot flagged), so a query that reads rollups plus unrolled raw rows inside one
 * read transaction counts everything once — including the newest minutes, a fresh install where
 * nothing is rolled yet, and late snapshots an agent delivers from its spool hours afterwards.
 * Raw rows stay (rolled) for slo.rawRetention to serve minute-resolution history.
 */
import { sql } from 'kysely';
import type { SqlStore } from '../../platform/backends/sql/db.js';
import type { Snapshot } from '../snapshot.js';
import { encodeHist } from '../math/histogram.js';
import { DAY, HOUR, floorTo, rollupPlan, type Window } from '../math/time.js';
import type { Counts, Golden } from '../math/slo.js';
import type { StoredTarget, TargetScope } from '../math/targets.js';
import type { SloWindow } from '../math/slo.js';
import { BucketCache, SnapshotCache } from './cache.js';
import { EntityMap, SeriesMap, addRow, entityKey, newGolden, type Entity, type LoadOpts } from './entities.js';
import { prepareRows, resolveIngress, type MappingRow } from './ingest.js';
import { poisonedSnapshots, quarantineSnapshots } from './quarantine.js';
import { ATTR_COLUMNS, KEY_COLUMNS, KINDS, METRIC_COLUMNS, ROLLUP_KEY, tableName, type EntityKind, type Grain, type MetricRow } from './tables.js';
import { LOCK_ROLLUP, LOCK_STATUS, bulkInsert, ingestLockKey, readTx, writeTx, type Db } from './tx.js';

export interface IngestResult {
  status: 'accepted' | 'duplicate';
  snapshot_id: number | null;
  rows: { services: number; edges: number; ingress: number; routes: number };
}

export interface RollupResult {
  snapshots: number;
  rows: number;
  /** Snapshots set aside because a raw row could not be rolled up (see quarantine.ts). */
  quarantined?: { id: number; reason: string }[];
}

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
}

/** Snapshots not rolled up yet, with the minutes their raw rows sit in. */
export interface Unrolled {
  ids: number[];
  minutes: number[];
  snaps: { id: number; minute: number }[];
}

export type Filters = Record<string, string>;

const ROWS_PER_INSERT = 400;
const MERGED_CACHE_SIZE = 32;
const WINDOW_CACHE_SIZE = 16;

type BucketVersion = { grain: 'hourly' | 'daily'; ts: number; version: number };
const signatureOf = (bs: BucketVersion[]) => bs.map((b) => `${b.grain[0]}${b.ts}:${b.version}`).join(',');

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

/**
 * Route mappings are re-written when they change, else at most this often (their last_seen is that
 * coarse; reads filter routes by last_seen against windows of an hour and more).
 */
const MAPPING_REFRESH_MS = 10 * 60_000;

export class SloRepository {
  /** Per cluster: mapping key → attributes JSON and snapshot time last written (skips unchanged upserts). */
  private written = new Map<string, Map<string, { attrs: string; at: number }>>();

  /** Decoded whole-cluster rollup buckets (see cache.ts). */
  readonly cache: BucketCache;
  /** Sums of runs of closed buckets, keyed by their (grain, ts, version) list: a window's stable part. */
  private merged = new Map<string, Entity[]>();
  /**
   * Whole-cluster window sums (read-only results), keyed by everything they are made of: the versions
   * of their buckets and the ids of the unrolled snapshots. Repeated reads between two rollups or
   * snapshots reuse them.
   */
  private windows = new Map<string, EntityMap>();
  private mappingCache = new Map<string, { version: number; rows: MappingRow[] }>();
  /** Decoded raw rows of recent snapshots (immutable once committed), for the not-yet-rolled part of reads. */
  readonly snapshots = new SnapshotCache();

  constructor(
    readonly store: SqlStore,
    opts: { cacheEntities?: number } = {},
  ) {
    this.cache = new BucketCache(opts.cacheEntities);
  }

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

  // ------------------------------------------------------------------ ingest

  /**
   * Writes one snapshot in one transaction: its idempotency key, the agent's last-seen, the route
   * mappings, and the raw rows. A key already present makes it a no-op ('duplicate').
   */
  async ingest(s: Snapshot, receivedAt: number): Promise<IngestResult> {
    const p = prepareRows(s);
    const mappings = this.mappingsToWrite(s.cluster_id, p.routes);
    const result = await writeTx(this.store, ingestLockKey(s.cluster_id), async (db): Promise<IngestResult> => {
      const inserted = (await db
        .insertInto('slo_snapshots')
        .values({ cluster_id: s.cluster_id, agent_id: s.agent_id, seq: s.seq, ts: s.timestamp, received_at: receivedAt, rolled: 0 })
        .onConflict((oc) => oc.columns(['cluster_id', 'agent_id', 'seq']).doNothing())
        .returning('id')
        .executeTakeFirst()) as { id: number | string } | undefined;
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

      if (mappings.rows.length) await this.bumpMappingVersion(db, s.cluster_id);
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

      if (p.ingress.length) {
        const own = new Set(p.routes.map((r) => r.service_key));
        const missing = [...new Set(p.ingress.map((r) => r.service_key as string))].filter((k) => !own.has(k));
        const stored = new Map<string, MappingRow>();
        for (const part of chunks(missing, 500)) {
          const found = (await db
            .selectFrom('slo_route_mappings')
            .selectAll()
            .where('cluster_id', '=', s.cluster_id)
            .where('service_key', 'in', part)
            .orderBy('last_seen', 'desc')
            .orderBy('domain')
            .orderBy('path_prefix')
            .execute()) as MappingRow[];
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
      this.snapshots.putRows(result.snapshot_id!, { service: p.services, edge: p.edges, ingress: p.ingress });
    }
    return result;
  }

  // ------------------------------------------------------------------ rollup

  /**
   * Rolls up to `maxSnapshots` unrolled snapshots into the hourly and daily tables (histograms merged
   * bucket by bucket) and marks them rolled, all in one transaction. Safe to run concurrently on
   * several replicas (PostgreSQL advisory lock / SQLite write lock) and after a crash at any point.
   */
  async rollupBatch(maxSnapshots = 16): Promise<RollupResult> {
    const r = await writeTx(this.store, LOCK_ROLLUP, async (db): Promise<RollupResult & { gen?: number; quarantined?: { id: number; reason: string }[]; fresh?: { cluster: string; kind: EntityKind; grain: 'hourly' | 'daily'; ts: number; entities: Entity[] }[] }> => {
      const snaps = (await db
        .selectFrom('slo_snapshots')
        .select(['id', 'cluster_id', 'ts'])
        .where('rolled', '=', 0)
        .orderBy('id')
        .limit(maxSnapshots)
        .execute()) as { id: number; cluster_id: string; ts: number }[];
      if (!snaps.length) return { snapshots: 0, rows: 0 };
      const byCluster = new Map<string, { ids: number[]; minutes: Set<number> }>();
      for (const s of snaps) {
        const c = byCluster.get(s.cluster_id) ?? { ids: [], minutes: new Set<number>() };
        c.ids.push(Number(s.id));
        c.minutes.add(floorTo(Number(s.ts), 60_000));
        byCluster.set(s.cluster_id, c);
      }
      let rows = 0;
      const quarantined: { id: number; reason: string }[] = [];
      const touched: { cluster_id: string; grain: string; ts: number }[] = [];
      const fresh: { cluster: string; kind: EntityKind; grain: 'hourly' | 'daily'; ts: number; entities: Entity[] }[] = [];
      for (const [cluster, { ids, minutes }] of byCluster) {
        const rawByKind = new Map<EntityKind, MetricRow[]>();
        for (const kind of KINDS) {
          rawByKind.set(
            kind,
            (await db
              .selectFrom(tableName(kind, 'raw'))
              .selectAll()
              .where('cluster_id', '=', cluster)
              .where('ts', 'in', [...minutes])
              .where('snap_id', 'in', ids)
              .execute()) as MetricRow[],
          );
        }
        // A snapshot with a row no rollup can add is set aside (quarantine.ts); the others roll up.
        const bad = poisonedSnapshots(rawByKind);
        for (const id of await quarantineSnapshots(db, cluster, bad, rawByKind, Date.now())) quarantined.push({ id, reason: bad.get(id)! });
        for (const kind of KINDS) {
          const raw = bad.size ? rawByKind.get(kind)!.filter((r) => !bad.has(Number(r.snap_id))) : rawByKind.get(kind)!;
          rows += raw.length;
          if (!raw.length) continue;
          for (const [grain, size] of [
            ['hourly', HOUR],
            ['daily', DAY],
          ] as const) {
            const buckets = new Map<number, MetricRow[]>();
            for (const r of raw) {
              const b = floorTo(Number(r.ts), size);
              const list = buckets.get(b);
              if (list) list.push(r);
              else buckets.set(b, [r]);
            }
            for (const [bucket, list] of buckets) {
              const entities = await this.mergeIntoBucket(db, kind, grain, cluster, bucket, list);
              if (entities) fresh.push({ cluster, kind, grain, ts: bucket, entities });
              touched.push({ cluster_id: cluster, grain, ts: bucket });
            }
          }
        }
      }
      await db.updateTable('slo_rollup_generation').set({ value: sql`value + 1` }).where('id', '=', 1).execute();
      const gen = Number(((await db.selectFrom('slo_rollup_generation').select('value').where('id', '=', 1).executeTakeFirstOrThrow()) as { value: number }).value);
      const uniq = new Map(touched.map((t) => [`${t.cluster_id}\u0000${t.grain}\u0000${t.ts}`, t]));
      for (const part of chunks([...uniq.values()], ROWS_PER_INSERT)) {
        await db
          .insertInto('slo_rollup_buckets')
          .values(part.map((t) => ({ ...t, version: gen })))
          .onConflict((oc) => oc.columns(['cluster_id', 'grain', 'ts']).doUpdateSet({ version: sql.ref('excluded.version') }))
          .execute();
      }
      const done = snaps.map((s) => Number(s.id)).filter((id) => !quarantined.some((q) => q.id === id));
      if (done.length) await db.updateTable('slo_snapshots').set({ rolled: 1 }).where('id', 'in', done).execute();
      return { snapshots: snaps.length, rows, gen, fresh, quarantined };
    });
    // Committed: this replica's readers get the new buckets without reading them back.
    for (const f of r.fresh ?? []) this.cache.set(f.cluster, f.kind, f.grain, f.ts, r.gen!, f.entities);
    return { snapshots: r.snapshots, rows: r.rows, quarantined: r.quarantined ?? [] };
  }

  /** Merges raw rows of one bucket into the existing rollup rows of that bucket (read, merge, upsert). */
  /**
   * Merges raw rows of one bucket into the existing rollup rows of that bucket (read, merge, upsert).
   * When it read the whole bucket, returns all its entities as now written (for the bucket cache).
   */
  private async mergeIntoBucket(db: Db, kind: EntityKind, grain: 'hourly' | 'daily', cluster: string, bucket: number, raw: MetricRow[]): Promise<Entity[] | null> {
    const table = tableName(kind, grain);
    const opts: LoadOpts = { codes: true, hist: true };
    const acc = new EntityMap(kind);
    for (const r of raw) acc.add(r, opts);
    let existing = db.selectFrom(table).selectAll().where('cluster_id', '=', cluster).where('ts', '=', bucket);
    const whole = acc.map.size > 8;
    if (!whole) {
      // A few entities (a small or late snapshot): fetch just them instead of the whole bucket.
      const cols = KEY_COLUMNS[kind];
      existing = existing.where((eb) => eb.or([...acc.values()].map((e) => eb.and(cols.map((c) => eb(c, '=', e.parts[c]))))));
    }
    const rest = new EntityMap(kind);
    for (const r of (await existing.execute()) as MetricRow[]) {
      r.ts = Number(r.ts);
      const e = acc.get(entityKey(kind, r));
      if (!e) {
        if (whole) rest.add(r, { hist: true, codes: kind === 'service' });
        continue;
      }
      addRow(e.g, r, opts);
      if (ATTR_COLUMNS[kind].length && !Object.keys(e.attrs).length) for (const c of ATTR_COLUMNS[kind]) e.attrs[c] = r[c] as string;
    }
    const out = [...acc.values()].map((e) => ({ cluster_id: cluster, ts: bucket, ...e.parts, ...e.attrs, ...metricColumns(e.g) }));
    const updates = Object.fromEntries([...ATTR_COLUMNS[kind], ...METRIC_COLUMNS].map((c) => [c, sql.ref(`excluded.${c}`)]));
    for (const part of chunks(out, ROWS_PER_INSERT)) {
      await db
        .insertInto(table)
        .values(part)
        .onConflict((oc) => oc.columns([...ROLLUP_KEY[kind]]).doUpdateSet(updates))
        .execute();
    }
    return whole ? [...acc.values(), ...rest.values()] : null;
  }

  /** Rolls up until nothing is left (or the signal aborts). */
  async rollupAll(signal?: AbortSignal, maxSnapshots = 16): Promise<RollupResult> {
    const total: Required<RollupResult> = { snapshots: 0, rows: 0, quarantined: [] };
    for (;;) {
      if (signal?.aborted) break;
      const r = await this.rollupBatch(maxSnapshots);
      total.snapshots += r.snapshots;
      total.rows += r.rows;
      total.quarantined.push(...(r.quarantined ?? []));
      if (r.snapshots < maxSnapshots) break;
    }
    return total;
  }

  // ------------------------------------------------------------------ retention

  /**
   * Deletes raw rows (already rolled up) before rawBefore, hourly/daily buckets and snapshot keys
   * before hourlyBefore, status history before statusBefore, route mappings unseen since hourlyBefore.
   * Whole buckets only: an hour is deleted when it ended before the cutoff.
   */
  async retention(c: RetentionCutoffs): Promise<RetentionResult> {
    const out: RetentionResult = { raw: 0, hourly: 0, daily: 0, snapshots: 0, status: 0, mappings: 0 };
    const clusters = await this.clusterIds();
    const n = (r: { numDeletedRows: bigint }[]) => r.reduce((s, x) => s + Number(x.numDeletedRows), 0);
    for (const cluster of clusters) {
      await writeTx(this.store, LOCK_ROLLUP, async (db) => {
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
        if (gone) await this.bumpMappingVersion(db, cluster);
        out.mappings += gone;
      });
    }
    await writeTx(this.store, LOCK_ROLLUP, async (db) => {
      out.snapshots += n(await db.deleteFrom('slo_snapshots').where('ts', '<', c.hourlyBefore).where('rolled', '=', 1).execute());
      // An agent silent for the whole hourly retention has no data left: forget it (and its cluster).
      await db.deleteFrom('slo_agents').where('last_seen', '<', c.hourlyBefore).execute();
      out.status += n(await db.deleteFrom('slo_status_history').where('ts', '<', c.statusBefore).execute());
    });
    return out;
  }

  // ------------------------------------------------------------------ reads (inside readTx)

  read<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return readTx(this.store, fn);
  }

  async clusterIds(db: Db = this.store.db): Promise<string[]> {
    const rows = (await db.selectFrom('slo_agents').select('cluster_id').distinct().orderBy('cluster_id').execute()) as { cluster_id: string }[];
    return rows.map((r) => r.cluster_id);
  }

  async clusters(db: Db = this.store.db): Promise<{ cluster_id: string; last_seen: number; first_seen: number }[]> {
    const rows = (await db
      .selectFrom('slo_agents')
      .select(['cluster_id', sql<number>`max(last_seen)`.as('last_seen'), sql<number>`min(first_seen)`.as('first_seen')])
      .groupBy('cluster_id')
      .execute()) as { cluster_id: string; last_seen: number; first_seen: number }[];
    return rows
      .map((r) => ({ cluster_id: r.cluster_id, last_seen: Number(r.last_seen), first_seen: Number(r.first_seen) }))
      .sort((a, b) => b.last_seen - a.last_seen || (a.cluster_id < b.cluster_id ? -1 : 1));
  }

  /** Timestamp of the cluster's oldest kept snapshot (where its data starts), null before any. */
  async firstDataAt(db: Db, cluster: string): Promise<number | null> {
    const r = (await db.selectFrom('slo_snapshots').select('ts').where('cluster_id', '=', cluster).orderBy('ts').limit(1).executeTakeFirst()) as { ts: number } | undefined;
    return r ? Number(r.ts) : null;
  }

  async unrolled(db: Db, cluster: string): Promise<Unrolled> {
    const rows = (await db.selectFrom('slo_snapshots').select(['id', 'ts']).where('cluster_id', '=', cluster).where('rolled', '=', 0).execute()) as {
      id: number;
      ts: number;
    }[];
    const snaps = rows.map((r) => ({ id: Number(r.id), minute: floorTo(Number(r.ts), 60_000) }));
    return { ids: snaps.map((s) => s.id), minutes: [...new Set(snaps.map((s) => s.minute))], snaps };
  }

  private async bumpMappingVersion(db: Db, cluster: string): Promise<void> {
    await db
      .insertInto('slo_mapping_versions')
      .values({ cluster_id: cluster, version: 1 })
      .onConflict((oc) => oc.column('cluster_id').doUpdateSet({ version: sql`slo_mapping_versions.version + 1` }))
      .execute();
  }

  /** Route mappings of a cluster (shared, read-only when unfiltered: kept in memory by version). */
  async mappings(db: Db, cluster: string, filters: { domain?: string; namespace?: string; service_name?: string } = {}): Promise<MappingRow[]> {
    const unfiltered = filters.domain === undefined && filters.namespace === undefined && filters.service_name === undefined;
    let version = -1;
    if (unfiltered) {
      const v = (await db.selectFrom('slo_mapping_versions').select('version').where('cluster_id', '=', cluster).executeTakeFirst()) as { version: number } | undefined;
      version = Number(v?.version ?? 0);
      const hit = this.mappingCache.get(cluster);
      if (hit && hit.version === version) return hit.rows;
    }
    let q = db.selectFrom('slo_route_mappings').selectAll().where('cluster_id', '=', cluster);
    if (filters.domain !== undefined) q = q.where('domain', '=', filters.domain);
    if (filters.service_name !== undefined) q = q.where('service_name', '=', filters.service_name);
    if (filters.namespace !== undefined) q = q.where('namespace', '=', filters.namespace);
    const rows = (await q.execute()) as MappingRow[];
    for (const r of rows) {
      r.tls = Number(r.tls);
      r.service_port = Number(r.service_port);
      r.first_seen = Number(r.first_seen);
      r.last_seen = Number(r.last_seen);
    }
    if (unfiltered) {
      if (this.mappingCache.size > 1000) this.mappingCache.clear();
      this.mappingCache.set(cluster, { version, rows });
    }
    return rows;
  }

  private columns(kind: EntityKind, opts: LoadOpts, withTs = true): string[] {
    const cols = [...KEY_COLUMNS[kind], ...ATTR_COLUMNS[kind], 'requests', 'failures', 'tls_requests', 'lat_sum'];
    if (withTs) cols.push('ts');
    if (opts.codes) cols.push('codes');
    if (opts.hist) cols.push('lat_bounds', 'lat_counts');
    return cols;
  }

  /** Rows of a metric table with ts in [from, to). */
  async rows(db: Db, kind: EntityKind, grain: Grain, cluster: string, from: number, to: number, filters: Filters, opts: LoadOpts): Promise<MetricRow[]> {
    let q = db
      .selectFrom(tableName(kind, grain))
      .select(this.columns(kind, opts))
      .where('cluster_id', '=', cluster)
      .where('ts', '>=', from);
    if (to !== Infinity) q = q.where('ts', '<', to);
    for (const [c, v] of Object.entries(filters)) q = q.where(c, '=', v);
    return (await q.execute()) as MetricRow[];
  }

  /**
   * Entities of the snapshots not rolled up yet whose minute is in [from, to), one list per snapshot
   * (shared, never to be modified). A snapshot's raw rows never change once committed, so they are
   * decoded once per process (the replica that ingested one starts with it in memory); a backlog
   * larger than the cache is read and decoded per request.
   */
  async unrolledEntities(db: Db, kind: EntityKind, cluster: string, u: Unrolled, from: number, to: number, filters: Filters): Promise<{ minute: number; e: Entity }[]> {
    const snaps = u.snaps.filter((x) => x.minute >= from && x.minute < to);
    if (!snaps.length) return [];
    const fcols = Object.entries(filters);
    const match = (e: Entity) => fcols.every(([c, v]) => e.parts[c] === v);
    const out: { minute: number; e: Entity }[] = [];
    const opts: LoadOpts = { hist: true, codes: kind === 'service' };
    const load = async (ids: number[], minutes: number[], f: Filters) => {
      let q = db.selectFrom(tableName(kind, 'raw')).select([...this.columns(kind, opts), 'snap_id']).where('cluster_id', '=', cluster);
      q = minutes.length <= 200 ? q.where('ts', 'in', minutes) : q.where('ts', '>=', Math.min(...minutes)).where('ts', '<=', Math.max(...minutes));
      q = ids.length <= 500 ? q.where('snap_id', 'in', ids) : q.where('snap_id', 'in', db.selectFrom('slo_snapshots').select('id').where('cluster_id', '=', cluster).where('rolled', '=', 0));
      for (const [c, v] of Object.entries(f)) q = q.where(c, '=', v);
      const bySnap = new Map<number, EntityMap>();
      for (const r of (await q.execute()) as MetricRow[]) {
        const id = Number(r.snap_id);
        let m = bySnap.get(id);
        if (!m) bySnap.set(id, (m = new EntityMap(kind)));
        m.add(r, opts);
      }
      return bySnap;
    };
    if (snaps.length <= this.snapshots.capacity) {
      const lists = new Map<number, Entity[]>();
      for (const x of snaps) {
        const l = this.snapshots.get(x.id, kind);
        if (l) lists.set(x.id, l);
      }
      const missing = snaps.filter((x) => !lists.has(x.id));
      if (missing.length) {
        const loaded = await load(
          missing.map((x) => x.id),
          [...new Set(missing.map((x) => x.minute))],
          {},
        );
        for (const x of missing) {
          const l = [...(loaded.get(x.id)?.values() ?? [])];
          this.snapshots.put(x.id, kind, l);
          lists.set(x.id, l);
        }
      }
      for (const x of snaps) for (const e of lists.get(x.id)!) if (match(e)) out.push({ minute: x.minute, e });
      return out;
    }
    const minuteOf = new Map(snaps.map((x) => [x.id, x.minute]));
    const loaded = await load(
      snaps.map((x) => x.id),
      [...new Set(snaps.map((x) => x.minute))],
      filters,
    );
    for (const [id, m] of loaded) for (const e of m.values()) out.push({ minute: minuteOf.get(id)!, e });
    return out;
  }

  /**
   * Per-entity sums over a window: minute windows from raw rows (all of them), hour-aligned windows
   * from daily + hourly rollups plus the raw rows not rolled up yet.
   */
  async windowEntities(db: Db, kind: EntityKind, cluster: string, w: Window, u: Unrolled, filters: Filters, opts: LoadOpts): Promise<EntityMap> {
    const acc = new EntityMap(kind);
    if (w.grain === 'hour' && !Object.keys(filters).length) {
      // Whole cluster: rollup buckets through the caches, then the unrolled raw rows.
      const plan = rollupPlan(w.from, w.to);
      const inside = (ranges: [number, number][], ts: number) => ranges.some(([a, b]) => ts >= a && ts < b);
      const current = floorTo(Date.now(), HOUR);
      const closed: BucketVersion[] = [];
      const open: BucketVersion[] = [];
      for (const v of await this.bucketVersions(db, cluster, w.from)) {
        if (!inside(v.grain === 'daily' ? plan.daily : plan.hourly, v.ts)) continue;
        // Buckets that ended are stable (only late data changes them); the open hour and day change every rollup.
        (v.ts + (v.grain === 'daily' ? DAY : HOUR) <= current ? closed : open).push(v);
      }
      const snaps = u.snaps.filter((x) => x.minute >= w.from && x.minute < w.to).map((x) => x.id);
      // The same data (bucket versions and unrolled snapshots) gives the same sums: reuse them.
      const signature = `${cluster}\u0000${kind}\u0000${opts.hist ? 'h' : ''}${opts.codes ? 'c' : ''}\u0000${signatureOf(closed)}\u0000${signatureOf(open)}\u0000${snaps.join(',')}`;
      const hit = this.windows.get(signature);
      if (hit) {
        this.windows.delete(signature);
        this.windows.set(signature, hit);
        return hit;
      }
      for (const e of await this.mergedBuckets(db, kind, cluster, closed)) acc.merge(e, opts);
      for (const v of open) for (const e of await this.bucketEntities(db, kind, v.grain, cluster, v.ts, v.version)) acc.merge(e, opts);
      for (const { e } of await this.unrolledEntities(db, kind, cluster, u, w.from, w.to, filters)) acc.merge(e, opts);
      this.windows.set(signature, acc);
      if (this.windows.size > WINDOW_CACHE_SIZE) this.windows.delete(this.windows.keys().next().value!);
      return acc;
    }
    if (w.grain === 'minute') {
      for (const r of await this.rows(db, kind, 'raw', cluster, w.from, w.to, filters, opts)) acc.add(r, opts);
      return acc;
    }
    const plan = rollupPlan(w.from, w.to);
    for (const [a, b] of plan.daily) for (const r of await this.rows(db, kind, 'daily', cluster, a, b, filters, opts)) acc.add(r, opts);
    for (const [a, b] of plan.hourly) for (const r of await this.rows(db, kind, 'hourly', cluster, a, b, filters, opts)) acc.add(r, opts);
    for (const { e } of await this.unrolledEntities(db, kind, cluster, u, w.from, w.to, filters)) acc.merge(e, opts);
    return acc;
  }

  /** Versions of a cluster's rollup buckets from `from` on (a bucket without one holds no rows). */
  async bucketVersions(db: Db, cluster: string, from: number): Promise<{ grain: 'hourly' | 'daily'; ts: number; version: number }[]> {
    const rows = (await db
      .selectFrom('slo_rollup_buckets')
      .select(['grain', 'ts', 'version'])
      .where('cluster_id', '=', cluster)
      .where('ts', '>=', floorTo(from, DAY))
      .execute()) as { grain: 'hourly' | 'daily'; ts: number; version: number }[];
    return rows.map((r) => ({ grain: r.grain, ts: Number(r.ts), version: Number(r.version) }));
  }

  /** The sum of several buckets, cached by their versions (a window's closed hours or days). */
  private async mergedBuckets(db: Db, kind: EntityKind, cluster: string, buckets: { grain: 'hourly' | 'daily'; ts: number; version: number }[]): Promise<Entity[]> {
    if (!buckets.length) return [];
    if (buckets.length === 1) return this.bucketEntities(db, kind, buckets[0].grain, cluster, buckets[0].ts, buckets[0].version);
    const sorted = [...buckets].sort((a, b) => (a.grain === b.grain ? a.ts - b.ts : a.grain < b.grain ? -1 : 1));
    const signature = signatureOf(sorted);
    const hit = this.merged.get(`${cluster}\u0000${kind}\u0000${signature}`);
    if (hit) return hit;
    const opts: LoadOpts = { hist: true, codes: kind === 'service' };
    const acc = new EntityMap(kind);
    for (const b of sorted) for (const e of await this.bucketEntities(db, kind, b.grain, cluster, b.ts, b.version)) acc.merge(e, opts);
    const list = [...acc.values()];
    const key = `${cluster}\u0000${kind}\u0000${signature}`;
    this.merged.set(key, list);
    if (this.merged.size > MERGED_CACHE_SIZE) this.merged.delete(this.merged.keys().next().value!);
    return list;
  }

  /** All entities of one rollup bucket, decoded (histograms; status codes of services), cached by version. */
  private async bucketEntities(db: Db, kind: EntityKind, grain: 'hourly' | 'daily', cluster: string, ts: number, version: number): Promise<Entity[]> {
    const hit = this.cache.get(cluster, kind, grain, ts, version);
    if (hit) return hit;
    const opts: LoadOpts = { hist: true, codes: kind === 'service' };
    const acc = new EntityMap(kind);
    for (const r of await this.rows(db, kind, grain, cluster, ts, ts + 1, {}, opts)) acc.add(r, opts);
    const list = [...acc.values()];
    this.cache.set(cluster, kind, grain, ts, version, list);
    return list;
  }

  /** Per-entity, per-step series over [from, from + points·step): raw rows for sub-hour steps, else hourly + unrolled raw. */
  async series(db: Db, kind: EntityKind, cluster: string, from: number, step: number, points: number, u: Unrolled, filters: Filters, opts: LoadOpts): Promise<SeriesMap> {
    const acc = new SeriesMap(kind, from, step, points);
    const to = from + step * points;
    if (step < HOUR) {
      for (const r of await this.rows(db, kind, 'raw', cluster, from, to, filters, opts)) acc.add(r, opts);
    } else {
      // Hour by hour through the bucket cache (per filter): a repeated detail read fetches only the
      // hours a rollup changed since.
      const full: LoadOpts = { hist: true, codes: kind === 'service' };
      const tag = `hourly${JSON.stringify(filters)}`;
      const lists: [number, Entity[]][] = [];
      const missing: BucketVersion[] = [];
      for (const v of await this.bucketVersions(db, cluster, from)) {
        if (v.grain !== 'hourly' || v.ts < from || v.ts >= to) continue;
        const hit = this.cache.get(cluster, kind, tag, v.ts, v.version);
        if (hit) lists.push([v.ts, hit]);
        else missing.push(v);
      }
      if (missing.length) {
        const want = missing.map((v) => v.ts);
        let q = db.selectFrom(tableName(kind, 'hourly')).select(this.columns(kind, full)).where('cluster_id', '=', cluster);
        q = want.length <= 200 ? q.where('ts', 'in', want) : q.where('ts', '>=', Math.min(...want)).where('ts', '<=', Math.max(...want));
        for (const [c, v] of Object.entries(filters)) q = q.where(c, '=', v);
        const byTs = new Map<number, EntityMap>();
        for (const r of (await q.execute()) as MetricRow[]) {
          const ts = Number(r.ts);
          let m = byTs.get(ts);
          if (!m) byTs.set(ts, (m = new EntityMap(kind)));
          m.add(r, full);
        }
        for (const v of missing) {
          const list = [...(byTs.get(v.ts)?.values() ?? [])];
          this.cache.set(cluster, kind, tag, v.ts, v.version, list);
          lists.push([v.ts, list]);
        }
      }
      for (const [ts, list] of lists) for (const e of list) acc.merge(ts, e, opts);
      for (const { minute, e } of await this.unrolledEntities(db, kind, cluster, u, from, to, filters)) acc.merge(minute, e, opts);
    }
    return acc;
  }

  /** Request and failure sums per entity over several trailing raw windows [from_i, ∞) in one scan. */
  async rawCountsSince(db: Db, kind: EntityKind, cluster: string, froms: number[], filters: Filters): Promise<Map<string, { parts: Record<string, string>; counts: Counts[] }>> {
    const min = Math.min(...froms);
    const keys = KEY_COLUMNS[kind];
    let q = db
      .selectFrom(tableName(kind, 'raw'))
      .select(keys)
      .where('cluster_id', '=', cluster)
      .where('ts', '>=', min);
    froms.forEach((f, i) => {
      q = q.select([
        sql<number>`sum(case when ts >= ${f} then requests else 0 end)`.as(`r${i}`),
        sql<number>`sum(case when ts >= ${f} then failures else 0 end)`.as(`f${i}`),
      ]);
    });
    for (const [c, v] of Object.entries(filters)) q = q.where(c, '=', v);
    const rows = (await q.groupBy(keys).execute()) as Record<string, unknown>[];
    const out = new Map<string, { parts: Record<string, string>; counts: Counts[] }>();
    for (const r of rows) {
      const parts = Object.fromEntries(keys.map((k) => [k, r[k] as string]));
      out.set(entityKey(kind, r), { parts, counts: froms.map((_, i) => ({ requests: num(r[`r${i}`]), failures: num(r[`f${i}`]) })) });
    }
    return out;
  }

  /** Request and failure sums per entity over an hour-aligned window (rollups + unrolled raw). */
  async windowCounts(db: Db, kind: EntityKind, cluster: string, w: Window, u: Unrolled, filters: Filters): Promise<Map<string, { parts: Record<string, string>; counts: Counts }>> {
    const keys = KEY_COLUMNS[kind];
    const out = new Map<string, { parts: Record<string, string>; counts: Counts }>();
    if (w.grain === 'hour' && !Object.keys(filters).length) {
      for (const e of (await this.windowEntities(db, kind, cluster, w, u, filters, {})).values()) out.set(e.key, { parts: e.parts, counts: { requests: e.g.requests, failures: e.g.failures } });
      return out;
    }
    const add = (r: Record<string, unknown>) => {
      const k = entityKey(kind, r);
      let e = out.get(k);
      if (!e) {
        e = { parts: Object.fromEntries(keys.map((c) => [c, r[c] as string])), counts: { requests: 0, failures: 0 } };
        out.set(k, e);
      }
      e.counts.requests += num(r.requests);
      e.counts.failures += num(r.failures);
    };
    const plan = w.grain === 'minute' ? { daily: [], hourly: [] } : rollupPlan(w.from, w.to);
    const ranges: [Grain, number, number][] =
      w.grain === 'minute'
        ? [['raw', w.from, w.to]]
        : [...plan.daily.map(([a, b]): [Grain, number, number] => ['daily', a, b]), ...plan.hourly.map(([a, b]): [Grain, number, number] => ['hourly', a, b])];
    for (const [grain, a, b] of ranges) {
      let q = db
        .selectFrom(tableName(kind, grain))
        .select([...keys, sql<number>`sum(requests)`.as('requests'), sql<number>`sum(failures)`.as('failures')])
        .where('cluster_id', '=', cluster)
        .where('ts', '>=', a);
      if (b !== Infinity) q = q.where('ts', '<', b);
      for (const [c, v] of Object.entries(filters)) q = q.where(c, '=', v);
      for (const r of (await q.groupBy(keys).execute()) as Record<string, unknown>[]) add(r);
    }
    if (w.grain !== 'minute') for (const { e } of await this.unrolledEntities(db, kind, cluster, u, w.from, w.to, filters)) add({ ...e.parts, requests: e.g.requests, failures: e.g.failures });
    return out;
  }

  /**
   * Request/failure counts per entity in buckets of `size` (a multiple of an hour) from `anchor` on,
   * summed in SQL from the hourly rollups, plus the unrolled raw rows (for error-budget series).
   */
  async bucketCounts(db: Db, kind: EntityKind, cluster: string, anchor: number, size: number, u: Unrolled, filters: Filters): Promise<{ key: string; ts: number; requests: number; failures: number }[]> {
    const keys = KEY_COLUMNS[kind];
    let q = db
      .selectFrom(tableName(kind, 'hourly'))
      .select([...keys, sql<number>`cast((ts - ${anchor}) / ${size} as integer)`.as('b'), sql<number>`sum(requests)`.as('requests'), sql<number>`sum(failures)`.as('failures')])
      .where('cluster_id', '=', cluster)
      .where('ts', '>=', anchor);
    for (const [c, v] of Object.entries(filters)) q = q.where(c, '=', v);
    const rows = (await q.groupBy([...keys, 'b']).execute()) as Record<string, unknown>[];
    const out = rows.map((r) => ({ key: entityKey(kind, r), ts: anchor + Math.floor(Number(r.b)) * size, requests: num(r.requests), failures: num(r.failures) }));
    for (const { minute, e } of await this.unrolledEntities(db, kind, cluster, u, anchor, Infinity, filters)) {
      out.push({ key: e.key, ts: anchor + Math.floor((minute - anchor) / size) * size, requests: e.g.requests, failures: e.g.failures });
    }
    return out;
  }

  /** Whether any row of the entity exists at all (404 vs. an empty answer). */
  async exists(db: Db, kind: EntityKind, cluster: string, filters: Filters): Promise<boolean> {
    for (const grain of ['daily', 'raw'] as const) {
      let q = db.selectFrom(tableName(kind, grain)).select('cluster_id').where('cluster_id', '=', cluster);
      for (const [c, v] of Object.entries(filters)) q = q.where(c, '=', v);
      if (await q.limit(1).executeTakeFirst()) return true;
    }
    return false;
  }

  // ------------------------------------------------------------------ targets

  async targets(db: Db, cluster: string): Promise<(StoredTarget & { updated_at: number; updated_by: string })[]> {
    const rows = (await db
      .selectFrom('slo_targets')
      .selectAll()
      .where('cluster_id', '=', cluster)
      .orderBy('scope')
      .orderBy('key')
      .orderBy('slo_window')
      .execute()) as Record<string, unknown>[];
    return rows.map((r) => ({
      scope: r.scope as TargetScope,
      key: r.key as string,
      window: r.slo_window as SloWindow,
      availability_target: Number(r.availability_target),
      p95_latency_target: Number(r.p95_latency_target),
      p99_latency_target: r.p99_latency_target === null || r.p99_latency_target === undefined ? null : Number(r.p99_latency_target),
      updated_at: Number(r.updated_at),
      updated_by: (r.updated_by as string) ?? '',
    }));
  }

  async putTargets(cluster: string, upserts: StoredTarget[], removals: { scope: TargetScope; key: string; window: SloWindow }[], by: string, now: number): Promise<void> {
    await writeTx(this.store, null, async (db) => {
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

  // ------------------------------------------------------------------ status

  async statusCurrent(db: Db, cluster: string): Promise<Map<string, { status: string; since: number }>> {
    const rows = (await db.selectFrom('slo_status_current').select(['scope', 'key', 'status', 'since']).where('cluster_id', '=', cluster).execute()) as {
      scope: string;
      key: string;
      status: string;
      since: number;
    }[];
    return new Map(rows.map((r) => [`${r.scope}\u0000${r.key}`, { status: r.status, since: Number(r.since) }]));
  }

  /**
   * Records a status evaluation: entities whose status changed (or that are new) get a history row
   * and their current status replaced; the others only their evaluated_at. One transaction, under the
   * status lock, compared against the stored current status — so a re-run or a second replica records
   * each transition once.
   */
  async recordStatuses(
    cluster: string,
    evaluatedAt: number,
    entries: { scope: TargetScope; key: string; domain: string | null; status: string; availability: number | null; p95_latency: number | null; p99_latency: number | null; error_budget_remaining: number | null; total_requests: number }[],
  ): Promise<number> {
    return writeTx(this.store, LOCK_STATUS, async (db) => {
      const current = await this.statusCurrent(db, cluster);
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

  async statusHistory(
    db: Db,
    cluster: string,
    f: { domain?: string; scope?: TargetScope; key?: string; since?: number; limit: number },
  ): Promise<Record<string, unknown>[]> {
    let q = db.selectFrom('slo_status_history').selectAll().where('cluster_id', '=', cluster);
    if (f.domain !== undefined) q = q.where('domain', '=', f.domain);
    if (f.scope !== undefined) q = q.where('scope', '=', f.scope);
    if (f.key !== undefined) q = q.where('key', '=', f.key);
    if (f.since !== undefined) q = q.where('ts', '>', f.since);
    return (await q.orderBy('ts').orderBy('id').limit(f.limit).execute()) as Record<string, unknown>[];
  }
}

/** Golden accumulator → the metric columns of a rollup row. */
export function metricColumns(g: Golden): Pick<MetricRow, (typeof METRIC_COLUMNS)[number]> {
  const h = g.hist ? encodeHist(g.hist) : null;
  return {
    requests: g.requests,
    failures: g.failures,
    tls_requests: g.tls,
    codes: g.codes ? JSON.stringify(g.codes) : null,
    lat_bounds: h ? h.bounds : null,
    lat_counts: h ? h.counts : null,
    lat_sum: g.sumMs,
  };
}

export { newGolden };
