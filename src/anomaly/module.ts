/**
 * The latency-anomaly capability as a Vigil module: OTLP receiver, Tempo poller, baseline job,
 * check API, anomaly feed (SQL) and webhook. Wiring only; the logic lives in the pure core
 * (rule, stats, buckets, otlp, tempo) and in store/feed/poller/webhook.
 *
 *   summaries (OTLP push, Tempo poll, POST /api/v1/anomaly/summaries)
 *     → AnomalyStore.ingestManyDetailed (dedup, window, dirty)
 *     → the traces just learned are checked against the current baselines
 *     → anomalies → feed (SQL) + webhook
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ModuleContext, ReadyState, VigilModule } from '../platform/module.js';
import type { VigilConfig } from '../config/schema.js';
import type { JobSpec } from '../platform/scheduler.js';
import { resolveAnomalySettings, traceUrl, type AnomalySettings } from './config.js';
import { AnomalyFeed, feedMigrations, type AnomalyEvent } from './feed.js';
import { registerAnomalyRoutes } from './http.js';
import { TempoPoller } from './poller.js';
import type { CheckResult } from './rule.js';
import { AnomalyStore, type IngestStats } from './store.js';
import { AnomalyKeyMigration } from './key-migration.js';
import { TempoClient, type TempoClientOptions } from './tempo-client.js';
import type { TraceSummary } from './types.js';
import { WebhookNotifier, type WebhookOptions } from './webhook.js';
import { isConnectionError } from '../platform/backends/unavailable.js';
import { quarantineCounter } from '../platform/quarantine.js';
import { perContext } from '../platform/per-context.js';
import { AnomalyQuarantine, quarantineMigration } from './quarantine.js';

export type IngestSource = 'otlp' | 'tempo' | 'api';

export interface IngestResult extends IngestStats {
  anomalies: number;
}

export interface AnomalyMetrics {
  spansReceived: Counter<'format'>;
  spansRejected: Counter<'format'>;
  ingested: Counter<'source'>;
  duplicates: Counter<'source'>;
  invalid: Counter<'source'>;
  anomalies: Counter<'source'>;
  baselineKeys: Counter<string>;
  baselineFailures: Counter<string>;
  dirtyKeys: Gauge<string>;
  polls: Counter<'outcome'>;
  webhook: Counter<'outcome'>;
}

function createMetrics(registry: Registry): AnomalyMetrics {
  const r = [registry];
  return {
    spansReceived: new Counter({ name: 'vigil_anomaly_spans_received_total', help: 'OTLP spans received on /v1/traces', labelNames: ['format'], registers: r }),
    spansRejected: new Counter({ name: 'vigil_anomaly_spans_rejected_total', help: 'OTLP spans rejected (partialSuccess)', labelNames: ['format'], registers: r }),
    ingested: new Counter({ name: 'vigil_anomaly_summaries_ingested_total', help: 'Trace summaries added to baseline windows', labelNames: ['source'], registers: r }),
    duplicates: new Counter({ name: 'vigil_anomaly_summaries_duplicate_total', help: 'Trace summaries skipped as already seen', labelNames: ['source'], registers: r }),
    invalid: new Counter({ name: 'vigil_anomaly_summaries_invalid_total', help: 'Trace summaries that could not be stored', labelNames: ['source'], registers: r }),
    anomalies: new Counter({ name: 'vigil_anomaly_anomalies_detected_total', help: 'Ingested traces above their threshold', labelNames: ['source'], registers: r }),
    baselineKeys: new Counter({ name: 'vigil_anomaly_baseline_keys_recomputed_total', help: 'Baseline buckets recomputed by the baseline job', registers: r }),
    baselineFailures: new Counter({ name: 'vigil_anomaly_baseline_keys_failed_total', help: 'Baseline buckets whose recomputation failed (retried)', registers: r }),
    dirtyKeys: new Gauge({ name: 'vigil_anomaly_dirty_keys', help: 'Buckets waiting for the baseline job after its last run', registers: r }),
    polls: new Counter({ name: 'vigil_anomaly_tempo_polls_total', help: 'Tempo polls by outcome (ok, error, backoff)', labelNames: ['outcome'], registers: r }),
    webhook: new Counter({ name: 'vigil_anomaly_webhook_notifications_total', help: 'Anomaly webhook notifications by outcome', labelNames: ['outcome'], registers: r }),
  };
}

/** Test and benchmark hooks; production passes none. */
export interface AnomalyModuleOptions {
  /** Overrides of the Tempo client options (fetch, retries, backoff …). */
  tempoClient?: Partial<TempoClientOptions>;
  /** Overrides of the webhook options (fetch, sleep, backoff …). */
  webhook?: Partial<Omit<WebhookOptions, 'kv'>>;
  /** Overrides of the poller's catch-up and backoff bounds. */
  poller?: { sliceMs?: number; maxSlicesPerRun?: number; maxCatchUpMs?: number; maxBackoffMs?: number };
  now?: () => number;
}

