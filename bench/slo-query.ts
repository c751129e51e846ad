/**
 * SLO read latency: p50/p99 of GET /api/v2/slo/domains (default range 1d) and
 * GET /api/v2/slo/domains/{d}?time_range=30d with 200 domains × 5 paths, 30 days of hourly rollups
 * and 48 h of raw rows, on SQLite (goal: p99 < 50 ms). Peer: GET /healthz of the same server in the
 * same run, interleaved request by request; ratio = route p50 ÷ /healthz p50.
 *
 * The database is seeded through the repository (ingest + rollup + retention), as a live server
 * would have written it: one snapshot per hour older than 48 h, one every BENCH_RAW_STEP_S seconds
 * (default 300) in the last 48 h, everything rolled up but the newest minute. Requests are
 * sequential (one connection), jobs off, so the figures are the queries' own latency. Two scenarios:
 * steady (nothing written: the caches of decoded rollup buckets serve); live (the agent POSTs a
 * 1 000-route snapshot before every round and the rollup runs every 4th, so reads keep meeting new
 * raw rows and current buckets); and live with the writes on another replica (this one reads them
 * all back from the database). That replica is another process (this file with `writer`), as in a
 * deployment: the reading server does not pay for the writer's parsing and garbage.
 *
 *   npx tsx bench/slo-query.ts            (BENCH_REQUESTS=200)
 *   node --import tsx --cpu-prof bench/slo-query.ts
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { createServer } from '../src/platform/runtime.js';
import { migrate } from '../src/platform/backends/sql/migrations.js';
import { openSql, type SqlStore } from '../src/platform/backends/sql/db.js';
import { platformMigrations } from '../src/platform/runtime.js';
import { sloModule, type SloServices } from '../src/slo/module.js';
import { fleetSnapshot, type FleetShape } from '../test/support/slo-fixtures.js';
import { SloRepository } from '../src/slo/server/repository.js';
import { sloMigrations } from '../src/slo/server/tables.js';
import { DAY, HOUR, MINUTE, floorTo } from '../src/slo/math/time.js';
import type { Snapshot } from '../src/slo/snapshot.js';
import { isMain, report, round, type Row } from './lib/report.js';

const here = fileURLToPath(import.meta.url);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const RAW_STEP_MS = Number(process.env.BENCH_RAW_STEP_S ?? 300) * 1000;
const SHAPE: FleetShape = { cluster: 'bench', services: 0, edges: 0, routes: 1000, domains: 200 };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** Seeds `store` like a live server would have: 30 days hourly, 48 h raw, the newest minute unrolled. */
export async function seed(store: SqlStore, now: number, log = (m: string) => console.log(m)): Promise<{ snapshots: number }> {
  await migrate(store, [platformMigrations, { module: 'slo', migrations: sloMigrations }]);
  const repo = new SloRepository(store);
  let seq = 0;
  const times: number[] = [];
  for (let t = floorTo(now - 30 * DAY, HOUR) + 30 * MINUTE; t < now - 48 * HOUR; t += HOUR) times.push(t);
  for (let t = now - 48 * HOUR; t < now - 2 * MINUTE; t += RAW_STEP_MS) times.push(t);
  const base = fleetSnapshot(SHAPE, 1, now);
  const started = performance.now();
  for (const t of times) {
    // Same routes, counts re-seeded every 50 snapshots (generation is not what we measure).
    const s: Snapshot = seq % 50 === 0 ? fleetSnapshot(SHAPE, seq + 1, t) : { ...base, timestamp: t };
    Object.assign(base, s.seq ? { ingress: s.ingress } : {});
    await repo.ingest({ ...s, seq: ++seq, timestamp: t }, now);
    if (seq % 16 === 0) await repo.rollupAll();
    if (seq % 200 === 0) log(`  seeded ${seq}/${times.length} snapshots (${round((performance.now() - started) / 1000, 0)} s)`);
  }
  await repo.rollupAll();
  await repo.retention({ rawBefore: now - 48 * HOUR, hourlyBefore: now - 90 * DAY, statusBefore: now - 180 * DAY });
  // The newest minute, not rolled up yet (read from raw by every query).
  for (let i = 0; i < 4; i++) await repo.ingest({ ...base, seq: ++seq, timestamp: now - 60_000 + i * 15_000 }, now);
  return { snapshots: seq };
}

/** Child: another replica writing into the same database; each message ingests a snapshot, every `rollup` one rolls up. */
async function writerChild(file: string, dataDir: string): Promise<void> {
  const store = await openSql({ url: `sqlite:${file}`, dataDir });
  const writer = new SloRepository(store);
  process.on('message', (m: { seq: number; rollup: boolean }) =>
    void (async () => {
      await writer.ingest(fleetSnapshot(SHAPE, m.seq, Date.now()), Date.now());
      if (m.rollup) await writer.rollupAll();
      process.send!('done');
    })(),
  );
  process.on('disconnect', () => void store.close().then(() => process.exit(0)));
  process.send!('ready');
}

