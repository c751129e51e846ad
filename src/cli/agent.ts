import type { Command } from 'commander';
import { parseDuration } from '../config/load.js';
import { createLogger } from '../platform/logger.js';
import { startAgent } from '../slo/agent/index.js';
import type { Snapshot } from '../slo/snapshot.js';
import { UsageError, configFromOptions, examples, withConfigOptions } from './common.js';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** `URL[#namespace/deployment/pod]` → a static target (the fragment is never sent to the target). */
export function parseTargetFlag(text: string): { url: string; namespace?: string; deployment?: string; pod?: string } {
  const hash = text.indexOf('#');
  const url = hash < 0 ? text : text.slice(0, hash);
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UsageError(`--target ${text}: expected an http(s) URL, optionally followed by #namespace/deployment/pod`);
  }
  if (hash < 0) return { url };
  const [namespace, deployment, pod] = text.slice(hash + 1).split('/');
  return { url, ...(namespace ? { namespace } : {}), ...(deployment ? { deployment } : {}), ...(pod ? { pod } : {}) };
}

export function registerAgentCommand(program: Command): void {
  const cmd = withConfigOptions(
    program.command('agent').description('SLO agent: scrape Linkerd / Traefik / OTel Collector metrics, discover ingress routes, ship snapshots to the server'),
  )
    .option('--server-url <url>', 'Vigil server to ship snapshots to (agent.serverUrl)')
    .option('--token <token>', 'agent bearer token bound to the cluster (agent.token; prefer VIGIL_AGENT_TOKEN)')
    .option('--cluster-id <id>', 'cluster this agent reports for (agent.clusterId)')
    .option('--agent-id <id>', 'this agent\'s id, default the hostname (agent.agentId)')
    .option('--target <url[#ns/deployment/pod]>', 'static scrape target with optional pod metadata; repeatable, replaces agent.targets', collect, [])
    .option('--kubernetes', 'discover pods and IngressRoutes / Ingresses through the Kubernetes API (agent.kubernetes)')
    .option('--routes-file <file>', 'YAML of IngressRoute / Ingress manifests (agent.routesFile)')
    .option('--interval <duration>', 'scrape interval, e.g. 15s (agent.interval)')
    .option('--spool-dir <dir>', 'where unsent snapshots wait (agent.spoolDir)')
    .option('--metrics-port <port>', 'port of the agent\'s own /metrics, 0 = any (agent.metricsPort)')
    .option('--dry-run', 'do not ship: print every snapshot as a JSON line on stdout')
    .action(async (opts) => {
      const flags: Record<string, unknown> = {};
      const map: [string, string][] = [
        ['serverUrl', 'agent.serverUrl'],
        ['token', 'agent.token'],
        ['clusterId', 'agent.clusterId'],
        ['agentId', 'agent.agentId'],
        ['routesFile', 'agent.routesFile'],
        ['interval', 'agent.interval'],
        ['spoolDir', 'agent.spoolDir'],
        ['metricsPort', 'agent.metricsPort'],
      ];
      for (const [o, key] of map) if (opts[o] !== undefined) flags[key] = opts[o];
      if (opts.kubernetes) flags['agent.kubernetes'] = true;
      if ((opts.target as string[]).length > 0) flags['agent.targets'] = (opts.target as string[]).map(parseTargetFlag);
      const config = configFromOptions(opts, flags);
      const a = config.agent;
      if (!opts.dryRun && a.targets.length === 0 && !a.kubernetes) {
        throw new UsageError('nothing to scrape: give --target, agent.targets in the config file, or --kubernetes');
      }
      const log = createLogger(config, 'vigil-agent');
      const dry = !!opts.dryRun;
      const handle = await startAgent(config, {
        log,
        metricsPort: dry ? false : a.metricsPort,
        ...(dry ? { spoolDir: '', sink: (snap: Snapshot) => void process.stdout.write(JSON.stringify(snap) + '\n') } : {}),
      });
      let closing = false;
      const shutdown = async (signal: string) => {
        if (closing) return;
        closing = true;
        log.info({ signal }, 'agent shutting down');
        const force = setTimeout(() => process.exit(1), Math.max(10_000, parseDuration(config.server.shutdownTimeout)));
        force.unref();
        await handle.stop(5000);
        process.exit(0);
      };
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      process.once('SIGINT', () => void shutdown('SIGINT'));
    });
  examples(cmd, [
    'vigil agent --kubernetes --server-url https://vigil.example.com --cluster-id prod-eu --token "$VIGIL_AGENT_TOKEN"',
    'vigil agent --target "http://10.42.0.7:4191/metrics#shop/web/web-7d9f8c6b5-x2k4q" --target http://traefik.ingress:9100/metrics --routes-file ingressroutes.yaml',
    'vigil agent -c agent.yaml --interval 30s --metrics-port 9464',
    'vigil agent --dry-run --target http://127.0.0.1:9100/traefik/metrics --interval 5s',
  ]);
}
