import type { TSchema } from '@sinclair/typebox';

/**
 * The bus port: work queues (competing consumers, at-least-once, redelivery with backoff, dead
 * letters, publish de-duplication) and fan-out topics (at-most-once live events). The in-process bus
 * and NATS JetStream implement it identically; test/backends/bus.contract.test.ts runs against both.
 */
export interface BusMessage<T = unknown> {
  /** The publisher's message id (also the de-duplication key). */
  id: string;
  queue: string;
  data: T;
  /** 1 on first delivery, then 2, 3, … on redelivery. */
  attempt: number;
}

export interface QueueSpec {
  /** Dot-separated segments of [a-z0-9-], e.g. `batches.parse`. */
  name: string;
  /** A delivery not acknowledged within this long is redelivered; the handler's signal aborts. */
  ackWaitMs?: number;
  /** Deliveries before a message goes to the dead-letter queue. */
  maxDeliver?: number;
  /** Delay before redelivering a failed message, by attempt (the last value repeats). */
  backoffMs?: number[];
  /** A second publish with the same message id within this window is dropped. */
  duplicateWindowMs?: number;
}

export interface ConsumeOptions {
  /** The consumer group (a durable consumer); each message goes to one member. One group per queue. */
  group: string;
  /** Most handlers running at once in this consumer; no message is taken beyond it. */
  concurrency: number;
  /** Payloads failing this schema are dead-lettered at once with the reason, never retried. */
  schema?: TSchema;
}

export type MessageHandler<T> = (m: BusMessage<T>, signal: AbortSignal) => Promise<void>;

export interface DeadLetter {
  id: string;
  queue: string;
  data: unknown;
  attempts: number;
  /** Why: the handler's last error, an invalid payload, or acknowledgement timeouts. */
  error: string;
  reason: 'failed' | 'invalid' | 'timeout';
  at: number;
}

export interface Subscription {
  /** Stop taking messages and wait for the handlers already running. */
  close(): Promise<void>;
}

export interface Bus {
  readonly kind: 'memory' | 'nats';
  /** Create the queue (and its dead-letter queue) when missing. Publishers and consumers both call it. */
  ensureQueue(spec: QueueSpec): Promise<void>;
  /** Durable once resolved. `duplicate` is true when the id was seen within the window (nothing enqueued). */
  publish(queue: string, data: unknown, opts: { msgId: string }): Promise<{ duplicate: boolean }>;
  /** Resolve = ack; throw = redelivery after backoff; after maxDeliver → dead letter. */
  consume<T>(queue: string, opts: ConsumeOptions, handler: MessageHandler<T>): Promise<Subscription>;
  /** Oldest first. */
  deadLetters(queue: string, limit?: number): Promise<DeadLetter[]>;
  /** Fan-out to every current subscriber on every replica; at-most-once, not stored. */
  publishEvent(topic: string, data: unknown): Promise<void>;
  subscribeEvents(topic: string, handler: (data: unknown) => void): Promise<Subscription>;
  ping(): Promise<void>;
  /** Stop taking messages on every consumer and wait for in-flight handlers. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** A queue that was never ensured in this process. */
export class UnknownQueueError extends Error {
  constructor(readonly queue: string) {
    super(`queue "${queue}" is not declared (ensureQueue first)`);
  }
}

/** A bad queue, group or topic name, or a payload that is not JSON. */
export class BusUsageError extends Error {}

export interface ResolvedQueueSpec {
  name: string;
  ackWaitMs: number;
  maxDeliver: number;
  backoffMs: number[];
  duplicateWindowMs: number;
}

const NAME = /^[a-z0-9-]{1,64}(\.[a-z0-9-]{1,64}){0,7}$/;
const GROUP = /^[A-Za-z0-9-]{1,64}$/;

export function checkName(kind: 'queue' | 'topic', name: string): string {
  if (!NAME.test(name)) throw new BusUsageError(`${kind} name "${name}" must be dot-separated segments of a-z, 0-9 and -`);
  return name;
}

export function checkGroup(group: string): string {
  if (!GROUP.test(group)) throw new BusUsageError(`group "${group}" must be 1–64 of A-Z, a-z, 0-9 and -`);
  return group;
}

export function resolveSpec(spec: QueueSpec): ResolvedQueueSpec {
  checkName('queue', spec.name);
  const r: ResolvedQueueSpec = {
    name: spec.name,
    ackWaitMs: spec.ackWaitMs ?? 30_000,
    maxDeliver: spec.maxDeliver ?? 5,
    backoffMs: spec.backoffMs ?? [1_000, 5_000, 30_000],
    duplicateWindowMs: spec.duplicateWindowMs ?? 120_000,
  };
  const positive = (v: number) => Number.isFinite(v) && v > 0;
  if (!positive(r.ackWaitMs)) throw new BusUsageError(`queue ${r.name}: ackWaitMs must be a positive number`);
  if (!Number.isInteger(r.maxDeliver) || r.maxDeliver < 1) throw new BusUsageError(`queue ${r.name}: maxDeliver must be an integer ≥ 1`);
  if (!r.backoffMs.every((v) => Number.isFinite(v) && v >= 0)) throw new BusUsageError(`queue ${r.name}: backoffMs must be numbers ≥ 0`);
  if (!positive(r.duplicateWindowMs)) throw new BusUsageError(`queue ${r.name}: duplicateWindowMs must be a positive number`);
  return r;
}

export const backoffFor = (spec: ResolvedQueueSpec, attempt: number): number =>
  spec.backoffMs.length ? spec.backoffMs[Math.min(attempt, spec.backoffMs.length) - 1] : 0;
