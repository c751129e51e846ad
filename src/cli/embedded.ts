import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { VigilServer } from '../platform/runtime.js';
import { startDemoFleet } from '../simulate/index.js';
import { startTraceGenerator } from '../simulate/traces.js';
import { startAgent } from '../slo/agent/index.js';

export interface Embedded {
  banner: string[];
  stop(): Promise<void>;
}

/**
 * `vigil up`'s companions: the demo fleet, an agent scraping it over real HTTP as it would a
 * cluster, and a trace generator pushing OTLP to the server, so a newcomer sees every page live.
 */
export async function startEmbedded(server: VigilServer, url: string): Promise<Embedded> {
  const { config, log, tokens } = server.ctx;
  const fleetLog = log.child({ component: 'demo-fleet' });
  const fleet = await startDemoFleet({ port: config.simulate.port, seed: config.simulate.seed, speed: config.simulate.speed, log: fleetLog });

  // One agent token per data dir, kept beside the database rather than minted on every start.
  const tokenFile = path.join(config.dataDir, 'embedded-agent-token');
  let token = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '';
  if (!token || !(await tokens.verify(token))) {
    token = (await tokens.create({ name: 'embedded agent (vigil up)', role: 'agent', clusterId: config.agent.clusterId })).token;
    writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
  }

  const agent = await startAgent(config, {
    log: log.child({ component: 'agent' }),
    serverUrl: url,
    token,
    targets: fleet.targets,
    routesFile: fleet.routesFile,
    kubernetes: false,
  });
  const traces = startTraceGenerator({
    serverUrl: url,
    token,
    seed: config.simulate.seed,
    speed: config.simulate.speed,
    timeZone: config.anomaly.timeZone,
    weekendDays: config.anomaly.weekendDays,
    log: log.child({ component: 'demo-traces' }),
  });

  return {
    banner: [
      `  Demo fleet:  ${fleet.url} (${fleet.targets.length} scrape targets, cluster "${config.agent.clusterId}"); traces over OTLP`,
      '  First SLO data appears after the agent\'s second scrape (about 15 s).',
    ],
    async stop() {
      await traces.stop().catch(() => {});
      await agent.stop().catch(() => {});
      await fleet.stop().catch(() => {});
    },
  };
}
