/**
 * HTTP routes of the batches module: Argus's paths (create, upload, complete, progress, report)
 * and beside them list, detail, live events (SSE), retry, delete and the log viewer. Domain errors
 * become status codes here and nowhere else.
 */
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { BlobError } from '../platform/backends/blob/types.js';
import { HttpError } from '../platform/http/errors.js';
import { BatchCommands, progressOf, TooManyFiles } from './commands.js';
import type { BatchDeps } from './deps.js';
import { EVENTS_TOPIC, type Announcement } from './events.js';
import { reportFile } from './pipeline.js';
import {
  BatchDetail,
  BatchParams,
  CreateBatchBody,
  CreateBatchReply,
  FileParams,
  ListQuery,
  ListReply,
  MessageReply,
  Progress,
  RecordsQuery,
  RecordsReply,
  RetryReply,
  UploadQuery,
  UploadReply,
  type BatchSummaryT,
} from './schemas.js';
import { BatchStateError } from './state.js';
import { BatchNotFound, FileNotFound } from './store.js';
import type { BatchRow } from './tables.js';
import { BadPattern, readRecords } from './viewer.js';

const tags = ['batches'];

/** Map a domain error to the answer a client can act on. */
export function toHttpError(err: unknown): unknown {
  if (err instanceof BatchNotFound) return new HttpError(404, 'not_found', err.message);
  if (err instanceof FileNotFound) return new HttpError(404, 'not_found', err.message);
  if (err instanceof BatchStateError) return new HttpError(409, 'conflict', err.message, 'status');
  if (err instanceof TooManyFiles) return new HttpError(409, 'too_many_files', err.message);
  if (err instanceof BadPattern) return new HttpError(400, 'bad_request', err.message, err.field);
  if (err instanceof BlobError) {
    if (err.code === 'too_large') return new HttpError(413, 'payload_too_large', err.message, 'file');
    if (err.code === 'invalid_key' || err.code === 'invalid_argument') return new HttpError(400, 'bad_request', err.message, 'name');
    if (err.code === 'not_found') return new HttpError(404, 'not_found', 'the file content is missing from the blob store');
    if (err.code === 'unavailable') return new HttpError(503, 'unavailable', 'the blob store is unavailable; retry later');
  }
  return err;
}

async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toHttpError(err);
  }
}

export function summary(b: BatchRow): BatchSummaryT {
  const p = progressOf(b);
  return {
    batch_id: b.id,
    vehicle_id: b.vehicle_id,
    vin: b.vin,
    status: b.status,
    labels: JSON.parse(b.labels) as Record<string, string>,
    total_files: p.total_files,
    processed_files: b.processed_files,
    failed_files: b.failed_files,
    progress_percent: p.progress_percent,
    error: b.error,
    created_at: b.created_at,
    updated_at: b.updated_at,
    completed_at: b.completed_at,
  };
}

const encodeCursor = (b: BatchRow) => Buffer.from(`${b.created_at}:${b.id}`).toString('base64url');
function decodeCursor(c: string): { created_at: number; id: string } {
  const m = /^(\d{1,16}):([0-9a-f-]{36})$/.exec(Buffer.from(c, 'base64url').toString());
  if (!m) throw new HttpError(400, 'bad_request', 'cursor is not a cursor this server gave out', 'cursor');
  return { created_at: Number(m[1]), id: m[2]! };
}

