/**
 * SLO agent entry points: `vigil agent` (src/cli/agent.ts) and the embedded agent of `vigil up`.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { parseDuration } from '../../config/load.js';
import type { VigilConfig } from '../../config/schema.js';
import { Agent, type AgentOptions, type AgentStatus, type CycleReport, type StaticTarget } from './agent.js';
import { AgentMetrics } from './metrics.js';
import type { RouteSource } from './routes.js';
import type { Snapshot } from '../snapshot.js';

export { Agent } from './agent.js';
export type { AgentOptions, AgentStatus, CycleReport, StaticTarget, TargetStatus } from './agent.js';
export { AgentMetrics } from './metrics.js';
export { Spool } from './spool.js';
export { Shipper, SNAPSHOT_PATH } from './shipper.js';
export { processExposition, TargetState, type TargetMeta, type ProcessResult } from './pipeline.js';
export { Aggregator } from './aggregate.js';
export { DialectClassifier } from './dialect.js';
export { SeriesFilter } from './filter.js';

export interface StartAgentOptions {
  log: Logger;
  /** Overrides agent.serverUrl (default: agent.serverUrl, else the local server's address). */
  serverUrl?: string;
  /** Overrides agent.token. */
  token?: string;
  /** Replaces agent.targets. */
  targets?: StaticTarget[];
  /** Replaces agent.routesFile. */
  routesFile?: string;
  /** Overrides agent.interval (ms). */
  intervalMs?: number;
  /** Overrides agent.kubernetes. */
  kubernetes?: boolean | KubeConfig;
  /** Serve the agent's own /metrics on this port (0 = any free port); false/undefined = do not serve. */
  metricsPort?: number | false;
  /** Overrides agent.spoolDir ('' = memory only). */
  spoolDir?: string;
  /** Extra route source. */
  routeSource?: RouteSource;
  /** Hand snapshots here instead of spooling and shipping them. */
  sink?: (snapshot: Snapshot) => void;
  fetch?: typeof fetch;
  /** Retry backoff of the shipper (ms). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Do not start the loop (call runCycle() yourself). */
  manual?: boolean;
}

export interface AgentHandle {
  agent: Agent;
  /** Port of the agent's /metrics when served. */
  metricsPort?: number;
  status(): AgentStatus;
  /** Run one scrape cycle now. */
  runCycle(): Promise<CycleReport>;
  /** Stop scraping; spooled snapshots get up to `drainMs` (default 2 s) to ship, the rest wait on disk. */
  stop(drainMs?: number): Promise<void>;
}

/** The local server's URL as an agent in the same process or machine reaches it. */
export function localServerUrl(config: VigilConfig): string {
  const h = config.server.host;
  const host = h === '0.0.0.0' || h === '::' || h === '' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h;
  return `http://${host}:${config.server.port}`;
}

/** Agent options from configuration plus overrides. */
export function agentOptionsFromConfig(config: VigilConfig, opts: StartAgentOptions): AgentOptions {
  const a = config.agent;
  const metrics = new AgentMetrics({ defaultMetrics: opts.metricsPort !== undefined && opts.metricsPort !== false });
  return {
    clusterId: a.clusterId,
    agentId: a.agentId || hostname(),
    serverUrl: opts.serverUrl ?? (a.serverUrl || localServerUrl(config)),
    token: opts.token ?? a.token,
    intervalMs: opts.intervalMs ?? parseDuration(a.interval),
    scrapeTimeoutMs: parseDuration(a.scrapeTimeout),
    seriesTtlMs: parseDuration(a.seriesTtl),
    targets: opts.targets ?? a.targets,
    kubernetes: opts.kubernetes ?? a.kubernetes,
    routesFile: opts.routesFile ?? (a.routesFile || undefined),
    otelPrefix: a.otelPrefix,
    excludeNamespaces: a.excludeNamespaces,
    adminPorts: a.adminPorts,
    dropRouteNames: a.dropRouteNames,
    spoolDir: opts.spoolDir ?? (a.spoolDir || path.join(config.dataDir, 'spool')),
    spoolMaxBytes: a.spoolMaxBytes,
    log: opts.log,
    metrics,
    fetch: opts.fetch,
    routeSource: opts.routeSource,
    sink: opts.sink,
    initialBackoffMs: opts.initialBackoffMs,
    maxBackoffMs: opts.maxBackoffMs,
  };
}

/**
 * Start an agent from configuration: scrape loop (first cycle at once), shipper, discovery, and
 * optionally its own /metrics endpoint.
 */
export async function startAgent(config: VigilConfig, opts: StartAgentOptions): Promise<AgentHandle> {
  const agent = new Agent(agentOptionsFromConfig(config, opts));
  let server: { port: number; close(): Promise<void> } | undefined;
  if (opts.metricsPort !== undefined && opts.metricsPort !== false) server = await agent.metrics.serve(opts.metricsPort);
  if (!opts.manual) await agent.start();
  else if (!opts.sink) agent.shipper.start();
  opts.log.info(
    {
      clusterId: agent.opts.clusterId,
      agentId: agent.opts.agentId,
      serverUrl: agent.opts.serverUrl,
      targets: agent.opts.targets.length,
      kubernetes: !!agent.opts.kubernetes,
      routesFile: agent.opts.routesFile,
      intervalMs: agent.opts.intervalMs,
      ...(server ? { metricsPort: server.port } : {}),
    },
    'SLO agent started',
  );
  return {
    agent,
    ...(server ? { metricsPort: server.port } : {}),
    status: () => agent.status(),
    runCycle: () => agent.runCycle(),
    stop: async (drainMs?: number) => {
      await agent.stop(drainMs);
      await server?.close();
    },
  };
}
