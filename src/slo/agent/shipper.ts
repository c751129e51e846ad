/**
 * Drains the spool to the server, oldest first: POST /api/v2/agent/snapshots, gzip body, agent bearer
 * token, idempotency key `cluster/agent/seq`. A snapshot leaves the spool only when the server
 * acknowledged it (2xx; a seq it already has answers 200 `{"status":"duplicate"}`), so an
 * acknowledged seq is never sent again.
 * Network errors, timeouts, 5xx, 408, 429 and auth failures (401/403: a token can be fixed; 404: the server may not have the SLO module yet) are retried
 * with exponential backoff and jitter; other 4xx mean the server will never take the body — it is
 * dropped, counted and logged rather than blocking every later snapshot.
 */
import type { Logger } from 'pino';
import type { Spool } from './spool.js';

export const SNAPSHOT_PATH = '/api/v2/agent/snapshots';

export interface ShipperOptions {
  serverUrl: string;
  token: string;
  clusterId: string;
  agentId: string;
  spool: Spool;
  log: Logger;
  fetch?: typeof fetch;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
  /** First retry delay (default 1 s), doubling up to maxBackoffMs (default 60 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called after every attempt (metrics). */
  onAttempt?: (outcome: 'ok' | 'duplicate' | 'retry' | 'rejected', seq: number, status: number | undefined) => void;
}

export type SendOutcome = { kind: 'ok' | 'duplicate' | 'rejected'; status: number } | { kind: 'retry'; status?: number; error: string };

/** The server's answer for a seq it already has (OpenAPI: 200 with status "duplicate"). */
function isDuplicate(body: string): boolean {
  try {
    return (JSON.parse(body) as { status?: unknown } | null)?.status === 'duplicate';
  } catch {
    return false;
  }
}

export class Shipper {
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private sleepResolve: (() => void) | undefined;
  private backoff: number;
  private controller = new AbortController();
  private readonly drainWaiters = new Set<() => void>();
  /** Snapshots acknowledged since start. */
  shipped = 0;
  /** Failed attempts since start. */
  failures = 0;
  /** Snapshots the server refused for good. */
  rejected = 0;
  lastError: string | undefined;
  lastSuccessAt: number | undefined;
  /** Consecutive failed attempts. */
  consecutiveFailures = 0;

  constructor(private readonly opts: ShipperOptions) {
    this.backoff = opts.initialBackoffMs ?? 1000;
  }

  get url(): string {
    return this.opts.serverUrl.replace(/\/+$/, '') + SNAPSHOT_PATH;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.controller = new AbortController();
    this.loop = this.run();
  }

  /** New snapshot in the spool: send it now unless backing off. */
  kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Stop after the attempt in flight (which is aborted). Spooled snapshots stay for the next start. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.controller.abort();
    this.kick();
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.sleepResolve?.();
    await this.loop;
    this.notifyDrainWaiters();
  }

  /** Resolves true once the spool is empty, false if `timeoutMs` passes or the shipper stops first. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.opts.spool.depth === 0) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    this.kick();
    return new Promise<boolean>((resolve) => {
      const settle = () => {
        clearTimeout(timer);
        this.drainWaiters.delete(check);
        resolve(this.opts.spool.depth === 0);
      };
      const check = () => {
        if (this.opts.spool.depth === 0 || this.stopped) settle();
      };
      const timer = setTimeout(settle, timeoutMs);
      this.drainWaiters.add(check);
    });
  }

  /** A snapshot left the spool or the shipper stopped: tell whoever waits for the spool to drain. */
  private notifyDrainWaiters(): void {
    for (const check of [...this.drainWaiters]) check();
  }

  /** Send one body once. */
  async send(seq: number, body: Buffer): Promise<SendOutcome> {
    const o = this.opts;
    const doFetch = o.fetch ?? fetch;
    const timeout = AbortSignal.timeout(o.timeoutMs ?? 30_000);
    let res: Response;
    try {
      res = await doFetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
          'idempotency-key': `${o.clusterId}/${o.agentId}/${seq}`,
        },
        body: body as unknown as BodyInit,
        signal: AbortSignal.any([timeout, this.controller.signal]),
      });
    } catch (err) {
      const e = err as { message?: string; cause?: { code?: string; message?: string } };
      return { kind: 'retry', error: timeout.aborted ? 'timeout' : (e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err)) };
    }
    let text = '';
    try {
      text = await res.text();
    } catch {
      // body is informational only
    }
    const s = res.status;
    if (s >= 200 && s < 300) return { kind: isDuplicate(text) ? 'duplicate' : 'ok', status: s };
    if (s >= 500 || s === 408 || s === 429 || s === 401 || s === 403 || s === 404) {
      return { kind: 'retry', status: s, error: `HTTP ${s}${text ? ': ' + text.slice(0, 200) : ''}` };
    }
    return { kind: 'rejected', status: s };
  }

  private async run(): Promise<void> {
    const o = this.opts;
    const initial = o.initialBackoffMs ?? 1000;
    const max = o.maxBackoffMs ?? 60_000;
    while (!this.stopped) {
      const head = o.spool.peek();
      if (!head) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      const out = await this.send(head.seq, head.body);
      if (this.stopped && out.kind === 'retry') break;
      o.onAttempt?.(out.kind, head.seq, out.status);
      if (out.kind === 'ok' || out.kind === 'duplicate') {
        o.spool.ack(head.seq);
        this.shipped++;
        this.lastSuccessAt = Date.now();
        this.consecutiveFailures = 0;
        this.backoff = initial;
        this.notifyDrainWaiters();
        continue;
      }
      if (out.kind === 'rejected') {
        o.spool.ack(head.seq);
        this.rejected++;
        this.lastError = `server rejected snapshot ${head.seq} with HTTP ${out.status}`;
        o.log.error({ seq: head.seq, status: out.status }, 'server rejected a snapshot; dropped it');
        this.notifyDrainWaiters();
        continue;
      }
      const error = out.kind === 'retry' ? out.error : '';
      this.failures++;
      this.consecutiveFailures++;
      this.lastError = error;
      const delay = Math.min(max, this.backoff) * (0.5 + Math.random() * 0.5);
      if (this.consecutiveFailures === 1 || this.consecutiveFailures % 10 === 0) {
        o.log.warn({ seq: head.seq, error, retryInMs: Math.round(delay), depth: o.spool.depth }, 'shipping snapshot failed; will retry');
      }
      this.backoff = Math.min(max, this.backoff * 2);
      await new Promise<void>((r) => {
        this.sleepResolve = r;
        this.sleepTimer = setTimeout(r, delay);
      });
      this.sleepResolve = undefined;
      this.sleepTimer = undefined;
    }
  }
}
