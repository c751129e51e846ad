/**
 * The wire contract of the anomaly routes (TypeBox), in seed 004's camelCase: route validation, the
 * OpenAPI document, the server's types and the web app's types come from these. Times are epoch
 * milliseconds and durations milliseconds unless a field says otherwise.
 *
 * Request schemas are enforced by Fastify's compiled validator; where the core accepts more than a
 * JSON schema can say (day types in any case, hours with spaces), the schema admits it and the core
 * (rule.ts, buckets.ts) decides, naming the field.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Nullable, StringEnum, typed, type Same } from '../platform/schemas.js';
import { MAX_ENDPOINT_LENGTH, MAX_SERVICE_LENGTH } from './normalize.js';
import type { PollerStatus as CorePollerStatus } from './poller.js';
import type { FallbackConfig as CoreFallbackConfig, FallbackLevel as CoreFallbackLevel } from './rule.js';
import type { DeliveryOutcome as CoreDeliveryOutcome } from './webhook.js';
import type { DayType as CoreDayType } from './types.js';

/** An object that may be null, as `nullable` (the form these answers have always been serialised in). */
const orNull = <T extends TSchema>(t: T, description?: string) =>
  typed<Static<T> | null>({ ...(JSON.parse(JSON.stringify(t)) as Record<string, unknown>), nullable: true, ...(description ? { description } : {}) });

export const DayType = StringEnum(['weekday', 'weekend']);
export type DayType = Static<typeof DayType>;
export const FallbackLevel = StringEnum(['exact', 'neighbours', 'dayType', 'all', 'none'], {
  description: 'Which baseline the verdict used: the exact hour, the pooled neighbouring hours, the whole day type, everything, or none',
});
export type FallbackLevel = Static<typeof FallbackLevel>;
const sameUnions: [Same<DayType, CoreDayType>, Same<FallbackLevel, CoreFallbackLevel>] = [true, true];
void sameUnions;

/** Local hour of day (0–23) and day type in the server's configured time zone. */
export const Bucket = Type.Object({ hour: Type.Integer(), dayType: DayType });
export type Bucket = Static<typeof Bucket>;

const baselineFields = {
  p50: Type.Number({ description: 'median duration, ms' }),
  p95: Type.Number({ description: '95th percentile (nearest rank), ms' }),
  mad: Type.Number({ description: 'median absolute deviation, ms' }),
  sampleCount: Type.Integer(),
  updatedAt: Type.Integer({ description: 'epoch ms of the recomputation' }),
};
export const BaselineStats = Type.Object(baselineFields);
export type BaselineStats = Static<typeof BaselineStats>;

const service = (description?: string) => Type.String({ maxLength: MAX_SERVICE_LENGTH, ...(description ? { description } : {}) });
const endpoint = (description?: string) => Type.String({ maxLength: MAX_ENDPOINT_LENGTH, ...(description ? { description } : {}) });
// anyOf, not `type: [string, integer]`: Ajv's strict mode allows a type list only with null.
const nanos = (description?: string) => typed<string | number>({ anyOf: [{ type: 'string' }, { type: 'integer' }], ...(description ? { description } : {}) });

// ---------------------------------------------------------------- POST /v1/anomaly/check

/** Either name of each value is accepted, so what is required is decided by the core (rule.ts). */
export const CheckBody = Type.Object(
  {
    service: Type.Optional(Type.String({ maxLength: MAX_SERVICE_LENGTH, examples: ['checkout'] })),
    endpoint: Type.Optional(Type.String({ maxLength: MAX_ENDPOINT_LENGTH, examples: ['POST /checkout'] })),
    timestampNano: Type.Optional(nanos('ns since the epoch, decimal string or number; omitted = now')),
    timestampMs: Type.Optional(Type.Integer()),
    durationMs: Type.Optional(Type.Number({ minimum: 0, examples: [2310] })),
    hour: Type.Optional(Type.Integer({ minimum: 0, maximum: 23, description: 'Pins the bucket instead of deriving it from the time' })),
    dayType: Type.Optional(Type.String({ maxLength: 16, description: 'weekday or weekend (any case); pins the bucket with hour' })),
    rootServiceName: Type.Optional(service("The seed's name for service")),
    rootTraceName: Type.Optional(endpoint("The seed's name for endpoint")),
    startTimeUnixNano: Type.Optional(nanos("The seed's name for timestampNano")),
  },
  {
    description:
      "Vigil's names or the seed's: service|rootServiceName, endpoint|rootTraceName, timestampNano|startTimeUnixNano (ns since the epoch, string or number; " +
      'timestampMs also accepted; omitted = now). hour and dayType pin the bucket.',
  },
);
export type CheckBody = Static<typeof CheckBody>;

