/**
 * POST /v1/anomaly/check throughput and p99 under autocannon on loopback, on the in-process KV and
 * on Redis (VIGIL_TEST_REDIS_URL or redis://127.0.0.1:6379, skipped when unreachable), beside the
 * same server's GET /healthz as the ceiling, and two authenticated POST routes registered by the bench
 * only, fed the same bodies: one answers {}, one a stored check answer of the same size, so the table
 * shows what the platform and the bytes on the wire cost before any check work.
 * Baselines are preloaded through ingest (100 endpoints × 48 buckets × 60 traces).
 * Goal: check >= 60% of /healthz.
 *
 * The server runs in a child process (this file with `child`), so autocannon does not share its core.
 * A last row measures Fastify alone (this file with `bare`: no Vigil hooks, no auth, no logger), GET
 * against POST with the same bodies answering {}: the ceiling any POST route has against a GET in
 * the framework itself, measured in the same run.
 *
 * `npx tsx bench/anomaly-check.ts profile [redis]` instead loads only the check route, with the server
 * sampling its CPU for exactly that load, and prints the frames with the most self time (the profile
 * is kept under bench/out/ for DevTools).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { VigilModule } from '../src/platform/module.js';
import { startProfile, topSelfFrames, type CpuProfile } from './lib/cpu-profile.js';
import { isMain, report, round, type Row } from './lib/report.js';

const here = fileURLToPath(import.meta.url);
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const WARMUP = 2;
const CONNECTIONS = 32;
const SERVICES = 10;
const ENDPOINTS_PER_SERVICE = 10;
const SAMPLES = 60;

export function redisUrlForBench(): string {
  return process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export async function redisReachable(url: string): Promise<boolean> {
  const { RedisKv } = await import('../src/platform/backends/kv/redis.js');
  const kv = new RedisKv(url, { prefix: 'vigil-bench-probe:' });
  try {
    await Promise.race([kv.connect().then(() => kv.ping()), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 1500))]);
    return true;
  } catch {
    return false;
  } finally {
    await kv.close().catch(() => undefined);
  }
}

/** Child: a server with the anomaly module (jobs off) and, unless preload is "0", learned baselines. */
async function child(dataDir: string, redisUrl: string, preload: boolean): Promise<void> {
  const { loadConfig } = await import('../src/config/load.js');
  const { createServer } = await import('../src/platform/runtime.js');
  const { anomalyModule } = await import('../src/anomaly/module.js');
  const token = 'vgl_bench_admin_token_0123456789';
  const flags: Record<string, unknown> = { 'server.port': 0, dataDir, 'log.level': 'warn', 'auth.adminToken': token, 'server.jobs': false };
  if (redisUrl) Object.assign(flags, { 'redis.url': redisUrl, 'redis.prefix': `vigil-bench-${process.pid}:` });
  const config = loadConfig({ env: {}, flags });
  const mod = anomalyModule(config);
  // Floors of an authenticated JSON POST on this platform: same auth, same bodies; one answers {},
  // the other a stored check answer of the same size as the real ones (no work, same bytes on the wire).
  let canned: unknown = {};
  const floor: VigilModule = {
    name: 'bench-floor',
    routes(app) {
      app.post('/bench/post-floor', { config: { auth: 'viewer' }, schema: { hide: true, body: { type: 'object' } } }, async () => ({}));
      app.post('/bench/post-canned', { config: { auth: 'viewer' }, schema: { hide: true, body: { type: 'object' } } }, async () => canned);
    },
  };
  const server = await createServer(config, [mod, floor]);
  const url = await server.listen();
  const svc = mod.service()!;
  const kv = server.ctx.kv;
  let profiler: Awaited<ReturnType<typeof startProfile>> | undefined;
  // The server's own CPU time, so a run on a busy machine still shows what a request costs it.
  process.on('message', (m) => m === 'cpu' && process.send!({ cpu: process.cpuUsage() }));
  // SIGTERM: stop, and on Redis delete everything this run wrote under its prefix (a shared engine).
  process.on('SIGTERM', () =>
    void (async () => {
      if (profiler) await profiler.stop(process.env.BENCH_CPU_PROF!);
      if (kv.kind === 'redis') {
        const keys = await kv.scanKeys('*');
        for (let i = 0; i < keys.length; i += 1000) await kv.del(...keys.slice(i, i + 1000));
      }
      await server.stop();
      process.exit(0);
    })(),
  );
  if (!preload) {
    process.send!({ url, token, keys: 0 });
    return;
  }
  // 500 endpoints × 24 hours × 2 day types × 60 samples, one trace id each
  const weekday = Date.parse('2024-01-03T00:00:00Z');
  const weekend = Date.parse('2024-01-06T00:00:00Z');
  let n = 0;
  for (let s = 0; s < SERVICES; s++) {
    const batch = [];
    for (let e = 0; e < ENDPOINTS_PER_SERVICE; e++) {
      for (const day of [weekday, weekend]) {
        for (let h = 0; h < 24; h++) {
          for (let i = 0; i < SAMPLES; i++) {
            batch.push({ traceId: (++n).toString(16).padStart(32, '0'), service: `svc-${s}`, endpoint: `GET /api/e${e}`, startMs: day + h * 3600_000 + i * 1000, durationMs: 50 + ((i * 37) % 100) });
          }
        }
      }
    }
    await svc.ingest(batch, 'api', { check: false });
  }
  await svc.runBaselineJob(undefined, 1000);
  canned = await svc.store.checkRequest({ rootServiceName: 'svc-1', rootTraceName: 'GET /api/e1', startTimeUnixNano: String(BigInt(weekday + 5 * 3600_000) * 1_000_000n), durationMs: 80 });
  if (process.env.BENCH_CPU_PROF) profiler = await startProfile();
  process.send!({ url, token, keys: SERVICES * ENDPOINTS_PER_SERVICE * 48 });
}

