/**
 * SLO snapshot ingest: snapshots/s that Vigil writes for a cluster of 500 services, 2 000 edges and
 * 200 ingress routes (2 700 raw rows + 200 route mappings per snapshot), on SQLite and — when
 * VIGIL_BENCH_POSTGRES_URL or VIGIL_TEST_POSTGRES_URL is set — PostgreSQL.
 *
 * Contenders, interleaved round by round on the same engine:
 *  - Vigil repository: SloRepository.ingest (idempotency key, agent row, mapping upserts, ingress
 *    resolution, raw rows; one transaction);
 *  - Vigil HTTP: POST /api/v2/agent/snapshots with a gzip body (adds inflate, JSON parse, schema and
 *    histogram validation);
 *  - peer: a bare multi-row INSERT of the same raw rows, precompiled SQL text straight to the same
 *    driver (better-sqlite3 / pg), in one transaction, into a copy of the same tables and indexes.
 * Each row is the median wall time over the rounds. Ratio = Vigil snapshots/s ÷ peer snapshots/s.
 * A last row per engine times the rollup job over everything ingested (mean per snapshot), for scale.
 *
 *   npx tsx bench/slo-ingest.ts            (BENCH_ROUNDS=20 by default)
 *   node --import tsx --cpu-prof bench/slo-ingest.ts
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CompiledQuery } from 'kysely';
import { loadConfig } from '../src/config/load.js';
import { openSql, type SqlStore } from '../src/platform/backends/sql/db.js';
import { migrate } from '../src/platform/backends/sql/migrations.js';
import { createServer, platformMigrations } from '../src/platform/runtime.js';
import { sloModule } from '../src/slo/module.js';
import { fleetSnapshot } from '../test/support/slo-fixtures.js';
import { prepareRows, resolveIngress } from '../src/slo/server/ingest.js';
import { SloRepository } from '../src/slo/server/repository.js';
import { sloMigrations, tableName, type EntityKind, type MetricRow } from '../src/slo/server/tables.js';
import type { Snapshot } from '../src/slo/snapshot.js';
import { isMain, report, round, type Row } from './lib/report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const SHAPE = { cluster: 'bench', services: 500, edges: 2000, routes: 200, domains: 40 };
const ROWS_PER_SNAPSHOT = SHAPE.services + SHAPE.edges + SHAPE.routes;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Engine {
  name: string;
  open(): Promise<SqlStore>;
  url: string;
}

function engines(): Engine[] {
  const out: Engine[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-ingest-'));
  let n = 0;
  out.push({ name: 'sqlite', url: '', open: () => openSql({ url: `sqlite:${path.join(dir, `db${++n}.sqlite`)}`, dataDir: dir }) });
  const pg = process.env.VIGIL_BENCH_POSTGRES_URL ?? process.env.VIGIL_TEST_POSTGRES_URL;
  if (pg) {
    out.push({ name: 'postgres', url: pg, open: () => openSql({ url: pg, dataDir: dir, schema: `bench_ingest_${Date.now().toString(36)}_${++n}`, poolSize: 4 }) });
  } else {
    console.log('[skip] PostgreSQL: set VIGIL_BENCH_POSTGRES_URL (or VIGIL_TEST_POSTGRES_URL) to include it');
  }
  return out;
}

/** The bare peer: the same rows as multi-row INSERTs, SQL text built once per chunk size. */
function bareInserter(store: SqlStore) {
  const cache = new Map<string, string>();
  const text = (table: string, cols: string[], rows: number) => {
    const k = `${table}/${rows}`;
    let t = cache.get(k);
    if (!t) {
      let p = 0;
      const ph = () => (store.kind === 'postgres' ? `$${++p}` : '?');
      const tuples = Array.from({ length: rows }, () => `(${cols.map(ph).join(', ')})`);
      t = `insert into ${table} (${cols.join(', ')}) values ${tuples.join(', ')}`;
      cache.set(k, t);
    }
    return t;
  };
  return async (tables: [EntityKind, MetricRow[]][]) => {
    await store.db.connection().execute(async (conn) => {
      await conn.executeQuery(CompiledQuery.raw('begin'));
      for (const [kind, rows] of tables) {
        const cols = Object.keys(rows[0]) as (keyof MetricRow)[];
        for (let i = 0; i < rows.length; i += 400) {
          const part = rows.slice(i, i + 400);
          const params: unknown[] = [];
          for (const r of part) for (const c of cols) params.push(r[c]);
          await conn.executeQuery(CompiledQuery.raw(text(tableName(kind, 'raw'), cols, part.length), params));
        }
      }
      await conn.executeQuery(CompiledQuery.raw('commit'));
    });
  };
}