export const ThresholdDetail = Type.Object({
  factor: Type.Number(),
  k: Type.Number(),
  p95Term: Type.Number({ description: 'factor × p95' }),
  madTerm: Type.Number({ description: 'p50 + k × madUsed' }),
  madUsed: Type.Number({ description: 'MAD after the floor' }),
  madFloorMs: Type.Number(),
  madFloorApplied: Type.Boolean(),
});

export const CheckResponse = Type.Object({
  isAnomaly: Type.Boolean(),
  cannotDetermine: Type.Optional(Type.Boolean({ description: 'present when no baseline was good enough (isAnomaly is then false)' })),
  service: Type.String(),
  endpoint: Type.String({ description: 'after normalisation (ids → {id})' }),
  durationMs: Type.Number(),
  bucket: Bucket,
  timeZone: Type.String({ description: 'IANA zone the bucket is in' }),
  baseline: orNull(BaselineStats),
  baselineAgeMs: Nullable(Type.Number(), { description: 'how long ago the baseline job computed the baseline used, ms (null without one)' }),
  baselineSource: Nullable(Type.String(), { description: 'key(s) of the baseline used, e.g. "cart|GET /x|14|weekday"' }),
  fallbackLevel: FallbackLevel,
  threshold: Nullable(Type.Number()),
  thresholdDetail: orNull(ThresholdDetail),
  explanation: Type.String({ description: 'a sentence a person can act on' }),
  reason: Type.String({ description: 'same as explanation (the seed name)' }),
});
export type CheckResponse = Static<typeof CheckResponse>;

// ---------------------------------------------------------------- GET /v1/baseline, /v1/available

export const BaselineQuery = Type.Object({
  service: service(),
  endpoint: endpoint(),
  hour: Type.String({ pattern: '^\\s*(\\d+|\\*)\\s*$', description: '0–23, or * for every hour of the day type' }),
  dayType: Type.String({ maxLength: 16, description: 'weekday or weekend (any case), or * (with hour *: everything)' }),
});

export const BaselineResponse = Type.Object({
  service: Type.String(),
  endpoint: Type.String({ description: 'normalised' }),
  hour: typed<number | '*'>({ anyOf: [{ type: 'integer' }, { type: 'string' }] }),
  dayType: typed<DayType | '*'>({ type: 'string' }),
  timeZone: Type.String(),
  ...baselineFields,
});
export type BaselineResponse = Static<typeof BaselineResponse>;

export const NotFoundBody = Type.Object({ error: Type.String({ examples: ['not found'] }) });

