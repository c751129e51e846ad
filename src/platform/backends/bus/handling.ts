import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Counter, Histogram, type Registry } from 'prom-client';
import { backoffFor, BusUsageError, type BusMessage, type ConsumeOptions, type DeadLetter, type MessageHandler, type ResolvedQueueSpec } from './types.js';

/** What a delivery comes to; each implementation turns it into ack / nak(delay) / dead letter. */
export type Outcome =
  | { kind: 'ack' }
  | { kind: 'retry'; delayMs: number; error: string }
  | { kind: 'dead'; reason: DeadLetter['reason']; error: string };

export class BusMetrics {
  readonly handled: Counter<'queue'>;
  readonly failed: Counter<'queue'>;
  readonly redelivered: Counter<'queue'>;
  readonly deadLettered: Counter<'queue' | 'reason'>;
  readonly latency: Histogram<'queue' | 'outcome'>;

  constructor(registry?: Registry) {
    // Several buses may share one registry (tests, a worker beside a server): reuse registered metrics.
    const reuse = <M>(name: string, make: () => M): M => (registry?.getSingleMetric(name) as M | undefined) ?? make();
    const registers = registry ? [registry] : [];
    this.handled = reuse('vigil_bus_messages_handled_total', () =>
      new Counter({ name: 'vigil_bus_messages_handled_total', help: 'Queue messages whose handler succeeded (acked)', labelNames: ['queue'], registers }),
    );
    this.failed = reuse('vigil_bus_messages_failed_total', () =>
      new Counter({ name: 'vigil_bus_messages_failed_total', help: 'Handler runs that threw (the message is retried or dead-lettered)', labelNames: ['queue'], registers }),
    );
    this.redelivered = reuse('vigil_bus_messages_redelivered_total', () =>
      new Counter({ name: 'vigil_bus_messages_redelivered_total', help: 'Deliveries after the first (nak or ack wait expired)', labelNames: ['queue'], registers }),
    );
    this.deadLettered = reuse('vigil_bus_messages_dead_lettered_total', () =>
      new Counter({
        name: 'vigil_bus_messages_dead_lettered_total',
        help: 'Messages moved to the dead-letter queue, by reason (failed, invalid, timeout)',
        labelNames: ['queue', 'reason'],
        registers,
      }),
    );
    this.latency = reuse('vigil_bus_handler_duration_seconds', () =>
      new Histogram({
        name: 'vigil_bus_handler_duration_seconds',
        help: 'Handler run time per queue and outcome',
        labelNames: ['queue', 'outcome'],
        buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60],
        registers,
      }),
    );
  }
}

const errorText = (err: unknown) => (err instanceof Error ? err.message || err.name : String(err)).slice(0, 2000);

/**
 * The delivery policy both implementations share: validate the payload, give up on messages that
 * ran out of deliveries, run the handler, decide ack / retry / dead letter, count it all.
 */
export function deliveryPolicy<T>(spec: ResolvedQueueSpec, opts: ConsumeOptions, handler: MessageHandler<T>, metrics: BusMetrics, now: () => number) {
  const check = opts.schema ? TypeCompiler.Compile(opts.schema) : undefined;
  const queue = spec.name;
  return async (m: BusMessage<T>, signal: AbortSignal, lastError?: string, decodeError?: string): Promise<Outcome> => {
    if (m.attempt > 1) metrics.redelivered.inc({ queue });
    const dead = (reason: DeadLetter['reason'], error: string): Outcome => {
      metrics.deadLettered.inc({ queue, reason });
      return { kind: 'dead', reason, error };
    };
    // Deliveries past maxDeliver only happen when earlier ones timed out (a consumer died or hung).
    if (m.attempt > spec.maxDeliver) return dead('timeout', lastError ?? `not acknowledged within ${spec.ackWaitMs} ms in ${spec.maxDeliver} deliveries`);
    if (decodeError !== undefined) return dead('invalid', decodeError);
    if (check && !check.Check(m.data)) {
      const e = check.Errors(m.data).First();
      return dead('invalid', `invalid payload: ${e ? `${e.path || '/'} ${e.message}` : 'does not match the schema'}`);
    }
    const t0 = now();
    try {
      await handler(m, signal);
      metrics.handled.inc({ queue });
      metrics.latency.observe({ queue, outcome: 'ok' }, (now() - t0) / 1000);
      return { kind: 'ack' };
    } catch (err) {
      metrics.failed.inc({ queue });
      metrics.latency.observe({ queue, outcome: 'error' }, (now() - t0) / 1000);
      const error = errorText(err);
      if (m.attempt >= spec.maxDeliver) return dead('failed', error);
      return { kind: 'retry', delayMs: backoffFor(spec, m.attempt), error };
    }
  };
}

/** JSON round trip: what a consumer gets is what survives the wire, on both implementations. */
export function encodePayload(data: unknown): string {
  const text = JSON.stringify(data);
  if (text === undefined) throw new BusUsageError('bus payloads must be JSON values');
  return text;
}
