/**
 * Fault policies in the SQL store (SQLite or PostgreSQL), every change versioned.
 *
 * One global version, bumped by every change in the change's own transaction (an UPDATE of the
 * single `fault_state` row, which also serialises concurrent writers on PostgreSQL): replicas learn
 * that something changed by reading one integer, and an executor reports the version it enforces.
 * `fault_changes` keeps the history, which answers "when was a fault active on this service".
 * Executors' reports (who is connected, what version, injected counts) live in `fault_executors`.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { SqlStore } from '../platform/backends/sql/db.js';
import type { ModuleMigration } from '../platform/backends/sql/migrations.js';
import type { FaultPolicy } from './policy/index.js';
import { PolicyExistsError, PolicyNotFoundError } from './errors.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Tx = Transaction<any>;

export const faultMigrations: ModuleMigration[] = [
  {
    id: '001_fault_policies',
    async up(db: Db) {
      await db.schema
        .createTable('fault_state')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .execute();
      await db.insertInto('fault_state').values({ id: 1, version: 0 }).execute();
      await db.schema
        .createTable('fault_policies')
        .addColumn('name', 'varchar(63)', (c) => c.primaryKey())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .addColumn('applied_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .execute();
      await db.schema.createIndex('fault_policies_expires_at').on('fault_policies').column('expires_at').execute();
      await db.schema
        .createTable('fault_changes')
        .addColumn('version', 'bigint', (c) => c.primaryKey())
        .addColumn('name', 'varchar(63)', (c) => c.notNull())
        .addColumn('op', 'varchar(8)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('service', 'varchar(253)', (c) => c.notNull())
        .addColumn('namespace', 'varchar(253)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('fault_changes_name').on('fault_changes').columns(['name', 'version']).execute();
      await db.schema.createIndex('fault_changes_at').on('fault_changes').column('at').execute();
      await db.schema
        .createTable('fault_executors')
        .addColumn('executor_id', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('service', 'varchar(253)', (c) => c.notNull())
        .addColumn('namespace', 'varchar(253)', (c) => c.notNull())
        .addColumn('policy_version', 'varchar(64)', (c) => c.notNull())
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addColumn('counters', 'text', (c) => c.notNull())
        .execute();
    },
  },
];

export type ChangeOp = 'apply' | 'delete' | 'expire';

export interface InjectedCounter {
  policy: string;
  rule: number;
  type: string;
  count: number;
}

export interface ExecutorReport {
  executor_id: string;
  service: string;
  namespace: string;
  policy_version: string;
  /** Cumulative since the executor started. */
  counters: InjectedCounter[];
}

export interface ExecutorInfo {
  executor_id: string;
  service: string;
  namespace: string;
  policy_version: string;
  first_seen: number;
  last_seen: number;
  /** Injected faults per policy over the executor's life (restarts included). */
  injected: Record<string, Record<string, number>>;
}

export interface ActiveInterval {
  policy: string;
  /** Epoch ms. */
  from: number;
  /** Epoch ms, or null while still active. */
  to: number | null;
}

interface PolicyRow {
  name: string;
  body: string;
  version: number | string;
  applied_at: number | string;
  created_at: number | string;
  expires_at: number | string | null;
}

interface ChangeRow {
  version: number | string;
  name: string;
  op: ChangeOp;
  at: number | string;
  service: string;
  namespace: string;
}

interface ExecutorRow {
  executor_id: string;
  service: string;
  namespace: string;
  policy_version: string;
  first_seen: number | string;
  last_seen: number | string;
  counters: string;
}

/** Per counter key: the executor's last cumulative value, plus what earlier lives of it counted. */
type CounterState = Record<string, { last: number; carried: number }>;

const WILDCARD = '*';
const selectorValue = (v: string | undefined) => (v === undefined || v === '' ? WILDCARD : v);

/** When a policy stops applying: its own duration, or when its last timed rule ends (null: never). */
export function expiryOf(p: FaultPolicy, appliedAt: number): number | null {
  if (p.spec.duration_seconds) return appliedAt + p.spec.duration_seconds * 1000;
  const rules = p.spec.rules;
  if (rules.every((r) => r.fault.duration_seconds)) return appliedAt + Math.max(...rules.map((r) => r.fault.duration_seconds!)) * 1000;
  return null;
}

function stored(row: PolicyRow): FaultPolicy {
  const p = JSON.parse(row.body) as FaultPolicy;
  p.metadata = { name: p.metadata.name, version: String(Number(row.version)), applied_at: Number(row.applied_at) };
  return p;
}

/** The body as stored: without the server-owned metadata, which lives in columns. */
function bodyOf(p: FaultPolicy): string {
  return JSON.stringify({ metadata: { name: p.metadata.name }, spec: p.spec });
}

export class FaultStore {
  constructor(
    private readonly sqlStore: SqlStore,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.sqlStore.db;
  }

