import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Dialect } from 'kysely';

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
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const sqlite = new Database(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    return makeStore('sqlite', new SqliteDialect({ database: sqlite }), async () => {
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
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  if (opts.schema) {
    const c = await pool.connect();
    try {
      await c.query(`CREATE SCHEMA IF NOT EXISTS "${opts.schema.replaceAll('"', '')}"`);
    } finally {
      c.release();
    }
  }
  return makeStore('postgres', new PostgresDialect({ pool }), async () => {
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
