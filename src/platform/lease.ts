import { sql } from 'kysely';
import type { KvStore } from './backends/kv/types.js';
import type { SqlStore } from './backends/sql/db.js';
import type { ModuleMigration } from './backends/sql/migrations.js';

/** Leader election for jobs: a named lease with one owner until it expires or is released. */
export interface LeaseProvider {
  acquire(name: string, owner: string, ttlMs: number): Promise<boolean>;
  release(name: string, owner: string): Promise<void>;
}

export const leaseMigrations: ModuleMigration[] = [
  {
    id: '002_leases',
    async up(db) {
      await db.schema
        .createTable('platform_leases')
        .addColumn('name', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('owner', 'varchar(200)', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];

/** Epoch milliseconds on PostgreSQL's clock, read when the statement runs. */
const PG_NOW_MS = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/**
 * Lease in the SQL store: works for replicas sharing PostgreSQL (or one SQLite file) without Redis.
 *
 * Expiry is written and judged on one clock. On PostgreSQL that is the database's: each replica's own
 * clock may be off by more than the lease, and a contender whose clock ran ahead (or a holder whose
 * clock ran behind) would otherwise see a live lease as expired and make two leaders. A SQLite file
 * is shared only by processes on one machine, hence one clock: there the local clock (`now`, injectable
 * for tests) is the truth.
 */
export class SqlLease implements LeaseProvider {
  private readonly now: () => number;
  constructor(
    private readonly sql: SqlStore,
    opts: { now?: () => number } = {},
  ) {
    this.now = opts.now ?? (() => Date.now());
  }

  async acquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.sql.kind === 'postgres' ? PG_NOW_MS : this.now();
    const expiresAt = sql<number>`${now} + ${ttlMs}`;
    // Take the row when it is free, expired, or already ours; otherwise leave it alone. A row comes
    // back only when this statement inserted or updated it, i.e. when we hold the lease.
    const row = await this.sql.db
      .insertInto('platform_leases')
      .values({ name, owner, expires_at: expiresAt })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ owner, expires_at: expiresAt })
          .where((eb) => eb.or([eb('platform_leases.owner', '=', owner), eb('platform_leases.expires_at', '<', now)])),
      )
      .returning('owner')
      .executeTakeFirst();
    return row?.owner === owner;
  }

  async release(name: string, owner: string): Promise<void> {
    await this.sql.db.deleteFrom('platform_leases').where('name', '=', name).where('owner', '=', owner).execute();
  }
}

/** Lease in the KV store. On Redis, expiry is Redis's own clock (SET … PX inside one script), not the replica's. */
export class KvLease implements LeaseProvider {
  constructor(private readonly kv: KvStore) {}
  acquire(name: string, owner: string, ttlMs: number) {
    return this.kv.acquireLease(name, owner, ttlMs);
  }
  release(name: string, owner: string) {
    return this.kv.releaseLease(name, owner);
  }
}
