/**
 * The Tempo poller (a leader job, every pollInterval): search the last `lookback` of traces and
 * ingest them. Overlapping windows are harmless (trace ids are de-duplicated); gaps are not, so:
 *
 * - The end of the last window that was searched and ingested successfully is the watermark,
 *   persisted in the KV store. The next window starts at min(now − lookback, watermark): after an
 *   outage, or a restart, polling resumes where it stopped instead of only looking back `lookback`.
 * - A long catch-up is searched in slices (1 h by default, oldest first, a few per run), the
 *   watermark advancing after each, so progress survives a failure halfway.
 * - A failed poll backs off exponentially (pollInterval × 2^(failures−1), capped), on top of the
 *   client's own retries; the shared status in the KV store makes /readyz report the source degraded
 *   on every replica until a poll succeeds again.
 * - Catch-up is bounded (maxCatchUpMs, default 24 h): an older gap is reported with the command that
 *   fills it (`vigil anomaly backfill`).
 */
import type { KvStore } from '../platform/backends/kv/types.js';
import type { SearchAllResult } from './tempo-client.js';
import type { SearchWindow } from './tempo.js';
import type { TraceSummary } from './types.js';

export interface PollerLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export interface TempoPollerOptions {
  /** TempoClient (or anything with its searchAll). */
  client: { searchAll(window: SearchWindow): Promise<SearchAllResult> };
  kv: KvStore;
  /** Store (and check) what a window returned. A throw fails the poll like a Tempo error. */
  ingest(summaries: TraceSummary[]): Promise<unknown>;
  lookbackMs: number;
  pollIntervalMs: number;
  /** Catch-up slice (default 1 h). */
  sliceMs?: number;
  /** Slices searched per run at most (default 4). */
  maxSlicesPerRun?: number;
  /** A watermark older than this is not caught up on (default 24 h). */
  maxCatchUpMs?: number;
  /** Longest backoff between failed polls (default 5 min). */
  maxBackoffMs?: number;
  /** KV keys (default "anomaly:tempo:"). */
  keyPrefix?: string;
  /** Shown in readiness details. */
  sourceLabel?: string;
  now?: () => number;
  log?: PollerLog;
}

/** What /readyz and /api/v1/anomaly/status show; also persisted (JSON) in the KV store. */
export interface PollerStatus {
  source: string;
  /** End (unix seconds) of the last window searched and ingested; null before the first success. */
  watermark: number | null;
  consecutiveFailures: number;
  lastError: string | null;
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
  /** Epoch ms before which no poll is attempted (backoff); null when not backing off. */
  nextAttemptAt: number | null;
  lastWindow: SearchWindow | null;
  /** Windows Tempo truncated even after splitting (traces were missed there). */
  truncatedWindows: number;
}

export type PollOutcome =
  | { outcome: 'ok'; windows: SearchWindow[]; traces: number; ingested: number; caughtUp: boolean }
  | { outcome: 'backoff'; retryAt: number }
  | { outcome: 'error'; error: string; retryAt: number };

export class TempoPoller {
  private readonly now: () => number;
  private status: PollerStatus;
  private ran = false;

  constructor(private readonly opts: TempoPollerOptions) {
    this.now = opts.now ?? Date.now;
    this.status = {
      source: opts.sourceLabel ?? 'tempo',
      watermark: null,
      consecutiveFailures: 0,
      lastError: null,
      lastAttemptAt: null,
      lastSuccessAt: null,
      nextAttemptAt: null,
      lastWindow: null,
      truncatedWindows: 0,
    };
  }

  private key(k: string) {
    return `${this.opts.keyPrefix ?? 'anomaly:tempo:'}${k}`;
  }

  /** The watermark persisted in the KV store (unix seconds), or null. */
  async loadWatermark(): Promise<number | null> {
    const v = await this.opts.kv.get(this.key('watermark'));
    return v !== null && /^\d+$/.test(v) ? Number(v) : null;
  }

  private async saveWatermark(sec: number): Promise<void> {
    this.status.watermark = Math.max(this.status.watermark ?? 0, sec);
    await this.opts.kv.set(this.key('watermark'), String(this.status.watermark));
  }

