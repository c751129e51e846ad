/**
 * Anomaly notifications: a JSON POST to a configured URL per anomaly, at most one per
 * service+endpoint within minInterval (claimed in the KV store, so replicas share the limit),
 * retried with backoff on network errors, 429 and 5xx. Delivery runs in the background from a
 * bounded queue; ingest never waits for it.
 *
 * The body carries `text` (Slack and Mattermost incoming webhooks show it as the message) and the
 * full event under `anomaly`, plus how many anomalies of the same key were held back since the last
 * notification.
 */
import type { KvStore } from '../platform/backends/kv/types.js';
import { VERSION } from '../platform/version.js';
import type { AnomalyEvent } from './feed.js';
import { fmtMs } from './rule.js';

export interface WebhookLog {
  warn(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export type DeliveryOutcome = 'sent' | 'failed' | 'suppressed' | 'dropped';

export interface WebhookOptions {
  url: string;
  /** At most one notification per service+endpoint in this many ms (0 = no limit). */
  minIntervalMs: number;
  /** Attempts after the first (default 3). */
  retries?: number;
  kv: KvStore;
  /** KV key prefix of the rate-limit claims (default "anomaly:webhook:"). */
  keyPrefix?: string;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  /** First backoff (default 1 s), doubled per retry, capped at 30 s. */
  backoffMs?: number;
  /** Events waiting beyond this are dropped, oldest first (default 1000). */
  maxQueue?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  log?: WebhookLog;
  onOutcome?: (outcome: DeliveryOutcome) => void;
}

export interface WebhookPayload {
  type: 'vigil.anomaly';
  text: string;
  anomaly: AnomalyEvent;
  /** Anomalies of the same service+endpoint not notified since the previous notification (rate limit). */
  suppressed: number;
}

export function webhookText(e: AnomalyEvent): string {
  const link = e.traceUrl ? ` ${e.traceUrl}` : '';
  return `Latency anomaly: ${e.service} ${e.endpoint} took ${fmtMs(e.durationMs)} ms (threshold ${fmtMs(e.threshold)} ms), trace ${e.traceId}.${link}`;
}

const RETRYABLE = (s: number) => s === 408 || s === 429 || s >= 500;

export class WebhookNotifier {
  private queue: AnomalyEvent[] = [];
  private worker?: Promise<void>;
  private stopped = false;
  private readonly suppressedByKey = new Map<string, number>();
  readonly stats: Record<DeliveryOutcome, number> = { sent: 0, failed: 0, suppressed: 0, dropped: 0 };
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: WebhookOptions) {
    this.fetchFn = opts.fetch ?? ((...a) => globalThis.fetch(...a));
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms).unref()));
  }

  private count(o: DeliveryOutcome) {
    this.stats[o]++;
    this.opts.onOutcome?.(o);
  }

  /** Queue an anomaly for notification (returns at once). */
  notify(e: AnomalyEvent): void {
    if (this.stopped) return;
    this.queue.push(e);
    const max = this.opts.maxQueue ?? 1000;
    while (this.queue.length > max) {
      this.queue.shift();
      this.count('dropped');
    }
    this.worker ??= this.drain().finally(() => (this.worker = undefined));
  }

  /** Resolves when everything queued so far has been handled. */
  async flush(): Promise<void> {
    while (this.worker) await this.worker;
  }

  /** Stop accepting; the delivery in flight gets no further retries, queued events are dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const _ of this.queue.splice(0)) this.count('dropped');
    await this.flush();
  }

  private async drain(): Promise<void> {
    for (let e = this.queue.shift(); e; e = this.queue.shift()) {
      try {
        await this.handle(e);
      } catch (err) {
        this.count('failed');
        this.opts.log?.warn({ err, anomaly: e.id }, 'anomaly webhook failed');
      }
    }
  }

  private async handle(e: AnomalyEvent): Promise<void> {
    const key = `${e.service}|${e.endpoint}`;
    const claimKey = `${this.opts.keyPrefix ?? 'anomaly:webhook:'}${key}`;
    if (this.opts.minIntervalMs > 0) {
      const claimed = await this.opts.kv.setIfAbsent(claimKey, e.id, this.opts.minIntervalMs);
      if (!claimed) {
        this.suppressedByKey.set(key, (this.suppressedByKey.get(key) ?? 0) + 1);
        this.count('suppressed');
        return;
      }
    }
    const suppressed = this.suppressedByKey.get(key) ?? 0;
    const payload: WebhookPayload = { type: 'vigil.anomaly', text: webhookText(e), anomaly: e, suppressed };
    const ok = await this.deliver(payload, e.id);
    if (ok) {
      this.suppressedByKey.delete(key);
      this.count('sent');
    } else {
      this.count('failed');
      // Let the next anomaly of this key try again rather than staying silent for minInterval.
      if (this.opts.minIntervalMs > 0) await this.opts.kv.del(claimKey).catch(() => 0);
    }
  }

  private async deliver(payload: WebhookPayload, id: string): Promise<boolean> {
    const retries = this.opts.retries ?? 3;
    const body = JSON.stringify(payload);
    for (let attempt = 0; attempt <= retries; attempt++) {
      let retryAfterMs: number | undefined;
      let reason: string;
      try {
        const res = await this.fetchFn(this.opts.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': `vigil/${VERSION}`,
            'x-vigil-event': 'anomaly',
            'x-vigil-delivery': id,
          },
          body,
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return true;
        reason = `HTTP ${res.status}`;
        if (!RETRYABLE(res.status)) {
          this.opts.log?.warn({ url: this.opts.url, status: res.status, anomaly: id }, 'anomaly webhook rejected the notification; not retrying');
          return false;
        }
        const ra = res.headers.get('retry-after');
        if (ra && /^\d+$/.test(ra.trim())) retryAfterMs = Math.min(60_000, Number(ra) * 1000);
      } catch (err) {
        reason = (err as Error).message;
      }
      if (attempt === retries || this.stopped) {
        this.opts.log?.warn({ url: this.opts.url, anomaly: id, attempts: attempt + 1, reason }, 'anomaly webhook gave up');
        return false;
      }
      this.opts.log?.debug?.({ url: this.opts.url, anomaly: id, attempt: attempt + 1, reason }, 'anomaly webhook retrying');
      await this.sleep(retryAfterMs ?? Math.min(30_000, (this.opts.backoffMs ?? 1000) * 2 ** attempt));
    }
    return false;
  }
}
