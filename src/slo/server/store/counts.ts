/**
 * Request and failure counts per entity, summed in SQL where that is cheaper than decoding rows
 * (burn-rate spans, error-budget windows and series), plus the unrolled raw rows.
 */
import { sql } from 'kysely';
import type { Counts } from '../../math/slo.js';
import { rollupPlan, type Window } from '../../math/time.js';
import { entityKey } from '../entities.js';
import { KEY_COLUMNS, tableName, type EntityKind, type Grain } from '../tables.js';
import type { Db } from '../tx.js';
import type { WindowReads } from './reads.js';
import { filterEntries, num, type Filters, type Unrolled } from './shared.js';

/** Request and failure sums per entity over several trailing raw windows [from_i, ∞) in one scan. */
export async function rawCountsSince(db: Db, kind: EntityKind, cluster: string, froms: number[], filters: Filters): Promise<Map<string, { parts: Record<string, string>; counts: Counts[] }>> {
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
  for (const [c, v] of filterEntries(filters)) q = q.where(c, '=', v);
  // The sums' aliases are built per span, so their names are not known to the type system.
  const rows: Record<string, unknown>[] = await q.groupBy(keys).execute();
  const out = new Map<string, { parts: Record<string, string>; counts: Counts[] }>();
  for (const r of rows) {
    const parts = Object.fromEntries(keys.map((k) => [k, r[k] as string]));
    out.set(entityKey(kind, r), { parts, counts: froms.map((_, i) => ({ requests: num(r[`r${i}`]), failures: num(r[`f${i}`]) })) });
  }
  return out;
}

/** Whether any row of the entity exists at all (404 vs. an empty answer). */
export async function entityExists(db: Db, kind: EntityKind, cluster: string, filters: Filters): Promise<boolean> {
  for (const grain of ['daily', 'raw'] as const) {
    let q = db.selectFrom(tableName(kind, grain)).select('cluster_id').where('cluster_id', '=', cluster);
    for (const [c, v] of filterEntries(filters)) q = q.where(c, '=', v);
    if (await q.limit(1).executeTakeFirst()) return true;
  }
  return false;
}

export class CountReads {
  constructor(private readonly reads: WindowReads) {}

  /** Request and failure sums per entity over an hour-aligned window (rollups + unrolled raw). */
  async windowCounts(db: Db, kind: EntityKind, cluster: string, w: Window, u: Unrolled, filters: Filters): Promise<Map<string, { parts: Record<string, string>; counts: Counts }>> {
    const keys = KEY_COLUMNS[kind];
    const out = new Map<string, { parts: Record<string, string>; counts: Counts }>();
    if (w.grain === 'hour' && !Object.keys(filters).length) {
      for (const e of (await this.reads.windowEntities(db, kind, cluster, w, u, filters, {})).values()) out.set(e.key, { parts: e.parts, counts: { requests: e.g.requests, failures: e.g.failures } });
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
      for (const [c, v] of filterEntries(filters)) q = q.where(c, '=', v);
      for (const r of await q.groupBy(keys).execute()) add(r);
    }
    if (w.grain !== 'minute') for (const { e } of await this.reads.unrolledEntities(db, kind, cluster, u, w.from, w.to, filters)) add({ ...e.parts, requests: e.g.requests, failures: e.g.failures });
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
    for (const [c, v] of filterEntries(filters)) q = q.where(c, '=', v);
    const rows = await q.groupBy([...keys, 'b']).execute();
    const out = rows.map((r) => ({ key: entityKey(kind, r), ts: anchor + Math.floor(Number(r.b)) * size, requests: num(r.requests), failures: num(r.failures) }));
    for (const { minute, e } of await this.reads.unrolledEntities(db, kind, cluster, u, anchor, Infinity, filters)) {
      out.push({ key: e.key, ts: anchor + Math.floor((minute - anchor) / size) * size, requests: e.g.requests, failures: e.g.failures });
    }
    return out;
  }
}
