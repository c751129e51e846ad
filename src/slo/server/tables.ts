/**
 * Tables of the SLO module (all named slo_*) and their migrations. Portable across SQLite and
 * PostgreSQL: Kysely's schema builder, epoch-ms `bigint`, counts `double precision` (Prometheus
 * deltas may be fractional), booleans as 0/1 integers, histograms as JSON text.
 *
 *   slo_snapshots        one row per accepted snapshot: the idempotency key (cluster_id, agent_id, seq)
 *                        and the rollup flag `rolled`
 *   slo_agents           (cluster_id, agent_id) → first/last seen, last seq
 *   slo_route_mappings   (cluster_id, domain, path_prefix) → ingress route and its service
 *   slo_mapping_versions cluster_id → version, bumped with every change of its mappings
 *   slo_{service,edge,ingress}_raw      one row per entity per snapshot, ts = the snapshot's minute
 *   slo_{service,edge,ingress}_hourly   one row per entity per UTC hour (ts = hour start)
 *   slo_{service,edge,ingress}_daily    one row per entity per UTC day (ts = midnight)
 *   slo_rollup_buckets   (cluster_id, grain, ts) → version: a fresh value of slo_rollup_generation each
 *                        time the rollup writes the bucket (caches key on it; see server/cache.ts)
 *   slo_targets          objectives per (cluster_id, scope, key, slo_window)
 *   slo_status_current   last evaluated status per (cluster_id, scope, key)
 *   slo_status_history   status transitions
 *
 * Metric columns of every raw/hourly/daily table: requests, failures, tls_requests (double),
 * codes (JSON object status code → count, or null), lat_bounds / lat_counts (JSON arrays: the exact
 * bucket layout in ms and the per-bucket counts, +Inf last), lat_sum (ms).
 */
import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { ModuleMigration } from '../../platform/backends/sql/migrations.js';
import { routeRulesMigration } from './route-rules.js';
import type { EntityColumn, MetricColumn, MetricTableName } from './table-rows.js';

export type EntityKind = 'service' | 'edge' | 'ingress';
export type Grain = 'raw' | 'hourly' | 'daily';
export const KINDS: readonly EntityKind[] = ['service', 'edge', 'ingress'];

export type {
  AgentTable,
  EntityColumn,
  EntityColumnsTable,
  MappingVersionTable,
  MetricColumn,
  MetricTable,
  MetricTableName,
  QuarantineTable,
  RollupBucketTable,
  RollupGenerationTable,
  RouteMappingTable,
  SloTables,
  SnapshotTable,
  StatusCurrentTable,
  StatusHistoryTable,
  TargetTable,
} from './table-rows.js';

/** Columns identifying the entity of a row, per kind. */
export const KEY_COLUMNS: Record<EntityKind, readonly EntityColumn[]> = {
  service: ['namespace', 'name'],
  edge: ['src_namespace', 'src_name', 'dst_namespace', 'dst_name'],
  ingress: ['domain', 'path_prefix'],
};
/** Descriptive columns carried along (the newest value wins when rows merge). */
export const ATTR_COLUMNS: Record<EntityKind, readonly EntityColumn[]> = {
  service: [],
  edge: [],
  ingress: ['service_key', 'service_name'],
};
export const METRIC_COLUMNS = ['requests', 'failures', 'tls_requests', 'codes', 'lat_bounds', 'lat_counts', 'lat_sum'] as const;

export const tableName = (kind: EntityKind, grain: Grain): MetricTableName => `slo_${kind}_${grain}`;

/** A row of any metric table as read (raw rows also carry snap_id; only the kind's entity columns are set). */
export type MetricRow = {
  cluster_id: string;
  ts: number;
  snap_id?: number;
  requests: number;
  failures: number;
  tls_requests: number;
  codes: string | null;
  lat_bounds: string | null;
  lat_counts: string | null;
  lat_sum: number;
} & Partial<Record<EntityColumn, string>>;

// The schema builder is untyped (it creates the tables the types above describe).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Ctb = CreateTableBuilder<any, any>;

const KEY_TYPES: Record<EntityColumn, string> = {
  namespace: 'varchar(253)',
  name: 'varchar(253)',
  src_namespace: 'varchar(253)',
  src_name: 'varchar(253)',
  dst_namespace: 'varchar(253)',
  dst_name: 'varchar(253)',
  domain: 'varchar(253)',
  path_prefix: 'varchar(1024)',
  service_key: 'varchar(512)',
  service_name: 'varchar(512)',
};

