import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { SqlStore } from '../../platform/backends/sql/db.js';
import type { SloTables } from './tables.js';

/** The module's typed view of a connection (or of the pool, outside transactions). */
export type Db = Kysely<SloTables>;

/** The store's pool, typed with the module's tables. */
export const sloDb = (store: SqlStore): Db => store.db as Kysely<SloTables>;

/** PostgreSQL advisory lock keys of the SLO module (arbitrary constants, "SLO" + n). */
export const LOCK_ROLLUP = 0x534c_4f01;
export const LOCK_STATUS = 0x534c_4f02;
/** Ingest locks per cluster: hash of the cluster id in the low bits, under this prefix. */
const LOCK_INGEST_BASE = 0x534c_0000_0000;

export function ingestLockKey(clusterId: string): number {
  let h = 0;
  for (let i = 0; i < clusterId.length; i++) h = (Math.imul(h, 31) + clusterId.charCodeAt(i)) >>> 0;
  return LOCK_INGEST_BASE + (h & 0xffff_ffff);
}

/**
 * A write transaction that holds the database's write lock from its first statement: SQLite
 * `BEGIN IMMEDIATE` (two processes sharing one file never deadlock on a lock upgrade), PostgreSQL
 * `BEGIN` plus, when `lock` is given, a transaction-scoped advisory lock so that jobs running on two
 * replicas at once (a lease hand-over) serialize instead of double-counting.
 */
export async function writeTx<T>(store: SqlStore, lock: number | null, fn: (db: Db) => Promise<T>): Promise<T> {
  return store.db.connection().execute(async (conn) => {
    await sql.raw(store.kind === 'sqlite' ? 'BEGIN IMMEDIATE' : 'BEGIN').execute(conn);
    try {
      if (store.kind === 'postgres' && lock !== null) await sql`select pg_advisory_xact_lock(${lock}::bigint)`.execute(conn);
      const out = await fn(conn as Db);
      await sql.raw('COMMIT').execute(conn);
      return out;
    } catch (err) {
      await sql.raw('ROLLBACK').execute(conn).catch(() => {});
      throw err;
    }
  });
}

/**
 * A read-only transaction with one consistent snapshot (PostgreSQL REPEATABLE READ; SQLite's
 * deferred transaction reads one WAL snapshot), so a query that reads hourly rollups and the raw rows
 * not yet rolled up can never see a rollup half-way (counted twice or not at all).
 */
export async function readTx<T>(store: SqlStore, fn: (db: Db) => Promise<T>): Promise<T> {
  return store.db.connection().execute(async (conn) => {
    await sql.raw(store.kind === 'sqlite' ? 'BEGIN' : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY').execute(conn);
    try {
      const out = await fn(conn as Db);
      await sql.raw('COMMIT').execute(conn);
      return out;
    } catch (err) {
      await sql.raw('ROLLBACK').execute(conn).catch(() => {});
      throw err;
    }
  });
}

const statementCache = new Map<string, string>();

/**
 * Multi-row INSERT of plain rows, straight to the driver: the SQL text is built once per (engine,
 * table, columns, row count) and reused, so a snapshot's thousands of rows cost no query building.
 * Every row must have the columns of the first, in any order. Returns the rows written.
 */
export async function bulkInsert(db: Db, kind: SqlStore['kind'], table: string, rows: Record<string, unknown>[], rowsPerStatement = 400): Promise<number> {
  if (!rows.length) return 0;
  const cols = Object.keys(rows[0]);
  for (let i = 0; i < rows.length; i += rowsPerStatement) {
    const n = Math.min(rowsPerStatement, rows.length - i);
    const key = `${kind}\u0000${table}\u0000${cols.join(',')}\u0000${n}`;
    let text = statementCache.get(key);
    if (!text) {
      let p = 0;
      const tuple = () => `(${cols.map(() => (kind === 'postgres' ? `$${++p}` : '?')).join(', ')})`;
      text = `insert into "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) values ${Array.from({ length: n }, tuple).join(', ')}`;
      if (statementCache.size > 200) statementCache.clear();
      statementCache.set(key, text);
    }
    const params: unknown[] = new Array(n * cols.length);
    let k = 0;
    for (let r = i; r < i + n; r++) {
      const row = rows[r];
      for (const c of cols) params[k++] = row[c] ?? null;
    }
    await db.executeQuery(CompiledQuery.raw(text, params));
  }
  return rows.length;
}