  /** Bump the global version; the row lock also orders concurrent writers on PostgreSQL. */
  private async bump(trx: Tx): Promise<number> {
    const row = (await trx
      .updateTable('fault_state')
      .set({ version: sql`version + 1` })
      .where('id', '=', 1)
      .returning('version')
      .executeTakeFirstOrThrow()) as { version: number | string };
    return Number(row.version);
  }

  private async record(trx: Tx, version: number, name: string, op: ChangeOp, at: number, p?: FaultPolicy): Promise<void> {
    await trx
      .insertInto('fault_changes')
      .values({ version, name, op, at, service: selectorValue(p?.spec.selector?.service), namespace: selectorValue(p?.spec.selector?.namespace) })
      .execute();
  }

  /**
   * Store a policy. `create` refuses an existing name, `update` a missing one, `upsert` takes both.
   * Returns the policy as stored (metadata.version and applied_at set).
   */
  async put(policy: FaultPolicy, mode: 'upsert' | 'create' | 'update' = 'upsert'): Promise<{ policy: FaultPolicy; created: boolean }> {
    const name = policy.metadata.name;
    return this.db.transaction().execute(async (trx) => {
      const version = await this.bump(trx);
      const existing = (await trx.selectFrom('fault_policies').select(['name', 'created_at']).where('name', '=', name).executeTakeFirst()) as
        | Pick<PolicyRow, 'name' | 'created_at'>
        | undefined;
      if (existing && mode === 'create') throw new PolicyExistsError(name);
      if (!existing && mode === 'update') throw new PolicyNotFoundError(name);
      const at = this.now();
      const values = { body: bodyOf(policy), version, applied_at: at, expires_at: expiryOf(policy, at) };
      if (existing) await trx.updateTable('fault_policies').set(values).where('name', '=', name).execute();
      else await trx.insertInto('fault_policies').values({ name, created_at: at, ...values }).execute();
      await this.record(trx, version, name, 'apply', at, policy);
      return { policy: stored({ name, created_at: at, ...values }), created: !existing };
    });
  }

  async get(name: string): Promise<FaultPolicy | null> {
    const row = (await this.db.selectFrom('fault_policies').selectAll().where('name', '=', name).executeTakeFirst()) as PolicyRow | undefined;
    return row ? stored(row) : null;
  }

  /** Every policy, by name (the evaluation order). */
  async list(): Promise<FaultPolicy[]> {
    return (await this.snapshot()).policies;
  }

  /** The policies and the version they are at, read together. */
  async snapshot(): Promise<{ version: number; policies: FaultPolicy[] }> {
    // One snapshot for both reads on PostgreSQL (SQLite runs one transaction at a time anyway). The
    // version is read first regardless: were they ever apart, the policies would be newer than their
    // label, so the next version check fetches again, rather than a label claiming a change the
    // policies lack (which no later check would correct).
    let tx = this.db.transaction();
    if (this.sqlStore.kind === 'postgres') tx = tx.setIsolationLevel('repeatable read');
    return tx.execute(async (trx) => {
      const version = await this.versionIn(trx);
      const rows = (await trx.selectFrom('fault_policies').selectAll().execute()) as PolicyRow[];
      // JavaScript order, not the database collation: policies are evaluated in this order everywhere.
      const policies = rows.map(stored).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
      return { version, policies };
    });
  }

  private async versionIn(db: Db | Tx): Promise<number> {
    const row = (await db.selectFrom('fault_state').select('version').where('id', '=', 1).executeTakeFirstOrThrow()) as { version: number | string };
    return Number(row.version);
  }

  /** The global version: bumped by every change on any replica. */
  async version(): Promise<number> {
    return this.versionIn(this.db);
  }

