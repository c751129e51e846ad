/**
 * The batch life cycle (pure). Every move is checked here and then written as a compare-and-set
 * (`UPDATE … WHERE status = from`), so two replicas can never both move one batch.
 *
 *   pending → uploaded → scattering → scattered → gathering → gathered → diagnosing → completed
 *   any working state → failed;  failed → uploaded (retry);  completed → diagnosing (re-diagnose)
 */

export const BATCH_STATUSES = ['pending', 'uploaded', 'scattering', 'scattered', 'gathering', 'gathered', 'diagnosing', 'completed', 'failed'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export const FILE_STATUSES = ['uploaded', 'queued', 'parsing', 'parsed', 'failed'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

const WORKING: readonly BatchStatus[] = ['uploaded', 'scattering', 'scattered', 'gathering', 'gathered', 'diagnosing'];

const NEXT: Readonly<Record<BatchStatus, readonly BatchStatus[]>> = {
  pending: ['uploaded'],
  uploaded: ['scattering', 'failed'],
  scattering: ['scattered', 'failed'],
  scattered: ['gathering', 'failed'],
  gathering: ['gathered', 'failed'],
  gathered: ['diagnosing', 'failed'],
  diagnosing: ['completed', 'failed'],
  completed: ['diagnosing'],
  failed: ['uploaded'],
};

export function canTransition(from: BatchStatus, to: BatchStatus): boolean {
  return NEXT[from].includes(to);
}

export const isWorking = (s: BatchStatus) => WORKING.includes(s);
export const isTerminal = (s: BatchStatus) => s === 'completed' || s === 'failed';

/** Why a move was refused; the HTTP layer answers 409 with this reason. */
export class BatchStateError extends Error {
  constructor(
    readonly batchId: string,
    readonly from: BatchStatus,
    readonly to: BatchStatus | 'upload' | 'complete' | 'delete',
    reason?: string,
  ) {
    super(reason ?? `batch ${batchId} is ${from}; it cannot move to ${to}`);
    this.name = 'BatchStateError';
  }
}

export function assertTransition(batchId: string, from: BatchStatus, to: BatchStatus): void {
  if (!canTransition(from, to)) throw new BatchStateError(batchId, from, to);
}

/** Files can be added only while the batch is open. */
export function assertAcceptsFiles(batchId: string, status: BatchStatus): void {
  if (status !== 'pending') throw new BatchStateError(batchId, status, 'upload', `batch ${batchId} is ${status}; files can be added only while it is pending`);
}

/** Completing freezes total_files; an empty batch has nothing to diagnose. */
export function assertCompletable(batchId: string, status: BatchStatus, fileCount: number): void {
  if (status !== 'pending') throw new BatchStateError(batchId, status, 'complete', `batch ${batchId} is already ${status}`);
  if (fileCount === 0) throw new BatchStateError(batchId, status, 'complete', `batch ${batchId} has no files: upload at least one before completing it`);
}

export interface ProgressCounts {
  total: number;
  processed: number;
  failed: number;
}

/**
 * Percent of files finished (parsed or failed), 0–100. Never divides by zero: an open batch
 * with no frozen total is at 0; a completed batch is at 100.
 */
export function progressPercent(status: BatchStatus, c: ProgressCounts): number {
  if (status === 'completed') return 100;
  if (c.total <= 0) return 0;
  const done = Math.min(c.total, c.processed + c.failed);
  // Parsing is most of the work; the last 10 % are gathering and diagnosis.
  const parsing = (done / c.total) * 90;
  const after = status === 'gathering' ? 3 : status === 'gathered' ? 5 : status === 'diagnosing' ? 7 : 0;
  return Math.round((parsing + after) * 10) / 10;
}

/** The barrier: every frozen file has an outcome. Uses >= so a duplicate can never stall it. */
export function allFilesDone(c: ProgressCounts): boolean {
  return c.total > 0 && c.processed + c.failed >= c.total;
}
