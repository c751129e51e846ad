import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection, type Subscription as NatsSub } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { BusMetrics, deliveryPolicy, encodePayload, type Outcome } from './handling.js';
import {
  BusUsageError,
  UnknownQueueError,
  checkGroup,
  checkName,
  resolveSpec,
  type Bus,
  type BusMessage,
  type ConsumeOptions,
  type DeadLetter,
  type MessageHandler,
  type QueueSpec,
  type ResolvedQueueSpec,
  type Subscription,
} from './types.js';

export interface NatsBusOptions {
  /** Namespace of streams and subjects, so several installations (or test runs) share one NATS. */
  prefix?: string;
  registry?: Registry;
  log?: Logger;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

const isApiError = (err: unknown, code: number) => err instanceof JetStreamApiError && err.code === code;

/**
 * The bus on NATS JetStream. A queue is a work-queue stream (`<prefix>_q_<name>`, subject
 * `<prefix>.q.<name>`, file storage, de-duplication by Nats-Msg-Id) consumed through one durable pull
 * consumer per group; its dead letters live in a limits stream `<prefix>_dlq_<name>`. Redelivery
 * backoff and dead-lettering are decided here (nak with delay, publish to the DLQ then ack), so the
 * dead letter carries the handler's last error. Events are plain core-NATS subjects `<prefix>.ev.<topic>`.
 */
export class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  private readonly specs = new Map<string, ResolvedQueueSpec>();
  private readonly loops = new Set<ConsumerLoop>();
  private readonly metrics: BusMetrics;
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly prefix: string,
    opts: NatsBusOptions,
    readonly log?: Logger,
  ) {
    this.metrics = new BusMetrics(opts.registry);
  }

  static async connect(url: string, opts: NatsBusOptions = {}): Promise<NatsBus> {
    const prefix = opts.prefix ?? 'vigil';
    if (!/^[A-Za-z0-9-]{1,40}$/.test(prefix)) throw new BusUsageError(`bus prefix "${prefix}" must be 1–40 of A-Z, a-z, 0-9 and -`);
    let nc: NatsConnection;
    try {
      // Keep reconnecting for ever once connected: the streams are durable, the server comes back.
      nc = await connect({ servers: url, name: 'vigil', maxReconnectAttempts: -1, reconnectTimeWait: 1000, timeout: 5000 });
    } catch (err) {
      throw new Error(`cannot connect to NATS at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5000 });
      return new NatsBus(nc, jsm, jetstream(nc, { timeout: 5000 }), prefix, opts, opts.log);
    } catch (err) {
      await nc.close().catch(() => {});
      throw new Error(`NATS at ${redactUrl(url)} has no usable JetStream (start nats-server with -js): ${(err as Error).message}`, { cause: err });
    }
  }

  private streamOf = (q: string) => `${this.prefix}_q_${q.replaceAll('.', '_')}`;
  private subjectOf = (q: string) => `${this.prefix}.q.${q}`;
  private dlqStreamOf = (q: string) => `${this.prefix}_dlq_${q.replaceAll('.', '_')}`;
  private dlqSubjectOf = (q: string) => `${this.prefix}.dlq.${q}`;
  private eventSubjectOf = (t: string) => `${this.prefix}.ev.${checkName('topic', t)}`;

  async ensureQueue(spec: QueueSpec): Promise<void> {
    const r = resolveSpec(spec);
    await this.ensureStream({
      name: this.streamOf(r.name),
      subjects: [this.subjectOf(r.name)],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(r.duplicateWindowMs),
      num_replicas: 1,
    });
    await this.ensureStream({
      name: this.dlqStreamOf(r.name),
      subjects: [this.dlqSubjectOf(r.name)],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_msgs: 100_000,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(r.duplicateWindowMs),
      num_replicas: 1,
    });
    this.specs.set(r.name, r);
  }

  private async ensureStream(cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
    try {
      const info = await this.jsm.streams.info(cfg.name);
      if (info.config.duplicate_window !== cfg.duplicate_window) await this.jsm.streams.update(cfg.name, { duplicate_window: cfg.duplicate_window });
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
      try {
        await this.jsm.streams.add(cfg);
      } catch (addErr) {
        // Another replica created it between our info and add: fine when it now exists.
        await this.jsm.streams.info(cfg.name).catch(() => {
          throw addErr;
        });
      }
    }
  }

  private spec(queue: string): ResolvedQueueSpec {
    const s = this.specs.get(queue);
    if (!s) throw new UnknownQueueError(queue);
    return s;
  }

  async publish(queue: string, data: unknown, opts: { msgId: string }): Promise<{ duplicate: boolean }> {
    this.open();
    this.spec(queue);
    if (!opts.msgId) throw new BusUsageError('publish needs a msgId');
    const ack = await this.js.publish(this.subjectOf(queue), encodePayload(data), { msgID: opts.msgId, timeout: 5000 });
    return { duplicate: ack.duplicate };
  }

  async consume<T>(queue: string, opts: ConsumeOptions, handler: MessageHandler<T>): Promise<Subscription> {
    this.open();
    const spec = this.spec(queue);
    checkGroup(opts.group);
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new BusUsageError('concurrency must be an integer ≥ 1');
    const consumer = await this.ensureDurable(spec, opts.group);
    const policy = deliveryPolicy(spec, opts, handler, this.metrics, () => performance.now());
    const loop = new ConsumerLoop(this, spec, opts, consumer, () => this.ensureDurable(spec, opts.group), policy as Policy);
    this.loops.add(loop);
    void loop.run();
    return {
      close: async () => {
        await loop.stop();
        this.loops.delete(loop);
      },
    };
  }

  private async ensureDurable(spec: ResolvedQueueSpec, group: string): Promise<Consumer> {
    const stream = this.streamOf(spec.name);
    const ackWait = nanos(spec.ackWaitMs);
    try {
      const info = await this.jsm.consumers.info(stream, group);
      if (info.config.ack_wait !== ackWait) await this.jsm.consumers.update(stream, group, { ack_wait: ackWait });
    } catch (err) {
      if (isApiError(err, JetStreamApiCodes.StreamNotFound)) throw new UnknownQueueError(spec.name);
      if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
      try {
        await this.jsm.consumers.add(stream, {
          durable_name: group,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: ackWait,
          // Unlimited on the server: deliveries past maxDeliver come back to us and become dead letters.
          max_deliver: -1,
        });
      } catch (addErr) {
        const msg = (addErr as Error).message;
        if (/non-filtered|overlap/i.test(msg)) throw new BusUsageError(`queue ${spec.name} is consumed by another group; a work queue has one group`);
        await this.jsm.consumers.info(stream, group).catch(() => {
          throw addErr;
        });
      }
    }
    return this.js.consumers.get(stream, group);
  }

  /** @internal used by ConsumerLoop */
  async deadLetter(spec: ResolvedQueueSpec, m: BusMessage<unknown>, outcome: Extract<Outcome, { kind: 'dead' }>): Promise<void> {
    const letter: DeadLetter = { id: m.id, queue: spec.name, data: m.data, attempts: m.attempt, error: outcome.error, reason: outcome.reason, at: Date.now() };
    // The same id within the window is dropped, so a crash between this publish and the ack does not double it.
    await this.js.publish(this.dlqSubjectOf(spec.name), JSON.stringify(letter), { msgID: `dlq:${m.id}`, timeout: 5000 });
  }

  async deadLetters(queue: string, limit = 100): Promise<DeadLetter[]> {
    const stream = this.dlqStreamOf(checkName('queue', queue));
    let first: number;
    let count: number;
    try {
      const info = await this.jsm.streams.info(stream);
      first = info.state.first_seq;
      count = info.state.messages;
    } catch (err) {
      if (isApiError(err, JetStreamApiCodes.StreamNotFound)) return [];
      throw err;
    }
    const out: DeadLetter[] = [];
    // Limits retention discards from the front only, so sequences from first_seq are contiguous.
    for (let seq = first; out.length < Math.min(limit, count) && seq < first + count; seq++) {
      const m = await this.jsm.streams.getMessage(stream, { seq });
      if (m) out.push(m.json<DeadLetter>());
    }
    return out;
  }

  async publishEvent(topic: string, data: unknown): Promise<void> {
    this.open();
    this.nc.publish(this.eventSubjectOf(topic), encodePayload(data));
  }

  async subscribeEvents(topic: string, handler: (data: unknown) => void): Promise<Subscription> {
    this.open();
    const sub: NatsSub = this.nc.subscribe(this.eventSubjectOf(topic), {
      callback: (err, msg) => {
        if (err) return;
        try {
          handler(msg.json());
        } catch (e) {
          this.log?.warn({ err: e, topic }, 'event subscriber failed');
        }
      },
    });
    // The subscription is registered once the server has seen it; events published after this resolve arrive.
    await this.nc.flush();
    return { close: async () => sub.unsubscribe() };
  }

  async ping(): Promise<void> {
    this.open();
    if (this.nc.isClosed()) throw new Error('NATS connection closed');
    await this.jsm.getAccountInfo();
  }

  async drain(): Promise<void> {
    await Promise.all([...this.loops].map((l) => l.stop()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.loops) l.abort();
    await this.nc.close().catch(() => {});
  }

  private open(): void {
    if (this.closed) throw new BusUsageError('bus is closed');
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

type Policy = (m: BusMessage<unknown>, signal: AbortSignal, lastError?: string, decodeError?: string) => Promise<Outcome>;

const FETCH_EXPIRES_MS = 5_000;

/**
 * Pulls exactly as many messages as there are free handler slots (so a consumer never holds more
 * than `concurrency` messages and a crash strands no more than that), with several pulls in flight.
 */
class ConsumerLoop {
  private free: number;
  private readonly refill: number;
  private stopping = false;
  /** Open pulls and the tasks reading them. */
  private readonly fetches = new Map<ConsumerMessages, Promise<void>>();
  private readonly live = new Map<Promise<void>, AbortController>();
  private wake: () => void = () => {};
  private done?: Promise<void>;

  constructor(
    private readonly bus: NatsBus,
    private readonly spec: ResolvedQueueSpec,
    opts: ConsumeOptions,
    private consumer: Consumer,
    private readonly recreate: () => Promise<Consumer>,
    private readonly policy: Policy,
  ) {
    this.free = opts.concurrency;
    // Each pull is a request and a subscription: batch slot refills instead of pulling one by one.
    this.refill = Math.ceil(opts.concurrency / 2);
  }

  private changed(): Promise<void> {
    return new Promise<void>((r) => (this.wake = r));
  }

  async run(): Promise<void> {
    let finish!: () => void;
    this.done = new Promise<void>((r) => (finish = r));
    let failures = 0;
    while (!this.stopping) {
      if (this.free === 0 || (this.fetches.size > 0 && this.free < this.refill)) {
        await this.changed();
        continue;
      }
      const n = this.free;
      this.free -= n;
      let iter: ConsumerMessages;
      try {
        iter = await this.consumer.fetch({ max_messages: n, expires: FETCH_EXPIRES_MS });
        failures = 0;
      } catch (err) {
        this.free += n;
        if (this.stopping) break;
        failures++;
        this.bus.log?.warn({ err, queue: this.spec.name }, 'bus fetch failed; retrying');
        await this.pause(Math.min(200 * 2 ** failures, 5_000));
        this.consumer = await this.recreate().catch(() => this.consumer);
        continue;
      }
      this.fetches.set(iter, this.drainFetch(iter, n));
      if (this.stopping) void iter.close().catch(() => {});
    }
    finish();
  }

  private async drainFetch(iter: ConsumerMessages, reserved: number): Promise<void> {
    let got = 0;
    try {
      for await (const m of iter) {
        got++;
        if (this.stopping) {
          // Taken after stop began: hand it straight back to another consumer.
          m.nak();
          this.free++;
          continue;
        }
        this.handle(m);
      }
    } catch (err) {
      if (!this.stopping) this.bus.log?.warn({ err, queue: this.spec.name }, 'bus pull ended with an error');
    } finally {
      this.fetches.delete(iter);
      this.free += reserved - got;
      this.wake();
    }
  }

  private handle(m: JsMsg): void {
    const abort = new AbortController();
    const id = m.headers?.get('Nats-Msg-Id') || String(m.seq);
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      abort.abort(new Error(`ack wait of ${this.spec.ackWaitMs} ms expired`));
    }, this.spec.ackWaitMs);
    let data: unknown;
    let bad: string | undefined;
    try {
      data = m.json();
    } catch {
      bad = 'invalid payload: not JSON';
    }
    const msg: BusMessage<unknown> = { id, queue: this.spec.name, data, attempt: m.info.deliveryCount };
    const p: Promise<void> = this.policy(msg, abort.signal, undefined, bad)
      .then(async (o) => {
        clearTimeout(timer);
        // A redelivery owns the message once the ack wait expired; after close nothing can be acked.
        if (expired || this.bus.isClosed) return;
        if (o.kind === 'ack') m.ack();
        else if (o.kind === 'retry') m.nak(o.delayMs);
        else {
          try {
            await this.bus.deadLetter(this.spec, msg, o);
            m.ack();
          } catch (err) {
            this.bus.log?.error({ err, queue: this.spec.name, id }, 'dead-lettering failed; the message will come back');
            m.nak(this.spec.backoffMs.at(-1) ?? 0);
          }
        }
      })
      .catch((err) => this.bus.log?.error({ err, queue: this.spec.name }, 'bus ack failed'))
      .finally(() => {
        this.live.delete(p);
        this.free++;
        this.wake();
      });
    this.live.set(p, abort);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      const prev = this.wake;
      this.wake = () => (clearTimeout(t), prev(), r());
    });
  }

  /** Stop pulling, hand back what was pulled but not started, wait for running handlers. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const f of this.fetches.keys()) await f.close().catch(() => {});
    this.wake();
    await this.done;
    await Promise.all(this.fetches.values());
    while (this.live.size) await Promise.race(this.live.keys());
  }

  abort(): void {
    this.stopping = true;
    for (const a of this.live.values()) a.abort(new Error('bus closed'));
    for (const f of this.fetches.keys()) void f.close().catch(() => {});
    this.wake();
  }
}
