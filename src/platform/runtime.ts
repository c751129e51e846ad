import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { hostname } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Registry, Counter, Gauge, Histogram } from 'prom-client';
import { collectProcessMetrics } from './process-metrics.js';
import type { Logger } from 'pino';
import type { VigilConfig } from '../config/schema.js';
import { anonymousReadAllowed, parseDuration } from '../config/load.js';
import { openSql, type SqlStore } from './backends/sql/db.js';
import { migrate, type MigrationSet } from './backends/sql/migrations.js';
import { openKv, type KvStore } from './backends/kv/index.js';
import { openBlob, type BlobStore } from './backends/blob/index.js';
import { openBus } from './backends/bus/index.js';
import { ensureQueues, startConsumers } from './backends/bus/consumers.js';
import { TokenService, authMigrations } from './auth/tokens.js';
import { KvLease, SqlLease, leaseMigrations } from './lease.js';
import { Scheduler } from './scheduler.js';
import { createHttpApp } from './http/app.js';
import { createLogger } from './logger.js';
import type { ModuleContext, ReadyState, VigilModule } from './module.js';
import { badRequest, notFound } from './http/errors.js';
import { CreateTokenBody, TokenList, TokenParams, WhoAmI } from './schemas.js';

export interface VigilServer {
  app: FastifyInstance;
  ctx: ModuleContext;
  /** Set when this start created the first admin token: shown once. */
  createdAdminToken?: string;
  listen(): Promise<string>;
  stop(): Promise<void>;
}

export const platformMigrations: MigrationSet = { module: 'platform', migrations: [...authMigrations, ...leaseMigrations] };

export function migrationSets(modules: VigilModule[]): MigrationSet[] {
  return [platformMigrations, ...modules.filter((m) => m.migrations?.length).map((m) => ({ module: m.name, migrations: m.migrations! }))];
}

export async function openBackends(config: VigilConfig, opts: { pgSchema?: string } = {}): Promise<{ sql: SqlStore; kv: KvStore; blob: BlobStore }> {
  const sql = await openSql({ url: config.database.url, dataDir: config.dataDir, poolSize: config.database.poolSize, schema: opts.pgSchema });
  try {
    const kv = await openKv(config.redis.url, config.redis.prefix, config.dataDir);
    const blob = await openBlob(config.blob.url, config.dataDir).catch(async (err) => {
      await kv.close();
      throw err;
    });
    return { sql, kv, blob };
  } catch (err) {
    await sql.close();
    throw err;
  }
}

const defaultWebDir = () => path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/**
 * Build a server: open backends, migrate, ensure an admin token, register module routes and jobs.
 * Nothing listens or runs until listen().
 */
export async function createServer(
  config: VigilConfig,
  modules: VigilModule[],
  opts: { log?: Logger; pgSchema?: string; webDir?: string } = {},
): Promise<VigilServer> {
  const log = opts.log ?? createLogger(config);
  const { sql, kv, blob } = await openBackends(config, opts);
  await migrate(sql, migrationSets(modules));

  const tokens = new TokenService(sql);
  const createdAdminToken = await ensureAdminToken(tokens, config.auth.adminToken);

  const metrics = new Registry();
  collectProcessMetrics(metrics, 'vigil_');
  const bus = await openBus(config.nats.url, { prefix: config.nats.prefix, registry: metrics, log }).catch(async (err) => {
    await blob.close();
    await kv.close();
    await sql.close();
    throw err;
  });
  const jobRuns = new Histogram({
    name: 'vigil_job_duration_seconds',
    help: 'Background job run time',
    labelNames: ['job', 'outcome'],
    registers: [metrics],
  });
  const jobSkips = new Counter({
    name: 'vigil_job_skipped_total',
    help: 'Job ticks that found the previous run still in flight and started nothing',
    labelNames: ['job'],
    registers: [metrics],
  });
  const owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const scheduler = new Scheduler({
    // Replicas share Redis or the SQL store; an embedded KV file is per machine, so its leases would not elect across replicas.
    lease: kv.kind === 'redis' ? new KvLease(kv) : new SqlLease(sql),
    owner,
    log,
    onRun: (job, ms, ok) => jobRuns.observe({ job, outcome: ok ? 'ok' : 'error' }, ms / 1000),
    onSkip: (job) => jobSkips.inc({ job }),
  });
  new Gauge({
    name: 'vigil_job_leader',
    help: '1 when this replica holds the lease of the job',
    labelNames: ['job'],
    registers: [metrics],
    collect() {
      for (const s of scheduler.status()) this.set({ job: s.name }, s.holdsLease || !s.leader ? 1 : 0);
    },
  });

  const ctx: ModuleContext = { config, sql, kv, bus, blob, log, metrics, tokens, scheduler };
  const app = await createHttpApp({
    log,
    metrics,
    tokens,
    bodyLimit: config.server.bodyLimitBytes,
    anonymousRead: anonymousReadAllowed(config),
    webDir: config.server.serveWeb ? (opts.webDir ?? defaultWebDir()) : undefined,
  });

  const readiness: Record<string, () => Promise<ReadyState>> = {
    [`sql:${sql.kind}`]: async () => (await sql.ping(), { ok: true }),
    [`kv:${kv.kind}`]: async () => (await kv.ping(), { ok: true }),
    [`bus:${bus.kind}`]: async () => (await bus.ping(), { ok: true }),
    [`blob:${blob.kind}`]: async () => (await blob.ping(), { ok: true }),
  };
  for (const m of modules) Object.assign(readiness, m.readiness?.(ctx) ?? {});

  registerPlatformRoutes(app, ctx, readiness);
  for (const m of modules) {
    if (m.routes) await app.register(async (scope) => m.routes!(scope, ctx));
    if (config.server.jobs) for (const j of m.jobs?.(ctx) ?? []) scheduler.add(j);
  }
  // Queues exist before anything publishes, whether or not this process consumes them.
  const consumers = modules.flatMap((m) => m.consumers?.(ctx) ?? []);
  await ensureQueues(bus, consumers);
  let stopConsumers: (() => Promise<void>) | undefined;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Order: stop accepting and finish in-flight requests, stop jobs, stop modules, close backends.
      await app.close().catch((err) => log.error({ err }, 'closing http'));
      await stopConsumers?.().catch((err) => log.error({ err }, 'draining consumers'));
      await scheduler.stop();
      for (const m of [...modules].reverse()) await Promise.resolve(m.stop?.()).catch((err) => log.error({ err, module: m.name }, 'stopping module'));
      await bus.close();
      await blob.close();
      await kv.close();
      await sql.close();
    })());

  return {
    app,
    ctx,
    createdAdminToken,
    async listen() {
      await app.listen({ host: config.server.host, port: config.server.port });
      for (const m of modules) await m.start?.(ctx);
      if (config.worker.inProcess && consumers.length) stopConsumers = await startConsumers(bus, consumers, { concurrency: config.worker.concurrency, log });
      await scheduler.start();
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.server.port;
      const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host;
      return `http://${host}:${port}`;
    },
    stop,
  };
}

