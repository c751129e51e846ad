/**
 * Reliability of SLO storage on SQLite and PostgreSQL: idempotent ingest, rollup that never changes a
 * total, retention, jobs that run once across replicas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SqlStore } from '../../src/platform/backends/sql/db.js';
import { migrate } from '../../src/platform/backends/sql/migrations.js';
import { platformMigrations } from '../../src/platform/runtime.js';
import { loadConfig } from '../../src/config/load.js';
import { sloModule } from '../../src/slo/module.js';
import { SloRepository } from '../../src/slo/server/repository.js';
import { DEFAULT_TARGET, SloQueries } from '../../src/slo/server/query.js';
import { sloMigrations } from '../../src/slo/server/tables.js';
import { latestRouteRules } from '../../src/slo/server/route-rules.js';
import { sloDb } from '../../src/slo/server/tx.js';
import { fleetSnapshot, snapshotTotals } from '../support/slo-fixtures.js';
import { DAY, HOUR, MINUTE, floorTo, type TimeRange } from '../../src/slo/math/time.js';
import type { Snapshot } from '../../src/slo/snapshot.js';
import { sqlCases, uniqueId } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const NOW = Date.UTC(2026, 2, 15, 10, 37, 12);
const shape = { cluster: 'c1', services: 5, edges: 6, routes: 6, domains: 2 };

/** Snapshots every 20 min over the last 40 h, plus a few in the current minutes. */
function history(): Snapshot[] {
  const out: Snapshot[] = [];
  let seq = 0;
  for (let t = NOW - 40 * HOUR; t <= NOW - 5 * MINUTE; t += 20 * MINUTE) out.push(fleetSnapshot(shape, ++seq, t));
  for (const back of [3, 2, 1]) out.push(fleetSnapshot(shape, ++seq, NOW - back * MINUTE + 5_000));
  return out;
}

const count = async (store: SqlStore, table: string, where?: [string, string, unknown]) => {
  let q = store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n'));
  if (where) q = q.where(where[0], where[1] as '=', where[2]);
  return Number(((await q.executeTakeFirst()) as { n: number }).n);
};

/**
 * Where each range's summary starts at NOW (2026-03-15 10:37:12 UTC), written out by hand from the
 * documented rule (whole minutes for 1h, whole hours ending in the current one for the others) so
 * the ground truth does not come from the code under test.
 */
const SUMMARY_FROM: Record<TimeRange, number> = {
  '1h': Date.UTC(2026, 2, 15, 9, 38), //  10:37 − 59 min
  '6h': Date.UTC(2026, 2, 15, 5), //      10:00 − 5 h
  '1d': Date.UTC(2026, 2, 14, 11), //     10:00 − 23 h
  '7d': Date.UTC(2026, 2, 8, 11), //      10:00 − (7·24 − 1) h
  '30d': Date.UTC(2026, 1, 13, 11), //    10:00 − (30·24 − 1) h
};

/** What a read should total: every snapshot whose minute is inside the summary window of the range. */
function truth(snaps: Snapshot[], range: TimeRange) {
  const from = SUMMARY_FROM[range];
  const t = { ingress: 0, services: 0, edges: 0 };
  for (const s of snaps) {
    if (floorTo(s.timestamp, MINUTE) < from) continue;
    const x = snapshotTotals(s);
    t.ingress += x.ingress;
    t.services += x.services;
    t.edges += x.edges;
  }
  return t;
}