/** Child: Fastify alone, one GET and one POST answering small JSON (the framework's own floor). */
async function bareChild(): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.post('/post', { schema: { body: { type: 'object' } } }, async () => ({}));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  process.on('message', (m) => m === 'cpu' && process.send!({ cpu: process.cpuUsage() }));
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
  process.send!({ url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, token: '', keys: 0 });
}

type BenchServer = { child: ChildProcess; url: string; token: string; stop(): Promise<void>; cpuMicros(): Promise<number> };

/** A bench server in a child process (this file, `child` mode); without preload it has learned nothing. */
export function startChild(redisUrl: string, preload = true, profileFile?: string): Promise<BenchServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-'));
  const env = profileFile ? { ...process.env, BENCH_CPU_PROF: profileFile } : process.env;
  return forkServer(['child', dataDir, redisUrl, preload ? '1' : '0'], env);
}

/** Fastify alone in a child process (this file, `bare` mode). */
const startBare = (): Promise<BenchServer> => forkServer(['bare'], process.env);

/** This file in a child process with `args`, answering its URL once it listens, its CPU time on request. */
function forkServer(args: string[], env: NodeJS.ProcessEnv): Promise<BenchServer> {
  const c = fork(here, args, { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const stop = () =>
      new Promise<void>((r) => {
        if (c.exitCode !== null) return r();
        c.once('exit', () => r());
        c.kill('SIGTERM');
      });
    const cpuMicros = () =>
      new Promise<number>((r) => {
        const on = (m: { cpu?: NodeJS.CpuUsage }) => {
          if (!m.cpu) return;
          c.off('message', on);
          r(m.cpu.user + m.cpu.system);
        };
        c.on('message', on);
        c.send('cpu');
      });
    c.once('message', (m: { url: string; token: string }) => resolve({ child: c, ...m, stop, cpuMicros }));
    c.once('exit', (code) => reject(new Error(`bench server exited ${code}`)));
  });
}

/** Check bodies over many endpoints and hours (some unknown, some anomalous), cycled by autocannon. */
function checkRequests(): autocannon.Request[] {
  const out: autocannon.Request[] = [];
  for (let i = 0; i < 200; i++) {
    const body =
      i % 20 === 19
        ? { service: 'ghost', endpoint: 'GET /x', durationMs: 10 }
        : {
            rootServiceName: `svc-${i % SERVICES}`,
            rootTraceName: `GET /api/e${i % ENDPOINTS_PER_SERVICE}`,
            startTimeUnixNano: String(BigInt(Date.parse('2024-01-03T00:00:00Z') + (i % 24) * 3600_000) * 1_000_000n),
            durationMs: i % 7 === 0 ? 900 : 80,
          };
    out.push({ method: 'POST', path: '/v1/anomaly/check', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }
  return out;
}

/** Throughput, p99 and, when `cpuMicros` reads the server's CPU time, its CPU µs per request. */
async function load(url: string, opts: Partial<autocannon.Options>, cpuMicros?: () => Promise<number>) {
  const before = await cpuMicros?.();
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, pipelining: 1, ...opts });
  const after = await cpuMicros?.();
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  const cpu = before === undefined || after === undefined ? NaN : (after - before) / r.requests.total;
  return { rps: r.requests.average, p99: r.latency.p99, cpu };
}

