/**
 * `vigil up`'s fault demo without a browser: real requests through a real executor in front of the
 * demo frontend, counted in its Linkerd-style exposition and in the fleet's Traefik one, so an abort
 * policy applied on the server turns the frontend's answers into 503s and deleting it turns them back.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultDemo, type FaultDemo } from '../../src/simulate/fault-demo.js';
import { startDemoFleet, type DemoFleet } from '../../src/simulate/index.js';
import { fixturesDir } from '../support/env.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const hfi = fixturesDir('hfi');

/** Sum of a metric's samples whose labels contain every fragment. */
function sample(text: string, metric: string, ...fragments: string[]): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    if (fragments.every((f) => line.includes(f))) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

describe.skipIf(!hfi)('fault demo: load through an executor feeds the frontend metrics', () => {
  let t: TestServer;
  let fleet: DemoFleet;
  let demo: FaultDemo;
  const auth = () => ({ authorization: `Bearer ${t.adminToken}` });
  const scrape = async () => (await fetch(demo.target.url)).text();
  const traefik = async () => (await fetch(`${fleet.url}/traefik/metrics`)).text();

  beforeAll(async () => {
    t = await startTestServer();
    fleet = await startDemoFleet({ port: 0, seed: 7, speed: 1, clock: 'manual', startTime: Date.UTC(2026, 0, 5, 12) });
    const { token } = await t.server.ctx.tokens.create({ name: 'fault demo test', role: 'executor' });
    demo = await startFaultDemo({ fleet, serverUrl: t.url, token, stateFile: path.join(t.config.dataDir, 'executor.json'), rps: 40, reportIntervalMs: 200, log: pino({ level: 'silent' }) });
  }, 60_000);

  afterAll(async () => {
    await demo?.stop();
    await fleet?.stop();
    await t?.stop();
  });

  it('adds the demo route to the routes file the agent reads', () => {
    const routes = readFileSync(fleet.routesFile, 'utf8');
    expect(routes).toContain('Host(`demo.example.com`)');
    expect(routes).toContain('namespace: demo');
  });

  it('counts healthy answers as inbound traffic of demo/frontend and as Traefik traffic of its route', async () => {
    await waitFor('20 answers of 200', async () => (demo.outcomes()['200'] ?? 0) >= 20, 20_000, 50);
    const text = await scrape();
    expect(sample(text, 'response_total', 'direction="inbound"', 'status_code="200"', 'classification="success"')).toBeGreaterThanOrEqual(20);
    expect(sample(text, 'response_total', 'status_code="503"')).toBe(0);
    expect(sample(await traefik(), 'traefik_service_requests_total', 'service="demo-frontend-', 'code="200"')).toBeGreaterThanOrEqual(20);
    // The route's traffic enters through the meshed Traefik: an mTLS edge traefik → demo/frontend.
    expect(sample(text, 'response_total', 'direction="inbound"', 'tls="true"', 'client_id="traefik.traefik.')).toBeGreaterThanOrEqual(20);
    const traefikProxy = fleet.targets.find((x) => x.namespace === 'traefik' && x.url.includes('/linkerd/'))!;
    const outbound = await (await fetch(traefikProxy.url)).text();
    expect(sample(outbound, 'response_total', 'direction="outbound"', 'dst_namespace="demo"', 'dst_deployment="frontend"', 'status_code="200"')).toBeGreaterThanOrEqual(20);
  });

  it('turns the answers into 503s while the abort policy is in force, and back after its delete', async () => {
    const body = readFileSync(path.join(hfi!, 'current', 'abort-policy.yaml'), 'utf8');
    const put = await fetch(`${t.url}/v1/policies`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/yaml' }, body });
    expect(put.status).toBe(201);
    await waitFor('20 answers of 503', async () => (demo.outcomes()['503'] ?? 0) >= 20, 20_000, 50);
    const text = await scrape();
    expect(sample(text, 'response_total', 'status_code="503"', 'classification="failure"')).toBeGreaterThanOrEqual(20);
    expect(sample(await traefik(), 'traefik_service_requests_total', 'service="demo-frontend-', 'code="503"')).toBeGreaterThanOrEqual(20);
    // The executor reported what it injected to the server.
    await waitFor('the injected count on the server', async () => {
      const s = (await (await fetch(`${t.url}/api/v1/faults/summary`, { headers: auth() })).json()) as { policies: { name: string; total: number }[] };
      return (s.policies.find((p) => p.name === 'abort-policy')?.total ?? 0) >= 20;
    }, 20_000, 100);

    const del = await fetch(`${t.url}/v1/policies/abort-policy`, { method: 'DELETE', headers: auth() });
    expect(del.status).toBe(200);
    const ok = demo.outcomes()['200'] ?? 0;
    await waitFor('new answers of 200', async () => (demo.outcomes()['200'] ?? 0) >= ok + 20, 20_000, 50);
  });
});
