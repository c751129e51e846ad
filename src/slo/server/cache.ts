/**
 * In-process cache of whole rollup buckets (one UTC hour or day of one cluster and entity kind),
 * decoded into per-entity accumulators.
 *
 * Correct across replicas and restarts because it is keyed by the bucket's version in
 * slo_rollup_buckets: the rollup sets a fresh, never reused version (a database-wide counter) in the
 * same transaction that changes a bucket, and retention deletes a bucket's version with its rows. A
 * reader looks the versions up inside its read transaction, so it uses a cached bucket only when the
 * database it sees holds exactly that content. Closed hours and days keep their version, so a
 * dashboard's repeated reads decode them once; the current hour and day change with every rollup.
 *
 * Bounded by the number of cached entities (LRU over buckets).
 */
import { EntityMap, type Entity, type LoadOpts } from './entities.js';
import type { EntityKind, MetricRow } from './tables.js';

export interface CachedBucket {
  version: number;
  entities: Entity[];
}

/** An empty bucket still costs a slot. */
const weight = (entities: Entity[]) => Math.max(1, entities.length);

export class BucketCache {
  private buckets = new Map<string, CachedBucket>();
  private size = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxEntities = 200_000) {}

  /** `grain` is 'hourly' / 'daily' for whole buckets, or a tag naming a filtered part of one. */
  private static key(cluster: string, kind: EntityKind, grain: string, ts: number) {
    return `${cluster}\u0000${kind}\u0000${grain}\u0000${ts}`;
  }

  get(cluster: string, kind: EntityKind, grain: string, ts: number, version: number): Entity[] | undefined {
    const k = BucketCache.key(cluster, kind, grain, ts);
    const b = this.buckets.get(k);
    if (!b || b.version !== version) {
      this.misses++;
      return undefined;
    }
    // LRU: move to the end.
    this.buckets.delete(k);
    this.buckets.set(k, b);
    this.hits++;
    return b.entities;
  }

  set(cluster: string, kind: EntityKind, grain: string, ts: number, version: number, entities: Entity[]): void {
    if (entities.length > this.maxEntities / 4) return; // a bucket too large to be worth keeping
    const k = BucketCache.key(cluster, kind, grain, ts);
    const old = this.buckets.get(k);
    if (old) {
      this.size -= weight(old.entities);
      this.buckets.delete(k);
    }
    this.buckets.set(k, { version, entities });
    this.size += weight(entities);
    for (const [key, b] of this.buckets) {
      if (this.size <= this.maxEntities) break;
      this.buckets.delete(key);
      this.size -= weight(b.entities);
    }
  }

  clear(): void {
    this.buckets.clear();
    this.size = 0;
  }

  get entities(): number {
    return this.size;
  }
}

/**
 * Decoded raw rows of recent snapshots by snapshot id and kind. A committed snapshot's rows never
 * change, so entries need no invalidation; rows handed over at ingest are decoded on first use.
 * Holds at most `capacity` snapshots (LRU).
 */
export class SnapshotCache {
  private snaps = new Map<number, { rows: Partial<Record<EntityKind, MetricRow[]>>; entities: Partial<Record<EntityKind, Entity[]>> }>();

  constructor(readonly capacity = 48) {}

  private touch(id: number) {
    const v = this.snaps.get(id);
    if (v) {
      this.snaps.delete(id);
      this.snaps.set(id, v);
    }
    return v;
  }

  private entry(id: number) {
    let v = this.touch(id);
    if (!v) {
      v = { rows: {}, entities: {} };
      this.snaps.set(id, v);
      while (this.snaps.size > this.capacity) this.snaps.delete(this.snaps.keys().next().value!);
    }
    return v;
  }

  /** Rows just committed by this replica, decoded lazily. */
  putRows(id: number, rows: Partial<Record<EntityKind, MetricRow[]>>): void {
    const v = this.entry(id);
    Object.assign(v.rows, rows);
  }

  put(id: number, kind: EntityKind, entities: Entity[]): void {
    this.entry(id).entities[kind] = entities;
  }

  get(id: number, kind: EntityKind): Entity[] | undefined {
    const v = this.touch(id);
    if (!v) return undefined;
    let e = v.entities[kind];
    if (!e && v.rows[kind]) {
      const opts: LoadOpts = { hist: true, codes: kind === 'service' };
      const m = new EntityMap(kind);
      for (const r of v.rows[kind]!) m.add(r, opts);
      e = v.entities[kind] = [...m.values()];
      delete v.rows[kind];
    }
    return e;
  }
}
