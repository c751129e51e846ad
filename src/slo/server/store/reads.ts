/**
 * Per-entity sums over windows and series, the reads every answer is built from. Whole-cluster
 * windows go through three in-memory layers, each keyed so it can never serve stale data: decoded
 * buckets (cache.ts, by bucket version), sums of runs of closed buckets, and whole window sums (by
 * bucket versions plus the ids of the unrolled snapshots they include).
 */
import { DAY, HOUR, floorTo, rollupPlan, type Window } from '../../math/time.js';
import type { BucketCache, SnapshotCache } from '../cache.js';
import { EntityMap, SeriesMap, type Entity, type LoadOpts } from '../entities.js';
import { ATTR_COLUMNS, KEY_COLUMNS, tableName, type EntityKind, type Grain, type MetricColumn, type MetricRow } from '../tables.js';
import type { Db } from '../tx.js';
import { bucketVersions } from './catalog.js';
import { filterEntries, signatureOf, type BucketVersion, type Filters, type Unrolled } from './shared.js';

const MERGED_CACHE_SIZE = 32;
const WINDOW_CACHE_SIZE = 16;

/** The columns a read of `kind` needs for `opts`. */
export function metricColumnsOf(kind: EntityKind, opts: LoadOpts, withTs = true): MetricColumn[] {
  const cols: MetricColumn[] = [...KEY_COLUMNS[kind], ...ATTR_COLUMNS[kind], 'requests', 'failures', 'tls_requests', 'lat_sum'];
  if (withTs) cols.push('ts');
  if (opts.codes) cols.push('codes');
  if (opts.hist) cols.push('lat_bounds', 'lat_counts');
  return cols;
}

/** Rows of a metric table with ts in [from, to). */
export async function metricRows(db: Db, kind: EntityKind, grain: Grain, cluster: string, from: number, to: number, filters: Filters, opts: LoadOpts): Promise<MetricRow[]> {
  let q = db
    .selectFrom(tableName(kind, grain))
    .select(metricColumnsOf(kind, opts))
    .where('cluster_id', '=', cluster)
    .where('ts', '>=', from);
  if (to !== Infinity) q = q.where('ts', '<', to);
  for (const [c, v] of filterEntries(filters)) q = q.where(c, '=', v);
  return await q.execute();
}

export class WindowReads {
  /** Sums of runs of closed buckets, keyed by their (grain, ts, version) list: a window's stable part. */
  private merged = new Map<string, Entity[]>();
  /**
   * Whole-cluster window sums (read-only results), keyed by everything they are made of: the versions
   * of their buckets and the ids of the unrolled snapshots. Repeated reads between two rollups or
   * snapshots reuse them.
   */
  private windows = new Map<string, EntityMap>();

  constructor(
    /** Decoded whole-cluster rollup buckets. */
    private readonly cache: BucketCache,
    /** Decoded raw rows of recent snapshots, for the not-yet-rolled part of reads. */
    private readonly snapshots: SnapshotCache,
  ) {}

  /**
   * Entities of the snapshots not rolled up yet whose minute is in [from, to), one list per snapshot
   * (shared, never to be modified). A snapshot's raw rows never change once committed, so they are
   * decoded once per process (the replica that ingested one starts with it in memory); a backlog
   * larger than the cache is read and decoded per request.
   */
  async unrolledEntities(db: Db, kind: EntityKind, cluster: string, u: Unrolled, from: number, to: number, filters: Filters): Promise<{ minute: number; e: Entity }[]> {
    const snaps = u.snaps.filter((x) => x.minute >= from && x.minute < to);
    if (!snaps.length) return [];
    const fcols = filterEntries(filters);
    const match = (e: Entity) => fcols.every(([c, v]) => e.parts[c] === v);
    const out: { minute: number; e: Entity }[] = [];
    const opts: LoadOpts = { hist: true, codes: kind === 'service' };
    const load = async (ids: number[], minutes: number[], f: Filters) => {
      let q = db.selectFrom(tableName(kind, 'raw')).select([...metricColumnsOf(kind, opts), 'snap_id']).where('cluster_id', '=', cluster);
      q = minutes.length <= 200 ? q.where('ts', 'in', minutes) : q.where('ts', '>=', Math.min(...minutes)).where('ts', '<=', Math.max(...minutes));
      q = ids.length <= 500 ? q.where('snap_id', 'in', ids) : q.where('snap_id', 'in', db.selectFrom('slo_snapshots').select('id').where('cluster_id', '=', cluster).where('rolled', '=', 0));
      for (const [c, v] of filterEntries(f)) q = q.where(c, '=', v);
      const bySnap = new Map<number, EntityMap>();
      for (const r of await q.execute()) {
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
      for (const v of await bucketVersions(db, cluster, w.from)) {
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
      for (const r of await metricRows(db, kind, 'raw', cluster, w.from, w.to, filters, opts)) acc.add(r, opts);
      return acc;
    }
    const plan = rollupPlan(w.from, w.to);
    for (const [a, b] of plan.daily) for (const r of await metricRows(db, kind, 'daily', cluster, a, b, filters, opts)) acc.add(r, opts);
    for (const [a, b] of plan.hourly) for (const r of await metricRows(db, kind, 'hourly', cluster, a, b, filters, opts)) acc.add(r, opts);
    for (const { e } of await this.unrolledEntities(db, kind, cluster, u, w.from, w.to, filters)) acc.merge(e, opts);
    return acc;
  }

  /** The sum of several buckets, cached by their versions (a window's closed hours or days). */
  private async mergedBuckets(db: Db, kind: EntityKind, cluster: string, buckets: BucketVersion[]): Promise<Entity[]> {
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
    for (const r of await metricRows(db, kind, grain, cluster, ts, ts + 1, {}, opts)) acc.add(r, opts);
    const list = [...acc.values()];
    this.cache.set(cluster, kind, grain, ts, version, list);
    return list;
  }

  /** Per-entity, per-step series over [from, from + points·step): raw rows for sub-hour steps, else hourly + unrolled raw. */
  async series(db: Db, kind: EntityKind, cluster: string, from: number, step: number, points: number, u: Unrolled, filters: Filters, opts: LoadOpts): Promise<SeriesMap> {
    const acc = new SeriesMap(kind, from, step, points);
    const to = from + step * points;
    if (step < HOUR) {
      for (const r of await metricRows(db, kind, 'raw', cluster, from, to, filters, opts)) acc.add(r, opts);
    } else {
      // Hour by hour through the bucket cache (per filter): a repeated detail read fetches only the
      // hours a rollup changed since.
      const full: LoadOpts = { hist: true, codes: kind === 'service' };
      const tag = `hourly${JSON.stringify(filters)}`;
      const lists: [number, Entity[]][] = [];
      const missing: BucketVersion[] = [];
      for (const v of await bucketVersions(db, cluster, from)) {
        if (v.grain !== 'hourly' || v.ts < from || v.ts >= to) continue;
        const hit = this.cache.get(cluster, kind, tag, v.ts, v.version);
        if (hit) lists.push([v.ts, hit]);
        else missing.push(v);
      }
      if (missing.length) {
        const want = missing.map((v) => v.ts);
        let q = db.selectFrom(tableName(kind, 'hourly')).select(metricColumnsOf(kind, full)).where('cluster_id', '=', cluster);
        q = want.length <= 200 ? q.where('ts', 'in', want) : q.where('ts', '>=', Math.min(...want)).where('ts', '<=', Math.max(...want));
        for (const [c, v] of filterEntries(filters)) q = q.where(c, '=', v);
        const byTs = new Map<number, EntityMap>();
        for (const r of await q.execute()) {
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

}
