/**
 * Tables of the batches module (all named batch_*). Portable across SQLite and PostgreSQL: epoch-ms
 * `bigint`, JSON as text.
 *
 *   batch_batches   one row per batch: vehicle, status (state.ts), frozen total_files and the
 *                   processed/failed counters the barrier reads, the report generation
 *   batch_files     one row per file (archive members included, with parent_id): blob key, sha256,
 *                   format, status, failure reason and the per-file partial aggregate (JSON)
 *   batch_reports   the latest report per batch (JSON) and its generation
 *   batch_events    the batch's event log (status, file, progress, report), ids for SSE resume
 */
import type { Kysely } from 'kysely';
import type { ModuleMigration } from '../platform/backends/sql/migrations.js';
import type { BatchStatus, FileStatus } from './state.js';

export interface BatchRow {
  id: string;
  vehicle_id: string;
  vin: string;
  status: BatchStatus;
  labels: string;
  expected_workers: number | null;
  total_files: number;
  processed_files: number;
  failed_files: number;
  generation: number;
  error: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

export interface FileRow {
  id: string;
  batch_id: string;
  parent_id: string | null;
  name: string;
  size: number;
  sha256: string;
  blob_key: string;
  format: string | null;
  status: FileStatus;
  error: string | null;
  records: number;
  first_time: number | null;
  last_time: number | null;
  error_count: number;
  partial: string | null;
  created_at: number;
  updated_at: number;
}

export interface ReportRow {
  batch_id: string;
  generation: number;
  report: string;
  created_at: number;
}

export interface EventRow {
  id: number;
  batch_id: string;
  type: string;
  data: string;
  at: number;
}

export interface BatchTables {
  batch_batches: BatchRow;
  batch_files: FileRow;
  batch_reports: ReportRow;
  batch_events: EventRow;
}

export const batchMigrations: ModuleMigration[] = [
  {
    id: '001_batches',
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>, kind) {
      await db.schema
        .createTable('batch_batches')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('vehicle_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('vin', 'varchar(32)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('expected_workers', 'integer')
        .addColumn('total_files', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('processed_files', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failed_files', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        .execute();
      await db.schema.createIndex('batch_batches_vehicle').on('batch_batches').columns(['vehicle_id', 'created_at']).execute();
      await db.schema.createIndex('batch_batches_created').on('batch_batches').columns(['created_at', 'id']).execute();
      await db.schema.createIndex('batch_batches_status').on('batch_batches').columns(['status', 'updated_at']).execute();

      await db.schema
        .createTable('batch_files')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('batch_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('parent_id', 'varchar(36)')
        .addColumn('name', 'varchar(1024)', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
        .addColumn('blob_key', 'varchar(1024)', (c) => c.notNull())
        .addColumn('format', 'varchar(16)')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('records', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('first_time', 'bigint')
        .addColumn('last_time', 'bigint')
        .addColumn('error_count', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('partial', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      // One copy of a content per batch (and per parent archive for members).
      await db.schema.createIndex('batch_files_sha').on('batch_files').columns(['batch_id', 'sha256']).execute();
      await db.schema.createIndex('batch_files_status').on('batch_files').columns(['batch_id', 'status']).execute();

      await db.schema
        .createTable('batch_reports')
        .addColumn('batch_id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('generation', 'integer', (c) => c.notNull())
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('batch_events')
        .addColumn('id', kind === 'postgres' ? 'bigserial' : 'integer', (c) => (kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('batch_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('type', 'varchar(16)', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('batch_events_batch').on('batch_events').columns(['batch_id', 'id']).execute();
    },
  },
];
