import type { Logger } from 'pino';
import { createAdminServer } from './admin.js';
import { policyStreamFor, reporterFor } from './control-plane.js';
import { systemClock, type Clock } from './clock.js';
import { FaultCounters } from './counters.js';
import { ExecutorMetrics } from './metrics.js';
import type { PolicyStream } from './policy-stream.js';
import { LocalFaultSlots } from './fault-slots.js';
import { createProxy } from './proxy.js';
import { closeNow, drain, listen, proxyServer, urlOf, type HostPort } from './serve.js';

export type { HostPort } from './serve.js';

export interface ExecutorOptions {
  listen: HostPort;
  /** Admin listener (metrics, readiness); false for none. */
  admin: HostPort | false;
  upstream: URL;
  service: string;
  namespace: string;
  /** Control plane; without it the executor enforces what its state file holds. */
  server?: URL;
  token?: string;
  stateFile: string;
  executorId: string;
  reportIntervalMs?: number;
  maxActiveFaults?: number;
  /** Honour x-envoy-fault-* request headers on requests no rule matched (test environments). */
  headerFaults?: boolean;
  /** Largest request or response header block, in bytes (Node's default of 16 KiB is too small for a proxy). */
  maxHeaderSize?: number;
  log: Logger;
  clock?: Clock;
  /** Uniform draw in [0, 1) for fault percentages. */
  draw?: () => number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
}

export interface Executor {
  /** Base URL of the proxy listener. */
  url: string;
  adminUrl: string | undefined;
  policies: PolicyStream;
  metrics: ExecutorMetrics;
  /** Stop accepting, let in-flight requests finish for up to `drainMs`, then close everything. */
  stop(drainMs?: number): Promise<void>;
}

export async function startExecutor(opts: ExecutorOptions): Promise<Executor> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log;
  const maxHeaderSize = opts.maxHeaderSize ?? 256 * 1024;
  const policies = policyStreamFor(opts, clock);
  let listening = false;
  const counters = new FaultCounters();
  const proxy = createProxy({
    upstream: opts.upstream,
    policies: () => policies.current,
    counters,
    clock,
    draw: opts.draw ?? Math.random,
    log,
    slots: new LocalFaultSlots(opts.maxActiveFaults),
    maxHeaderSize,
  });
  const metrics = new ExecutorMetrics({ policyState: () => policies.status(), activeFaults: () => proxy.activeFaults() }, counters);
  const server = proxyServer(proxy, maxHeaderSize);
  const admin = opts.admin ? createAdminServer(metrics, () => ({ ...policies.status(), listening })) : undefined;
  const reporter = reporterFor(opts, clock, policies, () => metrics.injectedCounts());

  const adminAddr = admin && opts.admin ? await listen(admin, opts.admin) : undefined;
  const addr = await listen(server, opts.listen);
  listening = true;
  policies.start();
  reporter?.start();
  log.info({ listen: urlOf(addr), upstream: opts.upstream.href, admin: adminAddr && urlOf(adminAddr), server: opts.server?.href }, 'executor listening');

  let stopping: Promise<void> | undefined;
  const stop = (drainMs = 10_000) =>
    (stopping ??= (async () => {
      listening = false;
      await drain(server, drainMs);
      proxy.agent.destroy();
      await policies.stop();
      await reporter?.stop();
      if (admin) await closeNow(admin);
      log.info('executor stopped');
    })());

  return { url: urlOf(addr), adminUrl: adminAddr && urlOf(adminAddr), policies, metrics, stop };
}
