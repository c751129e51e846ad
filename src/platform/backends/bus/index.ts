import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { MemoryBus } from './memory.js';
import { NatsBus, redactUrl } from './nats.js';
import type { Bus } from './types.js';

export type { Bus, BusMessage, ConsumeOptions, DeadLetter, MessageHandler, QueueSpec, Subscription } from './types.js';
export { BusUsageError, UnknownQueueError } from './types.js';
export { MemoryBus, realTimers, type BusTimers } from './memory.js';
export { NatsBus, redactUrl } from './nats.js';

/** Empty URL: the in-process bus; nats://… (or tls://…): NATS JetStream. */
export async function openBus(url: string, opts: { prefix?: string; registry?: Registry; log?: Logger } = {}): Promise<Bus> {
  if (!url) return new MemoryBus({ registry: opts.registry });
  if (!/^(nats|tls):\/\//.test(url)) throw new Error(`nats.url must be nats://… or tls://…, got "${redactUrl(url)}"`);
  return NatsBus.connect(url, opts);
}
