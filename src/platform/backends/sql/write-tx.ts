import { sql, type Kysely } from 'kysely';
import type { SqlStore } from './db.js';

/**
 * A write transaction that holds the database's write lock from its first statement: SQLite
 * `BEGIN IMMEDIATE` (two processes sharing one file never deadlock on a lock upgrade), PostgreSQL
 * `BEGIN`. Modules pass their own typed view of the connection.
 */
export async function writeTransaction<DB, T>(store: SqlStore, fn: (db: Kysely<DB>) => Promise<T>): Promise<T> {
  return store.db.connection().execute(async (conn) => {
    await sql.raw(store.kind === 'sqlite' ? 'BEGIN IMMEDIATE' : 'BEGIN').execute(conn);
    try {
      const out = await fn(conn as unknown as Kysely<DB>);
      await sql.raw('COMMIT').execute(conn);
      return out;
    } catch (err) {
      await sql.raw('ROLLBACK').execute(conn).catch(() => {});
      throw err;
    }
  });
}
