/** What the batches module runs with, built once per process from its context. */
import { readFileSync } from 'node:fs';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { VigilConfig } from '../config/schema.js';
import { parseDuration } from '../config/load.js';
import type { BlobStore } from '../platform/backends/blob/types.js';
import type { Bus, QueueSpec } from '../platform/backends/bus/types.js';
import type { KvStore } from '../platform/backends/kv/types.js';
import type { SqlStore } from '../platform/backends/sql/db.js';
import { defaultRules } from './diagnose/default-rules.js';
import type { LlmSettings } from './diagnose/llm.js';
import { combineRules, parseRules, type Rule } from './diagnose/rules.js';
import { BatchEvents } from './events.js';
import { ReportCache } from './report-cache.js';
import { BatchStore } from './store.js';

export interface BatchSettings {
  maxFileBytes: number;
  maxFilesPerBatch: number;
  maxDecompressedBytes: number;
  maxArchiveMembers: number;
  parseAttempts: number;
  parseAckWaitMs: number;
  stallAfterMs: number;
  retentionMs: number;
  llm?: LlmSettings;
}

export interface BatchMetrics {
  files: Counter<'outcome'>;
  batches: Counter<'outcome'>;
  parseSeconds: Histogram<'format'>;
  reportReads: Counter<'source'>;
}

export interface BatchDeps {
  store: BatchStore;
  blob: BlobStore;
  bus: Bus;
  kv: KvStore;
  events: BatchEvents;
  cache: ReportCache;
  settings: BatchSettings;
  rules: Rule[];
  log: Logger;
  metrics: BatchMetrics;
  now: () => number;
}

export const PARSE_QUEUE = 'batches.parse';
export const FINALIZE_QUEUE = 'batches.finalize';

export function parseQueue(s: BatchSettings): QueueSpec {
  return { name: PARSE_QUEUE, ackWaitMs: s.parseAckWaitMs, maxDeliver: s.parseAttempts, backoffMs: [1000, 5000, 15000] };
}

export function finalizeQueue(s: BatchSettings): QueueSpec {
  // Diagnosis may wait for the LLM: acknowledge time covers its timeout.
  return { name: FINALIZE_QUEUE, ackWaitMs: (s.llm?.timeoutMs ?? 0) + 120_000, maxDeliver: 5, backoffMs: [1000, 5000, 15000] };
}

export function batchSettings(config: VigilConfig): BatchSettings {
  const b = config.batches;
  const l = config.diagnosis.llm;
  return {
    maxFileBytes: b.maxFileBytes,
    maxFilesPerBatch: b.maxFilesPerBatch,
    maxDecompressedBytes: b.maxDecompressedBytes,
    maxArchiveMembers: b.maxArchiveMembers,
    parseAttempts: b.parseAttempts,
    parseAckWaitMs: parseDuration(b.parseAckWait),
    stallAfterMs: parseDuration(b.stallAfter),
    retentionMs: parseDuration(b.retention),
    llm: l.url ? { url: l.url, model: l.model || 'default', apiKey: l.apiKey || undefined, timeoutMs: parseDuration(l.timeout), maxTokens: l.maxTokens } : undefined,
  };
}

/** Shipped rules plus the user's file (read once at start: a bad file stops the start, naming the field). */
export function loadRules(config: VigilConfig): Rule[] {
  const file = config.diagnosis.rulesFile;
  if (!file) return defaultRules();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`diagnosis.rulesFile: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return combineRules(defaultRules(), parseRules(text));
  } catch (err) {
    throw new Error(`diagnosis.rulesFile ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function createMetrics(registry: Registry): BatchMetrics {
  const r = [registry];
  return {
    files: new Counter({ name: 'vigil_batch_files_total', help: 'Batch files finished, by outcome (parsed, failed, archive)', labelNames: ['outcome'], registers: r }),
    batches: new Counter({ name: 'vigil_batch_batches_total', help: 'Batches finished, by outcome (completed, failed)', labelNames: ['outcome'], registers: r }),
    parseSeconds: new Histogram({ name: 'vigil_batch_parse_duration_seconds', help: 'Time to parse one file', labelNames: ['format'], registers: r, buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300] }),
    reportReads: new Counter({ name: 'vigil_batch_report_reads_total', help: 'Report reads by where they were answered from (cache, database)', labelNames: ['source'], registers: r }),
  };
}

export function createDeps(ctx: { config: VigilConfig; sql: SqlStore; kv: KvStore; bus: Bus; blob: BlobStore; log: Logger; metrics: Registry }, now: () => number = Date.now): BatchDeps {
  const settings = batchSettings(ctx.config);
  const store = new BatchStore(ctx.sql, now);
  const metrics = createMetrics(ctx.metrics);
  return {
    store,
    blob: ctx.blob,
    bus: ctx.bus,
    kv: ctx.kv,
    events: new BatchEvents(store, ctx.bus),
    cache: new ReportCache(ctx.kv, store, parseDuration(ctx.config.batches.reportCacheTtl), (source) => metrics.reportReads.inc({ source })),
    settings,
    rules: loadRules(ctx.config),
    log: ctx.log.child({ module: 'batches' }),
    metrics,
    now,
  };
}
