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
import type { SqlStore } from '../../platform/backends/sql/db.js';
import type { Counts } from '../math/slo.js';
import type { StoredTarget, TargetScope } from '../math/targets.js';
import type { SloWindow } from '../math/slo.js';
import type { Window } from '../math/time.js';
import { BucketCache, SnapshotCache } from './cache.js';
import type { EntityMap, LoadOpts, SeriesMap } from './entities.js';
import type { MappingRow } from './ingest.js';
import type { Snapshot } from '../snapshot.js';
import type { Selectable } from 'kysely';
import type { EntityKind, StatusHistoryTable } from './tables.js';
import { readTx, type Db } from './tx.js';
import * as catalog from './store/catalog.js';
import { CountReads, entityExists, rawCountsSince } from './store/counts.js';
import { SnapshotWriter, type IngestResult } from './store/ingest.js';
import { WindowReads } from './store/reads.js';
import { applyRetention, type RetentionCutoffs, type RetentionResult } from './store/retention.js';
import { Rollup, type RollupResult } from './store/rollup.js';
import * as status from './store/status.js';
import * as targets from './store/targets.js';
import type { Filters, Unrolled } from './store/shared.js';

export type { IngestResult } from './store/ingest.js';
export type { RollupResult } from './store/rollup.js';
export type { RetentionCutoffs, RetentionResult } from './store/retention.js';
export type { StatusEntry } from './store/status.js';
export type { Filters, Unrolled } from './store/shared.js';
export { metricColumns } from './store/rollup.js';

/**
 * The SLO module's storage, one object per process: the parts under store/ (one per responsibility)
 * share the in-memory caches this holds. Everything outside the store goes through here.
 */
export class SloRepository {
  /** Decoded whole-cluster rollup buckets (see cache.ts). */
  readonly cache: BucketCache;
  /** Decoded raw rows of recent snapshots (immutable once committed), for the not-yet-rolled part of reads. */
  readonly snapshots = new SnapshotCache();
  private readonly writer: SnapshotWriter;
  private readonly rollup: Rollup;
  private readonly windows: WindowReads;
  private readonly counts: CountReads;
  private readonly mappingReads = new catalog.MappingReads();

  constructor(
    readonly store: SqlStore,
    opts: { cacheEntities?: number } = {},
  ) {
    this.cache = new BucketCache(opts.cacheEntities);
    this.writer = new SnapshotWriter(store, this.snapshots);
    this.rollup = new Rollup(store, this.cache);
    this.windows = new WindowReads(this.cache, this.snapshots);
    this.counts = new CountReads(this.windows);
  }

  // ------------------------------------------------------------------ writes and jobs

  /**
   * Writes one snapshot in one transaction: its idempotency key, the agent's last-seen, the route
   * mappings, and the raw rows. A key already present makes it a no-op ('duplicate').
   */
  ingest(s: Snapshot, receivedAt: number): Promise<IngestResult> {
    return this.writer.ingest(s, receivedAt);
  }

  /** Rolls up to `maxSnapshots` unrolled snapshots (see store/rollup.ts). */
  rollupBatch(maxSnapshots = 16): Promise<RollupResult> {
    return this.rollup.rollupBatch(maxSnapshots);
  }

  /** Rolls up until nothing is left (or the signal aborts). */
  rollupAll(signal?: AbortSignal, maxSnapshots = 16): Promise<RollupResult> {
    return this.rollup.rollupAll(signal, maxSnapshots);
  }

  retention(c: RetentionCutoffs): Promise<RetentionResult> {
    return applyRetention(this.store, c);
  }

  putTargets(cluster: string, upserts: StoredTarget[], removals: { scope: TargetScope; key: string; window: SloWindow }[], by: string, now: number): Promise<void> {
    return targets.putTargets(this.store, cluster, upserts, removals, by, now);
  }

  /** Records a status evaluation; returns how many entities changed status. */
  recordStatuses(cluster: string, evaluatedAt: number, entries: status.StatusEntry[]): Promise<number> {
    return status.recordStatuses(this.store, cluster, evaluatedAt, entries);
  }

  // ------------------------------------------------------------------ reads (inside readTx)

  read<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return readTx(this.store, fn);
  }

  clusterIds(db: Db = this.store.db): Promise<string[]> {
    return catalog.clusterIds(db);
  }

  clusters(db: Db = this.store.db): Promise<{ cluster_id: string; last_seen: number; first_seen: number }[]> {
    return catalog.clusters(db);
  }

  /** Timestamp of the cluster's oldest kept snapshot (where its data starts), null before any. */
  firstDataAt(db: Db, cluster: string): Promise<number | null> {
    return catalog.firstDataAt(db, cluster);
  }

  unrolled(db: Db, cluster: string): Promise<Unrolled> {
    return catalog.unrolled(db, cluster);
  }

  /** Route mappings of a cluster (shared, read-only when unfiltered: kept in memory by version). */
  mappings(db: Db, cluster: string, filters: { domain?: string; namespace?: string; service_name?: string } = {}): Promise<MappingRow[]> {
    return this.mappingReads.mappings(db, cluster, filters);
  }

  /** Per-entity sums over a window (see store/reads.ts). */
  windowEntities(db: Db, kind: EntityKind, cluster: string, w: Window, u: Unrolled, filters: Filters, opts: LoadOpts): Promise<EntityMap> {
    return this.windows.windowEntities(db, kind, cluster, w, u, filters, opts);
  }

  /** Per-entity, per-step series over [from, from + points·step). */
  series(db: Db, kind: EntityKind, cluster: string, from: number, step: number, points: number, u: Unrolled, filters: Filters, opts: LoadOpts): Promise<SeriesMap> {
    return this.windows.series(db, kind, cluster, from, step, points, u, filters, opts);
  }

  /** Request and failure sums per entity over several trailing raw windows [from_i, ∞) in one scan. */
  rawCountsSince(db: Db, kind: EntityKind, cluster: string, froms: number[], filters: Filters): Promise<Map<string, { parts: Record<string, string>; counts: Counts[] }>> {
    return rawCountsSince(db, kind, cluster, froms, filters);
  }

  /** Request and failure sums per entity over an hour-aligned window (rollups + unrolled raw). */
  windowCounts(db: Db, kind: EntityKind, cluster: string, w: Window, u: Unrolled, filters: Filters): Promise<Map<string, { parts: Record<string, string>; counts: Counts }>> {
    return this.counts.windowCounts(db, kind, cluster, w, u, filters);
  }

  /** Request/failure counts per entity in buckets of `size` from `anchor` on (error-budget series). */
  bucketCounts(db: Db, kind: EntityKind, cluster: string, anchor: number, size: number, u: Unrolled, filters: Filters): Promise<{ key: string; ts: number; requests: number; failures: number }[]> {
    return this.counts.bucketCounts(db, kind, cluster, anchor, size, u, filters);
  }

  /** Whether any row of the entity exists at all (404 vs. an empty answer). */
  exists(db: Db, kind: EntityKind, cluster: string, filters: Filters): Promise<boolean> {
    return entityExists(db, kind, cluster, filters);
  }

  targets(db: Db, cluster: string): Promise<(StoredTarget & { updated_at: number; updated_by: string })[]> {
    return targets.targets(db, cluster);
  }

  statusHistory(db: Db, cluster: string, f: { domain?: string; scope?: TargetScope; key?: string; since?: number; limit: number }): Promise<Selectable<StatusHistoryTable>[]> {
    return status.statusHistory(db, cluster, f);
  }
}