function metricTable(db: Db, kind: EntityKind, grain: Grain): Ctb {
  let t = db.schema.createTable(tableName(kind, grain)) as Ctb;
  if (grain === 'raw') t = t.addColumn('snap_id', 'bigint', (c) => c.notNull());
  t = t.addColumn('cluster_id', 'varchar(64)', (c) => c.notNull()).addColumn('ts', 'bigint', (c) => c.notNull());
  for (const k of KEY_COLUMNS[kind]) t = t.addColumn(k, KEY_TYPES[k] as 'text', (c) => c.notNull());
  for (const k of ATTR_COLUMNS[kind]) t = t.addColumn(k, KEY_TYPES[k] as 'text', (c) => c.notNull().defaultTo(''));
  return t
    .addColumn('requests', 'double precision', (c) => c.notNull())
    .addColumn('failures', 'double precision', (c) => c.notNull())
    .addColumn('tls_requests', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('codes', 'text')
    .addColumn('lat_bounds', 'text')
    .addColumn('lat_counts', 'text')
    .addColumn('lat_sum', 'double precision', (c) => c.notNull().defaultTo(0));
}

/** Raw tables: index of one entity's (or one domain's) rows over time, for detail reads of recent minutes. */
const RAW_ENTITY_INDEX: Partial<Record<EntityKind, string[]>> = {
  service: ['cluster_id', 'namespace', 'name', 'ts'],
  ingress: ['cluster_id', 'domain', 'ts'],
};

/**
 * Primary key of the hourly and daily tables, ordered for the detail reads (one domain, service or
 * caller over a time range). On SQLite these tables are WITHOUT ROWID, i.e. stored in this order, so
 * a domain's 30 days are contiguous instead of one page per hour. Whole buckets (list and topology
 * reads, retention) go through the (cluster_id, ts) index.
 */
export const ROLLUP_KEY: Record<EntityKind, readonly MetricColumn[]> = {
  service: ['cluster_id', 'namespace', 'name', 'ts'],
  edge: ['cluster_id', 'src_namespace', 'src_name', 'ts', 'dst_namespace', 'dst_name'],
  ingress: ['cluster_id', 'domain', 'ts', 'path_prefix'],
};

export const sloMigrations: ModuleMigration[] = [
  {
    id: '001_slo_tables',
    async up(db, kind) {
      const id = (t: Ctb) =>
        kind === 'sqlite' ? t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()) : t.addColumn('id', 'bigserial', (c) => c.primaryKey());

      await id(db.schema.createTable('slo_snapshots') as Ctb)
        .addColumn('cluster_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('agent_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('rolled', 'integer', (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint('slo_snapshots_key', ['cluster_id', 'agent_id', 'seq'])
        .execute();
      await db.schema.createIndex('slo_snapshots_unrolled').on('slo_snapshots').columns(['cluster_id', 'id']).where(sql<boolean>`rolled = 0`).execute();
      await db.schema.createIndex('slo_snapshots_ts').on('slo_snapshots').column('ts').execute();

      await db.schema
        .createTable('slo_agents')
        .addColumn('cluster_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('agent_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seq', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('slo_agents_pk', ['cluster_id', 'agent_id'])
        .execute();

      await db.schema
        .createTable('slo_route_mappings')
        .addColumn('cluster_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('domain', 'varchar(253)', (c) => c.notNull())
        .addColumn('path_prefix', 'varchar(1024)', (c) => c.notNull())
        .addColumn('ingress_name', 'varchar(253)', (c) => c.notNull().defaultTo(''))
        .addColumn('namespace', 'varchar(253)', (c) => c.notNull().defaultTo(''))
        .addColumn('tls', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('service_key', 'varchar(512)', (c) => c.notNull())
        .addColumn('service_name', 'varchar(512)', (c) => c.notNull().defaultTo(''))
        .addColumn('service_port', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('slo_route_mappings_pk', ['cluster_id', 'domain', 'path_prefix'])
        .execute();
      // Bumped whenever a cluster's mappings change, so readers can keep them in memory.
      await db.schema
        .createTable('slo_mapping_versions')
        .addColumn('cluster_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('slo_route_mappings_service').on('slo_route_mappings').columns(['cluster_id', 'service_key']).execute();

      for (const k of ['service', 'edge', 'ingress'] as const) {
        await metricTable(db, k, 'raw').execute();
        await db.schema.createIndex(`${tableName(k, 'raw')}_ts`).on(tableName(k, 'raw')).columns(['cluster_id', 'ts']).execute();
        // Edges go without an entity index: the biggest table keeps ingest cheap; edge reads of the 1h
        // range scan the cluster's last hour.
        const rawIndex = RAW_ENTITY_INDEX[k];
        if (rawIndex) await db.schema.createIndex(`${tableName(k, 'raw')}_e`).on(tableName(k, 'raw')).columns(rawIndex).execute();
        for (const g of ['hourly', 'daily'] as const) {
          const name = tableName(k, g);
          let t = metricTable(db, k, g).addPrimaryKeyConstraint(`${name}_pk`, [...ROLLUP_KEY[k]]);
          if (kind === 'sqlite') t = t.modifyEnd(sql`without rowid`);
          await t.execute();
          await db.schema.createIndex(`${name}_ts`).on(name).columns(['cluster_id', 'ts']).execute();
          if (k === 'edge') await db.schema.createIndex(`${name}_dst`).on(name).columns(['cluster_id', 'dst_namespace', 'dst_name', 'ts']).execute();
        }
      }

      await db.schema
        .createTable('slo_rollup_buckets')
        .addColumn('cluster_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('grain', 'varchar(8)', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('slo_rollup_buckets_pk', ['cluster_id', 'grain', 'ts'])
        .execute();

      // One database-wide counter: every rollup batch takes the next value as the version of the buckets it writes.
      await db.schema
        .createTable('slo_rollup_generation')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('value', 'bigint', (c) => c.notNull())
        .execute();
      await db.insertInto('slo_rollup_generation').values({ id: 1, value: 0 }).execute();

      await db.schema
        .createTable('slo_targets')
        .addColumn('cluster_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('scope', 'varchar(16)', (c) => c.notNull())
        .addColumn('key', 'varchar(1300)', (c) => c.notNull())
        .addColumn('slo_window', 'varchar(8)', (c) => c.notNull())
        .addColumn('availability_target', 'double precision', (c) => c.notNull())
        .addColumn('p95_latency_target', 'double precision', (c) => c.notNull())
        .addColumn('p99_latency_target', 'double precision')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_by', 'varchar(200)', (c) => c.notNull().defaultTo(''))
        .addPrimaryKeyConstraint('slo_targets_pk', ['cluster_id', 'scope', 'key', 'slo_window'])
        .execute();

      await db.schema
        .createTable('slo_status_current')
        .addColumn('cluster_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('scope', 'varchar(16)', (c) => c.notNull())
        .addColumn('key', 'varchar(1300)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('since', 'bigint', (c) => c.notNull())
        .addColumn('evaluated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('slo_status_current_pk', ['cluster_id', 'scope', 'key'])
        .execute();

      await id(db.schema.createTable('slo_status_history') as Ctb)
        .addColumn('cluster_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('scope', 'varchar(16)', (c) => c.notNull())
        .addColumn('key', 'varchar(1300)', (c) => c.notNull())
        .addColumn('domain', 'varchar(253)')
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('previous_status', 'varchar(16)')
        .addColumn('availability', 'double precision')
        .addColumn('p95_latency', 'double precision')
        .addColumn('p99_latency', 'double precision')
        .addColumn('error_budget_remaining', 'double precision')
        .addColumn('total_requests', 'double precision', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('slo_status_history_ts').on('slo_status_history').columns(['cluster_id', 'ts']).execute();
      await db.schema.createIndex('slo_status_history_domain').on('slo_status_history').columns(['cluster_id', 'domain', 'ts']).execute();
    },
  },
  {
    // Statuses grew longer than 16 characters ('insufficient_data'); SQLite does not enforce the width.
    id: '003_slo_status_width',
    async up(db, kind) {
      if (kind !== 'postgres') return;
      await db.schema.alterTable('slo_status_current').alterColumn('status', (c) => c.setDataType('varchar(32)')).execute();
      await db.schema.alterTable('slo_status_history').alterColumn('status', (c) => c.setDataType('varchar(32)')).execute();
      await db.schema.alterTable('slo_status_history').alterColumn('previous_status', (c) => c.setDataType('varchar(32)')).execute();
    },
  },
  routeRulesMigration,
  {
    // A snapshot's raw rows are read back by (cluster, minute, snapshot id): by the rollup, and by a
    // replica reading snapshots another replica ingested. Several snapshots in one minute (several
    // agents, short intervals) made that a scan of the whole minute; with snap_id in the index it is
    // a seek to the snapshot's own rows. The index still serves (cluster_id, ts) range reads.
    id: '005_slo_raw_snapshot_index',
    async up(db) {
      // The kinds as of this migration, not KINDS: a kind added later creates its tables after it.
      for (const k of ['service', 'edge', 'ingress'] as const) {
        const name = `${tableName(k, 'raw')}_ts`;
        await db.schema.dropIndex(name).execute();
        await db.schema.createIndex(name).on(tableName(k, 'raw')).columns(['cluster_id', 'ts', 'snap_id']).execute();
      }
    },
  },
];