export async function run(): Promise<Row[]> {
  const redisUrl = redisUrlForBench();
  const backends: [string, string][] = [['memory', '']];
  if (await redisReachable(redisUrl)) backends.push(['redis', redisUrl]);
  else console.log(`[skip] Redis not reachable at ${redisUrl}: Redis row omitted`);
  const rows: Row[] = [];
  for (const [name, url] of backends) {
    const target = await startChild(url);
    try {
      const headers = { authorization: `Bearer ${target.token}` };
      const requests = checkRequests();
      // the cheapest authenticated POST with the same bodies: what the platform costs before the check runs
      const floorOpts = { headers, requests: requests.map((r) => ({ ...r, path: '/bench/post-floor' })) };
      const cannedOpts = { headers, requests: requests.map((r) => ({ ...r, path: '/bench/post-canned' })) };
      // Every route warms up (JIT) before any is measured, so the first measured is not the coldest.
      for (const [url, opts] of [[target.url, { headers, requests }], [target.url + '/healthz', {}], [target.url, floorOpts], [target.url, cannedOpts]] as const) {
        await autocannon({ url, connections: 8, duration: WARMUP, ...opts });
      }
      const check = await load(target.url, { headers, requests }, target.cpuMicros);
      const health = await load(target.url + '/healthz', {}, target.cpuMicros);
      const floor = await load(target.url, floorOpts);
      const canned = await load(target.url, cannedOpts, target.cpuMicros);
      rows.push({
        backend: name,
        'check req/s': round(check.rps, 0),
        'check p99 ms': check.p99,
        '/healthz req/s': round(health.rps, 0),
        '/healthz p99 ms': health.p99,
        'check / healthz': `${round((100 * check.rps) / health.rps, 0)}%`,
        'POST {} req/s': round(floor.rps, 0),
        'POST {} / healthz': `${round((100 * floor.rps) / health.rps, 0)}%`,
        'POST same-size answer req/s': round(canned.rps, 0),
        'check / same-size POST': `${round((100 * check.rps) / canned.rps, 0)}%`,
        // server CPU per request: steadier than req/s when other work shares the machine
        'CPU µs/req check · same-size POST · /healthz': `${round(check.cpu, 0)} · ${round(canned.cpu, 0)} · ${round(health.cpu, 0)}`,
      });
    } finally {
      await target.stop();
    }
  }
  // The framework's own ceiling for a POST against a GET, same bodies, same load.
  const bare = await startBare();
  try {
    const requests = checkRequests().map((r) => ({ ...r, path: '/post' }));
    await autocannon({ url: bare.url + '/healthz', connections: 8, duration: WARMUP });
    await autocannon({ url: bare.url, connections: 8, duration: WARMUP, requests });
    const get = await load(bare.url + '/healthz', {}, bare.cpuMicros);
    const post = await load(bare.url, { requests }, bare.cpuMicros);
    rows.push({
      backend: 'Fastify alone (peer)',
      '/healthz req/s': round(get.rps, 0),
      '/healthz p99 ms': get.p99,
      'POST {} req/s': round(post.rps, 0),
      'POST {} / healthz': `${round((100 * post.rps) / get.rps, 0)}%`,
      'CPU µs/req check · same-size POST · /healthz': `– · ${round(post.cpu, 0)} (POST {}) · ${round(get.cpu, 0)}`,
    });
  } finally {
    await bare.stop();
  }
  return report(
    'anomaly-check',
    `POST /v1/anomaly/check vs GET /healthz and authenticated POSTs answering {} or a stored answer of the same size (same bodies) on the same server ` +
      `(autocannon, ${CONNECTIONS} connections, ${DURATION}s, loopback; ${SERVICES * ENDPOINTS_PER_SERVICE * 48} buckets learned; goal >= 60% of /healthz); ` +
      `last row: Fastify alone, GET vs POST {} with the same bodies`,
    rows,
  );
}

/** Only the check route under load, the server profiling itself meanwhile; prints the top self-time frames. */
export async function profile(backend: string): Promise<void> {
  const redisUrl = backend === 'redis' ? redisUrlForBench() : '';
  const out = path.resolve(path.dirname(here), 'out');
  mkdirSync(out, { recursive: true });
  const file = path.join(out, `anomaly-check-${backend || 'memory'}.cpuprofile`);
  const target = await startChild(redisUrl, true, file);
  try {
    const headers = { authorization: `Bearer ${target.token}` };
    await autocannon({ url: target.url, connections: 8, duration: WARMUP, headers, requests: checkRequests() });
    const check = await load(target.url, { headers, requests: checkRequests() });
    console.log(`check: ${round(check.rps, 0)} req/s, p99 ${check.p99} ms (profiling slows the server)`);
  } finally {
    await target.stop();
  }
  console.table(topSelfFrames(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, 30, path.dirname(path.dirname(here))));
  console.log(`profile: ${file}`);
}

if (isMain(import.meta.url)) {
  if (process.argv[2] === 'bare') await bareChild();
  else if (process.argv[2] === 'child') await child(process.argv[3], process.argv[4] ?? '', process.argv[5] !== '0');
  else if (process.argv[2] === 'profile') await profile(process.argv[3] ?? 'memory');
  else await run();
}