/** Another replica in its own process: `write` resolves once its snapshot (and rollup) committed. */
async function startWriter(file: string, dataDir: string) {
  const c = fork(here, ['writer', file, dataDir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () =>
    new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`writer replica exited ${code}`));
      c.once('exit', onExit);
      c.once('message', () => {
        c.off('exit', onExit);
        resolve();
      });
    });
  await next();
  return {
    write: (seq: number, rollup: boolean) => {
      const done = next();
      c.send({ seq, rollup });
      return done;
    },
    stop: () =>
      new Promise<void>((r) => {
        if (c.exitCode !== null) return r();
        c.once('exit', () => r());
        c.disconnect();
      }),
  };
}

export async function run(): Promise<Row[]> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-query-'));
  const file = path.join(dataDir, 'vigil.db');
  const now = Date.now();
  console.log(`seeding ${SHAPE.domains} domains × ${SHAPE.routes / SHAPE.domains!} paths, 30 d hourly + 48 h raw every ${RAW_STEP_MS / 1000} s …`);
  const store = await openSql({ url: `sqlite:${file}`, dataDir });
  const seeded = await seed(store, now);
  await store.close();

  const token = 'vgl_bench_admin_token_0123456789';
  const config = loadConfig({
    env: {},
    flags: { 'server.port': 0, dataDir, 'database.url': `sqlite:${file}`, 'log.level': 'warn', 'auth.adminToken': token, 'server.jobs': false },
  });
  let services: SloServices | undefined;
  const server = await createServer(config, [sloModule(config, { onServices: (x) => (services = x) })]);
  const url = await server.listen();
  const headers = { authorization: `Bearer ${token}` };
  const healthz = ['GET /healthz (peer)', '/healthz'] as const;
  const list = ['GET /api/v2/slo/domains (1d)', '/api/v2/slo/domains'] as const;
  const list30 = ['GET /api/v2/slo/domains?time_range=30d', '/api/v2/slo/domains?time_range=30d'] as const;
  const detail = ['GET /api/v2/slo/domains/{d}?time_range=30d', '/api/v2/slo/domains/d7.example.com?time_range=30d'] as const;

  /** Interleaved sequential requests; `before` runs (untimed) before every round. */
  const measure = async (targets: readonly (readonly [string, string])[], n: number, before?: (i: number) => Promise<void>) => {
    const times = targets.map(() => [] as number[]);
    const bytes = targets.map(() => 0);
    for (let i = 0; i < n + 10; i++) {
      await before?.(i);
      for (const [k, [, p]] of targets.entries()) {
        const t = performance.now();
        const res = await fetch(url + p, { headers });
        const body = await res.text();
        const ms = performance.now() - t;
        if (res.status !== 200) throw new Error(`${p}: HTTP ${res.status} ${body.slice(0, 200)}`);
        if (i >= 10) times[k].push(ms);
        bytes[k] = body.length;
      }
    }
    return { times, bytes };
  };

  const rows: Row[] = [];
  const add = (scenario: string, targets: readonly (readonly [string, string])[], r: { times: number[][]; bytes: number[] }) => {
    const peer = pct(r.times[0], 50);
    targets.forEach(([label], k) => {
      rows.push({
        scenario,
        route: label,
        'p50 ms': round(pct(r.times[k], 50), 2),
        'p99 ms': round(pct(r.times[k], 99), 2),
        KiB: round(r.bytes[k] / 1024, 1),
        'p50 / healthz p50': `${round(pct(r.times[k], 50) / peer, 1)}×`,
        'p99 < 50 ms': k === 0 ? '' : pct(r.times[k], 99) < 50 ? 'met' : 'missed',
      });
    });
  };
  const writer = await startWriter(file, dataDir);
  try {
    add('steady (no writes)', [healthz, list, list30, detail], await measure([healthz, list, list30, detail], REQUESTS));
    let seq = seeded.snapshots;
    const n = Math.min(REQUESTS, 100);
    // Live, one server: the agent POSTs a snapshot of all 1 000 routes before every round and the
    // server's rollup runs every 4th round, so reads keep meeting new raw rows and current buckets.
    const live = await measure([healthz, list, detail], n, async (i) => {
      const res = await fetch(`${url}/api/v2/agent/snapshots`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(JSON.stringify(fleetSnapshot(SHAPE, ++seq, Date.now()))),
      });
      if (res.status !== 200) throw new Error(`ingest: HTTP ${res.status} ${await res.text()}`);
      if (i % 4 === 3) await services!.repo.rollupAll();
    });
    add('live: snapshot POSTed before each round, rollup every 4th', [healthz, list, detail], live);
    // Live, two replicas: another replica (process) ingests and rolls up, so this one reads every
    // new raw row and changed bucket back from the database.
    const replica = await measure([healthz, list, detail], n, (i) => writer.write(++seq, i % 4 === 3));
    add('live, writes on another replica', [healthz, list, detail], replica);
  } finally {
    await server.stop();
    await writer.stop();
    // The seeded database is half a gigabyte: do not leave one behind per run.
    rmSync(dataDir, { recursive: true, force: true });
  }
  return report('slo-query', `SLO reads on SQLite: ${SHAPE.domains} domains × 5 paths, 30 d hourly + 48 h raw (${seeded.snapshots} snapshots); sequential requests, interleaved`, rows);
}

if (isMain(import.meta.url)) {
  if (process.argv[2] === 'writer') await writerChild(process.argv[3], process.argv[4]);
  else await run();
}