function peerRows(s: Snapshot, snapId: number): [EntityKind, MetricRow[]][] {
  const p = prepareRows(s);
  resolveIngress(p.ingress, p.routes, new Map());
  const tag = (rows: MetricRow[]) => {
    for (const r of rows) r.snap_id = snapId;
    return rows;
  };
  return [
    ['service', tag(p.services)],
    ['edge', tag(p.edges)],
    ['ingress', tag(p.ingress)],
  ];
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  const base = fleetSnapshot(SHAPE, 1, Date.now());
  const snapshotAt = (seq: number): Snapshot => ({ ...base, seq, timestamp: Date.now() - 1000 });
  for (const engine of engines()) {
    const vigilStore = await engine.open();
    const peerStore = await engine.open();
    const sets = [platformMigrations, { module: 'slo', migrations: sloMigrations }];
    await migrate(vigilStore, sets);
    await migrate(peerStore, sets);
    const repo = new SloRepository(vigilStore);
    const bare = bareInserter(peerStore);

    // A Vigil server on its own database for the HTTP contender.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-ingest-http-'));
    const token = 'vgl_bench_admin_token_0123456789';
    const config = loadConfig({
      env: {},
      flags: { 'server.port': 0, dataDir, 'log.level': 'warn', 'auth.adminToken': token, 'server.jobs': false, 'server.bodyLimitBytes': 64 * 1024 * 1024, ...(engine.url ? { 'database.url': engine.url } : {}) },
    });
    const server = await createServer(config, [sloModule(config)], engine.url ? { pgSchema: `bench_http_${Date.now().toString(36)}` } : {});
    const url = await server.listen();

    const times = { repo: [] as number[], http: [] as number[], bare: [] as number[] };
    let bodyBytes = 0;
    for (let i = 0; i < ROUNDS + 2; i++) {
      const s = snapshotAt(i + 1);
      let t = performance.now();
      const r = await repo.ingest(s, Date.now());
      const repoMs = performance.now() - t;
      if (r.status !== 'accepted') throw new Error('not accepted');

      const body = gzipSync(JSON.stringify(s));
      bodyBytes = body.length;
      t = performance.now();
      const res = await fetch(`${url}/api/v2/agent/snapshots`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body,
      });
      await res.text();
      const httpMs = performance.now() - t;
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);

      const rowsOf = peerRows(s, i + 1);
      t = performance.now();
      await bare(rowsOf);
      const bareMs = performance.now() - t;
      if (i >= 2) {
        times.repo.push(repoMs);
        times.http.push(httpMs);
        times.bare.push(bareMs);
      }
    }
    // The rollup job's throughput on what was ingested (informative: no peer does this work).
    const t0 = performance.now();
    const rolled = await repo.rollupAll();
    const rollupMs = performance.now() - t0;
    await server.stop();
    await vigilStore.close();
    await peerStore.close();

    const peerMs = median(times.bare);
    for (const [label, ms] of [
      ['Vigil repository ingest', median(times.repo)],
      [`Vigil HTTP POST (gzip ${Math.round(bodyBytes / 1024)} KiB)`, median(times.http)],
      ['peer: bare multi-row INSERT', peerMs],
    ] as const) {
      rows.push({
        engine: engine.name,
        contender: label,
        'ms/snapshot (median)': round(ms, 1),
        'snapshots/s': round(1000 / ms, 1),
        'raw rows/s': round((ROWS_PER_SNAPSHOT * 1000) / ms, 0),
        'vs peer': `${round((100 * peerMs) / ms, 0)}%`,
      });
    }
    const perSnap = rollupMs / rolled.snapshots;
    rows.push({
      engine: engine.name,
      contender: `Vigil rollup job (raw → hourly + daily, ${rolled.snapshots} snapshots)`,
      'ms/snapshot (median)': round(perSnap, 1),
      'snapshots/s': round(1000 / perSnap, 1),
      'raw rows/s': round((ROWS_PER_SNAPSHOT * 1000) / perSnap, 0),
      'vs peer': `${round((100 * peerMs) / perSnap, 0)}%`,
    });
  }
  return report(
    'slo-ingest',
    `SLO ingest: ${SHAPE.services} services, ${SHAPE.edges} edges, ${SHAPE.routes} routes per snapshot; median of ${ROUNDS} interleaved rounds`,
    rows,
  );
}

if (isMain(import.meta.url)) await run();
