import type { Registry } from 'prom-client';
import { BusMetrics, deliveryPolicy, encodePayload, type Outcome } from './handling.js';
import {
  BusUsageError,
  UnknownQueueError,
  checkGroup,
  checkName,
  resolveSpec,
  type Bus,
  type ConsumeOptions,
  type DeadLetter,
  type MessageHandler,
  type QueueSpec,
  type ResolvedQueueSpec,
  type Subscription,
} from './types.js';

/** The clock and timers the in-process bus runs on; tests pass a manual one and need no sleeps. */
export interface BusTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: BusTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface Stored {
  id: string;
  text: string;
  deliveries: number;
  lastError?: string;
}

interface InFlight {
  /** Resolves when the handler settles or its ack wait expires, whichever is first. */
  released: Promise<void>;
  abort: AbortController;
}

interface Consumer {
  group: string;
  concurrency: number;
  /** Handler slots taken, including handlers whose ack wait expired but have not returned. */
  running: number;
  live: Set<InFlight>;
  stopped: boolean;
  run: (stored: Stored) => void;
}

interface Queue {
  spec: ResolvedQueueSpec;
  ready: Stored[];
  /** message id → end of its duplicate window; insertion order is expiry order. */
  seen: Map<string, number>;
  group?: string;
  consumers: Consumer[];
  next: number;
  dlq: DeadLetter[];
}