  private async saveStatus(): Promise<void> {
    await this.opts.kv.set(this.key('status'), JSON.stringify(this.status)).catch(() => undefined);
  }

  /** This replica's view when it has polled, else the status the polling replica shared. */
  async currentStatus(): Promise<PollerStatus | null> {
    if (this.ran) return { ...this.status };
    const raw = await this.opts.kv.get(this.key('status'));
    if (!raw) return null;
    try {
      return JSON.parse(raw) as PollerStatus;
    } catch {
      return null;
    }
  }

  /** The windows the next poll at nowMs searches (oldest first, each at most sliceMs long). */
  plan(nowMs: number, watermark: number | null): { windows: SearchWindow[]; skippedFrom?: number } {
    const end = Math.floor(nowMs / 1000);
    const lookback = Math.max(1, Math.ceil(this.opts.lookbackMs / 1000));
    let start = end - lookback;
    let skippedFrom: number | undefined;
    if (watermark !== null && watermark < start) {
      const oldest = end - Math.ceil((this.opts.maxCatchUpMs ?? 24 * 3600_000) / 1000);
      if (watermark < oldest) {
        skippedFrom = watermark;
        start = oldest;
      } else start = watermark;
    }
    const slice = Math.max(lookback, Math.floor((this.opts.sliceMs ?? 3600_000) / 1000));
    const windows: SearchWindow[] = [];
    for (let s = start; s < end; s += slice) windows.push({ start: s, end: Math.min(end, s + slice) });
    if (windows.length === 0) windows.push({ start, end: Math.max(end, start + 1) });
    return { windows, skippedFrom };
  }

  /** One poll (the job body). Never throws: failures are recorded and backed off. */
  async runOnce(signal?: AbortSignal): Promise<PollOutcome> {
    const now = this.now();
    if (!this.ran) {
      this.ran = true;
      this.status.watermark = await this.loadWatermark().catch(() => null);
    }
    if (this.status.nextAttemptAt !== null && now < this.status.nextAttemptAt) {
      return { outcome: 'backoff', retryAt: this.status.nextAttemptAt };
    }
    this.status.lastAttemptAt = now;
    const { windows, skippedFrom } = this.plan(now, this.status.watermark);
    if (skippedFrom !== undefined) {
      this.opts.log?.warn(
        { from: new Date(skippedFrom * 1000).toISOString(), to: new Date(windows[0].start * 1000).toISOString() },
        'Tempo poller was stopped longer than it catches up on; fill the gap with `vigil anomaly backfill --since <duration>`',
      );
    }
    const max = this.opts.maxSlicesPerRun ?? 4;
    const todo = windows.slice(0, max);
    let traces = 0;
    let ingested = 0;
    try {
      for (const w of todo) {
        if (signal?.aborted) break;
        const r = await this.opts.client.searchAll(w);
        traces += r.summaries.length;
        if (r.truncatedWindows.length) this.status.truncatedWindows += r.truncatedWindows.length;
        if (r.summaries.length) await this.opts.ingest(r.summaries);
        ingested += r.summaries.length;
        this.status.lastWindow = w;
        await this.saveWatermark(w.end);
      }
    } catch (err) {
      const failures = ++this.status.consecutiveFailures;
      const delay = Math.min(this.opts.maxBackoffMs ?? 300_000, this.opts.pollIntervalMs * 2 ** (failures - 1));
      this.status.lastError = (err as Error)?.message ?? String(err);
      this.status.nextAttemptAt = now + delay;
      await this.saveStatus();
      this.opts.log?.warn(
        { err: this.status.lastError, failures, retryInMs: delay, resumeFrom: this.status.watermark },
        'Tempo poll failed; backing off',
      );
      return { outcome: 'error', error: this.status.lastError, retryAt: this.status.nextAttemptAt };
    }
    if (this.status.consecutiveFailures > 0) {
      this.opts.log?.info({ failures: this.status.consecutiveFailures, windows: todo }, 'Tempo poll recovered; gap filled from the watermark');
    }
    this.status.consecutiveFailures = 0;
    this.status.lastError = null;
    this.status.nextAttemptAt = null;
    this.status.lastSuccessAt = now;
    await this.saveStatus();
    return { outcome: 'ok', windows: todo, traces, ingested, caughtUp: todo.length === windows.length };
  }
}