/** Everything the module runs with, built once per server from its context. */
export class AnomalyService {
  readonly store: AnomalyStore;
  readonly feed: AnomalyFeed;
  readonly quarantine: AnomalyQuarantine;
  readonly metrics: AnomalyMetrics;
  readonly webhook?: WebhookNotifier;
  readonly poller?: TempoPoller;
  /** Moves keys written before the module had a KV namespace; the store waits for it. */
  readonly keyMigration: AnomalyKeyMigration;
  private readonly now: () => number;

  constructor(
    readonly settings: AnomalySettings,
    readonly ctx: ModuleContext,
    opts: AnomalyModuleOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    const log = ctx.log.child({ module: 'anomaly' });
    this.keyMigration = new AnomalyKeyMigration(ctx.kv, {
      seenTtlMs: settings.seenTtlMs,
      isPermanentError: (err) => !isConnectionError(err),
      log,
    });
    this.store = new AnomalyStore(this.keyMigration.gate(), {
      rule: settings.rule,
      windowSize: settings.windowSize,
      seenTtlMs: settings.seenTtlMs,
      learnHeldAfterMs: settings.learnHeldAfterMs,
      normalize: settings.normalize,
      now: this.now,
      // Checks read baselines through a short in-process cache; this replica's baseline job clears it,
      // other replicas' recomputations are seen within 2 s.
      readCacheMs: Math.min(2000, settings.baselineIntervalMs),
      // KV operations in flight per ingest batch: on Redis each is a round trip, so more in flight is faster.
      concurrency: 128,
      // A window that fails for any reason but an unreachable KV fails the same way on every run.
      isPermanentError: (err) => !isConnectionError(err),
    });
    this.feed = new AnomalyFeed(ctx.sql);
    this.quarantine = new AnomalyQuarantine(ctx.sql);
    this.metrics = createMetrics(ctx.metrics);
    if (settings.webhook) {
      this.webhook = new WebhookNotifier({
        ...settings.webhook,
        kv: ctx.kv,
        log,
        ...opts.webhook,
        onOutcome: (o) => this.metrics.webhook.inc({ outcome: o }),
      });
    }
    if (settings.tempo) {
      const client = new TempoClient({
        ...settings.tempo.client,
        onWarn: (m) => log.warn({ source: 'tempo' }, m),
        ...opts.tempoClient,
      });
      this.poller = new TempoPoller({
        client,
        kv: ctx.kv,
        ingest: (s) => this.ingest(s, 'tempo'),
        lookbackMs: settings.tempo.lookbackMs,
        pollIntervalMs: settings.tempo.pollIntervalMs,
        maxCatchUpMs: settings.tempo.maxCatchUpMs,
        sourceLabel: `tempo ${settings.tempo.client.baseUrl}`,
        now: this.now,
        log,
        ...opts.poller,
      });
    }
  }

  /**
   * Check summaries and learn from them (duplicates are neither checked nor learned again); the
   * anomalous ones are learned late (AnomalyStore.learnHeldAfterMs). `check: false` learns only (backfills of history).
   */
  async ingest(summaries: readonly TraceSummary[], source: IngestSource, opts: { check?: boolean } = {}): Promise<IngestResult> {
    // A replay of old history is learned from but not judged: its verdict would come from baselines
    // still being learned, and an alert about last week helps nobody.
    const oldest = this.now() - this.settings.checkMaxAgeMs;
    let events: AnomalyEvent[] = [];
    // Traces judged anomalous are judged before they are learned, and held back from the baselines
    // for a while, so an incident does not raise the threshold that detects it.
    const hold = async (accepted: TraceSummary[]): Promise<ReadonlySet<TraceSummary>> => {
      const fresh = accepted.filter((s) => s.startMs >= oldest);
      events = fresh.length ? await this.detect(fresh, source) : [];
      const ids = new Set(events.map((e) => e.id));
      return new Set(fresh.filter((s) => ids.has(s.spanId ? `${s.traceId.toLowerCase()}:${s.spanId.toLowerCase()}` : s.traceId.toLowerCase())));
    };
    const r = await this.store.ingestManyDetailed(summaries, opts.check === false ? {} : { hold });
    this.metrics.ingested.inc({ source }, r.ingested);
    if (r.duplicates) this.metrics.duplicates.inc({ source }, r.duplicates);
    if (r.invalid) this.metrics.invalid.inc({ source }, r.invalid);
    if (events.length) {
      this.metrics.anomalies.inc({ source }, events.length);
      await this.feed.insertMany(events);
      for (const e of events) this.webhook?.notify(e);
    }
    return { ingested: r.ingested, duplicates: r.duplicates, invalid: r.invalid, anomalies: events.length };
  }

