import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Bus, MessageHandler, QueueSpec, Subscription } from './types.js';

/** A queue consumer a module declares, as it declares routes and jobs. */
export interface ConsumerSpec<T = unknown> {
  queue: QueueSpec;
  /** The consumer group (durable name); one group per queue. */
  group: string;
  /** Handlers at once per process; default `worker.concurrency`. */
  concurrency?: number;
  /** Payloads failing it are dead-lettered with the reason, never retried. */
  schema?: TSchema;
  handle: MessageHandler<T>;
}

/**
 * Declare a consumer with a typed handler (modules list consumers of different payload types). Give it
 * a schema matching T: the bus checks payloads against it before the handler runs.
 */
export function defineConsumer<T>(spec: ConsumerSpec<T>): ConsumerSpec {
  return spec as ConsumerSpec;
}

/** Declare every queue so publishers can publish before any consumer has started. */
export async function ensureQueues(bus: Bus, specs: ConsumerSpec[]): Promise<void> {
  for (const s of specs) await bus.ensureQueue(s.queue);
}

/** Start every consumer; the returned stop drains them (in-flight handlers finish). */
export async function startConsumers(bus: Bus, specs: ConsumerSpec[], opts: { concurrency: number; log?: Logger }): Promise<() => Promise<void>> {
  const subs: Subscription[] = [];
  try {
    for (const s of specs) {
      subs.push(await bus.consume(s.queue.name, { group: s.group, concurrency: s.concurrency ?? opts.concurrency, schema: s.schema }, s.handle));
      opts.log?.info({ queue: s.queue.name, group: s.group }, 'consuming');
    }
  } catch (err) {
    await Promise.all(subs.map((x) => x.close()));
    throw err;
  }
  return async () => {
    await Promise.all(subs.map((x) => x.close()));
  };
}
