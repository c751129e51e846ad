/**
 * `promtool check metrics` (Debian package `prometheus`) on the server's and the agent's /metrics:
 * what a Prometheus operator's lint would say about our exposition.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentMetrics } from '../../src/slo/agent/metrics.js';
import { requireAll } from '../support/env.js';
import { runCommand } from '../support/run.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
const havePromtool = existsSync(PROMTOOL);
if (!havePromtool) {
  if (requireAll) throw new Error(`promtool not found at ${PROMTOOL} (install the Debian package prometheus)`);
  console.warn(`[skip] promtool not found at ${PROMTOOL}; install the Debian package prometheus to lint /metrics`);
}

async function promtool(text: string): Promise<{ status: number | null; output: string }> {
  const r = await runCommand(PROMTOOL, ['check', 'metrics'], { input: text, timeoutMs: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe.skipIf(!havePromtool)('/metrics passes promtool check metrics', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup) await c().catch(() => {});
  });

  it('server', async () => {
    const t: TestServer = await startTestServer({ flags: { 'server.jobs': false } });
    cleanup.push(() => t.stop());
    // some traffic first, so request counters and histograms have series
    await fetch(`${t.url}/healthz`);
    await fetch(`${t.url}/no-such-route`);
    await fetch(`${t.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toContain('vigil_http_requests_total');
    expect(text).toContain('vigil_process_cpu_seconds_total');
    expect(await promtool(text)).toEqual({ status: 0, output: '' });
  });

  it('agent', async () => {
    const m = new AgentMetrics({ defaultMetrics: true });
    const srv = await m.serve(0, '127.0.0.1');
    cleanup.push(() => srv.close());
    m.snapshots.inc();
    const text = await (await fetch(`http://127.0.0.1:${srv.port}/metrics`)).text();
    expect(text).toContain('vigil_agent_snapshots_total');
    expect(text).toContain('vigil_agent_nodejs_active_handles');
    expect(await promtool(text)).toEqual({ status: 0, output: '' });
  });
});
