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
 * Request validation is done here and in rule.ts (not by the JSON schemas, which document the
 * shapes for OpenAPI), so every 400 names the field as the client spelled it.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { badRequest } from '../platform/http/errors.js';
import { ErrorSchema } from '../platform/http/errors.js';
import { isConnectionError } from '../platform/backends/unavailable.js';
import { MAX_EPOCH_MS, parseDayType, parseHour, type DayTypePart, type HourPart } from './buckets.js';
import { MAX_ENDPOINT_LENGTH, MAX_SERVICE_LENGTH } from './normalize.js';
import { ValidationError } from './errors.js';
import type { AnomalyService } from './module.js';
import {
  OtlpDecodeError,
  decodeOtlpTraces,
  exportResponseJson,
  exportResponseProtobuf,
  otlpFormatOf,
  statusProtobuf,
  summarize,
  type OtlpFormat,
} from './otlp.js';
import type { TraceSummary } from './types.js';

const TAGS = ['anomaly'];
/** Item errors a summaries answer lists (the invalid count has them all). */
const MAX_ITEM_ERRORS = 100;

/** The schemas document; the handlers validate (so messages name the field the client used). */
const documentOnly = () => () => true;

type Query = Record<string, string | string[] | undefined>;

function one(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw badRequest(`${name} was given more than once`, name);
  return v === undefined || v === '' ? undefined : v;
}

/** A service or endpoint name of a query string or body: over its limit is a 400 naming the field. */
function bounded<T>(v: T, field: string, max: number): T {
  if (typeof v === 'string' && v.length > max) throw badRequest(`${field} must be at most ${max} characters (got ${v.length})`, field);
  return v;
}

const SERVICE_FIELDS = ['service', 'rootServiceName'];
const ENDPOINT_FIELDS = ['endpoint', 'rootTraceName'];

/** JSON type of a value as a JSON schema names it. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * The documented types are the contract: a top-level property of another JSON type ("12" for a
 * number, null for a string) is a 400 naming it, never coerced. `schema` lists the properties.
 */
function checkTypes(body: unknown, schema: { properties: Record<string, { type?: string | readonly string[] }> }): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  for (const [name, v] of Object.entries(body as Record<string, unknown>)) {
    const declared = schema.properties[name]?.type;
    if (declared === undefined) continue;
    const types: readonly string[] = typeof declared === 'string' ? [declared] : declared;
    const t = jsonType(v);
    if (types.includes(t) || (t === 'integer' && types.includes('number'))) continue;
    throw badRequest(`${name} must be ${types.join(' or ')}, got ${t}`, name);
  }
}

/** Name limits of a query string or JSON body (the core would only truncate them). */
function checkNames(o: unknown): void {
  if (!o || typeof o !== 'object') return;
  const r = o as Record<string, unknown>;
  for (const f of SERVICE_FIELDS) bounded(r[f], f, MAX_SERVICE_LENGTH);
  for (const f of ENDPOINT_FIELDS) bounded(r[f], f, MAX_ENDPOINT_LENGTH);
}

function required(q: Query, name: string): string {
  const v = one(q, name);
  if (v === undefined || v.trim() === '') throw badRequest(`${name} is required`, name);
  return v;
}

function intParam(q: Query, name: string, min: number, max: number): number | undefined {
  const v = one(q, name);
  if (v === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(v) || Number(v) < min || Number(v) > max) throw badRequest(`${name} must be an integer ${min}–${max}, got "${v}"`, name);
  return Number(v);
}

/** ValidationError from the core → the platform's 400 naming the field. */
async function validated<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ValidationError) throw badRequest(err.message, err.field);
    throw err;
  }
}

// ---------------------------------------------------------------- schemas

