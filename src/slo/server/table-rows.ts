/**
 * Row types of the SLO tables (the migrations in tables.ts create them), for `Kysely<SloTables>`.
 * bigint columns read back as numbers (see platform/backends/sql/db.ts).
 */
import type { ColumnType, Generated } from 'kysely';
import type { SloStatus, SloWindow } from '../math/slo.js';
import type { TargetScope } from '../math/targets.js';
import type { EntityKind, Grain } from './tables.js';

/** A column with a default: optional when inserting. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

/**
 * Key and descriptive columns of all three kinds. The metric tables share one row type, so a query
 * over `tableName(kind, grain)` type-checks for any kind; each kind's tables hold only its own
 * KEY_COLUMNS and ATTR_COLUMNS, which is all the queries ever name, and inserts may leave out the rest.
 */
export interface EntityColumnsTable {
  namespace: Defaulted<string>;
  name: Defaulted<string>;
  src_namespace: Defaulted<string>;
  src_name: Defaulted<string>;
  dst_namespace: Defaulted<string>;
  dst_name: Defaulted<string>;
  domain: Defaulted<string>;
  path_prefix: Defaulted<string>;
  service_key: Defaulted<string>;
  service_name: Defaulted<string>;
}
export type EntityColumn = keyof EntityColumnsTable;

/** slo_{service,edge,ingress}_{raw,hourly,daily} */
export interface MetricTable extends EntityColumnsTable {
  /** Raw tables only: the snapshot the row came with. */
  snap_id: Defaulted<number>;
  cluster_id: string;
  ts: number;
  requests: number;
  failures: number;
  tls_requests: Defaulted<number>;
  codes: string | null;
  lat_bounds: string | null;
  lat_counts: string | null;
  lat_sum: Defaulted<number>;
}

export type MetricTableName = `slo_${EntityKind}_${Grain}`;
export type MetricColumn = keyof MetricTable;

export interface SnapshotTable {
  id: Generated<number>;
  cluster_id: string;
  agent_id: string;
  seq: number;
  ts: number;
  received_at: number;
  /** 0 waiting for the rollup, 1 rolled up, -1 quarantined (quarantine.ts). */
  rolled: Defaulted<number>;
}

export interface AgentTable {
  cluster_id: string;
  agent_id: string;
  first_seen: number;
  last_seen: number;
  last_seq: number;
}

export interface RouteMappingTable {
  cluster_id: string;
  domain: string;
  path_prefix: string;
  ingress_name: Defaulted<string>;
  namespace: Defaulted<string>;
  /** 0/1 */
  tls: Defaulted<number>;
  service_key: string;
  service_name: Defaulted<string>;
  service_port: Defaulted<number>;
  first_seen: number;
  last_seen: number;
}

export interface MappingVersionTable {
  cluster_id: string;
  version: number;
}

export interface RollupBucketTable {
  cluster_id: string;
  grain: 'hourly' | 'daily';
  ts: number;
  version: number;
}

export interface RollupGenerationTable {
  id: number;
  value: number;
}

export interface TargetTable {
  cluster_id: string;
  scope: TargetScope;
  key: string;
  slo_window: SloWindow;
  availability_target: number;
  p95_latency_target: number;
  p99_latency_target: number | null;
  updated_at: number;
  updated_by: Defaulted<string>;
}

export interface StatusCurrentTable {
  cluster_id: string;
  scope: TargetScope;
  key: string;
  status: SloStatus;
  since: number;
  evaluated_at: number;
}

export interface StatusHistoryTable {
  id: Generated<number>;
  cluster_id: string;
  scope: TargetScope;
  key: string;
  domain: string | null;
  ts: number;
  status: SloStatus;
  previous_status: SloStatus | null;
  availability: number | null;
  p95_latency: number | null;
  p99_latency: number | null;
  error_budget_remaining: number | null;
  total_requests: Defaulted<number>;
}

export interface QuarantineTable {
  id: Generated<number>;
  job: string;
  cluster_id: string;
  ref: string;
  reason: string;
  payload: string;
  quarantined_at: number;
}

/** Every table of the module, for `Kysely<SloTables>` (bigint columns read back as numbers, see sql/db.ts). */
export interface SloTables extends Record<MetricTableName, MetricTable> {
  slo_snapshots: SnapshotTable;
  slo_agents: AgentTable;
  slo_route_mappings: RouteMappingTable;
  slo_mapping_versions: MappingVersionTable;
  slo_rollup_buckets: RollupBucketTable;
  slo_rollup_generation: RollupGenerationTable;
  slo_targets: TargetTable;
  slo_status_current: StatusCurrentTable;
  slo_status_history: StatusHistoryTable;
  slo_quarantine: QuarantineTable;
}
