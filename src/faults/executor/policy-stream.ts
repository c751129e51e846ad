import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { Backoff } from './backoff.js';
import { sleep, type Clock, type Timer } from './clock.js';
import { compilePolicies, validatePolicy, type CompiledPolicies, type FaultPolicy, type FaultTarget } from '../policy/index.js';
import { SseParser, type SseEvent } from './sse.js';
import { loadState, saveState } from './state-file.js';

export interface PolicyStreamOptions {
  /** Control plane base URL; without one the executor runs on its state file alone. */
  server?: URL;
  token?: string;
  target: FaultTarget;
  /** Where the last policies are kept across restarts; none in a `--workers` child (its primary keeps it). */
  stateFile?: string;
  clock: Clock;
  log: Logger;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Reconnect when nothing (not even a keepalive, sent every 30 s) arrived for this long. */
  idleTimeoutMs?: number;
  draw?: () => number;
}

export type PolicySource = 'none' | 'state-file' | 'control-plane';

export interface PolicyStatus {
  version: string;
  ruleCount: number;
  policyCount: number;
  source: PolicySource;
  connected: boolean;
  /** Seconds since the control plane was last heard from; 0 while the stream is open. */
  ageSeconds: number | undefined;
}

/**
 * Keeps the policies in force: the last set pushed on the control plane's SSE stream, else the
 * last one saved to disk. It fails open: losing the control plane changes nothing but staleness,
 * and it reconnects with capped exponential backoff for as long as it runs.
 */
export class PolicyStream {
  private compiled: CompiledPolicies;
  private version = '';
  private policyCount = 0;
  private source: PolicySource = 'none';
  private connected = false;
  private lastContact: number | undefined;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly listeners = new Set<(version: string) => void>();
  private installed: FaultPolicy[] = [];
  private expiry: Timer | undefined;

  constructor(private readonly opts: PolicyStreamOptions) {
    // No policies yet: header-controlled faults (if enabled) still apply.
    this.compiled = compilePolicies([], opts.target, opts.clock.now());
    if (opts.stateFile === undefined) return;
    try {
      const saved = loadState(opts.stateFile);
      if (saved) {
        this.install(saved.policies, saved.version, 'state-file');
        this.lastContact = saved.syncedAt;
      }
    } catch (err) {
      opts.log.warn({ err: (err as Error).message, file: opts.stateFile }, 'ignoring unreadable executor state file');
    }
  }

  /** The validated policies in force and their version, as relayed to `--workers` children. */
  get installedSet(): { policies: FaultPolicy[]; version: string } {
    return { policies: this.installed, version: this.version };
  }

  /** Put in force a set received from elsewhere (a worker's primary). */
  adopt(policies: unknown[], version: string): void {
    this.install(policies, version, 'control-plane');
  }

  /** The compiled policies in force (swapped atomically on every update). */
  get current(): CompiledPolicies {
    return this.compiled;
  }

  status(): PolicyStatus {
    const now = this.opts.clock.now();
    return {
      version: this.version,
      ruleCount: this.compiled.ruleCount,
      policyCount: this.policyCount,
      source: this.source,
      connected: this.connected,
      ageSeconds: this.connected ? 0 : this.lastContact === undefined ? undefined : Math.max(0, (now - this.lastContact) / 1000),
    };
  }

