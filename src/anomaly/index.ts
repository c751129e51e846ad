/**
 * The anomaly module's public surface: what the server, the CLI, the trace simulator, benchmarks and
 * tests outside this folder use. Everything else in the folder is its own business.
 */
export { anomalyModule, AnomalyService, type AnomalyModuleOptions, type IngestResult, type IngestSource } from './module.js';
export { resolveAnomalySettings, traceUrl, type AnomalySettings } from './config.js';
export type { AnomalyEvent } from './feed.js';
export type { BaselineStats, DayType, TraceSummary } from './types.js';

// the pure core
export { baselineKey, bucketOf, localHourAndDay } from './buckets.js';
export { computeBaseline, meanStd } from './stats.js';
export { MAX_ENDPOINT_LENGTH, MAX_SERVICE_LENGTH, looksLikeId, normalizeEndpoint } from './normalize.js';
export { fmtMs, resolveRuleConfig } from './rule.js';
export { decodeJsonTraces, decodeOtlpTraces, summarize } from './otlp/index.js';
export { ROOT_SPAN_NOT_YET_RECEIVED, type SearchWindow } from './tempo.js';

// the adapters
export { AnomalyStore } from './store.js';
export { ANOMALY_KV_NAMESPACE, storeKeys } from './keys.js';
export { AnomalyKeyMigration, MIGRATION_MARKER } from './key-migration.js';
export { TempoClient } from './tempo-client.js';
export { TempoPoller } from './poller.js';
export { WebhookNotifier, type WebhookPayload } from './webhook.js';
