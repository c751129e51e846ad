import { sql, type Kysely } from 'kysely';
import type { SqlStore } from './db.js';

/** A versioned schema change owned by one module. Must behave the same on SQLite and PostgreSQL. */
export interface ModuleMigration {
  /** Sortable id within the module, e.g. "001_tokens". */
  id: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  up(db: Kysely<any>, kind: SqlStore['kind']): Promise<void>;
}

export interface MigrationSet {
  module: string;
  migrations: ModuleMigration[];
}

/** Arbitrary constant naming Vigil's migration lock among PostgreSQL advisory locks. */
const PG_LOCK_KEY = 0x56_49_47_4c; // "VIGL"

/**
 * Applies every pending migration in one transaction that holds the database's write lock
 * (PostgreSQL advisory lock; SQLite BEGIN IMMEDIATE), so two replicas starting at once apply each
 * migration exactly once, and a failing migration leaves nothing half-applied on either engine.
 * Returns the names applied, e.g. "platform/001_tokens".
 */
export async function migrate(store: SqlStore, sets: MigrationSet[]): Promise<string[]> {
  const wanted = sets.flatMap((s) => [...s.migrations].sort((a, b) => a.id.localeCompare(b.id)).map((m) => ({ name: `${s.module}/${m.id}`, m })));
  const known = new Set(wanted.map((w) => w.name));
  return store.db.connection().execute(async (conn) => {
    await sql.raw(store.kind === 'sqlite' ? 'BEGIN IMMEDIATE' : 'BEGIN').execute(conn);
    try {
      if (store.kind === 'postgres') await sql`select pg_advisory_xact_lock(${PG_LOCK_KEY})`.execute(conn);
      await conn.schema
        .createTable('vigil_migrations')
        .ifNotExists()
        .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('applied_at', 'bigint', (c) => c.notNull())
        .execute();
      const rows = (await conn.selectFrom('vigil_migrations').select('name').execute()) as { name: string }[];
      const applied = new Set(rows.map((r) => r.name));
      const unknown = [...applied].filter((n) => !known.has(n));
      if (unknown.length) {
        // The database was migrated by a newer Vigil; running older code against it would corrupt data.
        throw new Error(`database has migrations this version does not know: ${unknown.join(', ')} (upgrade Vigil)`);
      }
      const done: string[] = [];
      for (const { name, m } of wanted) {
        if (applied.has(name)) continue;
        try {
          await m.up(conn, store.kind);
        } catch (err) {
          throw new Error(`migration ${name} failed: ${(err as Error).message}`, { cause: err });
        }
        await conn.insertInto('vigil_migrations').values({ name, applied_at: Date.now() }).execute();
        done.push(name);
      }
      await sql.raw('COMMIT').execute(conn);
      return done;
    } catch (err) {
      await sql.raw('ROLLBACK').execute(conn).catch(() => {});
      throw err;
    }
  });
}
