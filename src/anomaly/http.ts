/**
 * HTTP API of the anomaly module.
 *
 *   POST /v1/traces                   OTLP/HTTP receiver (protobuf or JSON, gzip)        agent
 *   POST /v1/anomaly/check            verdict for one request (seed 004 wire shape)       viewer token (stores nothing)
 *   GET  /v1/baseline                 one stored baseline; 404 {"error":"not found"}      viewer
 *   GET  /v1/available                every learned hour bucket                           viewer
 *   GET  /api/v1/anomalies            detected anomalies, newest first                    viewer
 *   POST /api/v1/anomaly/summaries    learn trace summaries (backfill, other sources)     agent
 *   GET  /api/v1/anomaly/status       rule, pending baselines, Tempo poller, webhook      viewer
 *
 * Every route's TypeBox schemas (schemas.ts) are enforced by Fastify's compiled validator; a
 * violation is a 400 naming the field as the client spelled it (schemaError). What the schemas
 * cannot say (either name of a value, day types in any case) the core checks (rule.ts, buckets.ts).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, FastifySchemaValidationError } from 'fastify';
import { badRequest } from '../platform/http/errors.js';
import { ErrorBody } from '../platform/schemas.js';
import { isConnectionError } from '../platform/backends/unavailable.js';
import { MAX_EPOCH_MS, parseDayType, parseHour, type DayTypePart, type HourPart } from './buckets.js';
import { MAX_ENDPOINT_LENGTH, MAX_SERVICE_LENGTH } from './normalize.js';
import { ValidationError } from './errors.js';
import type { AnomalyService } from './module.js';
import type { AvailableBaseline } from './store.js';
import {
  OtlpDecodeError,
  decodeOtlpTraces,
  exportResponseJson,
  exportResponseProtobuf,
  otlpFormatOf,
  statusProtobuf,
  summarize,
  type OtlpFormat,
} from './otlp/index.js';
import { otlpDecodeStatus } from './http-errors.js';
import {
  AnomaliesQuery,
  AnomaliesResponse,
  AnomalyStatus,
  AvailableQuery,
  AvailableResponse,
  BaselineQuery,
  BaselineResponse,
  CheckBody,
  CheckResponse,
  IngestResult,
  MAX_ITEM_ERRORS,
  NotFoundBody,
  OtlpExportResponse,
  SummariesBody,
  type AvailableKey,
  type SummaryItem,
} from './schemas.js';
import type { TraceSummary } from './types.js';

const TAGS = ['anomaly'];

/** ValidationError from the core → the platform's 400 naming the field. */
async function validated<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ValidationError) throw badRequest(err.message, err.field);
    throw err;
  }
}

// ---------------------------------------------------------------- request checks

/** A query value, with an empty one (`?service=`) counted as absent. */
const present = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** A learned hour bucket, not an aggregate (hour or day type '*'). */
const isHourBucket = (k: AvailableBaseline): k is AvailableBaseline & AvailableKey => k.hour !== '*' && k.dayType !== '*';

function required(v: string | undefined, name: string): string {
  if (v === undefined || v.trim() === '') throw badRequest(`${name} is required`, name);
  return v;
}

/**
 * A schema violation as this module has always answered it: a 400 naming the field as the client
 * spelled it, items by index (`summaries[3].traceId`), and a body that is not an object as such.
 */
