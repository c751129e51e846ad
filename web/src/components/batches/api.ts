/**
 * The batches API as the dashboard calls it. Wire types come from the server's own schemas
 * (type-only imports, erased at build time), so the page cannot drift from the contract.
 */
import type { Static } from '@sinclair/typebox';
import type {
  BatchDetailT,
  BatchFileT,
  CreateBatchReply,
  ListReply,
  ProgressT,
  RecordsQueryT,
  RecordsReply,
  UploadReply,
} from '../../../../src/batches/schemas';
import { ApiError, getToken } from '../../api/client';
import type { ErrorBody as ApiErrorBody } from '../../../../src/platform/schemas';

export type { BatchDetailT, BatchFileT, BatchSummaryT, LogRecordT, ProgressT, RecordsQueryT } from '../../../../src/batches/schemas';
export type { BatchReport } from '../../../../src/batches/report';
export type ListReplyT = Static<typeof ListReply>;
export type RecordsReplyT = Static<typeof RecordsReply>;
export type UploadReplyT = Static<typeof UploadReply>;
export type CreateBatchReplyT = Static<typeof CreateBatchReply>;
export type BatchStatus = BatchDetailT['status'];
export type FileStatus = BatchFileT['status'];
export type LevelFilter = NonNullable<RecordsQueryT['level']>;

export const LEVEL_FILTERS: readonly LevelFilter[] = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'];
export const BATCH_STATUSES: readonly BatchStatus[] = ['pending', 'uploaded', 'scattering', 'scattered', 'gathering', 'gathered', 'diagnosing', 'completed', 'failed'];

/** Statuses in which workers are still moving the batch (the page refreshes itself meanwhile). */
export const isWorking = (s: BatchStatus): boolean => s !== 'pending' && s !== 'completed' && s !== 'failed';

const enc = encodeURIComponent;
export const batchPaths = {
  list: '/api/v1/batches',
  one: (id: string) => `/api/v1/batches/${enc(id)}`,
  files: (id: string) => `/api/v1/batches/${enc(id)}/files`,
  complete: (id: string) => `/api/v1/batches/${enc(id)}/complete`,
  report: (id: string) => `/api/v1/batches/${enc(id)}/report`,
  events: (id: string) => `/api/v1/batches/${enc(id)}/events`,
  records: (id: string, fileId: string) => `/api/v1/batches/${enc(id)}/files/${enc(fileId)}/records`,
};

/** Page addresses inside the dashboard. */
export const batchPages = {
  list: '/batches',
  detail: (id: string) => `/batches/${enc(id)}`,
  file: (id: string, fileId: string) => `/batches/${enc(id)}/files/${enc(fileId)}`,
};

/**
 * Upload one file as a raw body. XHR rather than fetch: only XHR reports upload progress.
 */
export function uploadFile(batchId: string, file: File, onProgress: (loaded: number, total: number) => void, signal?: AbortSignal): Promise<UploadReplyT> {
  const path = `${batchPaths.files(batchId)}?name=${enc(file.name)}`;
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('accept', 'application/json');
    const token = getToken();
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) return resolve(body as UploadReplyT);
      const e = (body ?? {}) as Partial<ApiErrorBody>;
      reject(new ApiError(xhr.status, e.error ?? `http_${xhr.status}`, e.message ?? (xhr.statusText || `HTTP ${xhr.status}`), path, e.field));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'Cannot reach the Vigil server. Is it running?', path));
    xhr.onabort = () => reject(new DOMException('upload aborted', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

/** Data of the stored SSE events (src/batches/pipeline.ts, commands.ts); every field but the status may be absent. */
export type ProgressEvent = Partial<Pick<ProgressT, 'status' | 'total_files' | 'processed_files' | 'failed_files' | 'progress_percent'>> & { error?: string };
export type FileEvent = Pick<BatchFileT, 'file_id' | 'name' | 'status'> & Partial<Pick<BatchFileT, 'format' | 'size'>> & { error?: string };

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/**
 * Server-sent events over fetch: EventSource cannot send the bearer token. Reconnects (resuming
 * with Last-Event-ID) until `signal` aborts; `onState` says whether the stream is open.
 */
export async function followEvents(path: string, signal: AbortSignal, onMessage: (m: SseMessage) => void, onState: (open: boolean) => void): Promise<void> {
  let lastId: string | undefined;
  let retryMs = 2000;
  while (!signal.aborted) {
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      const token = getToken();
      if (token) headers.authorization = `Bearer ${token}`;
      if (lastId) headers['last-event-id'] = lastId;
      const res = await fetch(path, { headers, signal, cache: 'no-store' });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      onState(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut: number;
        while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
          const m = parseBlock(block);
          if (m.retry) retryMs = m.retry;
          if (m.msg) {
            if (m.msg.id) lastId = m.msg.id;
            onMessage(m.msg);
          }
        }
      }
    } catch (err) {
      if (signal.aborted || (err as Error).name === 'AbortError') return;
    }
    onState(false);
    if (signal.aborted) return;
    await new Promise<void>((resolve) => {
      const t = window.setTimeout(resolve, retryMs);
      signal.addEventListener('abort', () => (window.clearTimeout(t), resolve()), { once: true });
    });
  }
}

function parseBlock(block: string): { msg?: SseMessage; retry?: number } {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  let retry: number | undefined;
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
  }
  return { msg: data.length ? { id, event, data: data.join('\n') } : undefined, retry };
}

export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