const num = { type: 'number' } as const;
const BucketSchema = { type: 'object', properties: { hour: { type: 'integer' }, dayType: { type: 'string', enum: ['weekday', 'weekend'] } } } as const;
const BaselineProps = {
  p50: { ...num, description: 'median duration, ms' },
  p95: { ...num, description: '95th percentile (nearest rank), ms' },
  mad: { ...num, description: 'median absolute deviation, ms' },
  sampleCount: { type: 'integer' },
  updatedAt: { type: 'integer', description: 'epoch ms of the recomputation' },
} as const;

const CheckBody = {
  type: 'object',
  description:
    "Vigil's names or the seed's: service|rootServiceName, endpoint|rootTraceName, timestampNano|startTimeUnixNano (ns since the epoch, string or number; " +
    'timestampMs also accepted; omitted = now). hour and dayType pin the bucket.',
  properties: {
    service: { type: 'string', maxLength: MAX_SERVICE_LENGTH, example: 'checkout' },
    endpoint: { type: 'string', maxLength: MAX_ENDPOINT_LENGTH, example: 'POST /checkout' },
    timestampNano: { type: ['string', 'integer'], example: '1718000000000000000' },
    timestampMs: { type: 'integer' },
    durationMs: { type: 'number', minimum: 0, example: 2310 },
    hour: { type: 'integer', minimum: 0, maximum: 23 },
    dayType: { type: 'string', enum: ['weekday', 'weekend'] },
    rootServiceName: { type: 'string', maxLength: MAX_SERVICE_LENGTH },
    rootTraceName: { type: 'string', maxLength: MAX_ENDPOINT_LENGTH },
    startTimeUnixNano: { type: ['string', 'integer'] },
  },
} as const;

const CheckResponse = {
  type: 'object',
  properties: {
    isAnomaly: { type: 'boolean' },
    cannotDetermine: { type: 'boolean', description: 'present when no baseline was good enough (isAnomaly is then false)' },
    service: { type: 'string' },
    endpoint: { type: 'string', description: 'after normalisation (ids → {id})' },
    durationMs: num,
    bucket: BucketSchema,
    timeZone: { type: 'string' },
    baseline: { type: 'object', nullable: true, properties: BaselineProps },
    baselineAgeMs: { type: 'number', nullable: true, description: 'how long ago the baseline job computed the baseline used, ms (null without one)' },
    baselineSource: { type: 'string', nullable: true },
    fallbackLevel: { type: 'string', enum: ['exact', 'neighbours', 'dayType', 'all', 'none'] },
    threshold: { type: 'number', nullable: true },
    thresholdDetail: {
      type: 'object',
      nullable: true,
      properties: {
        factor: num,
        k: num,
        p95Term: num,
        madTerm: num,
        madUsed: num,
        madFloorMs: num,
        madFloorApplied: { type: 'boolean' },
      },
    },
    explanation: { type: 'string' },
    reason: { type: 'string', description: 'same as explanation (the seed name)' },
  },
} as const;

const AnomalyEventSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    traceId: { type: 'string' },
    spanId: { type: 'string' },
    service: { type: 'string' },
    endpoint: { type: 'string' },
    startMs: { type: 'number' },
    durationMs: num,
    threshold: num,
    explanation: { type: 'string' },
    traceUrl: { type: 'string' },
    detectedAt: { type: 'integer' },
    bucket: BucketSchema,
    fallbackLevel: { type: 'string' },
    baseline: { type: 'object', properties: { p50: num, p95: num, mad: num, sampleCount: { type: 'integer' } } },
    source: { type: 'string' },
  },
} as const;