function schemaError(errors: FastifySchemaValidationError[], part: string): Error {
  const e = errors[0];
  const path = (e?.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`))
    .join('')
    .replace(/^\./, '');
  const params = (e?.params ?? {}) as { missingProperty?: string; additionalProperty?: string };
  const name = params.missingProperty ?? params.additionalProperty;
  const field = name === undefined ? path : path ? `${path}.${name}` : name;
  if (!field) return part === 'body' ? badRequest('the request body must be a JSON object', 'body') : badRequest(`${part} ${e?.message ?? 'is invalid'}`);
  if (params.missingProperty !== undefined) return badRequest(`${field} is required`, field);
  // A value of neither type of an anyOf: each branch reported its type.
  const types = errors.filter((x) => x.keyword === 'type' && x.instancePath === e?.instancePath).map((x) => String((x.params as { type?: unknown }).type));
  if (types.length > 1) return badRequest(`${field} must be ${types.join(' or ')}`, field);
  return badRequest(`${field} ${e?.message ?? 'is invalid'}`, field);
}

/** A summary of POST /api/v1/anomaly/summaries to learn, or what is wrong with it (no coercion: strings are not numbers). */
function learnable(o: Static<typeof SummaryItem>): { summary: TraceSummary } | { problem: { field: string; message: string } } {
  const problem = (field: string, message: string) => ({ problem: { field, message } });
  if (typeof o.service !== 'string' || o.service.trim() === '') return problem('service', 'must be a non-empty string');
  if (o.service.length > MAX_SERVICE_LENGTH) return problem('service', `must be at most ${MAX_SERVICE_LENGTH} characters`);
  if (typeof o.endpoint !== 'string') return problem('endpoint', 'must be a string');
  if (o.endpoint.length > MAX_ENDPOINT_LENGTH) return problem('endpoint', `must be at most ${MAX_ENDPOINT_LENGTH} characters`);
  if (typeof o.startMs !== 'number' || !Number.isFinite(o.startMs) || Math.abs(o.startMs) > MAX_EPOCH_MS) {
    return problem('startMs', `must be a number of epoch milliseconds within ±${MAX_EPOCH_MS}`);
  }
  if (typeof o.durationMs !== 'number' || !Number.isFinite(o.durationMs) || o.durationMs < 0) return problem('durationMs', 'must be a finite number >= 0');
  return {
    summary: {
      traceId: o.traceId.toLowerCase().padStart(32, '0'),
      ...(o.spanId ? { spanId: o.spanId } : {}),
      service: o.service,
      endpoint: o.endpoint,
      startMs: o.startMs,
      durationMs: o.durationMs,
    },
  };
}

// ---------------------------------------------------------------- OTLP receiver

function otlpError(err: FastifyError & { statusCode?: number; code?: string }): { status: number; grpc: number; message: string } {
  if (err instanceof OtlpDecodeError) return { status: otlpDecodeStatus(err), grpc: 3, message: err.message };
  if (err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR') return { status: 400, grpc: 3, message: 'request body is not valid gzip/deflate data' };
  const s = err.statusCode ?? 500;
  if (s === 415) return { status: 415, grpc: 3, message: 'unsupported Content-Type; use application/x-protobuf or application/json' };
  if (s === 413) return { status: 413, grpc: 8, message: err.message };
  if (s >= 400 && s < 500) return { status: s, grpc: 3, message: err.message };
  if (err instanceof ValidationError) return { status: 400, grpc: 3, message: err.message };
  // The store is unreachable: 503 is retryable for OTLP exporters, so nothing is lost. Anything else
  // would fail again on a retry, so it must not be a 503 (exporters would retry it for ever).
  if (isConnectionError(err)) return { status: 503, grpc: 14, message: 'trace store unavailable; retry later' };
  return { status: 500, grpc: 13, message: 'internal error; the request was not stored' };
}

function sendOtlpError(req: FastifyRequest, reply: FastifyReply, status: number, grpc: number, message: string) {
  const format: OtlpFormat = otlpFormatOf(req.headers['content-type']) ?? 'json';
  if (status === 503 || status === 429) reply.header('retry-after', '5');
  if (format === 'protobuf') return reply.code(status).type('application/x-protobuf').send(Buffer.from(statusProtobuf(message, grpc)));
  const error = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status >= 500 ? 'unavailable' : 'bad_request';
  return reply.code(status).type('application/json').send({ error, message, code: grpc });
}

function registerOtlp(app: FastifyInstance, svc: AnomalyService): void {
  // Own scope: raw-buffer parsers for both OTLP encodings and OTLP-shaped errors, without
  // touching how the rest of the API parses JSON.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(['application/x-protobuf', 'application/protobuf', 'application/json'], { parseAs: 'buffer' }, (_req, body, done) =>
      done(null, body),
    );
    scope.setErrorHandler((err: FastifyError, req, reply) => {
      const e = otlpError(err);
      if (e.status >= 500) req.log.error({ err, reqId: req.id }, 'OTLP ingest failed');
      return sendOtlpError(req, reply, e.status, e.grpc, e.message);
    });

    scope.post(
      '/v1/traces',
      {
        config: { auth: 'agent' },
        schema: {
          tags: TAGS,
          summary: 'OTLP/HTTP trace receiver (ExportTraceServiceRequest)',
          description:
            'Binary protobuf (application/x-protobuf) or OTLP/JSON (application/json), optionally gzip. Root spans become trace summaries ' +
            '(and, with anomaly.serverSpans, every SERVER span). Answers an ExportTraceServiceResponse in the request encoding: {} or ' +
            '{partialSuccess:{rejectedSpans, errorMessage}}. 400 undecodable, 413 too large, 415 unsupported type, 503 store unavailable (retry).',
          consumes: ['application/x-protobuf', 'application/json'],
          produces: ['application/x-protobuf', 'application/json'],
          response: { 200: OtlpExportResponse },
        } as FastifySchema,
      },
      async (req, reply) => {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const enc = String(req.headers['content-encoding'] ?? '').trim().toLowerCase();
        // gzip and deflate were inflated by the platform's preParsing hook (within the body limit).
        const decoded = decodeOtlpTraces({
          body,
          contentType: req.headers['content-type'],
          contentEncoding: enc === 'gzip' || enc === 'deflate' ? undefined : enc,
          maxBytes: Number.MAX_SAFE_INTEGER,
        });
        svc.metrics.spansReceived.inc({ format: decoded.format }, decoded.spans.length + decoded.rejectedSpans);
        const summaries = summarize(decoded.spans, { serverSpans: svc.settings.serverSpans });
        const r = await svc.ingest(summaries, 'otlp');
        let rejected = decoded.rejectedSpans;
        let message = decoded.errorMessage;
        if (r.invalid) {
          rejected += r.invalid;
          message = [message, `${r.invalid} span(s) rejected: unusable time or service`].filter(Boolean).join('; ');
        }
        if (rejected) svc.metrics.spansRejected.inc({ format: decoded.format }, rejected);
        if (decoded.format === 'protobuf') {
          return reply.type('application/x-protobuf').send(Buffer.from(exportResponseProtobuf(rejected, message)));
        }
        return reply.type('application/json').send(exportResponseJson(rejected, message));
      },
    );
  });
}

// ---------------------------------------------------------------- routes

export function registerAnomalyRoutes(scope: FastifyInstance, svc: AnomalyService): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const store = svc.store;
  registerOtlp(scope, svc);

  app.post(
    '/v1/anomaly/check',
    {
      config: { auth: 'viewer' },
      // A POST: anonymous reads (loopback) do not extend to it; any token (viewer and up) does.
      // (callback style: this runs on every check, see bench/http-baseline)
      onRequest: (req, reply, done) => {
        if (req.principal) return done();
        reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ error: 'unauthorized', message: 'POST /v1/anomaly/check needs a bearer token (role viewer or above), also when anonymous reads are allowed' });
      },
      schemaErrorFormatter: schemaError,
      schema: {
        tags: TAGS,
        summary: 'Is this request latency anomalous for its service, endpoint, hour and day type?',
        description:
          'Reads one baseline (O(1)); stores nothing, so any token (viewer and up) may call it; anonymous reads do not extend to it. ' +
          'Unknown services and thin baselines answer ' +
          'cannotDetermine with an explanation (not 404). Bad input → 400 naming the field.',
        body: CheckBody,
        response: { 200: CheckResponse, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (req) => validated(() => store.checkRequest(req.body)),
  );

  app.get(
    '/v1/baseline',
    {
      schemaErrorFormatter: schemaError,
      schema: {
        tags: TAGS,
        summary: 'The stored baseline of one bucket',
        description: 'hour 0–23 or * (all hours of the day type); dayType weekday, weekend or * (with hour *: everything). 404 {"error":"not found"} when not learned.',
        querystring: BaselineQuery,
        response: { 200: BaselineResponse, 400: ErrorBody, 404: NotFoundBody },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const service = required(q.service, 'service');
      const endpointRaw = present(q.endpoint);
      if (endpointRaw === undefined) throw badRequest('endpoint is required', 'endpoint');
      const hourRaw = required(q.hour, 'hour');
      const dayRaw = required(q.dayType, 'dayType');
      const hour: HourPart = hourRaw.trim() === '*' ? '*' : await validated(() => parseHour(hourRaw, 'hour'));
      const dayType: DayTypePart = dayRaw.trim() === '*' ? '*' : await validated(() => parseDayType(dayRaw, 'dayType'));
      if (hour !== '*' && dayType === '*') throw badRequest('an hour needs a dayType (weekday or weekend); use hour=* for the overall baseline', 'dayType');
      const b = await store.getBaseline(service, endpointRaw, hour, dayType);
      if (!b) return reply.code(404).send({ error: 'not found' });
      return { service: service.trim(), endpoint: store.normalize(endpointRaw), hour, dayType, timeZone: store.rule.timeZone, ...b };
    },
  );

  app.get(
    '/v1/available',
    {
      schemaErrorFormatter: schemaError,
      schema: {
        tags: TAGS,
        summary: 'Every learned hour bucket (aggregates are not listed)',
        querystring: AvailableQuery,
        response: { 200: AvailableResponse, 400: ErrorBody },
      },
    },
    async (req) => {
      const q = req.query;
      const service = present(q.service)?.trim();
      const endpointRaw = present(q.endpoint);
      const endpoint = endpointRaw === undefined ? undefined : store.normalize(endpointRaw);
      const limit = q.limit ?? 100_000;
      const all = await store.listAvailable();
      const keys: AvailableKey[] = [];
      for (const k of all) {
        if (!isHourBucket(k)) continue;
        if (service !== undefined && k.service !== service) continue;
        if (endpoint !== undefined && k.endpoint !== endpoint) continue;
        keys.push(k);
        if (keys.length >= limit) break;
      }
      return { timeZone: store.rule.timeZone, keys };
    },
  );

  app.get(
    '/api/v1/anomalies',
    {
      schemaErrorFormatter: schemaError,
      schema: {
        tags: TAGS,
        summary: 'Detected anomalies, newest first',
        description: 'since: epoch ms (or an ISO time); only anomalies detected after it. limit: 1–1000, default 100.',
        querystring: AnomaliesQuery,
        response: { 200: AnomaliesResponse, 400: ErrorBody },
      },
    },
    async (req) => {
      const q = req.query;
      const service = present(q.service)?.trim();
      const endpointRaw = present(q.endpoint);
      const sinceRaw = present(q.since);
      let since: number | undefined;
      if (sinceRaw !== undefined) {
        const text = sinceRaw.trim();
        // Epoch ms, or an ISO 8601 time with a four-digit year (Date.parse alone takes "-1" as year −1).
        since = /^\d{1,16}$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
        if (!Number.isFinite(since) || since < 0 || since > MAX_EPOCH_MS) {
          throw badRequest(`since must be epoch milliseconds (0–${MAX_EPOCH_MS}) or an ISO 8601 time, got "${sinceRaw.slice(0, 100)}"`, 'since');
        }
      }
      const anomalies = await svc.feed.list({
        service,
        endpoint: endpointRaw === undefined ? undefined : store.normalize(endpointRaw),
        since,
        limit: q.limit,
      });
      return { anomalies };
    },
  );

  app.post(
    '/api/v1/anomaly/summaries',
    {
      config: { auth: 'agent' },
      schemaErrorFormatter: schemaError,
      schema: {
        tags: TAGS,
        summary: 'Learn trace summaries (what `vigil anomaly backfill` sends)',
        description:
          'Up to 10 000 per request. check=false learns without flagging anomalies (history). Duplicates (by traceId[:spanId]) are skipped. ' +
          'Invalid summaries are skipped and counted in `invalid`; `errors` names the first 100 by index and field (e.g. summaries[3].durationMs).',
        body: SummariesBody,
        response: { 200: IngestResult, 400: ErrorBody },
      },
    },
    async (req) => {
      const list: TraceSummary[] = [];
      // Invalid items are skipped and named; the others are learned (partial acceptance).
      const errors: { index: number; field: string; message: string }[] = [];
      let skipped = 0;
      req.body.summaries.forEach((s, i) => {
        const item = learnable(s);
        if ('problem' in item) {
          skipped++;
          const field = `summaries[${i}].${item.problem.field}`;
          if (errors.length < MAX_ITEM_ERRORS) errors.push({ index: i, field, message: `${field} ${item.problem.message}` });
          return;
        }
        list.push(item.summary);
      });
      const r = await svc.ingest(list, 'api', { check: req.body.check !== false });
      if (skipped) svc.metrics.invalid.inc({ source: 'api' }, skipped);
      return { ...r, invalid: r.invalid + skipped, ...(errors.length ? { errors } : {}) };
    },
  );

  app.get(
    '/api/v1/anomaly/status',
    {
      schema: {
        tags: TAGS,
        summary: 'Rule in force, buckets waiting for the baseline job, Tempo poller and webhook state',
        response: { 200: AnomalyStatus },
      },
    },
    async () => {
      const r = store.rule;
      return {
        timeZone: r.timeZone,
        rule: { factor: r.factor, k: r.k, minSamples: r.minSamples, madFloorMs: r.madFloorMs, madFloorRatio: r.madFloorRatio, weekendDays: [...r.weekendDays], fallback: r.fallback },
        pendingDirty: await store.pendingDirty(),
        serverSpans: svc.settings.serverSpans,
        tempo: svc.poller ? await svc.poller.currentStatus() : null,
        webhook: svc.webhook ? { ...svc.webhook.stats } : null,
      };
    },
  );
}
