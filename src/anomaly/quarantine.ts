/**
 * Baseline windows the baseline job can never read (a key holding the wrong kind of value, left by an
 * older version or a manual edit) are quarantined: recorded here once with the reason, counted in
 * `vigil_job_quarantined_rows_total{job="anomaly.baselines"}`, shown by /readyz as degraded, and
 * treated as empty, so the job carries on with every other bucket instead of retrying them for ever.
 * The KV value itself is left as it is, for an operator to inspect and delete (then the row here).
 */
import { sql } from 'kysely';
import type { SqlStore } from '../platform/backends/sql/db.js';
import type { ModuleMigration } from '../platform/backends/sql/migrations.js';

export const QUARANTINE_TABLE = 'anomaly_quarantine';

export const quarantineMigration: ModuleMigration = {
  id: '002_anomaly_quarantine',
  async up(db, kind) {
    let t = db.schema.createTable(QUARANTINE_TABLE);
    t = kind === 'sqlite' ? t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()) : t.addColumn('id', 'bigserial', (c) => c.primaryKey());
    await t
      .addColumn('job', 'varchar(64)', (c) => c.notNull())
      .addColumn('ref', 'varchar(2000)', (c) => c.notNull())
      .addColumn('reason', 'varchar(2000)', (c) => c.notNull())
      .addColumn('quarantined_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('anomaly_quarantine_ref', ['job', 'ref'])
      .execute();
  },
};

export class AnomalyQuarantine {
  constructor(private readonly sql: SqlStore) {}

  /** Records keys not recorded yet; returns how many are new. */
  async add(job: string, items: readonly { key: string; reason: string }[], at: number): Promise<number> {
    let added = 0;
    const seen = new Set<string>();
    for (const it of items) {
      const ref = it.key.slice(0, 2000);
      if (seen.has(ref)) continue;
      seen.add(ref);
      const r = await this.sql.db
        .insertInto(QUARANTINE_TABLE)
        .values({ job, ref, reason: it.reason.slice(0, 2000), quarantined_at: at })
        .onConflict((oc) => oc.columns(['job', 'ref']).doNothing())
        .executeTakeFirst();
      added += Number(r.numInsertedOrUpdatedRows ?? 0n);
    }
    return added;
  }

  /** How many there are and the newest few. */
  async list(limit = 10): Promise<{ total: number; rows: { id: number; job: string; ref: string; reason: string }[] }> {
    const n = (await this.sql.db.selectFrom(QUARANTINE_TABLE).select(sql<number>`count(*)`.as('n')).executeTakeFirst()) as { n: number | string } | undefined;
    const rows = (await this.sql.db.selectFrom(QUARANTINE_TABLE).select(['id', 'job', 'ref', 'reason']).orderBy('id', 'desc').limit(limit).execute()) as {
      id: number;
      job: string;
      ref: string;
      reason: string;
    }[];
    return { total: Number(n?.n ?? 0), rows: rows.map((r) => ({ ...r, id: Number(r.id) })) };
  }
}
