import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { VigilServer } from '../platform/runtime.js';
import { startDemoFleet } from '../simulate/index.js';
import { startTraceGenerator } from '../simulate/traces.js';
import { seedDemoBatches } from '../simulate/demo-batches.js';
import { startFaultDemo, type FaultDemo } from '../simulate/fault-demo.js';
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

  let faultDemo: FaultDemo | undefined;
  if (config.simulate.faultDemo) {
    faultDemo = await startFaultDemo({
      fleet,
      serverUrl: url,
      token: await embeddedToken(server, 'embedded-executor-token', 'embedded fault executor (vigil up)', 'executor'),
      stateFile: path.join(config.dataDir, 'embedded-executor-policies.json'),
      log: log.child({ component: 'fault-demo' }),
    });
  }

  const agent = await startAgent(config, {
    log: log.child({ component: 'agent' }),
    serverUrl: url,
    token,
    targets: faultDemo ? [...fleet.targets, faultDemo.target] : fleet.targets,
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

  if (config.batches.demo !== false) {
    // In the background: the server answers while the demo batches upload and parse.
    void seedDemoBatches({ serverUrl: url, token, seed: config.simulate.seed, now: Date.now(), log: log.child({ component: 'demo-batches' }) }).catch((err) =>
      log.warn({ err }, 'demo batches could not be uploaded'),
    );
  }

  return {
    banner: [
      `  Demo fleet:  ${fleet.url} (${fleet.targets.length} scrape targets, cluster "${config.agent.clusterId}"); traces over OTLP`,
      '  First SLO data appears after the agent\'s second scrape (about 15 s).',
      ...(faultDemo
        ? [`  Fault demo:  load -> executor ${faultDemo.executor.url} (metrics ${faultDemo.executor.adminUrl}/stats/prometheus) -> demo/frontend; try vigil fault apply -f abort-policy.yaml`]
        : []),
    ],
    async stop() {
      await traces.stop().catch(() => {});
      await agent.stop().catch(() => {});
      await faultDemo?.stop().catch(() => {});
      await fleet.stop().catch(() => {});
    },
  };
}

/** A token of `role` kept in `<dataDir>/<file>`, minted when missing or no longer valid. */
async function embeddedToken(server: VigilServer, file: string, name: string, role: 'agent' | 'executor'): Promise<string> {
  const { config, tokens } = server.ctx;
  const tokenFile = path.join(config.dataDir, file);
  const kept = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '';
  if (kept && (await tokens.verify(kept))) return kept;
  const token = (await tokens.create({ name, role, ...(role === 'agent' ? { clusterId: config.agent.clusterId } : {}) })).token;
  writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
  return token;
}