  async delete(name: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const version = await this.bump(trx);
      const gone = await trx.deleteFrom('fault_policies').where('name', '=', name).executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) throw new PolicyNotFoundError(name);
      await this.record(trx, version, name, 'delete', this.now());
    });
  }

  /** Remove policies whose time is up (the leader runs this). Returns the names removed. */
  async expire(): Promise<string[]> {
    const now = this.now();
    const due = (await this.db.selectFrom('fault_policies').select(['name', 'expires_at']).where('expires_at', '<=', now).execute()) as Pick<PolicyRow, 'name' | 'expires_at'>[];
    const removed: string[] = [];
    for (const d of due) {
      await this.db.transaction().execute(async (trx) => {
        // Re-check inside the transaction: the policy may have been re-applied since the scan.
        const gone = await trx.deleteFrom('fault_policies').where('name', '=', d.name).where('expires_at', '<=', now).executeTakeFirst();
        if (Number(gone.numDeletedRows) === 0) return;
        const version = await this.bump(trx);
        // The interval ends when the policy expired, not when this job noticed.
        await this.record(trx, version, d.name, 'expire', Number(d.expires_at));
        removed.push(d.name);
      });
    }
    return removed;
  }

  /**
   * When policies targeting `service` (and `namespace`, when given) were in force since `since`.
   * A policy's selector wildcard targets every service.
   */
  async activeIntervals(q: { service: string; namespace?: string; since: number }): Promise<ActiveInterval[]> {
    const db = this.db;
    // The state at `since`: the last change of each policy before it.
    const before = (await db
      .selectFrom('fault_changes as c')
      .selectAll()
      .where('c.at', '<', q.since)
      .where(({ eb, selectFrom, ref }) =>
        eb(ref('c.version'), '=', selectFrom('fault_changes as d').select((s) => s.fn.max('d.version').as('v')).whereRef('d.name', '=', 'c.name').where('d.at', '<', q.since)),
      )
      .execute()) as ChangeRow[];
    const after = (await db.selectFrom('fault_changes').selectAll().where('at', '>=', q.since).orderBy('version').execute()) as ChangeRow[];
    const targets = (c: ChangeRow) =>
      (c.service === WILDCARD || c.service === q.service) && (q.namespace === undefined || c.namespace === WILDCARD || c.namespace === q.namespace);
    const open = new Map<string, number>();
    const out: ActiveInterval[] = [];
    const close = (name: string, at: number) => {
      const from = open.get(name);
      if (from === undefined) return;
      open.delete(name);
      out.push({ policy: name, from, to: Math.max(from, at) });
    };
    for (const c of [...before.sort((a, b) => Number(a.version) - Number(b.version)), ...after]) {
      const at = Number(c.at);
      if (c.op === 'apply' && targets(c)) {
        if (!open.has(c.name)) open.set(c.name, at);
      } else {
        close(c.name, at);
      }
    }
    for (const [policy, from] of open) out.push({ policy, from, to: null });
    return out.sort((a, b) => a.from - b.from || (a.policy < b.policy ? -1 : 1));
  }

  /** Drop history older than `before`, except each policy's latest change (the state it is in). */
  async purgeHistory(before: number): Promise<number> {
    const r = await this.db
      .deleteFrom('fault_changes')
      .where('at', '<', before)
      .where(({ eb, selectFrom, ref }) => eb(ref('version'), 'not in', selectFrom('fault_changes as d').select((s) => s.fn.max('d.version').as('v')).groupBy('d.name')))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // ------------------------------------------------------------------ executors

  /** Record an executor's report. Counters are cumulative per executor life; a restart (a counter going down) is carried over. */
  async report(r: ExecutorReport): Promise<void> {
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      const row = (await trx.selectFrom('fault_executors').selectAll().where('executor_id', '=', r.executor_id).executeTakeFirst()) as ExecutorRow | undefined;
      const state: CounterState = row ? (JSON.parse(row.counters) as CounterState) : {};
      const reported = new Map<string, number>();
      for (const c of r.counters) {
        const key = `${c.policy}\u0000${c.rule}\u0000${c.type}`;
        reported.set(key, (reported.get(key) ?? 0) + c.count);
      }
      const restarted = [...reported].some(([k, v]) => (state[k]?.last ?? 0) > v) || Object.keys(state).some((k) => !reported.has(k) && state[k].last > 0);
      if (restarted) {
        for (const s of Object.values(state)) {
          s.carried += s.last;
          s.last = 0;
        }
      }
      for (const [k, v] of reported) (state[k] ??= { last: 0, carried: 0 }).last = v;
      const values = { service: r.service, namespace: r.namespace, policy_version: r.policy_version, last_seen: now, counters: JSON.stringify(state) };
      if (row) await trx.updateTable('fault_executors').set(values).where('executor_id', '=', r.executor_id).execute();
      else await trx.insertInto('fault_executors').values({ executor_id: r.executor_id, first_seen: now, ...values }).execute();
    });
  }

  /** Every executor seen since `since` (epoch ms), most recent first. */
  async executors(since = 0): Promise<ExecutorInfo[]> {
    const rows = (await this.db.selectFrom('fault_executors').selectAll().where('last_seen', '>=', since).orderBy('last_seen', 'desc').execute()) as ExecutorRow[];
    return rows.map((row) => {
      const injected: ExecutorInfo['injected'] = {};
      for (const [key, s] of Object.entries(JSON.parse(row.counters) as CounterState)) {
        const [policy, , type] = key.split('\u0000');
        const byType = (injected[policy] ??= {});
        byType[type] = (byType[type] ?? 0) + s.last + s.carried;
      }
      return {
        executor_id: row.executor_id,
        service: row.service,
        namespace: row.namespace,
        policy_version: row.policy_version,
        first_seen: Number(row.first_seen),
        last_seen: Number(row.last_seen),
        injected,
      };
    });
  }

  /** Forget executors not heard from since `before`. */
  async purgeExecutors(before: number): Promise<number> {
    const r = await this.db.deleteFrom('fault_executors').where('last_seen', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
