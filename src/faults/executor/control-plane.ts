/**
 * The executor's side of the control plane, the same with or without `--workers`: the policy stream
 * (with its state file, for fail-open restarts) and the periodic report of what it injected.
 */
import type { Clock } from './clock.js';
import type { ExecutorOptions } from './executor.js';
import { PolicyStream } from './policy-stream.js';
import { Reporter, type ExecutorReport } from './reporter.js';

type ControlPlaneOptions = Pick<
  ExecutorOptions,
  'server' | 'token' | 'service' | 'namespace' | 'headerFaults' | 'stateFile' | 'log' | 'backoffBaseMs' | 'backoffCapMs' | 'reportIntervalMs' | 'executorId'
>;

export function policyStreamFor(opts: ControlPlaneOptions, clock: Clock): PolicyStream {
  return new PolicyStream({
    server: opts.server,
    token: opts.token,
    target: { service: opts.service, namespace: opts.namespace, headerFaults: opts.headerFaults === true },
    stateFile: opts.stateFile,
    clock,
    log: opts.log,
    backoffBaseMs: opts.backoffBaseMs,
    backoffCapMs: opts.backoffCapMs,
  });
}

/** The reporter, when there is a server to report to; `counters` reads the injected counts at report time. */
export function reporterFor(
  opts: ControlPlaneOptions,
  clock: Clock,
  policies: PolicyStream,
  counters: () => ExecutorReport['counters'] | Promise<ExecutorReport['counters']>,
): Reporter | undefined {
  if (!opts.server) return undefined;
  return new Reporter({
    server: opts.server,
    token: opts.token,
    intervalMs: opts.reportIntervalMs ?? 5000,
    clock,
    log: opts.log,
    report: async () => ({
      executor_id: opts.executorId,
      service: opts.service,
      namespace: opts.namespace,
      policy_version: policies.status().version,
      counters: await counters(),
    }),
  });
}
