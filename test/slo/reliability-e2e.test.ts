/**
 * End to end on SQLite and PostgreSQL: the demo fleet's metrics, scraped by the real agent, shipped
 * to a real server that is stopped and restarted mid-way (the agent spools meanwhile), rolled up by
 * the server's own job — and the API's totals equal the fleet's ground truth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { sloModule } from '../../src/slo/module.js';
import { startAgent } from '../../src/slo/agent/index.js';
import { startDemoFleet, type DemoFleet, type FleetTruth } from '../../src/simulate/index.js';
import { sqlCases, uniqueId } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const log = pino({ level: 'silent' });

/** Ground truth between two moments, keyed like the API answers. */
function delta(a: FleetTruth, b: FleetTruth) {
  const routes = new Map<string, { requests: number; errors: number }>();
  for (const [key, i] of Object.entries(b.ingress)) {
    const p = a.ingress[key];
    routes.set(`${i.domain}${i.path}`, { requests: i.requests - (p?.requests ?? 0), errors: i.errors - (p?.errors ?? 0) });
  }
  const services = new Map<string, { requests: number; failures: number; tls: number }>();
  for (const [id, s] of Object.entries(b.services)) {
    const p = a.services[id];
    services.set(`${s.namespace}/${s.name}`, { requests: s.requests - (p?.requests ?? 0), failures: s.failures - (p?.failures ?? 0), tls: s.tlsRequests - (p?.tlsRequests ?? 0) });
  }
  const edges = new Map<string, number>();
  for (const e of Object.values(b.edges)) {
    const p = Object.values(a.edges).find((x) => x.src === e.src && x.dst === e.dst);
    edges.set(`${e.src}->${e.dst}`, e.requests - (p?.requests ?? 0));
  }
  return { routes, services, edges };
}

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`SLO end to end through a server restart (${c.name})`, () => {
    const cleanup: (() => Promise<void> | void)[] = [];
    afterAll(async () => {
      for (const f of cleanup.reverse()) await f();
    });

    it('server killed and restarted while the agent scrapes: the API totals equal the ground truth', async () => {
      const fleet: DemoFleet = await startDemoFleet({ port: 0, seed: 11, speed: 1, clock: 'manual', startTime: Date.now() });
      cleanup.push(() => fleet.stop());
      const pgSchema = uniqueId('t');
      const dir = mkdtempSync(path.join(tmpdir(), 'vigil-slo-e2e-'));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const sqliteUrl = `sqlite:${path.join(dir, 'server.db')}`;
      const serve = (port = 0) =>
        startTestServer({
          ...(c.url ? { pgUrl: c.url, pgSchema } : {}),
          modules: [sloModule(loadConfig({ env: {} }))],
          flags: { ...(c.url ? {} : { 'database.url': sqliteUrl }), 'server.port': port, 'slo.rollupInterval': '1s' },
        });
      let server: TestServer = await serve();
      const port = Number(new URL(server.url).port);
      const { token } = await server.server.ctx.tokens.create({ name: 'agent demo', role: 'agent', clusterId: 'demo' });

      const config = loadConfig({ env: {}, flags: { dataDir: path.join(dir, 'agent'), 'agent.clusterId': 'demo', 'agent.agentId': 'agent-1', 'log.level': 'silent' } });
      const agent = await startAgent(config, { log, serverUrl: server.url, token, targets: fleet.targets, routesFile: fleet.routesFile, manual: true, initialBackoffMs: 5, maxBackoffMs: 100 });
      cleanup.push(() => agent.stop(0));

      await agent.runCycle(); // primes the deltas
      const from = fleet.truth();
      const cycle = async () => {
        fleet.advance(15_000);
        await agent.runCycle();
      };
      for (let i = 0; i < 3; i++) await cycle();
      expect(await agent.agent.shipper.drained(10_000)).toBe(true);

      // The server goes down while the agent keeps scraping; its snapshots wait in the spool.
      await server.stop();
      for (let i = 0; i < 4; i++) await cycle();
      expect(agent.status().spool.depth).toBeGreaterThanOrEqual(4);
      // A target restarts meanwhile: its counters start again from zero.
      fleet.restart(fleet.targets.find((t) => t.deployment === 'web')!.pod);
      await cycle();

      // Back on the same port and database; the spool drains, and scraping goes on.
      server = await serve(port);
      cleanup.push(() => server.stop());
      for (let i = 0; i < 3; i++) await cycle();
      expect(await agent.agent.shipper.drained(15_000)).toBe(true);
      const truth = delta(from, fleet.truth());

      // The server's own rollup job catches up.
      const unrolled = async () =>
        Number(((await server.server.ctx.sql.db.selectFrom('slo_snapshots').select((eb) => eb.fn.countAll().as('n')).where('rolled', '=', 0).executeTakeFirst()) as { n: number }).n);
      await waitFor('the rollup job to catch up', async () => (await unrolled()) === 0, 30_000);

      const get = async (p: string) => {
        const r = await fetch(server.url + p, { headers: { authorization: `Bearer ${server.adminToken}` } });
        expect(r.status, p).toBe(200);
        return (await r.json()) as Json;
      };
      expect([...truth.routes.values()].reduce((a, x) => a + x.requests, 0)).toBeGreaterThan(100);
      for (const range of ['1h', '1d']) {
        const d = await get(`/api/v2/slo/domains?cluster_id=demo&time_range=${range}`);
        const got = new Map<string, { requests: number; errors: number }>();
        for (const dom of d.domains)
          for (const r of dom.routes) {
            const t = r.current.total_requests;
            got.set(`${dom.domain}${r.path_prefix}`, { requests: t, errors: t ? Math.round((t * r.current.error_rate) / 100) : 0 });
          }
        expect(Object.fromEntries(got), range).toEqual(Object.fromEntries(truth.routes));
        const m = await get(`/api/v2/slo/mesh/topology?cluster_id=demo&time_range=${range}`);
        const nodes = Object.fromEntries(
          m.nodes.filter((n: Json) => truth.services.has(n.id)).map((n: Json) => [n.id, { requests: n.total_requests, failures: Math.round((n.total_requests * (n.error_rate ?? 0)) / 100), tls: Math.round((n.total_requests * (n.mtls_percent ?? 0)) / 100) }]),
        );
        expect(nodes, range).toEqual(Object.fromEntries(truth.services));
        const edges = Object.fromEntries(m.edges.map((e: Json) => [`${e.source}->${e.target}`, e.total_requests]));
        for (const [k, v] of truth.edges) if (v > 0) expect(edges[k], k).toBe(v);
      }
    });
  });
}
