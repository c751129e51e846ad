/**
 * The agent's series filter follows configuration: `agent.adminPorts` (default [4191], the Linkerd
 * proxy admin port) and `agent.dropRouteNames` (default ['probe']) decide which mesh series are not
 * application traffic, from config through agentOptionsFromConfig to the cycle's snapshot.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { agentOptionsFromConfig, startAgent } from '../../src/slo/agent/index.js';
import type { Snapshot } from '../../src/slo/snapshot.js';

const log = pino({ level: 'silent' });

/** Inbound Linkerd series on several ports and routes; `v` scales every counter. */
function exposition(v: number): string {
  const line = (port: number, route: string | undefined, n: number) =>
    `response_total{direction="inbound",target_addr="10.42.0.5:${port}",target_ip="10.42.0.5",target_port="${port}",tls="true"${route ? `,route_name="${route}"` : ''},status_code="200",classification="success"} ${n * v}\n`;
  return (
    line(8080, undefined, 1) + // application traffic
    line(8080, 'probe', 10) + // kubelet probes (Linkerd's default probe route)
    line(8080, 'health', 100) + // a custom health route
    line(4191, undefined, 1000) + // the Linkerd proxy admin port
    line(9990, undefined, 10000) + // another admin port (e.g. a sidecar's)
    // admin port known from target_addr only
    `response_total{direction="inbound",target_addr="0.0.0.0:9990",tls="true",status_code="200",classification="success"} ${100000 * v}\n`
  );
}

/** Requests counted for shop/web over one cycle (two scrapes: the first only records). */
async function countedRequests(flags: Record<string, unknown>): Promise<number> {
  const config = loadConfig({ env: {}, flags: { 'log.level': 'silent', ...flags } });
  const snapshots: Snapshot[] = [];
  let v = 1;
  const handle = await startAgent(config, {
    log,
    manual: true,
    spoolDir: '',
    kubernetes: false,
    targets: [{ url: 'http://web.test/metrics', namespace: 'shop', deployment: 'web', pod: 'web-1' }],
    sink: (s) => snapshots.push(s),
    fetch: (async () => new Response(exposition(v), { headers: { 'content-type': 'text/plain; version=0.0.4' } })) as typeof fetch,
  });
  try {
    await handle.runCycle();
    v = 2;
    const r = await handle.runCycle();
    const web = r.snapshot.services.find((s) => s.namespace === 'shop' && s.name === 'web');
    return (web?.requests ?? []).reduce((a, x) => a + x.count, 0);
  } finally {
    await handle.stop(0);
  }
}

describe('agent filter configuration', () => {
  it('defaults to the Linkerd admin port 4191 and the probe route', () => {
    const opts = agentOptionsFromConfig(loadConfig({ env: {} }), { log });
    expect(opts.adminPorts).toEqual([4191]);
    expect(opts.dropRouteNames).toEqual(['probe']);
  });

  it('passes agent.adminPorts and agent.dropRouteNames to the agent', () => {
    const config = loadConfig({ env: {}, flags: { 'agent.adminPorts': '[4191, 9990]', 'agent.dropRouteNames': 'probe,health' } });
    const opts = agentOptionsFromConfig(config, { log });
    expect(opts.adminPorts).toEqual([4191, 9990]);
    expect(opts.dropRouteNames).toEqual(['probe', 'health']);
  });

  it('drops admin-port and probe series by default', async () => {
    // kept: app 1 + health 100 + port 9990 (10000 + 100000)
    expect(await countedRequests({})).toBe(1 + 100 + 10000 + 100000);
  });

  it('drops the configured ports and route names instead', async () => {
    // kept: app 1 + probe 10 + port 4191 1000
    expect(await countedRequests({ 'agent.adminPorts': '[9990]', 'agent.dropRouteNames': '["health"]' })).toBe(1 + 10 + 1000);
  });

  it('drops nothing of the kind when both lists are empty', async () => {
    expect(await countedRequests({ 'agent.adminPorts': '[]', 'agent.dropRouteNames': '[]' })).toBe(1 + 10 + 100 + 1000 + 10000 + 100000);
  });
});