  /**
   * The anomalies among freshly learned summaries. One verdict per bucket (with the bucket's longest
   * duration) finds the threshold; only traces above it get their own verdict, for the explanation.
   */
  async detect(list: readonly TraceSummary[], source: IngestSource): Promise<AnomalyEvent[]> {
    const groups = new Map<string, TraceSummary[]>();
    for (const s of list) {
      const k = this.store.keyOf(s);
      const g = groups.get(k);
      if (g) g.push(s);
      else groups.set(k, [s]);
    }
    const detectedAt = this.now();
    const out: AnomalyEvent[] = [];
    const entries = [...groups.values()];
    for (let i = 0; i < entries.length; i += 32) {
      await Promise.all(
        entries.slice(i, i + 32).map(async (g) => {
          let longest = g[0];
          for (const s of g) if (s.durationMs > longest.durationMs) longest = s;
          const first = await this.store.check({ service: longest.service.trim(), endpoint: longest.endpoint, epochMs: longest.startMs, durationMs: longest.durationMs });
          if (!first.isAnomaly || first.threshold === null) return;
          for (const s of g) {
            if (!(s.durationMs > first.threshold)) continue;
            const v = s === longest ? first : await this.store.check({ service: s.service.trim(), endpoint: s.endpoint, epochMs: s.startMs, durationMs: s.durationMs });
            if (v.isAnomaly) out.push(this.eventOf(s, v, detectedAt, source));
          }
        }),
      );
    }
    return out;
  }

  private eventOf(s: TraceSummary, v: CheckResult, detectedAt: number, source: IngestSource): AnomalyEvent {
    const traceId = s.traceId.toLowerCase();
    const e: AnomalyEvent = {
      id: s.spanId ? `${traceId}:${s.spanId.toLowerCase()}` : traceId,
      traceId,
      service: v.service,
      endpoint: v.endpoint,
      startMs: s.startMs,
      durationMs: s.durationMs,
      threshold: v.threshold!,
      explanation: v.explanation,
      detectedAt,
      bucket: v.bucket,
      fallbackLevel: v.fallbackLevel,
      source,
    };
    if (s.spanId) e.spanId = s.spanId.toLowerCase();
    if (v.baseline) e.baseline = { p50: v.baseline.p50, p95: v.baseline.p95, mad: v.baseline.mad, sampleCount: v.baseline.sampleCount };
    const url = traceUrl(this.settings.traceUrlTemplate, { traceId, service: v.service, endpoint: v.endpoint, startMs: s.startMs, durationMs: s.durationMs });
    if (url) e.traceUrl = url;
    return e;
  }

  /** The baseline job: recompute dirty buckets in bounded batches until none are left or time is up. */
  async runBaselineJob(signal?: AbortSignal, maxBatches = 50): Promise<{ keys: number; aggregates: number; failed: number; remaining: number; quarantined: number }> {
    const s = await this.store.runBaselineJob({ batchSize: this.settings.baselineBatch, maxBatches, signal });
    this.metrics.baselineKeys.inc(s.keys);
    if (s.failed) {
      this.metrics.baselineFailures.inc(s.failed);
      this.ctx.log.warn({ module: 'anomaly', failed: s.failed, errors: s.errors }, 'baseline recomputation failed for some buckets; they stay dirty');
    }
    this.metrics.dirtyKeys.set(s.remaining);
    let quarantined = 0;
    if (s.poisoned?.length) {
      quarantined = await this.quarantine.add('anomaly.baselines', s.poisoned, this.now());
      if (quarantined) {
        quarantineCounter(this.ctx.metrics).inc({ job: 'anomaly.baselines' }, quarantined);
        this.ctx.log.error({ module: 'anomaly', windows: s.poisoned.slice(0, 10) }, 'baseline job quarantined windows it cannot read (see /readyz)');
      }
    }
    return { keys: s.keys, aggregates: s.aggregates, failed: s.failed, remaining: s.remaining, quarantined };
  }