export async function registerBatchRoutes(scope: FastifyInstance, d: BatchDeps): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const commands = new BatchCommands(d);
  const hub = new EventHub(d);

  await app.register(multipart, { limits: { fileSize: d.settings.maxFileBytes + 1, files: 1, fields: 4, parts: 5 } });
  // Raw uploads stream straight to the blob store; the body is never buffered.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
  app.addHook('onClose', () => hub.close());

  app.post(
    '/api/v1/batches',
    { config: { auth: 'agent' }, schema: { tags, summary: 'Create a batch', body: CreateBatchBody, response: { 201: CreateBatchReply } } },
    async (req, reply) => {
      const b = await mapped(() => commands.create(req.body));
      return reply.code(201).send({ batch_id: b.id, status: b.status });
    },
  );

  app.get('/api/v1/batches', { schema: { tags, summary: 'List batches, newest first', querystring: ListQuery, response: { 200: ListReply } } }, async (req) => {
    const q = req.query;
    const limit = q.limit ?? 50;
    const rows = await d.store.list({ vehicle_id: q.vehicle_id, vin: q.vin, status: q.status, since: q.since, until: q.until, limit: limit + 1, cursor: q.cursor ? decodeCursor(q.cursor) : undefined });
    const page = rows.slice(0, limit);
    return { batches: page.map(summary), next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1]!) : null };
  });

  app.get('/api/v1/batches/:id', { schema: { tags, summary: 'A batch with its files', params: BatchParams, response: { 200: BatchDetail } } }, async (req) =>
    mapped(async () => {
      const b = await d.store.get(req.params.id);
      const files = await d.store.files(b.id);
      const s = summary(b);
      if (b.status === 'pending') s.total_files = files.length;
      return { ...s, files: files.map((f) => ({ ...reportFile(f), status: f.status, parent_id: f.parent_id, sha256: f.sha256 })) };
    }),
  );

  app.post(
    '/api/v1/batches/:id/files',
    {
      config: { auth: 'agent' },
      schema: {
        tags,
        summary: 'Upload one file (multipart field `file`, or a raw application/octet-stream body with ?name=)',
        params: BatchParams,
        querystring: UploadQuery,
        consumes: ['multipart/form-data', 'application/octet-stream'],
        response: { 200: UploadReply, 201: UploadReply },
      },
    },
    async (req, reply) => {
      let name: string;
      let body: Readable;
      if (req.isMultipart()) {
        const part = await req.file();
        if (!part) throw new HttpError(400, 'bad_request', 'multipart body has no file part', 'file');
        if (part.fieldname !== 'file') throw new HttpError(400, 'bad_request', `multipart field must be named "file", got "${part.fieldname}"`, 'file');
        name = part.filename || req.query.name || 'upload';
        body = part.file;
      } else {
        if (!req.query.name) throw new HttpError(400, 'bad_request', 'a raw upload needs ?name=', 'name');
        name = req.query.name;
        body = req.body as Readable;
      }
      const res = await mapped(() => commands.upload(req.params.id, name.slice(0, 512), body));
      return reply.code(res.duplicate ? 200 : 201).send({ file_id: res.file.id, size: res.file.size, sha256: res.file.sha256, name: res.file.name, duplicate: res.duplicate });
    },
  );

  app.post(
    '/api/v1/batches/:id/complete',
    { config: { auth: 'agent' }, schema: { tags, summary: 'Freeze the file list and start processing', params: BatchParams, response: { 200: MessageReply } } },
    async (req) => {
      await mapped(() => commands.complete(req.params.id));
      return { message: 'Batch completed,processing started' };
    },
  );

  app.get('/api/v1/batches/:id/progress', { schema: { tags, summary: 'Progress of a batch (never divides by zero)', params: BatchParams, response: { 200: Progress } } }, async (req) =>
    mapped(async () => {
      const b = await d.store.get(req.params.id);
      return progressOf(b, b.status === 'pending' ? (await d.store.files(b.id)).length : undefined);
    }),
  );

  app.get(
    '/api/v1/batches/:id/report',
    { schema: { tags, summary: 'The diagnosis report (cached, single flight)', params: BatchParams, response: { 200: Type.Object({}, { additionalProperties: true }) } } },
    async (req, reply) =>
      mapped(async () => {
        const text = await d.cache.get(req.params.id);
        if (text === undefined) {
          const b = await d.store.get(req.params.id);
          throw new HttpError(409, 'not_ready', `batch ${b.id} is ${b.status}; its report is written when it completes`, 'status');
        }
        // Served as stored: the report is already JSON, parsing and re-serialising it would only cost time.
        return reply.header('content-type', 'application/json; charset=utf-8').serializer((p: unknown) => p as string).send(text);
      }),
  );

  app.post(
    '/api/v1/batches/:id/retry',
    { config: { auth: 'agent' }, schema: { tags, summary: 'Parse the failed files of a failed batch again, or re-diagnose a completed one', params: BatchParams, response: { 200: RetryReply } } },
    async (req) => {
      const status = await mapped(() => commands.retry(req.params.id));
      return { message: status === 'diagnosing' ? 'Batch re-diagnosis started' : 'Batch retry started', status };
    },
  );

  app.delete(
    '/api/v1/batches/:id',
    { config: { auth: 'admin' }, schema: { tags, summary: 'Delete a batch that is not being processed, with its files', params: BatchParams } },
    async (req, reply) => {
      await mapped(() => commands.delete(req.params.id));
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/batches/:id/files/:fileId/records',
    { schema: { tags, summary: "One file's records, filtered and paged on the server (the log viewer)", params: FileParams, querystring: RecordsQuery, response: { 200: RecordsReply } } },
    async (req) =>
      mapped(async () => {
        const b = await d.store.get(req.params.id);
        const f = await d.store.file(b.id, req.params.fileId);
        return readRecords(() => d.blob.get(f.blob_key), req.query, new Date(b.created_at).getUTCFullYear());
      }),
  );

  app.get(
    '/api/v1/batches/:id/events',
    {
      schema: {
        tags,
        summary: 'Live events (SSE): status, progress, file, report, llm; Last-Event-ID resumes',
        params: BatchParams,
        querystring: Type.Object({ since: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })) }, { additionalProperties: false }),
        produces: ['text/event-stream'],
      },
    },
    async (req, reply) => {
      await mapped(() => d.store.get(req.params.id));
      const header = req.headers['last-event-id'];
      const last = typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : (req.query.since ?? 0);
      await hub.stream(req.params.id, last, reply);
    },
  );
}

