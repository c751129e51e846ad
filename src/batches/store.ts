/**
 * SQL side of the batches module. Every status move is a compare-and-set; every file outcome
 * bumps its batch's counter in the same transaction and only when the file's own status changed,
 * so a redelivered or duplicated parse result is counted once.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { SqlStore } from '../platform/backends/sql/db.js';
import { writeTransaction } from '../platform/backends/sql/write-tx.js';
import { assertAcceptsFiles, assertCompletable, BatchStateError, canTransition, type BatchStatus } from './state.js';
import type { BatchRow, BatchTables, EventRow, FileRow } from './tables.js';

type Db = Kysely<BatchTables>;

export class BatchNotFound extends Error {
  constructor(readonly batchId: string) {
    super(`no batch ${batchId}`);
    this.name = 'BatchNotFound';
  }
}

export class FileNotFound extends Error {
  constructor(readonly fileId: string) {
    super(`no file ${fileId}`);
    this.name = 'FileNotFound';
  }
}

export interface NewBatch {
  vehicle_id: string;
  vin: string;
  expected_workers?: number;
  labels?: Record<string, string>;
}

export interface NewFile {
  name: string;
  size: number;
  sha256: string;
  blob_key: string;
  id?: string;
  parent_id?: string | null;
}

export interface ListQuery {
  vehicle_id?: string;
  vin?: string;
  status?: BatchStatus;
  since?: number;
  until?: number;
  limit: number;
  cursor?: { created_at: number; id: string };
}

export interface ParsedResult {
  format: string;
  records: number;
  first_time: number | null;
  last_time: number | null;
  error_count: number;
  partial: string;
}

export interface Counts {
  status: BatchStatus;
  total_files: number;
  processed_files: number;
  failed_files: number;
  generation: number;
}

const num = (v: unknown) => (v === null || v === undefined ? v : Number(v));

/** bigint columns come back as strings from pg: normalise once here. */
function batchRow(r: BatchRow): BatchRow {
  return {
    ...r,
    total_files: Number(r.total_files),
    processed_files: Number(r.processed_files),
    failed_files: Number(r.failed_files),
    generation: Number(r.generation),
    expected_workers: num(r.expected_workers) as number | null,
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
    completed_at: num(r.completed_at) as number | null,
  };
}

function fileRow(r: FileRow): FileRow {
  return {
    ...r,
    size: Number(r.size),
    records: Number(r.records),
    error_count: Number(r.error_count),
    first_time: num(r.first_time) as number | null,
    last_time: num(r.last_time) as number | null,
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
  };
}

export class BatchStore {
  /** Report rows read from SQL (the single-flight test and a metric count them). */
  reportReads = 0;

  constructor(
    private readonly sql: SqlStore,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.sql.db as unknown as Db;
  }

