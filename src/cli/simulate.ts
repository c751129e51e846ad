import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import YAML from 'yaml';
import { createLogger } from '../platform/logger.js';
import { startDemoFleet } from '../simulate/index.js';
import { configFromOptions, examples } from './common.js';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function registerSimulateCommand(program: Command): void {
  const cmd = program
    .command('simulate')
    .description('Demo fleet alone: realistic Linkerd proxy and Traefik /metrics for 11 services, 3 domains and 8 routes, plus IngressRoute manifests')
    .option('-c, --config <file>', 'YAML config file (also VIGIL_CONFIG)')
    .option('--set <key=value>', 'set any config key, e.g. --set simulate.speed=60 (repeatable)', collect, [])
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (log.level)')
    .option('--port <port>', 'port of the metrics endpoints, 0 = any (simulate.port)')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--seed <n>', 'random seed: the same seed gives the same traffic (simulate.seed)')
    .addOption(new Option('--speed <x>', 'simulated seconds per wall second (simulate.speed)'))
    .option('--routes-out <file>', 'also write the IngressRoute manifests here')
    .option('--agent-config <file>', 'write a config file for `vigil agent -c <file>` that scrapes this fleet')
    .action(async (opts) => {
      const flags: Record<string, unknown> = {};
      if (opts.port !== undefined) flags['simulate.port'] = opts.port;
      if (opts.seed !== undefined) flags['simulate.seed'] = opts.seed;
      if (opts.speed !== undefined) flags['simulate.speed'] = opts.speed;
      // --port / --host are this command's, not the server's
      const config = configFromOptions({ config: opts.config, set: opts.set, logLevel: opts.logLevel }, flags);
      const log = createLogger(config, 'vigil-simulate');
      const s = config.simulate;
      const fleet = await startDemoFleet({ port: s.port, seed: s.seed, speed: s.speed, host: opts.host, log });
      if (opts.routesOut) writeFileSync(opts.routesOut, fleet.manifestsYaml);
      const routesFile = opts.routesOut ? path.resolve(opts.routesOut) : fleet.routesFile;
      if (opts.agentConfig) {
        const agentConfig = {
          agent: {
            targets: fleet.targets.map((t) => ({ url: t.url, namespace: t.namespace, deployment: t.deployment, pod: t.pod })),
            routesFile,
          },
        };
        writeFileSync(opts.agentConfig, `# vigil agent -c ${opts.agentConfig}\n` + YAML.stringify(agentConfig));
      }
      process.stdout.write(
        [
          '',
          `  Demo fleet at ${fleet.url}  (seed ${s.seed}, ${s.speed}x time)`,
          `  ${fleet.targets.length} scrape targets: ${fleet.url}/targets`,
          `  IngressRoutes: ${routesFile}`,
          `  Ground truth:  ${fleet.url}/truth`,
          opts.agentConfig ? `  Agent config:  vigil agent -c ${opts.agentConfig} --server-url http://127.0.0.1:8080 --token <agent token>` : '  Write an agent config with --agent-config agent.yaml',
          '',
        ].join('\n') + '\n',
      );
      let closing = false;
      const shutdown = async () => {
        if (closing) return;
        closing = true;
        await fleet.stop();
        process.exit(0);
      };
      process.once('SIGTERM', () => void shutdown());
      process.once('SIGINT', () => void shutdown());
    });
  examples(cmd, [
    'vigil simulate',
    'vigil simulate --port 9100 --seed 7 --speed 60 --agent-config demo-agent.yaml',
    'vigil simulate --routes-out ingressroutes.yaml && vigil agent --dry-run --target http://127.0.0.1:9100/traefik/metrics --routes-file ingressroutes.yaml',
  ]);
}
