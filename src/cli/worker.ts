import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import Fastify, { LogController } from 'fastify';
import { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { VigilConfig } from '../config/schema.js';
import { parseDuration } from '../config/load.js';
import { allModules } from '../modules.js';
import { openBus } from '../platform/backends/bus/index.js';
import { ensureQueues, startConsumers } from '../platform/backends/bus/consumers.js';
import { migrate } from '../platform/backends/sql/migrations.js';
import { TokenService } from '../platform/auth/tokens.js';
import { SqlLease } from '../platform/lease.js';
import { createLogger } from '../platform/logger.js';
import { collectProcessMetrics } from '../platform/process-metrics.js';
import type { ModuleContext, ReadyState, VigilModule } from '../platform/module.js';
import { Scheduler } from '../platform/scheduler.js';
import { migrationSets, openBackends } from '../platform/runtime.js';
import { configFromOptions, examples } from './common.js';

export interface RunningWorker {
  url: string;
  ctx: ModuleContext;
  stop(): Promise<void>;
}

/**
 * The worker role: the queue consumers of every module, with /healthz, /readyz and /metrics of its
 * own. It shares nothing with servers but the backends.
 */
export async function startWorker(config: VigilConfig, modules: VigilModule[], opts: { log?: Logger } = {}): Promise<RunningWorker> {
  const log = opts.log ?? createLogger(config, 'vigil-worker');
  const { sql, kv, blob } = await openBackends(config);
  const metrics = new Registry();
  collectProcessMetrics(metrics, 'vigil_');
  let bus;
  try {
    // Migrations take a lock, so a worker starting beside a server (or another worker) is safe.
    await migrate(sql, migrationSets(modules));
    bus = await openBus(config.nats.url, { prefix: config.nats.prefix, registry: metrics, log });
  } catch (err) {
    await blob.close();
    await kv.close();
    await sql.close();
    throw err;
  }
  const owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  // Modules expect a scheduler in their context; a worker never starts it (jobs run on servers).
  const scheduler = new Scheduler({ lease: new SqlLease(sql), owner, log });
  const ctx: ModuleContext = { config, sql, kv, bus, blob, log, metrics, tokens: new TokenService(sql), scheduler };

  const readiness: Record<string, () => Promise<ReadyState>> = {
    [`sql:${sql.kind}`]: async () => (await sql.ping(), { ok: true }),
    [`kv:${kv.kind}`]: async () => (await kv.ping(), { ok: true }),
    [`bus:${bus.kind}`]: async () => (await bus.ping(), { ok: true }),
    [`blob:${blob.kind}`]: async () => (await blob.ping(), { ok: true }),
  };

  const app = Fastify({ loggerInstance: log.child({ component: 'http' }), logController: new LogController({ disableRequestLogging: true }) });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, ReadyState> = {};
    await Promise.all(
      Object.entries(readiness).map(async ([name, check]) => {
        checks[name] = await withTimeout(check(), 2000).catch((err: Error) => ({ ok: false, detail: err.message }));
      }),
    );
    const ok = Object.values(checks).every((c) => c.ok);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', checks });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.metrics();
  });

  let stopConsumers: (() => Promise<void>) | undefined;
  try {
    const specs = modules.flatMap((m) => m.consumers?.(ctx) ?? []);
    await ensureQueues(bus, specs);
    stopConsumers = await startConsumers(bus, specs, { concurrency: config.worker.concurrency, log });
    if (!specs.length) log.warn('no module declares a queue consumer; this worker has nothing to do');
    await app.listen({ host: config.worker.host, port: config.worker.port });
  } catch (err) {
    await stopConsumers?.();
    await app.close();
    await bus.close();
    await blob.close();
    await kv.close();
    await sql.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.worker.port;
  const host = config.worker.host.includes(':') ? `[${config.worker.host}]` : config.worker.host === '0.0.0.0' ? '127.0.0.1' : config.worker.host;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    ctx,
    stop: () =>
      (stopping ??= (async () => {
        // Finish the messages in hand first (they get acked), then close probes and backends.
        await stopConsumers?.().catch((err) => log.error({ err }, 'draining consumers'));
        await app.close().catch((err) => log.error({ err }, 'closing http'));
        await bus.close();
        await blob.close();
        await kv.close();
        await sql.close();
      })()),
  };
}

/** Run a worker until SIGTERM / SIGINT, then drain and exit 0 (or 1 when the drain outlasts shutdownTimeout). */
export async function runWorker(config: VigilConfig, modules: VigilModule[]): Promise<void> {
  mkdirSync(config.dataDir, { recursive: true });
  const worker = await startWorker(config, modules);
  const log = worker.ctx.log;
  // Legal (it works, e.g. for a smoke test) but almost never what was meant: nobody else can publish to it.
  if (!config.nats.url) log.warn('vigil worker on the in-process bus only sees messages published inside this process; set --nats-url');
  process.stdout.write(`vigil worker on ${config.nats.url ? 'NATS' : 'the in-process bus'}: probes and metrics at ${worker.url}\n`);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'worker shutting down');
    const force = setTimeout(() => {
      log.error('worker shutdown timed out; exiting');
      process.exit(1);
    }, parseDuration(config.server.shutdownTimeout));
    force.unref();
    await worker.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

export function registerWorkerCommand(program: Command): void {
  // Not withConfigOptions: --host / --port here are the worker's probe port, not the server's.
  const cmd = program
    .command('worker')
    .description('Consume queued work (batch parsing, aggregation, diagnosis) with probes and metrics on its own port')
    .option('-c, --config <file>', 'YAML config file (also VIGIL_CONFIG)')
    .option('--concurrency <n>', 'messages handled at once per consumer (worker.concurrency)')
    .option('--host <host>', 'interface of /healthz, /readyz and /metrics (worker.host)')
    .option('--port <port>', 'port of /healthz, /readyz and /metrics, default 8081 (worker.port)')
    .option('--data-dir <dir>', 'local state directory (dataDir)')
    .option('--database-url <url>', 'sqlite:<file> or postgres://… (database.url)')
    .option('--redis-url <url>', 'redis://… for the KV store (redis.url)')
    .option('--nats-url <url>', 'nats://… for the event bus (nats.url)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (log.level)')
    .option('--set <key=value>', 'set any config key (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (opts: Record<string, unknown>) => {
      const { host, port, concurrency, ...rest } = opts;
      const overrides: Record<string, unknown> = {};
      if (host !== undefined) overrides['worker.host'] = host;
      if (port !== undefined) overrides['worker.port'] = port;
      if (concurrency !== undefined) overrides['worker.concurrency'] = concurrency;
      const config = configFromOptions(rest, overrides);
      await runWorker(config, allModules(config));
    });
  examples(cmd, ['vigil worker --nats-url nats://nats:4222 --database-url postgres://vigil@db/vigil --concurrency 16', 'vigil worker --port 9100']);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