export const AvailableQuery = Type.Object({
  service: Type.Optional(service()),
  endpoint: Type.Optional(endpoint()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
});

/** One learned hour bucket (aggregates, hour '*', are not listed). */
export const AvailableKey = Type.Object({ service: Type.String(), endpoint: Type.String(), hour: Type.Integer(), dayType: DayType, ...baselineFields });
export type AvailableKey = Static<typeof AvailableKey>;

export const AvailableResponse = Type.Object({
  timeZone: Type.String({ description: 'IANA zone the hours are in, e.g. "Asia/Taipei"' }),
  keys: Type.Array(AvailableKey),
});
export type AvailableResponse = Static<typeof AvailableResponse>;

// ---------------------------------------------------------------- GET /api/v1/anomalies

export const AnomaliesQuery = Type.Object({
  service: Type.Optional(service()),
  endpoint: Type.Optional(endpoint('normalised like the baselines (ids → {id})')),
  since: Type.Optional(Type.String({ description: 'epoch ms or an ISO 8601 time: only anomalies detected after it' })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
});

/** One detected anomaly: a learned trace above its threshold. */
export const AnomalyEvent = Type.Object({
  id: Type.String({ description: 'traceId, or traceId:spanId for span-level summaries' }),
  traceId: Type.String(),
  spanId: Type.Optional(Type.String()),
  service: Type.String(),
  endpoint: Type.String({ description: 'normalised, as in baseline keys' }),
  startMs: Type.Number({ description: 'start of the trace, epoch ms' }),
  durationMs: Type.Number(),
  threshold: Type.Number(),
  explanation: Type.String(),
  traceUrl: Type.Optional(Type.String({ description: 'link to the trace when the server knows a template' })),
  detectedAt: Type.Integer({ description: 'when Vigil flagged it, epoch ms' }),
  bucket: Bucket,
  fallbackLevel: FallbackLevel,
  baseline: Type.Optional(Type.Object({ p50: Type.Number(), p95: Type.Number(), mad: Type.Number(), sampleCount: Type.Integer() }, { description: 'the baseline the verdict used' })),
  source: Type.Optional(Type.String({ description: 'where the trace came from: otlp, tempo, api' })),
});
export type AnomalyEvent = Static<typeof AnomalyEvent>;

export const AnomaliesResponse = Type.Object({ anomalies: Type.Array(AnomalyEvent, { description: 'newest first' }) });
export type AnomaliesResponse = Static<typeof AnomaliesResponse>;

// ---------------------------------------------------------------- POST /api/v1/anomaly/summaries

/** Summaries an answer names in `errors` (the invalid count has them all). */
export const MAX_ITEM_ERRORS = 100;

/**
 * One summary. Its id must be well formed (a bad one refuses the request); its other values are
 * checked one summary at a time (http.ts), so one bad summary is skipped and named in `errors`
 * instead of refusing the batch: the schema documents their types without enforcing them.
 */
export const SummaryItem = Type.Object({
  traceId: Type.String({ pattern: '^[0-9a-fA-F]{1,32}$', description: '1–32 hex digits' }),
  spanId: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{16}$', description: '16 hex digits: a span-level summary' })),
  service: Type.Optional(Type.Unknown({ description: `string, 1–${MAX_SERVICE_LENGTH} characters (required)` })),
  endpoint: Type.Optional(Type.Unknown({ description: `string, at most ${MAX_ENDPOINT_LENGTH} characters (required)` })),
  startMs: Type.Optional(Type.Unknown({ description: 'number, epoch ms (required)' })),
  durationMs: Type.Optional(Type.Unknown({ description: 'number ≥ 0, ms (required)' })),
});

export const SummariesBody = Type.Object({
  check: Type.Optional(Type.Boolean({ default: true, description: 'false learns without flagging anomalies (history)' })),
  summaries: Type.Array(SummaryItem, { maxItems: 10_000 }),
});
export type SummariesBody = Static<typeof SummariesBody>;

export const IngestResult = Type.Object({
  ingested: Type.Integer(),
  duplicates: Type.Integer(),
  invalid: Type.Integer(),
  anomalies: Type.Integer(),
  errors: Type.Optional(
    Type.Array(Type.Object({ index: Type.Integer(), field: Type.String(), message: Type.String() }), {
      description: `Why summaries were not learned (the first ${MAX_ITEM_ERRORS}), by index and field`,
    }),
  ),
});
export type IngestResult = Static<typeof IngestResult>;

// ---------------------------------------------------------------- POST /v1/traces

export const OtlpExportResponse = Type.Object({
  partialSuccess: Type.Optional(Type.Object({ rejectedSpans: Type.Optional(Type.String()), errorMessage: Type.Optional(Type.String()) })),
});

// ---------------------------------------------------------------- GET /api/v1/anomaly/status

export const SearchWindow = Type.Object({ start: Type.Number({ description: 'unix seconds' }), end: Type.Number({ description: 'unix seconds' }) });

export const PollerStatus = Type.Object({
  source: Type.String(),
  watermark: Nullable(Type.Number(), { description: 'End (unix seconds) of the last window searched and ingested; null before the first success' }),
  consecutiveFailures: Type.Integer(),
  lastError: Nullable(Type.String()),
  lastAttemptAt: Nullable(Type.Number()),
  lastSuccessAt: Nullable(Type.Number()),
  nextAttemptAt: Nullable(Type.Number(), { description: 'Epoch ms before which no poll is attempted (backoff); null when not backing off' }),
  lastWindow: orNull(SearchWindow),
  truncatedWindows: Type.Integer({ description: 'Windows Tempo truncated even after splitting (traces were missed there)' }),
});
export type PollerStatus = Static<typeof PollerStatus>;

export const WebhookStats = Type.Object({ sent: Type.Integer(), failed: Type.Integer(), suppressed: Type.Integer(), dropped: Type.Integer() });
export type WebhookStats = Static<typeof WebhookStats>;

export const AnomalyStatus = Type.Object({
  timeZone: Type.String({ description: 'IANA zone of the hour and day-type buckets' }),
  rule: Type.Object({
    factor: Type.Number(),
    k: Type.Number(),
    minSamples: Type.Integer(),
    madFloorMs: Type.Number(),
    madFloorRatio: Type.Number(),
    weekendDays: Type.Array(Type.Integer(), { description: 'Days of week (0 = Sunday) that are weekend' }),
    fallback: Type.Object({
      neighbourHours: Type.Integer(),
      neighbourMinSamples: Type.Integer(),
      dayTypeMinSamples: Type.Integer(),
      allMinSamples: Type.Integer(),
    }),
  }),
  pendingDirty: Type.Integer({ description: 'Buckets waiting for the baseline job' }),
  serverSpans: Type.Boolean(),
  tempo: orNull(PollerStatus, 'The Tempo poller; null when no Tempo is configured (or before its first poll)'),
  webhook: orNull(WebhookStats, 'Webhook deliveries since start; null when no webhook is configured'),
});
export type AnomalyStatus = Static<typeof AnomalyStatus>;
const sameStatus: [Same<PollerStatus, CorePollerStatus>, Same<WebhookStats, Record<CoreDeliveryOutcome, number>>, Same<AnomalyStatus['rule']['fallback'], CoreFallbackConfig>] = [true, true, true];
void sameStatus;
