/**
 * The rollup: moves unrolled snapshots' raw rows into the hourly and daily buckets and flags the
 * snapshots rolled, in one transaction (the invariant in repository.ts), and tells the bucket cache.
 */
import { sql } from 'kysely';
import type { SqlStore } from '../../../platform/backends/sql/db.js';
import { encodeHist } from '../../math/histogram.js';
import type { Golden } from '../../math/slo.js';
import { DAY, HOUR, floorTo } from '../../math/time.js';
import type { BucketCache } from '../cache.js';
import { EntityMap, addRow, entityKey, type Entity, type LoadOpts } from '../entities.js';
import { poisonedSnapshots, quarantineSnapshots } from '../quarantine.js';
import { ATTR_COLUMNS, KEY_COLUMNS, KINDS, METRIC_COLUMNS, ROLLUP_KEY, tableName, type EntityKind, type MetricRow } from '../tables.js';
import { LOCK_ROLLUP, writeTx, type Db } from '../tx.js';
import { ROWS_PER_INSERT, chunks } from './shared.js';

export interface RollupResult {
  snapshots: number;
  rows: number;
  /** Snapshots set aside because a raw row could not be rolled up (see quarantine.ts). */
  quarantined?: { id: number; reason: string }[];
}

export class Rollup {
  constructor(
    private readonly store: SqlStore,
    /** Buckets this replica rewrote go straight into its cache (their new version with them). */
    private readonly cache: BucketCache,
  ) {}

  /**
   * Rolls up to `maxSnapshots` unrolled snapshots into the hourly and daily tables (histograms merged
   * bucket by bucket) and marks them rolled, all in one transaction. Safe to run concurrently on
   * several replicas (PostgreSQL advisory lock / SQLite write lock) and after a crash at any point.
   */
  async rollupBatch(maxSnapshots = 16): Promise<RollupResult> {
    const r = await writeTx(this.store, LOCK_ROLLUP, async (db): Promise<RollupResult & { gen?: number; quarantined?: { id: number; reason: string }[]; fresh?: { cluster: string; kind: EntityKind; grain: 'hourly' | 'daily'; ts: number; entities: Entity[] }[] }> => {
      const snaps = await db
        .selectFrom('slo_snapshots')
        .select(['id', 'cluster_id', 'ts'])
        .where('rolled', '=', 0)
        .orderBy('id')
        .limit(maxSnapshots)
        .execute();
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
      const touched: { cluster_id: string; grain: 'hourly' | 'daily'; ts: number }[] = [];
      const fresh: { cluster: string; kind: EntityKind; grain: 'hourly' | 'daily'; ts: number; entities: Entity[] }[] = [];
      for (const [cluster, { ids, minutes }] of byCluster) {
        const rawByKind = new Map<EntityKind, MetricRow[]>();
        for (const kind of KINDS) {
          rawByKind.set(
            kind,
            await db
              .selectFrom(tableName(kind, 'raw'))
              .selectAll()
              .where('cluster_id', '=', cluster)
              .where('ts', 'in', [...minutes])
              .where('snap_id', 'in', ids)
              .execute(),
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
      const gen = Number((await db.selectFrom('slo_rollup_generation').select('value').where('id', '=', 1).executeTakeFirstOrThrow()).value);
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
    for (const r of await existing.execute()) {
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