async function ensureAdminToken(tokens: TokenService, configured: string | undefined): Promise<string | undefined> {
  if (configured) {
    if (!(await tokens.verify(configured))) await tokens.create({ name: 'admin (from config)', role: 'admin', token: configured });
    return undefined;
  }
  if ((await tokens.countActive('admin')) > 0) return undefined;
  const { token } = await tokens.create({ name: 'admin (first start)', role: 'admin' });
  return token;
}

function registerPlatformRoutes(app: FastifyInstance, ctx: ModuleContext, readiness: Record<string, () => Promise<ReadyState>>): void {
  app.get(
    '/healthz',
    { config: { auth: 'public' }, schema: { tags: ['platform'], summary: 'Process is alive', response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    { config: { auth: 'public' }, schema: { tags: ['platform'], summary: 'Every backend reachable; JSON per backend' } },
    async (_req, reply) => {
      const checks: Record<string, ReadyState> = {};
      await Promise.all(
        Object.entries(readiness).map(async ([name, check]) => {
          try {
            checks[name] = await withTimeout(check(), 2000);
          } catch (err) {
            checks[name] = { ok: false, detail: (err as Error).message };
          }
        }),
      );
      const ok = Object.values(checks).every((c) => c.ok);
      const degraded = Object.values(checks).some((c) => c.degraded);
      return reply.code(ok ? 200 : 503).send({ status: ok ? (degraded ? 'degraded' : 'ready') : 'unavailable', checks });
    },
  );

  app.get('/metrics', { config: { auth: 'public' }, schema: { tags: ['platform'], summary: 'Prometheus metrics', hide: false } }, async (_req, reply) => {
    reply.header('content-type', ctx.metrics.contentType);
    return ctx.metrics.metrics();
  });

  app.get('/api/v1/jobs', { schema: { tags: ['platform'], summary: 'Background jobs on this replica' } }, async () => ({ jobs: ctx.scheduler.status() }));

  registerTokenRoutes(app, ctx);

  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/api/v1/whoami',
    { config: { auth: 'public' }, schema: { tags: ['platform'], summary: "The caller's role", response: { 200: WhoAmI } } },
    async (req) => ({
      authenticated: !!req.principal,
      role: req.principal?.role ?? null,
      name: req.principal?.name ?? null,
      clusterId: req.principal?.clusterId ?? null,
      anonymousRead: anonymousReadAllowed(ctx.config),
    }),
  );
}

function registerTokenRoutes(scope: FastifyInstance, ctx: ModuleContext): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/v1/tokens',
    { config: { auth: 'admin' }, schema: { tags: ['platform'], summary: 'List tokens (never their secrets)', response: { 200: TokenList } } },
    async () => ({ tokens: await ctx.tokens.list() }),
  );
  app.post(
    '/api/v1/tokens',
    { config: { auth: 'admin' }, schema: { tags: ['platform'], summary: 'Create a token; the secret is in this response only', body: CreateTokenBody } },
    async (req, reply) => {
      const body = req.body;
      if (body.role === 'agent' && !body.clusterId) throw badRequest('an agent token must be bound to a cluster', 'clusterId');
      if (body.role !== 'agent' && body.clusterId) throw badRequest('only agent tokens are bound to a cluster', 'clusterId');
      const { token, info } = await ctx.tokens.create(body);
      return reply.code(201).send({ token, ...info });
    },
  );
  app.delete(
    '/api/v1/tokens/:id',
    { config: { auth: 'admin' }, schema: { tags: ['platform'], summary: 'Revoke a token', params: TokenParams } },
    async (req, reply) => {
      const { id } = req.params;
      if (!(await ctx.tokens.revoke(id))) throw notFound(`no active token ${id}`);
      return reply.code(204).send();
    },
  );
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

export { parseDuration };