const IngestResult = {
  type: 'object',
  properties: {
    ingested: { type: 'integer' },
    duplicates: { type: 'integer' },
    invalid: { type: 'integer' },
    anomalies: { type: 'integer' },
    errors: {
      type: 'array',
      description: `Why summaries were not learned (the first ${MAX_ITEM_ERRORS}), by index and field`,
      items: { type: 'object', properties: { index: { type: 'integer' }, field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;

/** What is wrong with one summary of POST /api/v1/anomaly/summaries (no coercion: strings are not numbers), or null. */
function summaryProblem(o: Record<string, unknown>): { field: string; message: string } | null {
  if (typeof o.service !== 'string' || o.service.trim() === '') return { field: 'service', message: 'must be a non-empty string' };
  if (o.service.length > MAX_SERVICE_LENGTH) return { field: 'service', message: `must be at most ${MAX_SERVICE_LENGTH} characters` };
  if (typeof o.endpoint !== 'string') return { field: 'endpoint', message: 'must be a string' };
  if (o.endpoint.length > MAX_ENDPOINT_LENGTH) return { field: 'endpoint', message: `must be at most ${MAX_ENDPOINT_LENGTH} characters` };
  if (typeof o.startMs !== 'number' || !Number.isFinite(o.startMs) || Math.abs(o.startMs) > MAX_EPOCH_MS) {
    return { field: 'startMs', message: `must be a number of epoch milliseconds within ±${MAX_EPOCH_MS}` };
  }
  if (typeof o.durationMs !== 'number' || !Number.isFinite(o.durationMs) || o.durationMs < 0) return { field: 'durationMs', message: 'must be a finite number >= 0' };
  return null;
}

// ---------------------------------------------------------------- OTLP receiver

function otlpError(err: FastifyError & { statusCode?: number; code?: string }): { status: number; grpc: number; message: string } {
  if (err instanceof OtlpDecodeError) return { status: err.statusCode, grpc: 3, message: err.message };
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
        validatorCompiler: documentOnly,
        schema: {
          tags: TAGS,
          summary: 'OTLP/HTTP trace receiver (ExportTraceServiceRequest)',
          description:
            'Binary protobuf (application/x-protobuf) or OTLP/JSON (application/json), optionally gzip. Root spans become trace summaries ' +
            '(and, with anomaly.serverSpans, every SERVER span). Answers an ExportTraceServiceResponse in the request encoding: {} or ' +
            '{partialSuccess:{rejectedSpans, errorMessage}}. 400 undecodable, 413 too large, 415 unsupported type, 503 store unavailable (retry).',
          consumes: ['application/x-protobuf', 'application/json'],
          produces: ['application/x-protobuf', 'application/json'],
          response: {
            200: {
              type: 'object',
              properties: { partialSuccess: { type: 'object', properties: { rejectedSpans: { type: 'string' }, errorMessage: { type: 'string' } } } },
            },
          },
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

export function registerAnomalyRoutes(app: FastifyInstance, svc: AnomalyService): void {
  const store = svc.store;
  registerOtlp(app, svc);

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
      validatorCompiler: documentOnly,
      schema: {
        tags: TAGS,
        summary: 'Is this request latency anomalous for its service, endpoint, hour and day type?',
        description:
          'Reads one baseline (O(1)); stores nothing, so any token (viewer and up) may call it; anonymous reads do not extend to it. ' +
          'Unknown services and thin baselines answer ' +
          'cannotDetermine with an explanation (not 404). Bad input → 400 naming the field.',
        body: CheckBody,
        response: { 200: CheckResponse, 400: ErrorSchema, 401: ErrorSchema },
      },
    },
    async (req) => {
      checkTypes(req.body, CheckBody);
      checkNames(req.body);
      return validated(() => store.checkRequest(req.body));
    },
  );

  app.get(
    '/v1/baseline',
    {
      validatorCompiler: documentOnly,
      schema: {
        tags: TAGS,
        summary: 'The stored baseline of one bucket',
        description: 'hour 0–23 or * (all hours of the day type); dayType weekday, weekend or * (with hour *: everything). 404 {"error":"not found"} when not learned.',
        querystring: {
          type: 'object',
          required: ['service', 'endpoint', 'hour', 'dayType'],
          properties: {
            service: { type: 'string', maxLength: MAX_SERVICE_LENGTH },
            endpoint: { type: 'string', maxLength: MAX_ENDPOINT_LENGTH },
            hour: { type: 'string', pattern: '^([0-9]|1[0-9]|2[0-3]|\\*)$' },
            dayType: { type: 'string', enum: ['weekday', 'weekend', '*'] },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              service: { type: 'string' },
              endpoint: { type: 'string' },
              hour: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
              dayType: { type: 'string' },
              timeZone: { type: 'string' },
              ...BaselineProps,
            },
          },
          400: ErrorSchema,
          404: { type: 'object', properties: { error: { type: 'string', example: 'not found' } } },
        },
      },
    },
    async (req, reply) => {
      const q = req.query as Query;
      checkNames(q);
      const service = required(q, 'service');
      const endpointRaw = one(q, 'endpoint');
      if (endpointRaw === undefined) throw badRequest('endpoint is required', 'endpoint');
      const hourRaw = required(q, 'hour');
      const dayRaw = required(q, 'dayType');
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
      validatorCompiler: documentOnly,
      schema: {
        tags: TAGS,
        summary: 'Every learned hour bucket (aggregates are not listed)',
        querystring: {
          type: 'object',
          properties: {
            service: { type: 'string', maxLength: MAX_SERVICE_LENGTH },
            endpoint: { type: 'string', maxLength: MAX_ENDPOINT_LENGTH },
            limit: { type: 'integer', minimum: 1, maximum: 100000 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              timeZone: { type: 'string' },
              keys: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { service: { type: 'string' }, endpoint: { type: 'string' }, hour: { type: 'integer' }, dayType: { type: 'string' }, ...BaselineProps },
                },
              },
            },
          },
          400: ErrorSchema,
        },
      },
    },
    async (req) => {
      const q = req.query as Query;
      checkNames(q);
      const service = one(q, 'service')?.trim();
      const endpointRaw = one(q, 'endpoint');
      const endpoint = endpointRaw === undefined ? undefined : store.normalize(endpointRaw);
      const limit = intParam(q, 'limit', 1, 100_000) ?? 100_000;
      const all = await store.listAvailable();
      const keys = [];
      for (const k of all) {
        if (k.hour === '*' || k.dayType === '*') continue;
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
      validatorCompiler: documentOnly,
      schema: {
        tags: TAGS,
        summary: 'Detected anomalies, newest first',
        description: 'since: epoch ms (or an ISO time); only anomalies detected after it. limit: 1–1000, default 100.',
        querystring: {
          type: 'object',
          properties: {
            service: { type: 'string', maxLength: MAX_SERVICE_LENGTH },
            endpoint: { type: 'string', maxLength: MAX_ENDPOINT_LENGTH, description: 'normalised like the baselines (ids → {id})' },
            since: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: { 200: { type: 'object', properties: { anomalies: { type: 'array', items: AnomalyEventSchema } } }, 400: ErrorSchema },
      },
    },
    async (req) => {
      const q = req.query as Query;
      checkNames(q);
      const service = one(q, 'service')?.trim();
      const endpointRaw = one(q, 'endpoint');
      const sinceRaw = one(q, 'since');
      let since: number | undefined;
      if (sinceRaw !== undefined) {
        const text = sinceRaw.trim();
        // Epoch ms, or an ISO 8601 time with a four-digit year (Date.parse alone takes "-1" as year −1).
        since = /^\d{1,16}$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
        if (!Number.isFinite(since) || since < 0 || since > MAX_EPOCH_MS) {
          throw badRequest(`since must be epoch milliseconds (0–${MAX_EPOCH_MS}) or an ISO 8601 time, got "${sinceRaw.slice(0, 100)}"`, 'since');
        }
      }
      const limit = intParam(q, 'limit', 1, 1000) ?? 100;
      const anomalies = await svc.feed.list({
        service,
        endpoint: endpointRaw === undefined ? undefined : store.normalize(endpointRaw),
        since,
        limit,
      });
      return { anomalies };
    },
  );

  app.post(
    '/api/v1/anomaly/summaries',
    {
      config: { auth: 'agent' },
      validatorCompiler: documentOnly,
      schema: {
        tags: TAGS,
        summary: 'Learn trace summaries (what `vigil anomaly backfill` sends)',
        description:
          'Up to 10 000 per request. check=false learns without flagging anomalies (history). Duplicates (by traceId[:spanId]) are skipped. ' +
          'Invalid summaries are skipped and counted in `invalid`; `errors` names the first 100 by index and field (e.g. summaries[3].durationMs).',
        body: {
          type: 'object',
          required: ['summaries'],
          properties: {
            check: { type: 'boolean', default: true },
            summaries: {
              type: 'array',
              maxItems: 10000,
              items: {
                type: 'object',
                required: ['traceId', 'service', 'endpoint', 'startMs', 'durationMs'],
                properties: {
                  traceId: { type: 'string' },
                  spanId: { type: 'string' },
                  service: { type: 'string', minLength: 1, maxLength: MAX_SERVICE_LENGTH },
                  endpoint: { type: 'string', maxLength: MAX_ENDPOINT_LENGTH },
                  startMs: { type: 'number' },
                  durationMs: { type: 'number', minimum: 0 },
                },
              },
            },
          },
        },
        response: { 200: IngestResult, 400: ErrorSchema },
      },
    },
    async (req) => {
      const b = req.body as { summaries?: unknown; check?: unknown } | null;
      if (!b || typeof b !== 'object' || Array.isArray(b)) throw badRequest('the request body must be a JSON object', 'body');
      if (!Array.isArray(b.summaries)) throw badRequest('summaries must be an array', 'summaries');
      if (b.summaries.length > 10_000) throw badRequest('at most 10000 summaries per request', 'summaries');
      if (b.check !== undefined && typeof b.check !== 'boolean') throw badRequest('check must be true or false', 'check');
      const list: TraceSummary[] = [];
      // Invalid items are skipped and named; the others are learned (partial acceptance).
      const errors: { index: number; field: string; message: string }[] = [];
      let skipped = 0;
      b.summaries.forEach((s: unknown, i) => {
        if (!s || typeof s !== 'object' || Array.isArray(s)) throw badRequest(`summaries[${i}] must be an object`, `summaries[${i}]`);
        const o = s as Record<string, unknown>;
        if (typeof o.traceId !== 'string' || !/^[0-9a-fA-F]{1,32}$/.test(o.traceId)) {
          throw badRequest(`summaries[${i}].traceId must be 1–32 hex digits`, `summaries[${i}].traceId`);
        }
        if (o.spanId !== undefined && (typeof o.spanId !== 'string' || !/^[0-9a-fA-F]{16}$/.test(o.spanId))) {
          throw badRequest(`summaries[${i}].spanId must be 16 hex digits`, `summaries[${i}].spanId`);
        }
        const problem = summaryProblem(o);
        if (problem) {
          skipped++;
          const field = `summaries[${i}].${problem.field}`;
          if (errors.length < MAX_ITEM_ERRORS) errors.push({ index: i, field, message: `${field} ${problem.message}` });
          return;
        }
        list.push({
          traceId: o.traceId.toLowerCase().padStart(32, '0'),
          ...(o.spanId ? { spanId: String(o.spanId) } : {}),
          service: o.service as string,
          endpoint: o.endpoint as string,
          startMs: o.startMs as number,
          durationMs: o.durationMs as number,
        });
      });
      const r = await svc.ingest(list, 'api', { check: b.check !== false });
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
      },
    },
    async () => {
      const r = store.rule;
      return {
        timeZone: r.timeZone,
        rule: { factor: r.factor, k: r.k, minSamples: r.minSamples, madFloorMs: r.madFloorMs, madFloorRatio: r.madFloorRatio, weekendDays: r.weekendDays, fallback: r.fallback },
        pendingDirty: await store.pendingDirty(),
        serverSpans: svc.settings.serverSpans,
        tempo: svc.poller ? await svc.poller.currentStatus() : null,
        webhook: svc.webhook ? { ...svc.webhook.stats } : null,
      };
    },
  );
}
