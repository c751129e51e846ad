/**
 * Log batch diagnosis as a Vigil module (Argus's plan, built on the bus and blob ports):
 *
 *   create → stream uploads to the blob store → complete (freeze) → one parse job per file on the
 *   bus → count-once outcomes → barrier → gather partials → diagnose (rules, optional LLM) →
 *   report (KV cache, single flight) → API, SSE, CLI, web page
 */
import type { VigilModule } from '../platform/module.js';
import { perContext } from '../platform/per-context.js';
import type { VigilConfig } from '../config/schema.js';
import { createDeps } from './deps.js';
import { registerBatchRoutes } from './http.js';
import { BatchPipeline } from './pipeline.js';
import { batchMigrations } from './tables.js';

export function batchesModule(_config: VigilConfig): VigilModule {
  const services = perContext((ctx) => {
    const deps = createDeps(ctx);
    return { deps, pipeline: new BatchPipeline(deps) };
  });
  return {
    name: 'batches',
    migrations: batchMigrations,
    routes: (app, ctx) => registerBatchRoutes(app, services(ctx).deps),
    jobs: (ctx) => services(ctx).pipeline.jobs(),
    consumers: (ctx) => services(ctx).pipeline.consumers(),
  };
}
