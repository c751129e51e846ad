/**
 * Pushes the policy set to every connected executor (SSE) when it changes, on whichever replica
 * the change was written: while anyone listens, this replica polls the global version in SQL (one
 * integer) every `pollMs`, and a write on this replica pokes it at once. A listener gets every
 * version newer than the one it has, never an older one.
 */
import type { FaultPolicy } from './policy/index.js';

export interface PolicySnapshot {
  version: number;
  policies: FaultPolicy[];
}

export interface FeedListener {
  /** Called with each newer snapshot. */
  send(s: PolicySnapshot): void;
  version: number;
}

export interface PolicyFeedOptions {
  snapshot: () => Promise<PolicySnapshot>;
  version: () => Promise<number>;
  pollMs: number;
  onError?: (err: Error) => void;
}

export class PolicyFeed {
  private readonly listeners = new Set<FeedListener>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private again = false;
  private lastSeen = -1;
  private stopped = false;
  private cached: PolicySnapshot | undefined;

  constructor(private readonly opts: PolicyFeedOptions) {}

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Add a listener; it receives the current snapshot first (returned, for the caller to send as full_config). */
  async subscribe(l: Omit<FeedListener, 'version'>): Promise<{ first: PolicySnapshot; unsubscribe: () => void }> {
    const first = await this.current();
    const listener: FeedListener = { send: l.send, version: first.version };
    this.listeners.add(listener);
    this.lastSeen = Math.max(this.lastSeen, first.version);
    this.schedule();
    return {
      first,
      unsubscribe: () => {
        this.listeners.delete(listener);
        if (this.listeners.size === 0) this.clearTimer();
      },
    };
  }

  /**
   * The snapshot at the current version, read once per version: after a restart every executor
   * reconnects at once, and one integer read each is cheaper than the whole policy set each.
   */
  private async current(known?: number): Promise<PolicySnapshot> {
    const v = known ?? (await this.opts.version());
    if (this.cached && this.cached.version === v) return this.cached;
    const snap = await this.opts.snapshot();
    if (!this.cached || snap.version >= this.cached.version) this.cached = snap;
    return snap;
  }

  /** Something changed here: push now instead of at the next poll. */
  poke(): void {
    if (this.listeners.size === 0 || this.stopped) return;
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.listeners.clear();
  }

  private clearTimer() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule() {
    if (this.timer || this.stopped || this.listeners.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll().finally(() => this.schedule());
    }, this.opts.pollMs);
    this.timer.unref?.();
  }

  /** One poll at a time; a poke during a poll runs one more right after. */
  private poll(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = (async () => {
      do {
        this.again = false;
        try {
          await this.pollOnce();
        } catch (err) {
          this.opts.onError?.(err as Error);
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const v = await this.opts.version();
    const behind = [...this.listeners].some((l) => l.version < v);
    if (!behind && v <= this.lastSeen) return;
    const snap = await this.current(v);
    this.lastSeen = Math.max(this.lastSeen, snap.version);
    for (const l of this.listeners) {
      if (snap.version <= l.version) continue;
      l.version = snap.version;
      try {
        l.send(snap);
      } catch (err) {
        this.opts.onError?.(err as Error);
      }
    }
  }
}