  private tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return writeTransaction<BatchTables, T>(this.sql, fn);
  }

  async create(input: NewBatch): Promise<BatchRow> {
    const now = this.now();
    const row: BatchRow = {
      id: randomUUID(),
      vehicle_id: input.vehicle_id,
      vin: input.vin,
      status: 'pending',
      labels: JSON.stringify(input.labels ?? {}),
      expected_workers: input.expected_workers ?? null,
      total_files: 0,
      processed_files: 0,
      failed_files: 0,
      generation: 0,
      error: null,
      created_at: now,
      updated_at: now,
      completed_at: null,
    };
    await this.db.insertInto('batch_batches').values(row).execute();
    return row;
  }

  async get(id: string): Promise<BatchRow> {
    const r = await this.db.selectFrom('batch_batches').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new BatchNotFound(id);
    return batchRow(r);
  }

  async list(q: ListQuery): Promise<BatchRow[]> {
    let query = this.db.selectFrom('batch_batches').selectAll();
    if (q.vehicle_id !== undefined) query = query.where('vehicle_id', '=', q.vehicle_id);
    if (q.vin !== undefined) query = query.where('vin', '=', q.vin);
    if (q.status !== undefined) query = query.where('status', '=', q.status);
    if (q.since !== undefined) query = query.where('created_at', '>=', q.since);
    if (q.until !== undefined) query = query.where('created_at', '<', q.until);
    if (q.cursor) {
      const c = q.cursor;
      query = query.where((eb) => eb.or([eb('created_at', '<', c.created_at), eb.and([eb('created_at', '=', c.created_at), eb('id', '<', c.id)])]));
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
    return rows.map(batchRow);
  }

  async files(batchId: string): Promise<FileRow[]> {
    const rows = await this.db.selectFrom('batch_files').selectAll().where('batch_id', '=', batchId).orderBy('created_at').orderBy('id').execute();
    return rows.map(fileRow);
  }

  async file(batchId: string, fileId: string): Promise<FileRow> {
    const r = await this.db.selectFrom('batch_files').selectAll().where('batch_id', '=', batchId).where('id', '=', fileId).executeTakeFirst();
    if (!r) throw new FileNotFound(fileId);
    return fileRow(r);
  }

  /** The file of this batch with this content, if one was stored already. */
  async fileBySha(batchId: string, sha256: string, parentId: string | null = null): Promise<FileRow | undefined> {
    let q = this.db.selectFrom('batch_files').selectAll().where('batch_id', '=', batchId).where('sha256', '=', sha256);
    q = parentId === null ? q.where('parent_id', 'is', null) : q.where('parent_id', '=', parentId);
    const r = await q.executeTakeFirst();
    return r ? fileRow(r) : undefined;
  }

  /** Record an uploaded file; `duplicate` when the same content is already in the batch (nothing added). */
  async addFile(batchId: string, f: NewFile): Promise<{ file: FileRow; duplicate: boolean }> {
    return this.tx(async (db) => {
      const b = await db.selectFrom('batch_batches').select(['status']).where('id', '=', batchId).executeTakeFirst();
      if (!b) throw new BatchNotFound(batchId);
      assertAcceptsFiles(batchId, b.status);
      const existing = await db.selectFrom('batch_files').selectAll().where('batch_id', '=', batchId).where('sha256', '=', f.sha256).where('parent_id', 'is', null).executeTakeFirst();
      if (existing) return { file: fileRow(existing), duplicate: true };
      const now = this.now();
      const row = newFileRow(batchId, null, f, 'uploaded', now);
      await db.insertInto('batch_files').values(row).execute();
      await db.updateTable('batch_batches').set({ updated_at: now }).where('id', '=', batchId).execute();
      return { file: row, duplicate: false };
    });
  }

  /** pending → uploaded, freezing total_files; the files to parse are queued. */
  async complete(batchId: string): Promise<{ batch: BatchRow; files: FileRow[] }> {
    return this.tx(async (db) => {
      const b = await db.selectFrom('batch_batches').selectAll().where('id', '=', batchId).executeTakeFirst();
      if (!b) throw new BatchNotFound(batchId);
      const files = await db.selectFrom('batch_files').selectAll().where('batch_id', '=', batchId).execute();
      assertCompletable(batchId, b.status, files.length);
      const now = this.now();
      await db.updateTable('batch_batches').set({ status: 'uploaded', total_files: files.length, updated_at: now }).where('id', '=', batchId).where('status', '=', 'pending').execute();
      await db.updateTable('batch_files').set({ status: 'queued', updated_at: now }).where('batch_id', '=', batchId).execute();
      return { batch: batchRow({ ...b, status: 'uploaded', total_files: files.length, updated_at: now }), files: files.map((f) => fileRow({ ...f, status: 'queued' })) };
    });
  }

  /** Compare-and-set of the batch status; false when another replica moved it first. */
  async transition(batchId: string, from: BatchStatus | BatchStatus[], to: BatchStatus, extra: { error?: string | null } = {}): Promise<boolean> {
    const froms = Array.isArray(from) ? from : [from];
    for (const f of froms) if (!canTransition(f, to) && f !== to) throw new BatchStateError(batchId, f, to);
    const now = this.now();
    const res = await this.db
      .updateTable('batch_batches')
      .set({ status: to, updated_at: now, ...(to === 'completed' ? { completed_at: now } : {}), ...(extra.error !== undefined ? { error: extra.error } : {}) })
      .where('id', '=', batchId)
      .where('status', 'in', froms)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** queued → parsing; undefined when the file already has an outcome (a redelivery after success). */
  async startFile(fileId: string): Promise<FileRow | undefined> {
    const r = await this.db.selectFrom('batch_files').selectAll().where('id', '=', fileId).executeTakeFirst();
    if (!r) throw new FileNotFound(fileId);
    if (r.status === 'parsed' || r.status === 'failed') return undefined;
    await this.db.updateTable('batch_files').set({ status: 'parsing', updated_at: this.now() }).where('id', '=', fileId).where('status', 'in', ['queued', 'parsing']).execute();
    return fileRow({ ...r, status: 'parsing' });
  }

  /** Record a parse outcome once; returns the batch counters after it, and whether this call counted. */
  async finishFile(fileId: string, outcome: { parsed: ParsedResult } | { failed: string; format?: string | null }): Promise<{ counted: boolean; counts: Counts; batchId: string }> {
    return this.tx(async (db) => {
      const f = await db.selectFrom('batch_files').select(['batch_id', 'status']).where('id', '=', fileId).executeTakeFirst();
      if (!f) throw new FileNotFound(fileId);
      const now = this.now();
      let counted = false;
      if (f.status !== 'parsed' && f.status !== 'failed') {
        const set =
          'parsed' in outcome
            ? { status: 'parsed' as const, error: null, updated_at: now, ...outcome.parsed }
            : { status: 'failed' as const, error: outcome.failed, format: outcome.format ?? null, updated_at: now };
        const res = await db.updateTable('batch_files').set(set).where('id', '=', fileId).where('status', 'in', ['queued', 'parsing']).executeTakeFirst();
        counted = Number(res.numUpdatedRows) === 1;
        if (counted) {
          const col = 'parsed' in outcome ? 'processed_files' : 'failed_files';
          await db
            .updateTable('batch_batches')
            .set((eb) => ({ [col]: eb(col, '+', 1), updated_at: now }))
            .where('id', '=', f.batch_id)
            .execute();
        }
      }
      return { counted, counts: await countsIn(db, f.batch_id), batchId: f.batch_id };
    });
  }

  /**
   * An archive's members become files of the batch: inserted queued, the frozen total grows by
   * their number, and the archive itself counts as processed — all in one transaction, so the
   * barrier never sees the archive done before its members exist.
   */
  async expandArchive(archive: FileRow, members: NewFile[], format: string): Promise<{ members: FileRow[]; counts: Counts }> {
    return this.tx(async (db) => {
      const now = this.now();
      const cur = await db.selectFrom('batch_files').select(['status']).where('id', '=', archive.id).executeTakeFirst();
      if (!cur || cur.status === 'parsed' || cur.status === 'failed') {
        const existing = await db.selectFrom('batch_files').selectAll().where('parent_id', '=', archive.id).execute();
        return { members: existing.map(fileRow), counts: await countsIn(db, archive.batch_id) };
      }
      const rows = members.map((m) => newFileRow(archive.batch_id, archive.id, m, 'queued', now));
      if (rows.length) await db.insertInto('batch_files').values(rows).execute();
      await db.updateTable('batch_files').set({ status: 'parsed', format, updated_at: now, records: 0 }).where('id', '=', archive.id).execute();
      await db
        .updateTable('batch_batches')
        .set((eb) => ({ total_files: eb('total_files', '+', rows.length), processed_files: eb('processed_files', '+', 1), updated_at: now }))
        .where('id', '=', archive.batch_id)
        .execute();
      return { members: rows, counts: await countsIn(db, archive.batch_id) };
    });
  }

  async counts(batchId: string): Promise<Counts> {
    return countsIn(this.db, batchId);
  }

  /** Partial aggregates of the parsed files, in file order. */
  async partials(batchId: string): Promise<{ file: FileRow; partial: string }[]> {
    const rows = await this.files(batchId);
    return rows.filter((f) => f.status === 'parsed' && f.partial !== null).map((f) => ({ file: f, partial: f.partial! }));
  }

  async saveReport(batchId: string, generation: number, report: string): Promise<void> {
    await this.tx(async (db) => {
      await db.deleteFrom('batch_reports').where('batch_id', '=', batchId).execute();
      await db.insertInto('batch_reports').values({ batch_id: batchId, generation, report, created_at: this.now() }).execute();
    });
  }

  async report(batchId: string): Promise<{ generation: number; report: string } | undefined> {
    this.reportReads++;
    const r = await this.db.selectFrom('batch_reports').select(['generation', 'report']).where('batch_id', '=', batchId).executeTakeFirst();
    return r ? { generation: Number(r.generation), report: r.report } : undefined;
  }

  /** failed → uploaded with the failed files queued again; a new generation. */
  async retry(batchId: string): Promise<FileRow[]> {
    return this.tx(async (db) => {
      const b = await db.selectFrom('batch_batches').select(['status']).where('id', '=', batchId).executeTakeFirst();
      if (!b) throw new BatchNotFound(batchId);
      if (!canTransition(b.status, 'uploaded')) throw new BatchStateError(batchId, b.status, 'uploaded', `batch ${batchId} is ${b.status}; only a failed batch can be retried (a completed one is re-diagnosed)`);
      const now = this.now();
      const failed = await db.selectFrom('batch_files').selectAll().where('batch_id', '=', batchId).where('status', 'in', ['failed', 'queued', 'parsing']).execute();
      if (failed.length) await db.updateTable('batch_files').set({ status: 'queued', error: null, updated_at: now }).where('batch_id', '=', batchId).where('status', 'in', ['failed', 'queued', 'parsing']).execute();
      const failedCount = failed.filter((f) => f.status === 'failed').length;
      await db
        .updateTable('batch_batches')
        .set((eb) => ({ status: 'uploaded', error: null, failed_files: eb('failed_files', '-', failedCount), generation: eb('generation', '+', 1), updated_at: now, completed_at: null }))
        .where('id', '=', batchId)
        .execute();
      return failed.map((f) => fileRow({ ...f, status: 'queued' }));
    });
  }

  /** completed → diagnosing under a new generation (the report is rebuilt from the stored partials). */
  async rediagnose(batchId: string): Promise<number> {
    return this.tx(async (db) => {
      const b = await db.selectFrom('batch_batches').select(['status', 'generation']).where('id', '=', batchId).executeTakeFirst();
      if (!b) throw new BatchNotFound(batchId);
      if (b.status !== 'completed') throw new BatchStateError(batchId, b.status, 'diagnosing', `batch ${batchId} is ${b.status}; only a completed batch can be re-diagnosed`);
      const generation = Number(b.generation) + 1;
      await db.updateTable('batch_batches').set({ status: 'diagnosing', generation, updated_at: this.now(), completed_at: null }).where('id', '=', batchId).execute();
      return generation;
    });
  }

  /** Remove a batch that is not being worked on; returns its files' blob keys. */
  async delete(batchId: string): Promise<void> {
    await this.tx(async (db) => {
      const b = await db.selectFrom('batch_batches').select(['status']).where('id', '=', batchId).executeTakeFirst();
      if (!b) throw new BatchNotFound(batchId);
      if (b.status !== 'pending' && b.status !== 'completed' && b.status !== 'failed') {
        throw new BatchStateError(batchId, b.status, 'delete', `batch ${batchId} is ${b.status}; wait until it completes or fails`);
      }
      await db.deleteFrom('batch_events').where('batch_id', '=', batchId).execute();
      await db.deleteFrom('batch_reports').where('batch_id', '=', batchId).execute();
      await db.deleteFrom('batch_files').where('batch_id', '=', batchId).execute();
      await db.deleteFrom('batch_batches').where('id', '=', batchId).execute();
    });
  }

  async appendEvent(batchId: string, type: string, data: unknown): Promise<number> {
    const values = { batch_id: batchId, type, data: JSON.stringify(data), at: this.now() };
    const r = await this.db.insertInto('batch_events').values(values as EventRow).returning('id').executeTakeFirstOrThrow();
    return Number(r.id);
  }

  async eventsAfter(batchId: string, afterId: number, limit = 500): Promise<EventRow[]> {
    const rows = await this.db.selectFrom('batch_events').selectAll().where('batch_id', '=', batchId).where('id', '>', afterId).orderBy('id').limit(limit).execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), at: Number(r.at) }));
  }

  /** Batches whose status has not moved for `olderThanMs` while work should be happening. */
  async stalled(olderThanMs: number, limit = 100): Promise<BatchRow[]> {
    const rows = await this.db
      .selectFrom('batch_batches')
      .selectAll()
      .where('status', 'in', ['uploaded', 'scattering', 'scattered', 'gathering', 'gathered', 'diagnosing'])
      .where('updated_at', '<', this.now() - olderThanMs)
      .orderBy('updated_at')
      .limit(limit)
      .execute();
    return rows.map(batchRow);
  }

  /** Touch a batch so the reconciler leaves it alone for a while. */
  async touch(batchId: string): Promise<void> {
    await this.db.updateTable('batch_batches').set({ updated_at: this.now() }).where('id', '=', batchId).execute();
  }
}

/** A file row before any parse: no format, no counts, no partial. */
function newFileRow(batchId: string, parentId: string | null, f: NewFile, status: 'uploaded' | 'queued', now: number): FileRow {
  return {
    id: f.id ?? randomUUID(),
    batch_id: batchId,
    parent_id: parentId,
    name: f.name,
    size: f.size,
    sha256: f.sha256,
    blob_key: f.blob_key,
    format: null,
    status,
    error: null,
    records: 0,
    first_time: null,
    last_time: null,
    error_count: 0,
    partial: null,
    created_at: now,
    updated_at: now,
  };
}

async function countsIn(db: Db, batchId: string): Promise<Counts> {
  const c = await db.selectFrom('batch_batches').select(['status', 'total_files', 'processed_files', 'failed_files', 'generation']).where('id', '=', batchId).executeTakeFirst();
  if (!c) throw new BatchNotFound(batchId);
  return numCounts(c);
}

function numCounts(c: { status: BatchStatus; total_files: unknown; processed_files: unknown; failed_files: unknown; generation: unknown }): Counts {
  return { status: c.status, total_files: Number(c.total_files), processed_files: Number(c.processed_files), failed_files: Number(c.failed_files), generation: Number(c.generation) };
}
