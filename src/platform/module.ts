import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { VigilConfig } from '../config/schema.js';
import type { KvStore } from './backends/kv/types.js';
import type { BlobStore } from './backends/blob/types.js';
import type { Bus } from './backends/bus/types.js';
import type { ConsumerSpec } from './backends/bus/consumers.js';
import type { SqlStore } from './backends/sql/db.js';
import type { ModuleMigration } from './backends/sql/migrations.js';
import type { TokenService } from './auth/tokens.js';
import type { JobSpec, Scheduler } from './scheduler.js';

export interface ModuleContext {
  config: VigilConfig;
  sql: SqlStore;
  kv: KvStore;
  bus: Bus;
  blob: BlobStore;
  log: Logger;
  metrics: Registry;
  tokens: TokenService;
  scheduler: Scheduler;
}

/** Readiness of one dependency as /readyz reports it. */
export interface ReadyState {
  ok: boolean;
  /** ok but impaired (e.g. an upstream trace source is down and we back off). */
  degraded?: boolean;
  detail?: string;
}

/**
 * A capability (slo, anomaly, …). It owns its tables (migrations), its HTTP routes, its jobs and
 * its readiness checks; the runtime composes modules and never reaches into them.
 */
export interface VigilModule {
  name: string;
  migrations?: ModuleMigration[];
  routes?(app: FastifyInstance, ctx: ModuleContext): Promise<void> | void;
  jobs?(ctx: ModuleContext): JobSpec[];
  /** Queue consumers, run by `vigil worker` and in-process by `vigil server` / `vigil up` unless --no-workers. */
  consumers?(ctx: ModuleContext): ConsumerSpec[];
  readiness?(ctx: ModuleContext): Record<string, () => Promise<ReadyState>>;
  /** Start background work that is not a scheduled job (e.g. consumers). */
  start?(ctx: ModuleContext): Promise<void> | void;
  stop?(): Promise<void> | void;
}
