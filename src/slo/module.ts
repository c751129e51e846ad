/**
 * The SLO module (server side): tables, snapshot ingest, rollup / retention / status jobs and the
 * /api/v2/slo reads. Storage model and its invariant: src/slo/server/repository.ts; windows and
 * semantics of the answers: src/slo/math/time.ts and src/slo/server/query.ts.
 *
 * Configuration (slo.*): rawRetention (48h), hourlyRetention (90d: hourly and daily rollups, snapshot
 * idempotency keys, route mappings), statusRetention (180d), rollupInterval (1m: the rollup job; the
 * status job runs at max(rollupInterval, 1m)), minBurnRequests (100).
 *
 * Jobs (each under the scheduler's lease, so one replica runs it; and each transaction under a
 * PostgreSQL advisory lock / the SQLite write lock, so even two runs at once cannot double-count):
 *   slo-rollup     every rollupInterval: unrolled snapshots → hourly + daily buckets
 *   slo-retention  every 10 min: deletes what is older than the retentions
 *   slo-status     every minute: records status transitions (GET /api/v2/slo/status-history)
 */
import { Counter, Gauge } from 'prom-client';
import type { VigilConfig } from '../config/schema.js';
import { parseDuration } from '../config/load.js';
import type { ModuleContext, VigilModule } from '../platform/module.js';
import type { JobSpec } from '../platform/scheduler.js';
import type { SqlStore } from '../platform/backends/sql/db.js';
import { registerSloRoutes } from './server/http.js';
import { DEFAULT_TARGET, SloQueries } from './server/query.js';
import { SloRepository } from './server/repository.js';
import { sloMigrations } from './server/tables.js';

/** Unrolled snapshots above which /readyz reports the SLO module degraded. */
const ROLLUP_BACKLOG_DEGRADED = 1000;

export interface SloModuleOptions {
  /** Clock (tests). */
  now?: () => number;
  /** Receives the module's repository and queries once created (tests, benchmarks). */
  onServices?: (services: SloServices) => void;
}

export interface SloServices {
  repo: SloRepository;
  queries: SloQueries;
}

/** Durations of the slo.* configuration in ms. */
export function sloSettings(config: VigilConfig) {
  return {
    rawRetentionMs: parseDuration(config.slo.rawRetention),
    hourlyRetentionMs: parseDuration(config.slo.hourlyRetention),
    statusRetentionMs: parseDuration(config.slo.statusRetention),
    rollupIntervalMs: parseDuration(config.slo.rollupInterval),
    minBurnRequests: config.slo.minBurnRequests,
  };
}

export function sloServices(sql: SqlStore, config: VigilConfig, opts: SloModuleOptions = {}): SloServices {
  const repo = new SloRepository(sql);
  const queries = new SloQueries(repo, { now: opts.now, minBurnRequests: config.slo.minBurnRequests, defaults: DEFAULT_TARGET });
  return { repo, queries };
}

/** Retention, status and rollup jobs. Exported for tests that run them by hand. */
export function sloJobs(services: SloServices, config: VigilConfig, ctx: Pick<ModuleContext, 'log'>, opts: SloModuleOptions = {}): JobSpec[] {
  const s = sloSettings(config);
  const now = opts.now ?? Date.now;
  const { repo, queries } = services;
  return [
    {
      name: 'slo-rollup',
      intervalMs: s.rollupIntervalMs,
      runAtStart: true,
      timeoutMs: Math.max(s.rollupIntervalMs * 5, 60_000),
      async run(signal) {
        const r = await repo.rollupAll(signal);
        if (r.snapshots) ctx.log.debug({ snapshots: r.snapshots, rows: r.rows }, 'slo rollup');
      },
    },
    {
      name: 'slo-retention',
      intervalMs: 10 * 60_000,
      runAtStart: true,
      timeoutMs: 10 * 60_000,
      async run() {
        const t = now();
        const r = await repo.retention({ rawBefore: t - s.rawRetentionMs, hourlyBefore: t - s.hourlyRetentionMs, statusBefore: t - s.statusRetentionMs });
        ctx.log.debug({ ...r }, 'slo retention');
      },
    },
    {
      name: 'slo-status',
      intervalMs: Math.max(s.rollupIntervalMs, 60_000),
      timeoutMs: 5 * 60_000,
      async run(signal) {
        for (const cluster of await repo.clusterIds()) {
          if (signal.aborted) break;
          await queries.recordStatuses(cluster);
        }
      },
    },
  ];
}

/** The module; its settings come from the runtime's config (ctx.config), `_config` is kept for symmetry with other modules. */
export function sloModule(_config: VigilConfig, opts: SloModuleOptions = {}): VigilModule {
  const bySql = new WeakMap<SqlStore, SloServices>();
  const services = (ctx: ModuleContext) => {
    let s = bySql.get(ctx.sql);
    if (!s) {
      bySql.set(ctx.sql, (s = sloServices(ctx.sql, ctx.config, opts)));
      opts.onServices?.(s);
    }
    return s;
  };
  return {
    name: 'slo',
    migrations: sloMigrations,
    routes(app, ctx) {
      const s = services(ctx);
      const snapshotsTotal =
        (ctx.metrics.getSingleMetric('vigil_slo_snapshots_total') as Counter<'outcome'> | undefined) ??
        new Counter({ name: 'vigil_slo_snapshots_total', help: 'Agent snapshots received, by outcome', labelNames: ['outcome'], registers: [ctx.metrics] });
      if (!ctx.metrics.getSingleMetric('vigil_slo_unrolled_snapshots')) {
        new Gauge({
          name: 'vigil_slo_unrolled_snapshots',
          help: 'Accepted snapshots waiting for the rollup job',
          registers: [ctx.metrics],
          async collect() {
            const r = (await ctx.sql.db.selectFrom('slo_snapshots').select((eb) => eb.fn.countAll().as('n')).where('rolled', '=', 0).executeTakeFirst()) as { n: number } | undefined;
            this.set(Number(r?.n ?? 0));
          },
        });
      }
      const cfg = sloSettings(ctx.config);
      registerSloRoutes(app, { ...s, maxFutureMs: 10 * 60_000, maxAgeMs: cfg.hourlyRetentionMs, snapshotsTotal });
    },
    jobs(ctx) {
      return sloJobs(services(ctx), ctx.config, ctx, opts);
    },
    readiness(ctx) {
      return {
        // Degraded (still ready) when the rollup falls behind: reads stay exact but slower.
        'slo:rollup': async () => {
          const r = (await ctx.sql.db.selectFrom('slo_snapshots').select((eb) => eb.fn.countAll().as('n')).where('rolled', '=', 0).executeTakeFirst()) as { n: number } | undefined;
          const n = Number(r?.n ?? 0);
          return n > ROLLUP_BACKLOG_DEGRADED ? { ok: true, degraded: true, detail: `${n} snapshots wait for the rollup job` } : { ok: true, detail: `${n} snapshots to roll up` };
        },
      };
    },
  };
}
