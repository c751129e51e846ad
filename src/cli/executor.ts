import { availableParallelism, hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { VigilConfig } from '../config/schema.js';
import { startExecutor, startExecutorCluster, type HostPort } from '../faults/executor/index.js';
import { createLogger } from '../platform/logger.js';
import { UsageError, examples } from './common.js';

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseHostPort(flag: string, text: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${flag} ${text}: expected host:port, e.g. 0.0.0.0:15001`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function parseUrl(flag: string, text: string): URL {
  try {
    const u = new URL(text);
    if (u.protocol === 'http:' || (u.protocol === 'https:' && flag !== '--upstream')) return u;
  } catch {
    // fall through to the usage error
  }
  throw new UsageError(`${flag} ${text}: expected an ${flag === '--upstream' ? 'http' : 'http(s)'} URL`);
}

function positiveInt(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} ${text}: expected a positive integer`);
  return n;
}

/** `--workers`: a positive integer, or `auto` for one per CPU. */
export function parseWorkers(text: string): number {
  if (text === 'auto') return availableParallelism();
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0 || n > 1024) throw new UsageError(`--workers ${text}: expected a positive integer or auto`);
  return n;
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');

export function registerExecutorCommand(program: Command): void {
  const cmd = program
    .command('executor')
    .description('Fault-injection reverse proxy in front of one service: applies the policies the server pushes, exports HFI-named metrics')
    .option('--listen <host:port>', 'where the proxy listens', '0.0.0.0:15001')
    .requiredOption('--upstream <url>', 'the service behind the proxy, e.g. http://127.0.0.1:8000')
    .requiredOption('--service <name>', 'service this executor stands in front of (matched against policy selectors)')
    .requiredOption('--namespace <name>', 'namespace of that service')
    .option('--server <url>', 'Vigil server that pushes policies (also VIGIL_EXECUTOR_SERVER)')
    .addOption(new Option('--control-plane-addr <url>', 'alias of --server (HFI\'s flag)').hideHelp())
    .option('--token <token>', 'executor token (prefer VIGIL_EXECUTOR_TOKEN)')
    .option('--admin-listen <host:port>', 'metrics (/stats/prometheus, /metrics) and /readyz', '127.0.0.1:15090')
    .option('--state-file <file>', 'where the last policies are kept for a restart without the server (default in the temp dir)')
    .option('--executor-id <id>', 'id reported to the server (default the hostname, i.e. the pod name)')
    .option('--report-interval <seconds>', 'seconds between counter reports to the server', '5')
    .option('--max-active-faults <n>', 'at most this many requests faulted at once; more pass unfaulted and count as overflow')
    .option('--header-faults', 'let requests pick their own fault with x-envoy-fault-abort-request / x-envoy-fault-delay-request (test environments only)')
    .option('--workers <n|auto>', 'proxy processes sharing the listen port (auto: one per CPU); the primary keeps the policy stream, state file, report and admin port', '1')
    .option('--drain-timeout <seconds>', 'on SIGTERM, how long in-flight requests may finish', '10')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
    .action(async (opts) => {
      const serverText = (opts.server ?? opts.controlPlaneAddr ?? process.env.VIGIL_EXECUTOR_SERVER) as string | undefined;
      const service = opts.service as string;
      const namespace = opts.namespace as string;
      const log = createLogger({ log: { level: opts.logLevel, pretty: false } } as Pick<VigilConfig, 'log'>, 'vigil-executor');
      const drainSeconds = positiveInt('--drain-timeout', opts.drainTimeout) ?? 10;
      const workers = parseWorkers(opts.workers as string);
      const common = {
        listen: parseHostPort('--listen', opts.listen),
        admin: parseHostPort('--admin-listen', opts.adminListen),
        upstream: parseUrl('--upstream', opts.upstream),
        service,
        namespace,
        server: serverText ? parseUrl('--server', serverText) : undefined,
        token: (opts.token ?? process.env.VIGIL_EXECUTOR_TOKEN) as string | undefined,
        stateFile: opts.stateFile ?? path.join(tmpdir(), `vigil-executor-${safe(namespace)}-${safe(service)}.json`),
        executorId: opts.executorId ?? hostname(),
        reportIntervalMs: (positiveInt('--report-interval', opts.reportInterval) ?? 5) * 1000,
        maxActiveFaults: positiveInt('--max-active-faults', opts.maxActiveFaults),
        headerFaults: opts.headerFaults === true,
        log,
      };
      const executor = workers > 1 ? await startExecutorCluster({ ...common, workers, logLevel: opts.logLevel as string }) : await startExecutor(common);
      if (!serverText) log.warn('no --server: enforcing the policies of the state file only');
      process.stdout.write(`vigil executor: proxy ${executor.url} -> ${opts.upstream}, admin ${executor.adminUrl ?? 'off'}${workers > 1 ? `, ${workers} workers` : ''}\n`);
      let closing = false;
      const shutdown = async (signal: string) => {
        if (closing) return;
        closing = true;
        log.info({ signal }, 'executor draining');
        await executor.stop(drainSeconds * 1000);
        process.exit(0);
      };
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      process.once('SIGINT', () => void shutdown('SIGINT'));
    });
  examples(cmd, [
    'vigil executor --listen 0.0.0.0:15001 --upstream http://127.0.0.1:8000 --service frontend --namespace demo --server http://vigil:8080 --token "$VIGIL_EXECUTOR_TOKEN"',
    'vigil executor --upstream http://127.0.0.1:8000 --service frontend --namespace demo --state-file /var/lib/vigil/executor.json',
    'vigil executor --workers auto --upstream http://127.0.0.1:8000 --service frontend --namespace demo --server http://vigil:8080',
    'curl -s 127.0.0.1:15090/stats/prometheus | grep wasmcustom_hfi_faults',
  ]);
}
