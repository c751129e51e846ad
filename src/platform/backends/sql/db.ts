import path from 'node:path';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Dialect } from 'kysely';
import { openPrivateSqlite } from './private-file.js';
import { withUnavailableErrors } from './unavailable-dialect.js';

/** The SQL port: one Kysely instance over SQLite (embedded) or PostgreSQL, plus what differs between them. */
export interface SqlStore {
  readonly kind: 'sqlite' | 'postgres';
  // Tables are owned by modules; each module declares its own row types and casts.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly db: Kysely<any>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface SqlOptions {
  /** '' or sqlite:… for SQLite, postgres://… for PostgreSQL */
  url: string;
  dataDir: string;
  poolSize?: number;
  /** PostgreSQL schema to use (tests isolate themselves in their own schema). */
  schema?: string;
  /** How long a request waits for a PostgreSQL connection (a new one, or a free one from a busy pool) before it fails as unavailable (default 10 s). */
  connectTimeoutMs?: number;
}

export function describeSqlUrl(url: string): { kind: 'sqlite' | 'postgres'; target: string } {
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', target: url };
  if (url === '' || url.startsWith('sqlite:')) return { kind: 'sqlite', target: url.replace(/^sqlite:(\/\/)?/, '') };
  throw new Error(`database.url must be empty, sqlite:<file> or postgres://…, got "${url}"`);
}

export async function openSql(opts: SqlOptions): Promise<SqlStore> {
  const { kind, target } = describeSqlUrl(opts.url);
  if (kind === 'sqlite') {
    const file = target || path.join(opts.dataDir, 'vigil.db');
    const sqlite = openPrivateSqlite(file);
    sqlite.pragma('foreign_keys = ON');
    return makeStore('sqlite', withUnavailableErrors(new SqliteDialect({ database: sqlite }), 'SQLite'), async () => {
      sqlite.close();
    });
  }
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      // int8 and numeric come back as strings by default; our values (epoch ms, counts) fit a double.
      if (oid === 20 || oid === 1700) return (v: string) => (v === null ? null : Number(v));
      return pg.types.getTypeParser(oid, format as 'text');
    },
  };
  const pool = new pg.Pool({
    connectionString: target,
    max: opts.poolSize ?? 10,
    types: types as pg.CustomTypesConfig,
    // While the database is unreachable a request fails (503) instead of waiting for a connection for ever.
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    keepAlive: true,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  // A connection lost while idle (pool 'error') or while checked out (the client's own 'error', which
  // the pool stops listening to during checkout) must not crash the process. The query in flight
  // rejects on its own; the broken client is no longer queryable, so the pool discards it on release
  // and opens a fresh connection for the next request. The requests that failed were answered 503 and logged.
  const onError = () => {};
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  if (opts.schema) {
    const c = await pool.connect();
    try {
      await c.query(`CREATE SCHEMA IF NOT EXISTS "${opts.schema.replaceAll('"', '')}"`);
    } finally {
      c.release();
    }
  }
  return makeStore('postgres', withUnavailableErrors(new PostgresDialect({ pool }), 'PostgreSQL'), async () => {
    await pool.end();
  });
}

function makeStore(kind: 'sqlite' | 'postgres', dialect: Dialect, closeFn: () => Promise<void>): SqlStore {
  const db = new Kysely<unknown>({ dialect });
  let closed = false;
  return {
    kind,
    db,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy().catch(() => {});
      await closeFn().catch(() => {});
    },
  };
}