async function totals(q: SloQueries, range: TimeRange) {
  const d = await q.domains('c1', range);
  const m = await q.topology('c1', range);
  const detail = await Promise.all(d.domains.map((x) => q.domain('c1', x.domain, range)));
  return {
    ingress: d.domains.reduce((a, x) => a + x.summary.total_requests, 0),
    routes: d.domains.flatMap((x) => x.routes.map((r) => [x.domain + r.path_prefix, r.current.total_requests, r.current.availability, r.current.p95_latency, r.error_budget_remaining])),
    detail: detail.reduce((a, x) => a + x.summary.total_requests, 0),
    services: m.nodes.reduce((a, x) => a + x.total_requests, 0),
    edges: m.edges.reduce((a, x) => a + x.total_requests, 0),
    nodes: m.nodes.map((n) => [n.id, n.p50_latency, n.p99_latency, n.mtls_percent, JSON.stringify(n.status_codes), JSON.stringify(n.latency_distribution)]),
    burn: detail.map((x) => JSON.stringify(x.burn_rates)),
  };
}

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`SLO storage reliability (${c.name})`, () => {
    let store: SqlStore;
    let repo: SloRepository;
    let q: SloQueries;
    const snaps = history();

    beforeAll(async () => {
      store = await c.open!();
      await migrate(store, [platformMigrations, { module: 'slo', migrations: sloMigrations }]);
      repo = new SloRepository(store);
      q = new SloQueries(repo, { now: () => NOW, minBurnRequests: 10, defaults: DEFAULT_TARGET });
    });
    afterAll(async () => {
      await store?.close();
    });

    it('a retried snapshot never counts twice, even when both copies arrive at once', async () => {
      const [a, b] = await Promise.all([repo.ingest(snaps[0], NOW), repo.ingest(snaps[0], NOW)]);
      expect([a.status, b.status].sort()).toEqual(['accepted', 'duplicate']);
      expect(await count(store, 'slo_ingress_raw')).toBe(shape.routes);
      for (const s of snaps) await repo.ingest(s, NOW); // the first is a duplicate again
      expect(await count(store, 'slo_snapshots')).toBe(snaps.length);
      expect(await count(store, 'slo_ingress_raw')).toBe(snaps.length * shape.routes);
    });

    let before: Record<TimeRange, Awaited<ReturnType<typeof totals>>>;
    it('before any rollup, reads fall back to raw rows and equal the ground truth', async () => {
      before = {} as typeof before;
      for (const range of ['1h', '6h', '1d', '7d', '30d'] as const) {
        const t = await totals(q, range);
        const want = truth(snaps, range);
        expect(t.ingress, range).toBe(want.ingress);
        expect(t.detail, range).toBe(want.ingress);
        expect(t.services, range).toBe(want.services);
        expect(t.edges, range).toBe(want.edges);
        before[range] = t;
      }
    });

    it('rollup then query gives the same answers as raw, at every step of the rollup', async () => {
      // Part of the snapshots rolled: half in the rollups, half still raw.
      await repo.rollupBatch(40);
      expect(await count(store, 'slo_snapshots', ['rolled', '=', 0])).toBe(snaps.length - 40);
      for (const range of ['1d', '7d'] as const) expect(await totals(q, range), range).toEqual(before[range]);
      // Two rollups racing (a lease hand-over between replicas) still roll each snapshot once.
      await Promise.all([repo.rollupAll(undefined, 7), repo.rollupAll(undefined, 5)]);
      expect(await count(store, 'slo_snapshots', ['rolled', '=', 0])).toBe(0);
      for (const range of ['1h', '6h', '1d', '7d', '30d'] as const) expect(await totals(q, range), range).toEqual(before[range]);
      // Hourly and daily rollups hold every request once.
      const sum = async (table: string) => Number(((await store.db.selectFrom(table).select((eb) => eb.fn.sum('requests').as('n')).executeTakeFirst()) as { n: number }).n);
      const all = snaps.reduce((a, s) => a + snapshotTotals(s).ingress, 0);
      expect(await sum('slo_ingress_hourly')).toBe(all);
      expect(await sum('slo_ingress_daily')).toBe(all);
      // Running it again changes nothing.
      expect(await repo.rollupAll()).toMatchObject({ snapshots: 0, rows: 0 });
    });

    it('a late snapshot into an hour already rolled up is counted once, before and after its rollup, on every replica', async () => {
      // Another replica (its own repository and caches) receives and rolls up the late snapshot; this
      // one has the closed hours and days cached and must notice.
      const other = new SloRepository(store);
      await totals(q, '7d');
      const late = fleetSnapshot({ ...shape, agent: 'spool' }, 1, NOW - 30 * HOUR + 1000);
      expect((await other.ingest(late, NOW)).status).toBe('accepted');
      const want = truth([...snaps, late], '7d').ingress;
      expect((await totals(q, '7d')).ingress).toBe(want);
      await other.rollupAll();
      expect((await totals(q, '7d')).ingress).toBe(want);
      expect((await totals(q, '30d')).services).toBe(truth([...snaps, late], '30d').services);
      expect((await totals(q, '1d')).ingress).toBe(before['1d'].ingress);
      snaps.push(late);
    });

    it('mixed histogram layouts are stored side by side, never re-bucketed', async () => {
      const a = fleetSnapshot({ cluster: 'mix', services: 1, edges: 0, routes: 1, domains: 1, bounds: [10, 100] }, 1, NOW - 2 * MINUTE);
      const b = fleetSnapshot({ cluster: 'mix', services: 1, edges: 0, routes: 1, domains: 1, bounds: [10, 50, 100] }, 2, NOW - MINUTE);
      await repo.ingest(a, NOW);
      await repo.ingest(b, NOW);
      const before = await q.topology('mix', '1d');
      await repo.rollupAll();
      const row = (await store.db.selectFrom('slo_service_hourly').select(['lat_bounds', 'lat_counts']).where('cluster_id', '=', 'mix').executeTakeFirst()) as { lat_bounds: string; lat_counts: string };
      const n = (s: Snapshot) => s.services[0].latency.counts;
      expect(JSON.parse(row.lat_bounds)).toEqual([
        [10, 100],
        [10, 50, 100],
      ]);
      expect(JSON.parse(row.lat_counts)).toEqual([n(a), n(b)]);
      const t = await q.topology('mix', '1d');
      expect(t.nodes).toEqual(before.nodes);
      // Shown: bounds exact in both layouts (10, 100; 50 only if A had nothing in (10, 100]).
      const dist = t.nodes[0].latency_distribution;
      expect(dist.reduce((x, d) => x + d.count, 0)).toBe(snapshotTotals(a).services + snapshotTotals(b).services);
      expect(dist[0]).toEqual({ le: 10, count: n(a)[0] + n(b)[0] });
      expect(dist.at(-1)).toEqual({ le: null, count: n(a)[2] + n(b)[3] });
    });

    it('retention deletes old rows and nothing else', async () => {
      const statusNow = NOW;
      await repo.recordStatuses('c1', statusNow - 200 * DAY, [
        { scope: 'domain', key: 'old.example.com', domain: 'old.example.com', status: 'critical', availability: 1, p95_latency: null, p99_latency: null, error_budget_remaining: null, total_requests: 1 },
      ]);
      // An unrolled raw row older than the raw retention must survive until it is rolled up.
      const ancient = fleetSnapshot({ ...shape, agent: 'ancient' }, 1, NOW - 100 * DAY);
      await repo.ingest(ancient, NOW);
      const rawBefore = await count(store, 'slo_ingress_raw');
      const oldRaw = await count(store, 'slo_ingress_raw', ['ts', '<=', NOW - 24 * HOUR - MINUTE]);
      expect(oldRaw).toBeGreaterThan(shape.routes);
      const r1 = await repo.retention({ rawBefore: NOW - 24 * HOUR, hourlyBefore: NOW - 90 * DAY, statusBefore: NOW - 180 * DAY });
      // rolled raw rows older than 24 h are gone, the unrolled ancient ones stay
      expect(await count(store, 'slo_ingress_raw')).toBe(rawBefore - oldRaw + shape.routes);
      expect(r1.raw).toBeGreaterThan(0);
      expect(await count(store, 'slo_status_history')).toBe(0);
      // The ancient snapshot, once rolled up, lands in buckets older than the hourly retention: deleted next time.
      await repo.rollupAll();
      const r2 = await repo.retention({ rawBefore: NOW - 24 * HOUR, hourlyBefore: NOW - 90 * DAY, statusBefore: NOW - 180 * DAY });
      expect(r2.raw).toBe(shape.services + shape.edges + shape.routes); // its service, edge and ingress rows
      expect(await count(store, 'slo_ingress_hourly', ['ts', '<', NOW - 90 * DAY])).toBe(0);
      expect(await count(store, 'slo_ingress_daily', ['ts', '<', NOW - 90 * DAY])).toBe(0);
      expect(await count(store, 'slo_snapshots', ['agent_id', '=', 'ancient'])).toBe(0);
      // Newer data is intact: hour-aligned reads still equal the ground truth.
      expect((await totals(q, '7d')).ingress).toBe(truth(snaps, '7d').ingress);
      expect((await totals(q, '1d')).ingress).toBe(before['1d'].ingress);
      // Hourly retention shorter than the data: the oldest hours go.
      await repo.retention({ rawBefore: NOW - 24 * HOUR, hourlyBefore: NOW - 20 * HOUR, statusBefore: NOW - 180 * DAY });
      expect(await count(store, 'slo_ingress_hourly', ['ts', '<=', NOW - 21 * HOUR])).toBe(0);
      expect(await count(store, 'slo_ingress_hourly')).toBeGreaterThan(0);
    });

    it('retention forgets the route list of a cluster whose agents it forgot; the same list shipped again is stored again', async () => {
      const route = { name: 'shop', namespace: 'shop', domain: 'gone.example.com', path_prefix: '/', service_key: 'shop-web-80@kubernetes', service_name: 'web', service_port: 80, tls: false, router: 'shop-web@kubernetes', rule: 'Host(`gone.example.com`)', syntax: 'v3' as const };
      const ship = (seq: number, at: number) => repo.ingest({ cluster_id: 'gone', agent_id: 'g1', seq, timestamp: at, services: [], edges: [], ingress: [], routes: [route] }, at);
      const stored = () => latestRouteRules(sloDb(store), 'gone');
      await ship(1, NOW - 40 * DAY);
      expect((await stored())?.routes.map((r) => r.rule)).toEqual(['Host(`gone.example.com`)']);
      // Its only agent has been silent for longer than the hourly retention: the cluster goes, and its routes with it.
      const r = await repo.retention({ rawBefore: NOW - 24 * HOUR, hourlyBefore: NOW - 30 * DAY, statusBefore: NOW - 180 * DAY });
      expect(r.routeRules).toBe(1);
      expect(await stored()).toBeNull();
      // Back with the very same routes (the writer of this replica wrote them before): stored again.
      await ship(2, NOW - 10 * MINUTE);
      expect((await stored())?.ts).toBe(NOW - 10 * MINUTE);
    });
  });
}

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`SLO jobs across replicas (${c.name})`, () => {
    const servers: TestServer[] = [];
    // Both replicas share one database: a PostgreSQL schema, or one SQLite file.
    const pgSchema = uniqueId('t');
    const sqliteUrl = `sqlite:${path.join(mkdtempSync(path.join(tmpdir(), 'vigil-slo-')), 'shared.db')}`;
    const replica = () =>
      startTestServer({
        ...(c.url ? { pgUrl: c.url, pgSchema } : {}),
        modules: [sloModule(loadConfig({ env: {} }))],
        flags: { ...(c.url ? {} : { 'database.url': sqliteUrl }), 'slo.rollupInterval': '1s' },
      });
    beforeAll(async () => {
      servers.push(await replica(), await replica());
    });
    afterAll(async () => {
      for (const s of servers) await s.stop();
    });

    it('two replicas roll up every snapshot exactly once; a restarted replica carries on', async () => {
      const now = Date.now();
      const post = async (t: TestServer, s: Snapshot) => {
        const r = await fetch(t.url + '/api/v2/agent/snapshots', {
          method: 'POST',
          headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(s),
        });
        expect(r.status).toBe(200);
        return ((await r.json()) as Json).status as string;
      };
      const sent: Snapshot[] = [];
      for (let i = 1; i <= 12; i++) {
        const s = fleetSnapshot({ ...shape, cluster: 'live' }, i, now - (13 - i) * 20_000);
        sent.push(s);
        // Alternate replicas, and retry every third snapshot on the other replica.
        expect(await post(servers[i % 2], s)).toBe('accepted');
        if (i % 3 === 0) expect(await post(servers[(i + 1) % 2], s)).toBe('duplicate');
        if (i === 6) {
          // A replica restarts mid-way; the other keeps running.
          await servers[0].stop();
          servers[0] = await replica();
        }
      }
      const sql = servers[1].server.ctx.sql;
      await waitFor('the rollup job to roll up every snapshot', async () => (await count(sql, 'slo_snapshots', ['rolled', '=', 0])) === 0, 30_000);
      const want = sent.reduce((a, s) => a + snapshotTotals(s).ingress, 0);
      const sum = Number(((await sql.db.selectFrom('slo_ingress_hourly').select((eb) => eb.fn.sum('requests').as('n')).where('cluster_id', '=', 'live').executeTakeFirst()) as { n: number }).n);
      expect(sum).toBe(want);
      for (const s of servers) {
        const r = (await (await fetch(s.url + '/api/v2/slo/domains?cluster_id=live&time_range=1h', { headers: { authorization: `Bearer ${s.adminToken}` } })).json()) as Json;
        expect(r.domains.reduce((a: number, d: Json) => a + d.summary.total_requests, 0)).toBe(want);
      }
    });
  });
}
