import type { CounterSnapshot } from './counters.js';
import type { SlotAnswer, SlotRequest } from './fault-slots.js';

/** What a `--workers` child needs to run the proxy; passed in its environment as JSON. */
export interface WorkerConfig {
  listen: { host: string; port: number };
  upstream: string;
  service: string;
  namespace: string;
  maxActiveFaults?: number;
  headerFaults: boolean;
  maxHeaderSize: number;
  logLevel: string;
  /** How often a worker sends its counts unasked (a scrape asks for them anyway). */
  flushMs: number;
}

export const WORKER_CONFIG_ENV = 'VIGIL_EXECUTOR_WORKER';

/** Primary → worker. */
export type ToWorker =
  | { type: 'policies'; policies: unknown[]; version: string }
  | { type: 'listen' }
  | { type: 'flush'; id: number }
  | { type: 'stop'; drainMs: number }
  | SlotAnswer;

/** Worker → primary. `counts` are since the worker's previous message; `active` is absolute. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'listening'; url: string }
  | { type: 'listen-failed'; message: string }
  | { type: 'counts'; id?: number; counts?: CounterSnapshot; active: number }
  | SlotRequest;