/**
 * The bus inside one process, for `vigil up` and single-node installs: the same delivery semantics as
 * NATS JetStream (competing consumers, ack wait, backoff, dead letters, de-duplication), no durability
 * across a restart of the process.
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly queues = new Map<string, Queue>();
  private readonly topics = new Map<string, Set<(data: unknown) => void>>();
  private readonly timers = new Set<unknown>();
  private readonly metrics: BusMetrics;
  private readonly clock: BusTimers;
  private closed = false;

  constructor(opts: { registry?: Registry; timers?: BusTimers } = {}) {
    this.metrics = new BusMetrics(opts.registry);
    this.clock = opts.timers ?? realTimers;
  }

  async ensureQueue(spec: QueueSpec): Promise<void> {
    const resolved = resolveSpec(spec);
    const q = this.queues.get(resolved.name);
    if (q) q.spec = resolved;
    else this.queues.set(resolved.name, { spec: resolved, ready: [], seen: new Map(), consumers: [], next: 0, dlq: [] });
  }

  async publish(queue: string, data: unknown, opts: { msgId: string }): Promise<{ duplicate: boolean }> {
    this.open();
    const q = this.queue(queue);
    const text = encodePayload(data);
    if (!opts.msgId) throw new BusUsageError('publish needs a msgId');
    const now = this.clock.now();
    for (const [id, until] of q.seen) {
      if (until > now) break;
      q.seen.delete(id);
    }
    if (q.seen.has(opts.msgId)) return { duplicate: true };
    q.seen.set(opts.msgId, now + q.spec.duplicateWindowMs);
    q.ready.push({ id: opts.msgId, text, deliveries: 0 });
    this.pump(q);
    return { duplicate: false };
  }

  async consume<T>(queue: string, opts: ConsumeOptions, handler: MessageHandler<T>): Promise<Subscription> {
    this.open();
    const q = this.queue(queue);
    checkGroup(opts.group);
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new BusUsageError('concurrency must be an integer ≥ 1');
    if (q.group && q.group !== opts.group) throw new BusUsageError(`queue ${queue} is consumed by group ${q.group}; a work queue has one group`);
    q.group = opts.group;
    const policy = deliveryPolicy(q.spec, opts, handler, this.metrics, () => performance.now());
    const c: Consumer = { group: opts.group, concurrency: opts.concurrency, running: 0, live: new Set(), stopped: false, run: () => {} };
    c.run = (stored) => this.deliver(q, c, stored, policy);
    q.consumers.push(c);
    this.pump(q);
    return {
      close: async () => {
        c.stopped = true;
        q.consumers = q.consumers.filter((x) => x !== c);
        await waitLive(c);
      },
    };
  }

  async deadLetters(queue: string, limit = 100): Promise<DeadLetter[]> {
    return this.queue(queue).dlq.slice(0, limit).map((d) => ({ ...d }));
  }

  async publishEvent(topic: string, data: unknown): Promise<void> {
    this.open();
    checkName('topic', topic);
    const text = encodePayload(data);
    for (const fn of this.topics.get(topic) ?? []) {
      // Each subscriber gets its own copy, as it would off the wire; a throwing subscriber hurts no other.
      queueMicrotask(() => {
        try {
          fn(JSON.parse(text));
        } catch {
          /* at-most-once: a subscriber's failure is its own */
        }
      });
    }
  }

  async subscribeEvents(topic: string, handler: (data: unknown) => void): Promise<Subscription> {
    this.open();
    checkName('topic', topic);
    const set = this.topics.get(topic) ?? new Set();
    this.topics.set(topic, set);
    set.add(handler);
    return { close: async () => void set.delete(handler) };
  }

  async ping(): Promise<void> {
    this.open();
  }

  async drain(): Promise<void> {
    const consumers = [...this.queues.values()].flatMap((q) => q.consumers);
    for (const c of consumers) c.stopped = true;
    await Promise.all(consumers.map(waitLive));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queues.values()) for (const c of q.consumers) {
      c.stopped = true;
      for (const f of c.live) f.abort.abort(new Error('bus closed'));
    }
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    this.topics.clear();
  }

  private open(): void {
    if (this.closed) throw new BusUsageError('bus is closed');
  }

  private queue(name: string): Queue {
    const q = this.queues.get(name);
    if (!q) throw new UnknownQueueError(name);
    return q;
  }

  private later(fn: () => void, ms: number): () => void {
    const h = this.clock.setTimeout(() => {
      this.timers.delete(h);
      fn();
    }, ms);
    this.timers.add(h);
    return () => {
      this.timers.delete(h);
      this.clock.clearTimeout(h);
    };
  }

  /** Hand ready messages to consumers with a free slot, round robin. */
  private pump(q: Queue): void {
    while (q.ready.length && !this.closed) {
      const n = q.consumers.length;
      let picked: Consumer | undefined;
      for (let i = 0; i < n && !picked; i++) {
        const c = q.consumers[(q.next + i) % n];
        if (!c.stopped && c.running < c.concurrency) {
          picked = c;
          q.next = (q.next + i + 1) % n;
        }
      }
      if (!picked) return;
      picked.run(q.ready.shift()!);
    }
  }

  private deliver(
    q: Queue,
    c: Consumer,
    stored: Stored,
    policy: (m: { id: string; queue: string; data: never; attempt: number }, s: AbortSignal, lastError?: string) => Promise<Outcome>,
  ): void {
    stored.deliveries++;
    c.running++;
    const abort = new AbortController();
    let release!: () => void;
    const flight: InFlight = { abort, released: new Promise<void>((r) => (release = r)) };
    c.live.add(flight);
    let expired = false;
    const cancelAckWait = this.later(() => {
      expired = true;
      c.live.delete(flight);
      release();
      abort.abort(new Error(`ack wait of ${q.spec.ackWaitMs} ms expired`));
      stored.lastError = `not acknowledged within ${q.spec.ackWaitMs} ms`;
      q.ready.unshift(stored);
      this.pump(q);
    }, q.spec.ackWaitMs);

    void policy({ id: stored.id, queue: q.spec.name, data: JSON.parse(stored.text) as never, attempt: stored.deliveries }, abort.signal, stored.lastError).then((outcome) => {
      c.running--;
      if (!expired && !this.closed) {
        cancelAckWait();
        c.live.delete(flight);
        this.settle(q, stored, outcome);
      }
      release();
      this.pump(q);
    });
  }

  private settle(q: Queue, stored: Stored, outcome: Outcome): void {
    if (outcome.kind === 'ack') return;
    if (outcome.kind === 'dead') {
      q.dlq.push({ id: stored.id, queue: q.spec.name, data: JSON.parse(stored.text), attempts: stored.deliveries, error: outcome.error, reason: outcome.reason, at: this.clock.now() });
      return;
    }
    stored.lastError = outcome.error;
    const requeue = () => {
      q.ready.unshift(stored);
      this.pump(q);
    };
    if (outcome.delayMs > 0) this.later(requeue, outcome.delayMs);
    else requeue();
  }
}

async function waitLive(c: Consumer): Promise<void> {
  while (c.live.size) await Promise.race([...c.live].map((f) => f.released));
}
