/**
 * The SLO module (server side): tables, snapshot ingest, rollup / retention / status jobs and the
 * /api/v2/slo reads. Storage model and its invariant: src/slo/server/repository.ts; windows and
 * semantics of the answers: src/slo/math/time.ts and src/slo/server/query.ts.
 *
 * Configuration (slo.*): rawRetention (48h), hourlyRetention (90d: hourly and daily rollups, snapshot
 * idempotency keys, route mappings), statusRetention (180d), rollupInterval (1m: the rollup job; the
 * status job runs at max(rollupInterval, 1m)), minBurnRequests (100), minStatusRequests (100) and
 * minCoveredTime (10m): the sample a status needs (below it: insufficient_data). Retentions are checked
 * against the reads they feed at start (src/slo/math/retention.ts: refused or warned, naming the keys).
 *
 * Jobs (each under the scheduler's lease, so one replica runs it; and each transaction under a
 * PostgreSQL advisory lock / the SQLite write lock, so even two runs at once cannot double-count):
 *   slo-rollup     every rollupInterval: unrolled snapshots → hourly + daily buckets
 *   slo-retention  every 10 min: deletes what is older than the retentions
 *   slo-status     every minute: records status transitions (GET /api/v2/slo/status-history)
 */
import { Counter, Gauge } from 'prom-client';
import type { VigilConfig } from '../config/schema.js';
import { ConfigError, parseDuration } from '../config/load.js';
import { checkRetention } from './math/retention.js';
import type { ModuleContext, VigilModule } from '../platform/module.js';
import { perContext } from '../platform/per-context.js';
import type { JobSpec } from '../platform/scheduler.js';
import type { SqlStore } from '../platform/backends/sql/db.js';
import { registerSloRoutes } from './server/http.js';
import { DEFAULT_TARGET, SloQueries } from './server/query.js';
import { SloRepository } from './server/repository.js';
import { sloMigrations } from './server/tables.js';
import { isDataError, listQuarantine, quarantineMigration, sweepCluster } from './server/quarantine.js';
import { writeTx, LOCK_ROLLUP } from './server/tx.js';
import { quarantineCounter } from '../platform/quarantine.js';

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
    minStatus: { requests: config.slo.minStatusRequests, coveredSeconds: parseDuration(config.slo.minCoveredTime) / 1000 },
  };
}

export function sloServices(sql: SqlStore, config: VigilConfig, opts: SloModuleOptions = {}): SloServices {
  const repo = new SloRepository(sql);
  const s = sloSettings(config);
  const queries = new SloQueries(repo, { now: opts.now, minBurnRequests: s.minBurnRequests, minStatus: s.minStatus, rawRetentionMs: s.rawRetentionMs, defaults: DEFAULT_TARGET });
  return { repo, queries };
}

/** Retention, status and rollup jobs. Exported for tests that run them by hand. */
export function sloJobs(services: SloServices, config: VigilConfig, ctx: Pick<ModuleContext, 'log'> & Partial<Pick<ModuleContext, 'metrics'>>, opts: SloModuleOptions = {}): JobSpec[] {
  const s = sloSettings(config);
  const now = opts.now ?? Date.now;
  const { repo, queries } = services;
  const quarantined = ctx.metrics ? quarantineCounter(ctx.metrics) : undefined;
  return [
    {
      name: 'slo-rollup',
      intervalMs: s.rollupIntervalMs,
      runAtStart: true,
      timeoutMs: Math.max(s.rollupIntervalMs * 5, 60_000),
      async run(signal) {
        const r = await repo.rollupAll(signal);
        if (r.snapshots) ctx.log.debug({ snapshots: r.snapshots, rows: r.rows }, 'slo rollup');
        if (r.quarantined?.length) {
          quarantined?.inc({ job: 'slo-rollup' }, r.quarantined.length);
          ctx.log.error({ snapshots: r.quarantined }, 'slo rollup quarantined snapshots it cannot roll up (see /readyz)');
        }
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
        const failed: string[] = [];
        let firstError: unknown;
        for (const cluster of await repo.clusterIds()) {
          if (signal.aborted) break;
          try {
            await queries.recordStatuses(cluster);
          } catch (err) {
            // One cluster's failure does not hold up the others. An unreadable row is set aside and
            // the cluster evaluated again.
            let last = err;
            if (isDataError(err)) {
              const moved = await writeTx(repo.store, LOCK_ROLLUP, (db) => sweepCluster(db, 'slo-status', cluster, now()));
              if (moved.length) {
                quarantined?.inc({ job: 'slo-status' }, moved.length);
                ctx.log.error({ cluster, rows: moved }, 'slo status quarantined rows it cannot read (see /readyz)');
                last = await queries.recordStatuses(cluster).then(() => null, (e: unknown) => e);
              }
            }
            if (last) {
              ctx.log.error({ cluster, err: last }, 'slo status evaluation failed');
              failed.push(cluster);
              firstError ??= last;
            }
          }
        }
        if (failed.length) throw new Error(`status evaluation failed for cluster(s) ${failed.join(', ')}: ${(firstError as Error)?.message ?? String(firstError)}`);
      },
    },
  ];
}

/** The module; its settings come from the runtime's config (ctx.config), `_config` is kept for symmetry with other modules. */
export function sloModule(_config: VigilConfig, opts: SloModuleOptions = {}): VigilModule {
  const services = perContext((ctx) => {
    const s = sloServices(ctx.sql, ctx.config, opts);
    opts.onServices?.(s);
    return s;
  });
  return {
    name: 'slo',
    migrations: [...sloMigrations, quarantineMigration],
    routes(app, ctx) {
      const retention = checkRetention(sloSettings(ctx.config));
      if (retention.errors.length) throw new ConfigError(retention.errors.join('; '), retention.errors[0].slice(0, retention.errors[0].indexOf(' ')));
      for (const w of retention.warnings) ctx.log.warn(w);
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
        // Degraded while rows the jobs could not process sit in slo_quarantine (an operator deletes them).
        'slo:quarantine': async () => {
          const q = await listQuarantine(ctx.sql.db);
          if (!q.total) return { ok: true, detail: 'no quarantined rows' };
          const list = q.rows.map((r) => `#${r.id} ${r.job} ${r.ref}: ${r.reason}`).join('; ');
          return { ok: true, degraded: true, detail: `${q.total} row(s) quarantined in slo_quarantine: ${list}${q.total > q.rows.length ? '; …' : ''}` };
        },
      };
    },
  };
}
