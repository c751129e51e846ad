/**
 * Rows the SLO jobs cannot process are quarantined instead of stalling every run: moved out of the
 * metric tables into `slo_quarantine` (kept, with the reason and the row as JSON, for an operator to
 * inspect), counted in `vigil_job_quarantined_rows_total{job}` and reported by /readyz as degraded
 * until an operator deletes them. The job carries on with every other row.
 *
 * Such rows cannot come through the API (it validates every snapshot); they come from older versions,
 * manual edits or disk corruption. A poisoned snapshot is marked `rolled = -1` (not 0: reads and the
 * rollup skip it; not 1: retention keeps its key), its raw rows move to the quarantine table.
 */
import { sql } from 'kysely';
import type { ModuleMigration } from '../../platform/backends/sql/migrations.js';
import { KEY_COLUMNS, KINDS, tableName, type EntityKind, type MetricColumn, type MetricRow } from './tables.js';
import type { Db } from './tx.js';

/** `slo_snapshots.rolled` of a quarantined snapshot. */
export const QUARANTINED = -1;

export type SloJob = 'slo-rollup' | 'slo-status';

export interface QuarantinedRow {
  id: number;
  job: string;
  ref: string;
  reason: string;
  quarantined_at: number;
}

export const quarantineMigration: ModuleMigration = {
  id: '002_slo_quarantine',
  async up(db, kind) {
    let t = db.schema.createTable('slo_quarantine');
    t = kind === 'sqlite' ? t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()) : t.addColumn('id', 'bigserial', (c) => c.primaryKey());
    await t
      .addColumn('job', 'varchar(32)', (c) => c.notNull())
      .addColumn('cluster_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('ref', 'varchar(2000)', (c) => c.notNull())
      .addColumn('reason', 'varchar(2000)', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('quarantined_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function numberArray(text: string): unknown[] | null {
  const v = JSON.parse(text) as unknown;
  return Array.isArray(v) ? v : null;
}

/** Why a metric row cannot be added into a rollup or a read, or null (pure; never throws). */
export function metricRowProblem(r: MetricRow): string | null {
  for (const c of ['requests', 'failures', 'tls_requests', 'lat_sum'] as const) {
    const v = r[c];
    if (v === null || v === undefined) {
      if (c === 'requests' || c === 'failures') return `${c} is null`;
      continue;
    }
    if (!isFiniteNumber(v)) return `${c} is not a finite number (${JSON.stringify(v)?.slice(0, 40)})`;
  }
  try {
    if (r.codes !== null && r.codes !== undefined) {
      const codes = JSON.parse(String(r.codes)) as unknown;
      if (!codes || typeof codes !== 'object' || Array.isArray(codes)) return 'codes is not a JSON object';
      for (const v of Object.values(codes)) if (!isFiniteNumber(v)) return 'codes holds a value that is not a finite number';
    }
    const hasBounds = r.lat_bounds !== null && r.lat_bounds !== undefined && r.lat_bounds !== '';
    const hasCounts = r.lat_counts !== null && r.lat_counts !== undefined && r.lat_counts !== '';
    if (hasBounds !== hasCounts) return 'lat_bounds and lat_counts must both be set or both be null';
    if (hasBounds) {
      const b = numberArray(String(r.lat_bounds));
      const c = numberArray(String(r.lat_counts));
      if (!b || !c) return 'lat_bounds / lat_counts are not JSON arrays';
      // One layout as flat arrays, several as arrays of arrays (src/slo/math/histogram.ts).
      const layouts: [unknown[], unknown[]][] = Array.isArray(b[0]) ? b.map((x, i) => [x as unknown[], c[i] as unknown[]]) : [[b, c]];
      for (const [lb, lc] of layouts) {
        if (!Array.isArray(lb) || !Array.isArray(lc) || lc.length !== lb.length + 1) return 'lat_counts must have one entry more than lat_bounds';
        if (!lb.every(isFiniteNumber) || !lc.every((x) => isFiniteNumber(x) && x >= 0)) return 'the histogram holds a value that is not a finite number';
      }
    }
  } catch (err) {
    return `unreadable JSON: ${(err as Error).message}`;
  }
  return null;
}

/** Whether an error is about the data (retrying cannot help) rather than the database being unavailable. */
export function isDataError(err: unknown): boolean {
  if (err instanceof SyntaxError || err instanceof TypeError || err instanceof RangeError) return true;
  const code = (err as { code?: unknown })?.code;
  // PostgreSQL SQLSTATE class 22: data exception (numeric overflow, invalid text representation, …).
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

/**
 * Snapshots among raw rows that hold a row no rollup can add, with the first reason found.
 */
export function poisonedSnapshots(rawByKind: Map<EntityKind, MetricRow[]>): Map<number, string> {
  const bad = new Map<number, string>();
  for (const [kind, rows] of rawByKind) {
    for (const r of rows) {
      const id = Number(r.snap_id);
      if (bad.has(id)) continue;
      const p = metricRowProblem(r);
      if (p) bad.set(id, `${tableName(kind, 'raw')}: ${p}`);
    }
  }
  return bad;
}

async function record(db: Db, job: SloJob, cluster: string, ref: string, reason: string, payload: unknown, at: number): Promise<void> {
  await db
    .insertInto('slo_quarantine')
    .values({ job, cluster_id: cluster, ref: ref.slice(0, 2000), reason: reason.slice(0, 2000), payload: JSON.stringify(payload), quarantined_at: at })
    .execute();
}

/**
 * Inside the rollup's transaction: moves the raw rows of poisoned snapshots to the quarantine table
 * and marks the snapshots quarantined. Returns the snapshot ids.
 */
export async function quarantineSnapshots(db: Db, cluster: string, bad: Map<number, string>, rawByKind: Map<EntityKind, MetricRow[]>, at: number): Promise<number[]> {
  const ids = [...bad.keys()];
  if (!ids.length) return [];
  for (const [id, reason] of bad) {
    const rows: Record<string, MetricRow[]> = {};
    for (const [kind, list] of rawByKind) rows[kind] = list.filter((r) => Number(r.snap_id) === id);
    await record(db, 'slo-rollup', cluster, `slo_snapshots id=${id}`, reason, rows, at);
  }
  for (const kind of KINDS) await db.deleteFrom(tableName(kind, 'raw')).where('cluster_id', '=', cluster).where('snap_id', 'in', ids).execute();
  await db.updateTable('slo_snapshots').set({ rolled: QUARANTINED }).where('id', 'in', ids).execute();
  return ids;
}

/**
 * Moves every unreadable row of one cluster's rollup and raw tables to the quarantine table (the
 * status job calls this when evaluating the cluster failed on the data). Rollup buckets that lose a
 * row get a fresh version, so readers' caches drop them. Returns what was quarantined.
 */
export async function sweepCluster(db: Db, job: SloJob, cluster: string, at: number): Promise<{ ref: string; reason: string }[]> {
  const out: { ref: string; reason: string }[] = [];
  const touched = new Map<string, { grain: 'hourly' | 'daily'; ts: number }>();
  for (const kind of KINDS) {
    for (const grain of ['raw', 'hourly', 'daily'] as const) {
      const table = tableName(kind, grain);
      const rows = await db.selectFrom(table).selectAll().where('cluster_id', '=', cluster).execute();
      for (const r of rows) {
        const p = metricRowProblem(r);
        if (!p) continue;
        const keys: MetricColumn[] = [...KEY_COLUMNS[kind], ...(grain === 'raw' ? (['snap_id'] as const) : [])];
        const ref = `${table} cluster_id=${cluster} ts=${Number(r.ts)} ${keys.map((k) => `${k}=${String(r[k])}`).join(' ')}`;
        await record(db, job, cluster, ref, `${table}: ${p}`, r, at);
        let del = db.deleteFrom(table).where('cluster_id', '=', cluster).where('ts', '=', r.ts);
        for (const k of keys) del = del.where(k, '=', r[k] as string);
        await del.execute();
        if (grain !== 'raw') touched.set(`${grain}\u0000${Number(r.ts)}`, { grain, ts: Number(r.ts) });
        out.push({ ref, reason: p });
      }
    }
  }
  if (touched.size) {
    await db.updateTable('slo_rollup_generation').set({ value: sql`value + 1` }).where('id', '=', 1).execute();
    const gen = Number((await db.selectFrom('slo_rollup_generation').select('value').where('id', '=', 1).executeTakeFirstOrThrow()).value);
    for (const t of touched.values()) {
      await db.updateTable('slo_rollup_buckets').set({ version: gen }).where('cluster_id', '=', cluster).where('grain', '=', t.grain).where('ts', '=', t.ts).execute();
    }
  }
  return out;
}

/** Quarantined rows, newest first (at most `limit`), and how many there are. */
export async function listQuarantine(db: Db, limit = 10): Promise<{ total: number; rows: QuarantinedRow[] }> {
  const n = await db.selectFrom('slo_quarantine').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  const rows = await db.selectFrom('slo_quarantine').select(['id', 'job', 'ref', 'reason', 'quarantined_at']).orderBy('id', 'desc').limit(limit).execute();
  return { total: Number(n?.n ?? 0), rows: rows.map((r) => ({ ...r, id: Number(r.id), quarantined_at: Number(r.quarantined_at) })) };
}
