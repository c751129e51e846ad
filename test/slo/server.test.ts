/**
 * The SLO server over HTTP, on SQLite and PostgreSQL: ingest (auth, idempotency, validation, gzip),
 * route resolution, and every /api/v2/slo read with its parameter validation.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { sloModule, type SloServices } from '../../src/slo/module.js';
import { SloRepository } from '../../src/slo/server/repository.js';
import { fleetSnapshot, snapshotTotals } from '../support/slo-fixtures.js';
import { SloQueries, DEFAULT_TARGET } from '../../src/slo/server/query.js';
import type { Snapshot } from '../../src/slo/snapshot.js';
import { sqlCases } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MIN = 60_000;

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`SLO server over HTTP (${c.name})`, () => {
    let t: TestServer;
    let agentAlpha = '';
    let viewer = '';
    let repo: SloRepository;
    let services: SloServices | undefined;
    const now = Date.now();

    const call = async (path: string, init: RequestInit & { token?: string; json?: unknown; gzip?: boolean } = {}) => {
      const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
      const token = init.token ?? t.adminToken;
      if (token) headers.authorization = `Bearer ${token}`;
      let body = init.body;
      if (init.json !== undefined) {
        headers['content-type'] = 'application/json';
        const text = JSON.stringify(init.json);
        if (init.gzip) {
          headers['content-encoding'] = 'gzip';
          body = gzipSync(text);
        } else body = text;
      }
      const res = await fetch(t.url + path, { ...init, headers, body });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
    };
    const post = (s: unknown, token?: string, gzip = false) => call('/api/v2/agent/snapshots', { method: 'POST', json: s, token, gzip });
    const count = async (table: string) => Number(((await t.server.ctx.sql.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()) as { n: number }).n);

    const shape = { cluster: 'alpha', services: 6, edges: 8, routes: 6, domains: 2 };
    const s1 = fleetSnapshot(shape, 1, now - 3 * MIN);
    const s2 = fleetSnapshot(shape, 2, now - 2 * MIN);

    beforeAll(async () => {
      // These fixtures are minutes old: judge them (the sample minimum has its own tests in rates.test.ts).
      t = await startTestServer({
        pgUrl: c.url,
        modules: [sloModule(loadConfig({ env: {} }), { onServices: (x) => (services = x) })],
        flags: { 'server.jobs': false, 'slo.minStatusRequests': 0, 'slo.minCoveredTime': '0s' },
      });
      agentAlpha = (await t.server.ctx.tokens.create({ name: 'agent-alpha', role: 'agent', clusterId: 'alpha' })).token;
      viewer = (await t.server.ctx.tokens.create({ name: 'v', role: 'viewer' })).token;
      repo = new SloRepository(t.server.ctx.sql);
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('before any snapshot, reads without cluster_id are 400 naming cluster_id', async () => {
      const r = await call('/api/v2/slo/domains');
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: 'bad_request', message: 'cluster_id is required: no cluster has shipped a snapshot yet', field: 'cluster_id' });
      expect((await call('/api/v2/slo/clusters')).body).toEqual({ clusters: [] });
    });

    it('a malformed snapshot is 400 naming the field and writes nothing', async () => {
      const missing: Json = structuredClone(s1);
      delete missing.agent_id;
      let r = await post(missing, agentAlpha);
      expect(r.status).toBe(400);
      expect(r.body.field).toBe('agent_id');

      const badHist: Json = structuredClone(s1);
      badHist.services[2].latency.counts.pop();
      r = await post(badHist, agentAlpha);
      expect(r.status).toBe(400);
      expect(r.body.field).toBe('services[2].latency.counts');

      const badCount: Json = structuredClone(s1);
      badCount.ingress[1].latency.count += 5;
      r = await post(badCount, agentAlpha);
      expect(r.status).toBe(400);
      expect(r.body.field).toBe('ingress[1].latency.count');

      const negative: Json = structuredClone(s1);
      negative.edges[0].requests = -1;
      r = await post(negative, agentAlpha);
      expect(r.status).toBe(400);
      expect(r.body.field).toBe('edges.0.requests');

      const future: Json = { ...structuredClone(s1), timestamp: now + 3_600_000 };
      r = await post(future, agentAlpha);
      expect(r.status).toBe(400);
      expect(r.body.field).toBe('timestamp');

      r = await call('/api/v2/agent/snapshots', { method: 'POST', token: agentAlpha, headers: { 'content-type': 'application/json' }, body: '{"cluster_id": "alpha", ' });
      expect(r.status).toBe(400);

      for (const table of ['slo_snapshots', 'slo_service_raw', 'slo_edge_raw', 'slo_ingress_raw', 'slo_route_mappings', 'slo_agents']) expect(await count(table), table).toBe(0);
    });

    it('an agent token of cluster A writing cluster B is 403 and writes nothing; a viewer may not write', async () => {
      const other = fleetSnapshot({ ...shape, cluster: 'beta' }, 1, now - MIN);
      let r = await post(other, agentAlpha);
      expect(r.status).toBe(403);
      r = await post(s1, viewer);
      expect(r.status).toBe(403);
      r = await post(s1, '');
      expect(r.status).toBe(401);
      expect(await count('slo_snapshots')).toBe(0);
    });

    it('accepts a snapshot (gzip too); a retried seq never counts twice', async () => {
      let r = await post(s1, agentAlpha);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'accepted', cluster_id: 'alpha', seq: 1, rows: { services: 6, edges: 8, ingress: 6, routes: 6 } });
      r = await post(s1, agentAlpha);
      expect(r.body.status).toBe('duplicate');
      r = await post(s2, agentAlpha, true);
      expect(r.body.status).toBe('accepted');
      r = await post(s2, agentAlpha, true);
      expect(r.body.status).toBe('duplicate');
      expect(await count('slo_snapshots')).toBe(2);
      expect(await count('slo_ingress_raw')).toBe(12);

      const want = snapshotTotals(s1).ingress + snapshotTotals(s2).ingress;
      for (const range of ['1h', '1d']) {
        const d = await call(`/api/v2/slo/domains?time_range=${range}`);
        expect(d.status).toBe(200);
        const total = d.body.domains.reduce((a: number, x: Json) => a + x.summary.total_requests, 0);
        expect(total, range).toBe(want);
      }
    });

    it('lists clusters; an admin may write any cluster; two clusters make cluster_id required', async () => {
      expect((await call('/api/v2/slo/clusters')).body.clusters).toEqual([expect.objectContaining({ cluster_id: 'alpha', last_seen: expect.any(Number) })]);
      const beta = fleetSnapshot({ ...shape, cluster: 'beta', agent: 'b1' }, 1, now - MIN);
      expect((await post(beta)).body.status).toBe('accepted');
      const r = await call('/api/v2/slo/domains');
      expect(r.status).toBe(400);
      expect(r.body.field).toBe('cluster_id');
      expect(r.body).toEqual({ error: 'bad_request', message: 'cluster_id is required when several clusters report (alpha, beta)', field: 'cluster_id' });
      expect((await call('/api/v2/slo/domains?cluster_id=beta')).status).toBe(200);
      expect(await call('/api/v2/slo/domains?cluster_id=nope')).toMatchObject({ status: 404, body: { error: 'not_found', message: 'cluster nope has not shipped any snapshot' } });
      const ids = (await call('/api/v2/slo/clusters')).body.clusters.map((x: Json) => x.cluster_id).sort();
      expect(ids).toEqual(['alpha', 'beta']);
    });

    it('validates every parameter with a 400 naming it', async () => {
      const cases: [string, string][] = [
        ['/api/v2/slo/domains?cluster_id=alpha&time_range=2h', 'time_range'],
        ['/api/v2/slo/domains?cluster_id=bad%20id', 'cluster_id'],
        ['/api/v2/slo/domains/d0.example.com?cluster_id=alpha&time_range=5y', 'time_range'],
        ['/api/v2/slo/mesh/topology?cluster_id=alpha&time_range=x', 'time_range'],
        ['/api/v2/slo/mesh/services/ns0/svc0?cluster_id=alpha&time_range=0', 'time_range'],
        ['/api/v2/slo/status-history?cluster_id=alpha&since=yesterday', 'since'],
        ['/api/v2/slo/status-history?cluster_id=alpha&limit=0', 'limit'],
        ['/api/v2/slo/status-history?cluster_id=alpha&scope=pod', 'scope'],
        ['/api/v2/slo/targets?cluster_id=a/b', 'cluster_id'],
      ];
      for (const [path, field] of cases) {
        const r = await call(path);
        expect(r.status, path).toBe(400);
        expect(r.body.field, path).toBe(field);
      }
    });

    it('domains: routes by domain and path with metrics, status, budget and a fleet summary', async () => {
      const r = await call('/api/v2/slo/domains?cluster_id=alpha&time_range=1h');
      expect(r.status).toBe(200);
      const b = r.body;
      expect(b).toMatchObject({ cluster_id: 'alpha', time_range: '1h', generated_at: expect.any(Number) });
      expect(b.domains.map((d: Json) => d.domain)).toEqual(['d0.example.com', 'd1.example.com']);
      const d0 = b.domains[0];
      expect(d0.routes.map((x: Json) => x.path_prefix)).toEqual(['/', '/p1', '/p2']);
      expect(d0.tls).toBe(true);
      const route = d0.routes[0];
      expect(route).toMatchObject({ ingress_name: 'ir-0', namespace: 'ns0', service_name: 'svc0', service_key: 'ns0-ir-0-abcdef0123@kubernetescrd', service_port: 80 });
      // route "/" of d0 is routes[0] of both snapshots
      const reqs = (s: Snapshot) => s.ingress[0].requests.reduce((a, x) => a + x.count, 0);
      const fails = (s: Snapshot) => s.ingress[0].requests.filter((x) => x.code.startsWith('5')).reduce((a, x) => a + x.count, 0);
      expect(route.current.total_requests).toBe(reqs(s1) + reqs(s2));
      const avail = (100 * (reqs(s1) + reqs(s2) - fails(s1) - fails(s2))) / (reqs(s1) + reqs(s2));
      expect(route.current.availability).toBeCloseTo(avail, 4);
      expect(route.current.p95_latency).toBeGreaterThan(0);
      expect(['healthy', 'warning', 'critical']).toContain(route.status);
      expect(route.targets['30d']).toMatchObject({ availability_target: DEFAULT_TARGET.availability_target, source: 'default' });
      expect(typeof route.error_budget_remaining).toBe('number');
      expect(b.summary).toMatchObject({ total_domains: 2, avg_availability: expect.any(Number), total_rps: expect.any(Number) });
      expect(b.summary.healthy_count + b.summary.warning_count + b.summary.critical_count + b.summary.unknown_count).toBe(2);
    });

    it('domain detail: per-path history, previous, burn rates; unknown domain 404', async () => {
      for (const [range, points, step] of [
        ['1h', 60, 60],
        ['6h', 72, 300],
        ['1d', 96, 900],
        ['7d', 168, 3600],
        ['30d', 120, 21600],
      ] as const) {
        const r = await call(`/api/v2/slo/domains/d0.example.com?cluster_id=alpha&time_range=${range}`);
        expect(r.status, range).toBe(200);
        expect(r.body.step_seconds).toBe(step);
        expect(r.body.history).toHaveLength(points);
        expect(r.body.routes).toHaveLength(3);
        for (const rt of r.body.routes) expect(rt.history).toHaveLength(points);
        const histTotal = r.body.history.reduce((a: number, p: Json) => a + p.total_requests, 0);
        expect(histTotal, range).toBe(r.body.summary.total_requests);
        for (const rt of r.body.routes) expect(rt.history.reduce((a: number, p: Json) => a + p.total_requests, 0)).toBe(rt.current.total_requests);
        expect(r.body.burn_rates.map((x: Json) => x.window)).toEqual(['1h/5m', '6h/30m', '1d/2h', '3d/6h']);
        expect(r.body.previous.total_requests).toBe(0);
        const withTraffic = r.body.history.filter((p: Json) => p.rps > 0);
        expect(withTraffic.length).toBeGreaterThan(0);
        expect(withTraffic.at(-1).error_budget_remaining, range).toEqual(expect.any(Number));
      }
      const nf = await call('/api/v2/slo/domains/nope.example.com?cluster_id=alpha');
      expect(nf).toMatchObject({ status: 404, body: { error: 'not_found', message: 'cluster alpha has no domain nope.example.com' } });
      expect(nf.body.field).toBeUndefined();
    });

    it('mesh topology and service detail', async () => {
      const r = await call('/api/v2/slo/mesh/topology?cluster_id=alpha&time_range=1h');
      expect(r.status).toBe(200);
      const node = r.body.nodes.find((n: Json) => n.id === 'ns0/svc0');
      const sum = (s: Snapshot) => s.services[0].requests.reduce((a, x) => a + x.count, 0);
      expect(node).toMatchObject({ namespace: 'ns0', name: 'svc0', total_requests: sum(s1) + sum(s2) });
      expect(node.mtls_percent).toBeGreaterThan(0);
      expect(node.latency_distribution.at(-1).le).toBeNull();
      expect(node.latency_distribution.reduce((a: number, x: Json) => a + x.count, 0)).toBe(sum(s1) + sum(s2));
      expect(node.status_codes.map((x: Json) => x.code)).toContain('200');
      expect(r.body.edges.length).toBe(8);
      expect(r.body.edges[0]).toMatchObject({ source: expect.any(String), target: expect.any(String), rps: expect.any(Number) });

      const d = await call('/api/v2/slo/mesh/services/ns0/svc0?cluster_id=alpha&time_range=1h');
      expect(d.status).toBe(200);
      expect(d.body.node.total_requests).toBe(sum(s1) + sum(s2));
      expect(d.body.history).toHaveLength(60);
      expect(d.body.inbound.every((e: Json) => e.target === 'ns0/svc0')).toBe(true);
      expect(d.body.outbound.every((e: Json) => e.source === 'ns0/svc0')).toBe(true);
      expect(d.body.routes).toEqual(expect.arrayContaining([{ domain: 'd0.example.com', path_prefix: '/' }]));
      expect(await call('/api/v2/slo/mesh/services/ns0/nope?cluster_id=alpha')).toMatchObject({ status: 404, body: { error: 'not_found', message: 'cluster alpha has no mesh service ns0/nope' } });
    });

    it('unmapped ingress keeps its service name; a route without a host falls back to its service name', async () => {
      const s: Snapshot = {
        cluster_id: 'alpha',
        agent_id: 'agent-2',
        seq: 1,
        timestamp: now - MIN,
        services: [],
        edges: [],
        routes: [{ name: 'nohost', namespace: 'web', domain: '', path_prefix: '/x', service_key: 'web-nohost-1@kubernetescrd', service_name: 'frontend', service_port: 80, tls: false }],
        ingress: [
          { service_key: 'default-legacy-80@kubernetes', requests: [{ code: '200', method: 'GET', count: 7 }], latency: { bounds: [10], counts: [7, 0], sum_ms: 30, count: 7 } },
          { service_key: 'web-nohost-1@kubernetescrd', requests: [{ code: '500', method: 'GET', count: 2 }], latency: { bounds: [10], counts: [1, 1], sum_ms: 30, count: 2 } },
        ],
      };
      expect((await post(s, agentAlpha)).body.status).toBe('accepted');
      const b = (await call('/api/v2/slo/domains?cluster_id=alpha&time_range=1h')).body;
      const legacy = b.domains.find((d: Json) => d.domain === 'default-legacy-80');
      expect(legacy.routes).toEqual([expect.objectContaining({ path_prefix: '/', service_name: 'default-legacy-80', current: expect.objectContaining({ total_requests: 7 }) })]);
      const nohost = b.domains.find((d: Json) => d.domain === 'frontend');
      expect(nohost.routes).toEqual([expect.objectContaining({ path_prefix: '/x', service_name: 'frontend', current: expect.objectContaining({ total_requests: 2, availability: 0 }) })]);
      expect(nohost.status).toBe('critical');
    });

    it('burn rates fire on a burning route and stay quiet below the minimum traffic', async () => {
      const ingress = (key: string, ok: number, bad: number) => ({
        service_key: key,
        requests: [
          { code: '200', method: 'GET', count: ok },
          { code: '503', method: 'GET', count: bad },
        ],
        latency: { bounds: [10, 100], counts: [ok + bad, 0, 0], sum_ms: 5 * (ok + bad), count: ok + bad },
      });
      const route = (domain: string, key: string) => ({ name: domain, namespace: 'burn', domain, path_prefix: '/', service_key: key, service_name: domain, service_port: 80, tls: true });
      // A cluster whose data starts 7 h ago: every long window has covered at least its short window.
      const early: Snapshot = { cluster_id: 'burn', agent_id: 'agent-burn', seq: 1, timestamp: now - 7 * 60 * MIN, services: [], edges: [], routes: [], ingress: [] };
      expect((await post(early)).body.status).toBe('accepted');
      const s: Snapshot = {
        cluster_id: 'burn',
        agent_id: 'agent-burn',
        seq: 2,
        timestamp: now - MIN,
        services: [],
        edges: [],
        // 1000 requests, 20 failing: error ratio 0.02 against the 0.001 a 99.9 % target allows → burn 20
        // (> 14.4, 6, 3, 1) in every window; the quiet one has the same ratio on 50 requests (< 100).
        routes: [route('burning.example.com', 'burn-hot@kubernetescrd'), route('quiet.example.com', 'burn-quiet@kubernetescrd')],
        ingress: [ingress('burn-hot@kubernetescrd', 980, 20), ingress('burn-quiet@kubernetescrd', 49, 1)],
      };
      expect((await post(s)).body.status).toBe('accepted');
      const hot = (await call('/api/v2/slo/domains/burning.example.com?cluster_id=burn&time_range=1h')).body;
      expect(hot.burn_rates.map((b: Json) => [b.window, b.long_rate, b.short_rate, b.firing])).toEqual([
        ['1h/5m', 20, 20, true],
        ['6h/30m', 20, 20, true],
        ['1d/2h', 20, 20, true],
        ['3d/6h', 20, 20, true],
      ]);
      expect(hot.routes[0].burn_rates[0]).toMatchObject({ long_rate: 20, firing: true });
      // budget: 1 − 0.02 / 0.001 = −19 → −1900 %
      expect(hot.error_budget_remaining).toBeCloseTo(-1900, 6);
      expect(hot.status).toBe('critical');
      const quiet = (await call('/api/v2/slo/domains/quiet.example.com?cluster_id=burn&time_range=1h')).body;
      expect(quiet.burn_rates.every((b: Json) => b.long_rate === 20 && !b.firing)).toBe(true);
      // the last history point's budget is the budget now
      const last = hot.routes[0].history.filter((p: Json) => p.error_budget_remaining !== null).at(-1);
      expect(last.error_budget_remaining).toBeCloseTo(-1900, 6);
    });

    it('targets: GET defaults, PUT needs admin, keys are validated, status follows targets', async () => {
      const g = await call('/api/v2/slo/targets?cluster_id=alpha');
      expect(g.body).toEqual({ cluster_id: 'alpha', targets: [], defaults: { ...DEFAULT_TARGET } });
      const body = { targets: [{ scope: 'route', key: 'd0.example.com/', window: '7d', availability_target: 50, p95_latency_target: 0.001, p99_latency_target: null }] };
      expect((await call('/api/v2/slo/targets?cluster_id=alpha', { method: 'PUT', json: body, token: viewer })).status).toBe(403);
      for (const [bad, field] of [
        [{ targets: [{ ...body.targets[0], key: 'no-slash' }] }, 'targets.0.key'],
        [{ targets: [{ ...body.targets[0], scope: 'service', key: 'a/b/c' }] }, 'targets.0.key'],
        [{ targets: [{ ...body.targets[0], availability_target: 101 }] }, 'targets.0.availability_target'],
        [{ targets: [{ ...body.targets[0], window: '2d' }] }, 'targets.0.window'],
        [{ targets: [{ ...body.targets[0], p95_latency_target: 0 }] }, 'targets.0.p95_latency_target'],
        [{ targets: [body.targets[0], body.targets[0]] }, 'targets.1'],
        [{}, 'targets'],
      ] as const) {
        const r = await call('/api/v2/slo/targets?cluster_id=alpha', { method: 'PUT', json: bad });
        expect(r.status, JSON.stringify(bad)).toBe(400);
        expect(r.body.field).toBe(field);
      }
      const p = await call('/api/v2/slo/targets?cluster_id=alpha', { method: 'PUT', json: body });
      expect(p.status).toBe(200);
      expect(p.body.targets).toEqual([expect.objectContaining({ scope: 'route', key: 'd0.example.com/', window: '7d', availability_target: 50, updated_by: expect.any(String) })]);
      // availability ≥ 50 but p95 far above 0.001 ms → warning, with the route target as primary (7d)
      const d = (await call('/api/v2/slo/domains?cluster_id=alpha&time_range=1h')).body.domains.find((x: Json) => x.domain === 'd0.example.com');
      expect(d.routes[0].status).toBe('warning');
      expect(d.routes[0].targets['7d']).toMatchObject({ source: 'route', availability_target: 50 });
      const rm = await call('/api/v2/slo/targets?cluster_id=alpha', { method: 'PUT', json: { targets: [], remove: [{ scope: 'route', key: 'd0.example.com/', window: '7d' }] } });
      expect(rm.body.targets).toEqual([]);
    });

    it('rollup keeps every total; the status job records transitions once', async () => {
      const before = (await call('/api/v2/slo/domains?cluster_id=alpha&time_range=1d')).body;
      const topoBefore = (await call('/api/v2/slo/mesh/topology?cluster_id=alpha&time_range=1d')).body;
      await repo.rollupAll();
      expect(await count('slo_snapshots')).toBeGreaterThan(0);
      const after = (await call('/api/v2/slo/domains?cluster_id=alpha&time_range=1d')).body;
      const topoAfter = (await call('/api/v2/slo/mesh/topology?cluster_id=alpha&time_range=1d')).body;
      const strip = (x: Json) => JSON.parse(JSON.stringify(x, (k, v) => (k === 'generated_at' || k === 'window' || k === 'rps' || k === 'total_rps' || k === 'covered_seconds' || k === 'current_rps' || k === 'outbound_rps' ? undefined : v)));
      expect(strip(after.domains)).toEqual(strip(before.domains));
      expect(strip(topoAfter.nodes)).toEqual(strip(topoBefore.nodes));

      const queries = new SloQueries(repo, { minBurnRequests: 100, defaults: DEFAULT_TARGET });
      const n = await queries.recordStatuses('alpha');
      expect(n).toBeGreaterThan(0);
      expect(await queries.recordStatuses('alpha')).toBe(0);
      const h = await call('/api/v2/slo/status-history?cluster_id=alpha&domain=frontend');
      expect(h.status).toBe(200);
      expect(h.body.transitions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ scope: 'domain', key: 'frontend', status: 'critical', previous_status: null }),
          expect.objectContaining({ scope: 'route', key: 'frontend/x', status: 'critical' }),
        ]),
      );
      const svc = await call('/api/v2/slo/status-history?cluster_id=alpha&scope=service&key=ns0/svc0');
      expect(svc.body.transitions).toHaveLength(1);
      const later = await call(`/api/v2/slo/status-history?cluster_id=alpha&since=${h.body.transitions.at(-1).timestamp}`);
      expect(later.body.transitions).toEqual([]);
    });

    it('the serialised answers carry every field the read model produces', async () => {
      const paths = (x: unknown, at = ''): string[] => {
        if (Array.isArray(x)) return x.flatMap((v) => paths(v, `${at}[]`));
        if (x && typeof x === 'object') return Object.entries(x).flatMap(([k, v]) => [`${at}.${k}`, ...paths(v, `${at}.${k}`)]);
        return [];
      };
      const q = services!.queries;
      const cases: [string, () => Promise<unknown>][] = [
        ['/api/v2/slo/domains?cluster_id=alpha&time_range=1d', () => q.domains('alpha', '1d')],
        ['/api/v2/slo/domains/d0.example.com?cluster_id=alpha&time_range=7d', () => q.domain('alpha', 'd0.example.com', '7d')],
        ['/api/v2/slo/mesh/topology?cluster_id=alpha&time_range=1h', () => q.topology('alpha', '1h')],
        ['/api/v2/slo/mesh/services/ns0/svc0?cluster_id=alpha&time_range=6h', () => q.service('alpha', 'ns0', 'svc0', '6h')],
        ['/api/v2/slo/targets?cluster_id=alpha', () => q.targets('alpha')],
        ['/api/v2/slo/status-history?cluster_id=alpha', () => q.statusHistory('alpha', { limit: 500 })],
        ['/api/v2/slo/clusters', () => q.clusters()],
      ];
      for (const [path, direct] of cases) {
        const http = (await call(path)).body;
        const want = [...new Set(paths(JSON.parse(JSON.stringify(await direct()))))].sort();
        expect([...new Set(paths(http))].sort(), path).toEqual(want);
      }
    });

    it('reports the rollup backlog in /readyz', async () => {
      const r = await call('/readyz');
      expect(r.status).toBe(200);
      expect(r.body.checks['slo:rollup']).toMatchObject({ ok: true, detail: expect.stringMatching(/snapshots/) });
    });

    it('documents every route in OpenAPI under the slo tag', async () => {
      const spec = (await call('/api/openapi.json')).body;
      for (const [path, method] of [
        ['/api/v2/agent/snapshots', 'post'],
        ['/api/v2/slo/clusters', 'get'],
        ['/api/v2/slo/domains', 'get'],
        ['/api/v2/slo/domains/{domain}', 'get'],
        ['/api/v2/slo/targets', 'get'],
        ['/api/v2/slo/targets', 'put'],
        ['/api/v2/slo/mesh/topology', 'get'],
        ['/api/v2/slo/mesh/services/{namespace}/{name}', 'get'],
        ['/api/v2/slo/status-history', 'get'],
      ]) {
        expect(spec.paths[path]?.[method]?.tags, `${method} ${path}`).toEqual(['slo']);
      }
    });
  });
}
