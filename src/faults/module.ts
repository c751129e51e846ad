/**
 * The fault-injection control plane as a Vigil module: policies in SQL (versioned), HFI's API,
 * the SSE push to executors (across replicas), executor reports, and the leader job that removes
 * expired policies. The data plane (`vigil executor`) lives in ./executor and only talks HTTP to this.
 */
import type { VigilModule } from '../platform/module.js';
import type { VigilConfig } from '../config/schema.js';
import type { JobSpec } from '../platform/scheduler.js';
import { PolicyFeed } from './feed.js';
import { registerFaultRoutes } from './http.js';
import { FaultStore, faultMigrations } from './store.js';
import { perContext } from '../platform/per-context.js';

/** Test hooks and tunables; production passes none. */
export interface FaultsModuleOptions {
  now?: () => number;
  /** How often a replica with SSE listeners checks the version in SQL (default 300 ms). */
  pollMs?: number;
  /** SSE keepalive comment interval (default 30 s, as HFI). */
  keepaliveMs?: number;
  /** How often the leader removes expired policies (default 1 s). */
  expireIntervalMs?: number;
  /** An executor not heard from for this long shows as disconnected (default 30 s: several report periods). */
  executorStaleMs?: number;
}

const HISTORY_RETENTION_MS = 90 * 86_400_000;
const EXECUTOR_RETENTION_MS = 7 * 86_400_000;
/** A policy is small; 2 MiB is generous and keeps a 10 MiB upload from being parsed at all. */
const POLICY_BODY_LIMIT = 2 * 1024 * 1024;

export function faultsModule(_config?: VigilConfig, opts: FaultsModuleOptions = {}): VigilModule & { store(): FaultStore | undefined } {
  const now = opts.now ?? Date.now;
  const get = perContext((ctx) => {
    const store = new FaultStore(ctx.sql, now);
    const feed = new PolicyFeed({
      snapshot: () => store.snapshot(),
      version: () => store.version(),
      pollMs: opts.pollMs ?? 300,
      onError: (err) => ctx.log.warn({ module: 'faults', err: err.message }, 'policy feed: cannot read the store; will retry'),
    });
    return { store, feed };
  });

  return {
    name: 'faults',
    migrations: faultMigrations,
    store: () => get.built().at(-1)?.store,

    routes(app, ctx) {
      const { store: s, feed: f } = get(ctx);
      registerFaultRoutes(app, {
        store: s,
        feed: f,
        now,
        keepaliveMs: opts.keepaliveMs ?? 30_000,
        executorStaleMs: opts.executorStaleMs ?? 30_000,
        policyBodyLimit: POLICY_BODY_LIMIT,
      });
    },

    jobs(ctx): JobSpec[] {
      const { store: s, feed: f } = get(ctx);
      return [
        {
          // One replica (the leader) removes expired policies, so expiry counts from when the policy
          // was applied, not from when each replica or executor last looked (HFI's per-replica clock).
          name: 'faults.expire',
          intervalMs: opts.expireIntervalMs ?? 1000,
          timeoutMs: 30_000,
          leader: true,
          runAtStart: true,
          run: async () => {
            const removed = await s.expire();
            if (removed.length) {
              ctx.log.info({ module: 'faults', policies: removed }, 'expired fault policies removed');
              f.poke();
            }
          },
        },
        {
          name: 'faults.retention',
          intervalMs: 3600_000,
          timeoutMs: 300_000,
          leader: true,
          run: async () => {
            await s.purgeHistory(now() - HISTORY_RETENTION_MS);
            await s.purgeExecutors(now() - EXECUTOR_RETENTION_MS);
          },
        },
      ];
    },

    stop() {
      for (const { feed } of get.built()) feed.stop();
    },
  };
}
