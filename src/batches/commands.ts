/**
 * What users do to batches: create, upload, complete, retry, re-diagnose, delete. Each command
 * writes SQL first (the source of truth), then publishes work; a publish lost to a crash is
 * re-sent by the reconciler (pipeline.ts), and every handler is idempotent.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FINALIZE_QUEUE, PARSE_QUEUE, type BatchDeps } from './deps.js';
import { assertAcceptsFiles, progressPercent, type BatchStatus } from './state.js';
import type { NewBatch } from './store.js';
import type { BatchRow, FileRow } from './tables.js';

export const fileBlobKey = (batchId: string, fileId: string) => `batches/${batchId}/${fileId}`;
export const memberBlobKey = (batchId: string, archiveId: string, index: number) => `batches/${batchId}/${archiveId}/m${index}`;

export interface ParseJob {
  batch_id: string;
  file_id: string;
  generation: number;
}

export interface FinalizeJob {
  batch_id: string;
  generation: number;
}

export interface Progress {
  batch_id: string;
  status: BatchStatus;
  total_files: number;
  processed_files: number;
  failed_files: number;
  progress_percent: number;
  created_at: string;
  updated_at: string;
  completed_at?: string;
}

export function progressOf(b: BatchRow, fileCount?: number): Progress {
  // Until complete freezes it, the total is the number of files uploaded so far.
  const total = b.status === 'pending' ? (fileCount ?? 0) : b.total_files;
  const p: Progress = {
    batch_id: b.id,
    status: b.status,
    total_files: total,
    processed_files: b.processed_files,
    failed_files: b.failed_files,
    progress_percent: progressPercent(b.status, { total: b.status === 'pending' ? 0 : total, processed: b.processed_files, failed: b.failed_files }),
    created_at: new Date(b.created_at).toISOString(),
    updated_at: new Date(b.updated_at).toISOString(),
  };
  if (b.completed_at !== null) p.completed_at = new Date(b.completed_at).toISOString();
  return p;
}

export class BatchCommands {
  constructor(private readonly d: BatchDeps) {}

  async create(input: NewBatch): Promise<BatchRow> {
    const b = await this.d.store.create(input);
    await this.d.events.emit(b.id, 'status', { status: b.status });
    return b;
  }

  /**
   * Stream one file into the blob store, then record it. The same content twice in one batch is
   * stored once (the second upload's blob is removed and the first file is answered).
   */
  async upload(batchId: string, name: string, body: Readable): Promise<{ file: FileRow; duplicate: boolean }> {
    const batch = await this.d.store.get(batchId);
    // Refuse before reading the body when the batch is closed; addFile checks again under its lock.
    assertAcceptsFiles(batchId, batch.status);
    const files = await this.d.store.files(batchId);
    if (files.length >= this.d.settings.maxFilesPerBatch) throw new TooManyFiles(batchId, this.d.settings.maxFilesPerBatch);
    const fileId = randomUUID();
    const key = fileBlobKey(batchId, fileId);
    const { size, sha256 } = await this.d.blob.put(key, body, { maxBytes: this.d.settings.maxFileBytes });
    try {
      const res = await this.d.store.addFile(batchId, { id: fileId, name, size, sha256, blob_key: key });
      if (res.duplicate) await this.d.blob.delete(key);
      else await this.d.events.emit(batchId, 'file', { file_id: res.file.id, name, status: res.file.status, size });
      return res;
    } catch (err) {
      await this.d.blob.delete(key).catch(() => {});
      throw err;
    }
  }

  /** Freeze the file list and start parsing: pending → uploaded → scattering, one job per file. */
  async complete(batchId: string): Promise<void> {
    const { batch, files } = await this.d.store.complete(batchId);
    await this.d.events.emit(batchId, 'status', { status: 'uploaded', total_files: batch.total_files });
    await this.scatter(batch.id, batch.generation, files);
  }

  /** uploaded → scattering, then publish the parse jobs (a crash in between is healed by the reconciler). */
  async scatter(batchId: string, generation: number, files: FileRow[]): Promise<void> {
    if (await this.d.store.transition(batchId, 'uploaded', 'scattering')) await this.d.events.emit(batchId, 'status', { status: 'scattering' });
    await this.publishParse(batchId, generation, files);
  }

  async publishParse(batchId: string, generation: number, files: FileRow[], nudge = ''): Promise<void> {
    for (const f of files) {
      const job: ParseJob = { batch_id: batchId, file_id: f.id, generation };
      await this.d.bus.publish(PARSE_QUEUE, job, { msgId: `parse-${f.id}-${generation}${nudge}` });
    }
  }

  async publishFinalize(batchId: string, generation: number, nudge = ''): Promise<void> {
    const job: FinalizeJob = { batch_id: batchId, generation };
    await this.d.bus.publish(FINALIZE_QUEUE, job, { msgId: `finalize-${batchId}-${generation}${nudge}` });
  }

  /** A failed batch parses its failed files again; a completed one is re-diagnosed. */
  async retry(batchId: string): Promise<BatchStatus> {
    const b = await this.d.store.get(batchId);
    if (b.status === 'completed') {
      const generation = await this.d.store.rediagnose(batchId);
      await this.d.cache.invalidate(batchId);
      await this.d.events.emit(batchId, 'status', { status: 'diagnosing', generation });
      await this.publishFinalize(batchId, generation);
      return 'diagnosing';
    }
    const files = await this.d.store.retry(batchId);
    const after = await this.d.store.get(batchId);
    await this.d.events.emit(batchId, 'status', { status: 'uploaded', generation: after.generation });
    await this.scatter(batchId, after.generation, files);
    if (files.length === 0) await this.publishFinalizeIfDone(batchId);
    return 'scattering';
  }

  /** The barrier, checked after every file outcome and by the reconciler. */
  async publishFinalizeIfDone(batchId: string): Promise<void> {
    const c = await this.d.store.counts(batchId);
    if (c.status !== 'scattering' || c.processed_files + c.failed_files < c.total_files) return;
    if (await this.d.store.transition(batchId, 'scattering', 'scattered')) {
      await this.d.events.emit(batchId, 'status', { status: 'scattered' });
      await this.publishFinalize(batchId, c.generation);
    }
  }

  async delete(batchId: string): Promise<void> {
    await this.d.store.delete(batchId);
    await this.d.cache.invalidate(batchId);
    await this.d.blob.deletePrefix(`batches/${batchId}/`);
  }
}

/** The batch already holds as many files as allowed. */
export class TooManyFiles extends Error {
  constructor(
    readonly batchId: string,
    readonly limit: number,
  ) {
    super(`batch ${batchId} already has ${limit} files (batches.maxFilesPerBatch)`);
    this.name = 'TooManyFiles';
  }
}