  async stop(): Promise<void> {
    this.keyMigration.stop();
    await this.webhook?.stop();
  }
}

/** The anomaly module. `opts` are test hooks. */
export function anomalyModule(config: VigilConfig, opts: AnomalyModuleOptions = {}): VigilModule & { service(): AnomalyService | undefined } {
  const settings = resolveAnomalySettings(config); // a bad config fails at start, naming the key
  const get = perContext((ctx) => new AnomalyService(settings, ctx, opts));

  return {
    name: 'anomaly',
    migrations: [...feedMigrations, quarantineMigration],
    service: () => get.built().at(-1),

    routes(app, ctx) {
      registerAnomalyRoutes(app, get(ctx));
    },

    jobs(ctx): JobSpec[] {
      const s = get(ctx);
      const jobs: JobSpec[] = [
        {
          name: 'anomaly.baselines',
          intervalMs: settings.baselineIntervalMs,
          timeoutMs: Math.max(settings.baselineIntervalMs, 60_000),
          leader: true,
          run: async (signal) => {
            await s.runBaselineJob(signal);
          },
        },
        {
          name: 'anomaly.retention',
          intervalMs: 3600_000,
          timeoutMs: 300_000,
          leader: true,
          runAtStart: true,
          run: async () => {
            const n = await s.feed.purgeBefore(Date.now() - settings.retentionMs);
            if (n) ctx.log.info({ module: 'anomaly', deleted: n }, 'anomaly feed retention');
          },
        },
      ];
      if (s.poller && settings.tempo) {
        const poller = s.poller;
        jobs.push({
          name: 'anomaly.tempo-poll',
          intervalMs: settings.tempo.pollIntervalMs,
          jitterMs: 0,
          timeoutMs: Math.max(60_000, settings.tempo.pollIntervalMs * 4),
          leader: true,
          runAtStart: true,
          run: async (signal) => {
            const r = await poller.runOnce(signal);
            s.metrics.polls.inc({ outcome: r.outcome });
          },
        });
      }
      return jobs;
    },

    readiness(ctx): Record<string, () => Promise<ReadyState>> {
      const s = get(ctx);
      // Degraded while windows the baseline job cannot read sit in anomaly_quarantine.
      const quarantine = {
        'anomaly:quarantine': async (): Promise<ReadyState> => {
          const q = await s.quarantine.list();
          if (!q.total) return { ok: true, detail: 'no quarantined baseline windows' };
          const list = q.rows.map((r) => `#${r.id} ${r.job} ${r.ref}: ${r.reason}`).join('; ');
          return { ok: true, degraded: true, detail: `${q.total} baseline window(s) quarantined in anomaly_quarantine: ${list}${q.total > q.rows.length ? '; …' : ''}` };
        },
      };
      if (!s.poller) return quarantine;
      const poller = s.poller;
      return {
        ...quarantine,
        'anomaly:tempo': async () => {
          const st = await poller.currentStatus();
          if (!st) return { ok: true, detail: 'waiting for the first poll' };
          if (st.consecutiveFailures > 0) {
            const resume = st.watermark ? new Date(st.watermark * 1000).toISOString() : 'the lookback window';
            const retry = st.nextAttemptAt ? `, next attempt ${new Date(st.nextAttemptAt).toISOString()}` : '';
            return {
              ok: true,
              degraded: true,
              detail: `${st.source}: ${st.consecutiveFailures} failed poll(s): ${st.lastError}; backing off${retry}; will resume from ${resume}`,
            };
          }
          return { ok: true, detail: st.watermark ? `polled up to ${new Date(st.watermark * 1000).toISOString()}` : 'polling' };
        },
      };
    },

    async start(ctx) {
      // The buckets move before the jobs start; the de-duplication ids go on moving while they run.
      // A failure is logged, and the store's next operation (or the next start) tries again.
      const migration = get(ctx).keyMigration;
      migration.run().catch((err: unknown) => ctx.log.error({ module: 'anomaly', err }, 'moving legacy anomaly keys failed; retried later'));
      await migration.bucketsMoved().catch(() => undefined);
    },

    async stop() {
      for (const svc of get.built()) await svc.stop();
    },
  };
}