  /** Called with the new version after every applied update. */
  onUpdate(fn: (version: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  start(): void {
    if (!this.opts.server || this.loop) return;
    this.loop = this.run(this.opts.server);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.expiry?.cancel();
    await this.loop;
  }

  private async run(server: URL): Promise<void> {
    const { clock, log } = this.opts;
    const backoff = new Backoff(this.opts.backoffBaseMs ?? 250, this.opts.backoffCapMs ?? 30_000, this.opts.draw);
    const url = new URL('v1/config/stream', server.href.endsWith('/') ? server : new URL(server.href + '/'));
    while (!this.stopping.signal.aborted) {
      try {
        await this.connectOnce(url, () => backoff.reset());
        log.warn({ url: url.href }, 'policy stream ended; keeping the policies in force');
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        log.warn({ err: (err as Error).message, url: url.href }, 'policy stream unavailable; keeping the policies in force');
      } finally {
        this.connected = false;
      }
      try {
        await sleep(clock, backoff.next(), this.stopping.signal);
      } catch {
        break;
      }
    }
  }

  private async connectOnce(url: URL, onFirstEvent: () => void): Promise<void> {
    const { clock } = this.opts;
    const idleMs = this.opts.idleTimeoutMs ?? 90_000;
    const conn = new AbortController();
    const stop = () => conn.abort(new Error('executor stopping'));
    this.stopping.signal.addEventListener('abort', stop, { once: true });
    let watchdog = clock.after(idleMs, () => conn.abort(new Error(`no data for ${idleMs} ms`)));
    const heard = () => {
      this.lastContact = clock.now();
      watchdog.cancel();
      watchdog = clock.after(idleMs, () => conn.abort(new Error(`no data for ${idleMs} ms`)));
    };
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
      const res = await fetch(url, { headers, signal: conn.signal });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new Error(`control plane answered ${res.status}`);
      }
      this.connected = true;
      heard();
      let first = true;
      const parser = new SseParser(
        (e) => {
          this.onEvent(e);
          if (first) {
            first = false;
            onFirstEvent();
          }
        },
        () => {},
      );
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        heard();
        parser.push(decoder.decode(chunk, { stream: true }));
      }
    } finally {
      watchdog.cancel();
      this.stopping.signal.removeEventListener('abort', stop);
    }
  }

  private onEvent(e: SseEvent): void {
    if (e.event !== 'full_config' && e.event !== 'update') return;
    let policies: unknown;
    try {
      policies = JSON.parse(e.data);
    } catch {
      this.opts.log.warn({ event: e.event }, 'policy stream sent malformed JSON; keeping the policies in force');
      return;
    }
    if (!Array.isArray(policies)) {
      this.opts.log.warn({ event: e.event }, 'policy stream sent a non-array; keeping the policies in force');
      return;
    }
    const version = e.id || createHash('sha256').update(e.data).digest('hex').slice(0, 12);
    if (!this.install(policies, version, 'control-plane')) return;
    this.lastContact = this.opts.clock.now();
    if (this.opts.stateFile === undefined) return;
    try {
      saveState(this.opts.stateFile, { version, syncedAt: this.lastContact, policies });
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message, file: this.opts.stateFile }, 'could not save the executor state file');
    }
  }

  /** Validate and compile a full set; a bad policy is skipped, never the whole set. */
  private install(raw: unknown[], version: string, source: PolicySource): boolean {
    const valid: FaultPolicy[] = [];
    for (const p of raw) {
      try {
        valid.push(validatePolicy(p).policy);
      } catch (err) {
        const name = (p as { metadata?: { name?: unknown } })?.metadata?.name;
        this.opts.log.warn({ policy: name, err: (err as Error).message }, 'skipping a policy that does not validate');
      }
    }
    if (!this.compile(valid)) return false;
    this.installed = valid;
    this.version = version;
    this.policyCount = valid.length;
    this.source = source;
    this.opts.log.info({ version, policies: valid.length, rules: this.compiled.ruleCount, source }, 'policies in force');
    for (const fn of this.listeners) fn(version);
    return true;
  }

  /** Compile for now, and again when the next policy or rule expires (`duration_seconds`). */
  private compile(policies: FaultPolicy[]): boolean {
    const { clock, log } = this.opts;
    let compiled: CompiledPolicies;
    try {
      compiled = compilePolicies(policies, this.opts.target, clock.now());
    } catch (err) {
      log.error({ err: (err as Error).message }, 'could not compile policies; keeping the ones in force');
      return false;
    }
    this.compiled = compiled;
    this.expiry?.cancel();
    this.expiry = undefined;
    if (compiled.nextExpiryAt !== null && !this.stopping.signal.aborted) {
      this.expiry = clock.after(compiled.nextExpiryAt - clock.now(), () => {
        if (this.installed === policies) this.compile(policies);
      });
    }
    return true;
  }
}