/**
 * One bus subscription per process fans announcements out to the open SSE streams; each stream
 * reads its batch's stored events after the last id it sent (so nothing is skipped or repeated,
 * whichever replica wrote them), and polls as a fallback because announcements are best effort.
 */
class EventHub {
  private readonly streams = new Map<string, Set<(a: Announcement) => void>>();
  private subscribing?: Promise<{ close(): Promise<void> }>;

  constructor(private readonly d: BatchDeps) {}

  private ensureSubscribed(): void {
    this.subscribing ??= this.d.bus.subscribeEvents(EVENTS_TOPIC, (data) => {
      const a = data as Announcement;
      for (const fn of this.streams.get(a.batch_id) ?? []) fn(a);
    });
    this.subscribing.catch((err) => {
      this.d.log.warn({ err }, 'batch events subscription failed; SSE falls back to polling');
      this.subscribing = undefined;
    });
  }

  async stream(batchId: string, lastId: number, reply: FastifyReply): Promise<void> {
    this.ensureSubscribed();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    let last = lastId;
    let busy = false;
    let again = false;
    let closed = false;
    const flush = async () => {
      if (busy) return void (again = true);
      busy = true;
      try {
        do {
          again = false;
          const rows = await this.d.store.eventsAfter(batchId, last);
          for (const r of rows) {
            if (closed) return;
            res.write(`id: ${r.id}\nevent: ${r.type}\ndata: ${r.data}\n\n`);
            last = r.id;
          }
          if (rows.length === 500) again = true;
        } while (again && !closed);
      } catch (err) {
        this.d.log.warn({ err, batch: batchId }, 'reading batch events failed');
      } finally {
        busy = false;
      }
    };
    const onAnnouncement = (a: Announcement) => {
      if (closed) return;
      if (a.type === 'llm') res.write(`event: llm\ndata: ${JSON.stringify(a.data)}\n\n`);
      else void flush();
    };
    let set = this.streams.get(batchId);
    if (!set) this.streams.set(batchId, (set = new Set()));
    set.add(onAnnouncement);
    const poll = setInterval(() => void flush(), 2000);
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), 15_000);
    const close = () => {
      closed = true;
      clearInterval(poll);
      clearInterval(keepalive);
      set!.delete(onAnnouncement);
      if (set!.size === 0) this.streams.delete(batchId);
    };
    res.on('close', close);
    await flush();
  }

  async close(): Promise<void> {
    const sub = await this.subscribing?.catch(() => undefined);
    await sub?.close();
  }
}
