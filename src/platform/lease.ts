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

/** Lease in the SQL store: works for replicas sharing PostgreSQL (or one SQLite file) without Redis. */
export class SqlLease implements LeaseProvider {
  constructor(private readonly sql: SqlStore) {}

  async acquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    // Take the row when it is free, expired, or already ours; otherwise leave it alone.
    await this.sql.db
      .insertInto('platform_leases')
      .values({ name, owner, expires_at: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ owner, expires_at: now + ttlMs })
          .where((eb) => eb.or([eb('platform_leases.owner', '=', owner), eb('platform_leases.expires_at', '<', now)])),
      )
      .execute();
    const row = (await this.sql.db.selectFrom('platform_leases').select('owner').where('name', '=', name).executeTakeFirst()) as
      | { owner: string }
      | undefined;
    return row?.owner === owner;
  }

  async release(name: string, owner: string): Promise<void> {
    await this.sql.db.deleteFrom('platform_leases').where('name', '=', name).where('owner', '=', owner).execute();
  }
}

export class KvLease implements LeaseProvider {
  constructor(private readonly kv: KvStore) {}
  acquire(name: string, owner: string, ttlMs: number) {
    return this.kv.acquireLease(name, owner, ttlMs);
  }
  release(name: string, owner: string) {
    return this.kv.releaseLease(name, owner);
  }
}
