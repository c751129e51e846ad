/**
 * The agent against the demo fleet over real HTTP, shipping to a stand-in snapshot endpoint that
 * deduplicates by seq like the server. The sum of all delivered snapshots must equal the fleet's ground
 * truth over the same window — through counter resets, a server outage (spooled snapshots) and an
 * agent restart (spool and seq survive).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { VigilConfig } from '../../src/config/schema.js';
import { histogramProblem, type Snapshot } from '../../src/slo/snapshot.js';
import { startAgent, type AgentHandle } from '../../src/slo/agent/index.js';
import { startDemoFleet, type DemoFleet, type FleetTruth } from '../../src/simulate/index.js';

const log = pino({ level: 'silent' });

interface Receiver {
  url: string;
  up: boolean;
  /** Accepted snapshots by seq (duplicates are not re-added, like the server). */
  bySeq: Map<number, Snapshot>;
  posts: number;
  duplicates: number;
  tokens: Set<string>;
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const r: Receiver = { url: '', up: true, bySeq: new Map(), posts: 0, duplicates: 0, tokens: new Set(), close: async () => {} };
  const srv: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.posts++;
      if (!r.up) {
        res.writeHead(503).end();
        return;
      }
      if (req.method !== 'POST' || req.url !== '/api/v2/agent/snapshots') {
        res.writeHead(404).end();
        return;
      }
      r.tokens.add(String(req.headers.authorization));
      const snap = JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8')) as Snapshot;
      if (r.bySeq.has(snap.seq)) {
        r.duplicates++;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"duplicate"}');
        return;
      }
      r.bySeq.set(snap.seq, snap);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', () => ok()));
  r.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  r.close = () => new Promise((ok) => srv.close(() => ok()));
  return r;
}

type Totals = Map<string, number>;
const add = (m: Totals, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

/** Sum delivered snapshots into comparable totals. */
function sumSnapshots(snaps: Iterable<Snapshot>): Totals {
  const t: Totals = new Map();
  for (const s of snaps) {
    for (const svc of s.services) {
      const id = `${svc.namespace}/${svc.name}`;
      for (const r of svc.requests) {
        add(t, `svc ${id} requests`, r.count);
        add(t, `svc ${id} status ${r.status_code}`, r.count);
        if (r.classification === 'failure') add(t, `svc ${id} failures`, r.count);
      }
      add(t, `svc ${id} tls`, svc.tls_requests);
      add(t, `svc ${id} latency.count`, svc.latency.count);
      add(t, `svc ${id} latency.sum`, svc.latency.sum_ms);
      svc.latency.counts.forEach((c, i) => add(t, `svc ${id} bucket ${svc.latency.bounds[i] ?? 'inf'}`, c));
    }
    for (const e of s.edges) {
      const id = `${e.src_namespace}/${e.src_name}->${e.dst_namespace}/${e.dst_name}`;
      add(t, `edge ${id} requests`, e.requests);
      add(t, `edge ${id} failures`, e.failures);
      add(t, `edge ${id} latency.count`, e.latency.count);
    }
    for (const i of s.ingress) {
      for (const r of i.requests) {
        add(t, `ingress ${i.service_key} requests`, r.count);
        add(t, `ingress ${i.service_key} code ${r.code}`, r.count);
        add(t, `ingress ${i.service_key} method ${r.method}`, r.count);
        if (r.code.startsWith('5')) add(t, `ingress ${i.service_key} errors`, r.count);
      }
      add(t, `ingress ${i.service_key} latency.count`, i.latency.count);
      add(t, `ingress ${i.service_key} latency.sum`, i.latency.sum_ms);
      i.latency.counts.forEach((c, k) => add(t, `ingress ${i.service_key} bucket ${i.latency.bounds[k] ?? 'inf'}`, c));
    }
  }
  for (const [k, v] of t) if (v === 0) t.delete(k);
  return t;
}

/** The same totals from the fleet's truth, as the difference between two moments. */
function truthTotals(windows: [FleetTruth, FleetTruth][]): Totals {
  const t: Totals = new Map();
  for (const [a, b] of windows) {
    for (const [id, s] of Object.entries(b.services)) {
      const p = a.services[id];
      add(t, `svc ${id} requests`, s.requests - (p?.requests ?? 0));
      add(t, `svc ${id} failures`, s.failures - (p?.failures ?? 0));
      add(t, `svc ${id} tls`, s.tlsRequests - (p?.tlsRequests ?? 0));
      add(t, `svc ${id} latency.count`, s.latency.count - (p?.latency.count ?? 0));
      add(t, `svc ${id} latency.sum`, s.latency.sum_ms - (p?.latency.sum_ms ?? 0));
      for (const [code, n] of Object.entries(s.byStatus)) add(t, `svc ${id} status ${code}`, n - (p?.byStatus[code] ?? 0));
      s.latency.counts.forEach((c, i) => add(t, `svc ${id} bucket ${s.latency.bounds[i] ?? 'inf'}`, c - (p?.latency.counts[i] ?? 0)));
    }
    for (const [id, e] of Object.entries(b.edges)) {
      const p = a.edges[id];
      add(t, `edge ${id} requests`, e.requests - (p?.requests ?? 0));
      add(t, `edge ${id} failures`, e.failures - (p?.failures ?? 0));
      add(t, `edge ${id} latency.count`, e.latency.count - (p?.latency.count ?? 0));
    }
    for (const [key, i] of Object.entries(b.ingress)) {
      const p = a.ingress[key];
      add(t, `ingress ${key} requests`, i.requests - (p?.requests ?? 0));
      add(t, `ingress ${key} errors`, i.errors - (p?.errors ?? 0));
      for (const [code, n] of Object.entries(i.byCode)) add(t, `ingress ${key} code ${code}`, n - (p?.byCode[code] ?? 0));
      for (const [m, n] of Object.entries(i.byMethod)) add(t, `ingress ${key} method ${m}`, n - (p?.byMethod[m] ?? 0));
      add(t, `ingress ${key} latency.count`, i.latency.count - (p?.latency.count ?? 0));
      add(t, `ingress ${key} latency.sum`, i.latency.sum_ms - (p?.latency.sum_ms ?? 0));
      i.latency.counts.forEach((c, k) => add(t, `ingress ${key} bucket ${i.latency.bounds[k] ?? 'inf'}`, c - (p?.latency.counts[k] ?? 0)));
    }
  }
  for (const [k, v] of t) if (v === 0) t.delete(k);
  return t;
}

function expectTotalsEqual(got: Totals, want: Totals): void {
  const rounded = (m: Totals) => new Map([...m].map(([k, v]) => [k, k.endsWith('.sum') ? Math.round(v) : v]));
  const sums = [...want.keys()].filter((k) => k.endsWith('.sum'));
  const off = sums.filter((k) => Math.abs((got.get(k) ?? 0) - want.get(k)!) > 1e-6 * Math.max(1, want.get(k)!));
  if (process.env.DEBUG_TOTALS) for (const [k, v] of want) if ((got.get(k) ?? 0) !== v) console.log(k, got.get(k), v);
  expect(off, off.map((k) => `${k}: ${got.get(k)} vs ${want.get(k)}`).join('; ')).toEqual([]);
  expect(Object.fromEntries([...rounded(got)].filter(([k]) => !k.endsWith('.sum')).sort())).toEqual(
    Object.fromEntries([...rounded(want)].filter(([k]) => !k.endsWith('.sum')).sort()),
  );
}

describe('agent against the demo fleet over HTTP', () => {
  let fleet: DemoFleet;
  let rx: Receiver;
  let dataDir: string;
  let config: VigilConfig;

  beforeAll(async () => {
    fleet = await startDemoFleet({ port: 0, seed: 7, speed: 1, clock: 'manual', startTime: Date.UTC(2025, 5, 3, 14, 0, 0) });
    rx = await receiver();
    dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-agent-e2e-'));
    config = loadConfig({
      env: {},
      flags: { dataDir, 'agent.clusterId': 'demo', 'agent.agentId': 'agent-1', 'agent.token': 'vgl_agent_token', 'log.level': 'silent' },
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await rx?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const start = (): Promise<AgentHandle> =>
    startAgent(config, { log, serverUrl: rx.url, targets: fleet.targets, routesFile: fleet.routesFile, manual: true, initialBackoffMs: 5, maxBackoffMs: 50 });

  it('delivers exactly the traffic the fleet generated, through restarts, an outage and an agent restart', async () => {
    const windows: [FleetTruth, FleetTruth][] = [];
    fleet.advance(20_000);

    // --- agent 1
    let agent = await start();
    await agent.runCycle(); // primes: records only
    let from = fleet.truth();
    for (let i = 0; i < 3; i++) {
      fleet.advance(15_000);
      await agent.runCycle();
    }
    // a proxy and Traefik restart right after a scrape: their counters start again from zero
    const webPod = fleet.targets.find((t) => t.deployment === 'web')!.pod;
    fleet.restart(webPod);
    fleet.restart('traefik');
    fleet.advance(15_000);
    const afterRestart = await agent.runCycle();
    expect(afterRestart.failed).toBe(0);
    fleet.advance(15_000);
    await agent.runCycle();

    // the server goes away for a while: snapshots wait in the spool
    rx.up = false;
    for (let i = 0; i < 4; i++) {
      fleet.advance(15_000);
      await agent.runCycle();
    }
    expect(agent.status().spool.depth).toBeGreaterThanOrEqual(4);
    const status = agent.status();
    expect(status.targets.every((t) => t.up)).toBe(true);
    expect(status.targets.find((t) => t.url.endsWith('/traefik/metrics'))!.dialects).toEqual(['traefik']);
    windows.push([from, fleet.truth()]);
    await agent.stop(0); // stops mid-outage: the spool keeps what was not delivered
    const lastSeqOfFirst = status.lastSeq!;

    // --- agent 2 (same data dir): resumes the spool, continues the seq
    agent = await start();
    await agent.runCycle(); // primes its fresh delta state (no traffic lost: the clock did not move)
    from = fleet.truth();
    rx.up = true;
    for (let i = 0; i < 3; i++) {
      fleet.advance(15_000);
      await agent.runCycle();
    }
    expect(await agent.agent.shipper.drained(10_000)).toBe(true);
    windows.push([from, fleet.truth()]);
    const final = agent.status();
    await agent.stop();

    // every seq once, increasing, none reused across the restart, nothing dropped
    const seqs = [...rx.bySeq.keys()].sort((a, b) => a - b);
    expect(seqs).toHaveLength(seqs.length);
    expect(seqs[0]).toBeLessThan(lastSeqOfFirst);
    expect(Math.min(...seqs.filter((s) => s > lastSeqOfFirst))).toBe(lastSeqOfFirst + 1);
    expect(seqs.length).toBe(final.lastSeq! - seqs[0] + 1);
    expect(final.spool.dropped).toBe(0);
    expect(rx.tokens).toEqual(new Set(['Bearer vgl_agent_token']));

    const snaps = [...rx.bySeq.values()];
    for (const s of snaps) {
      expect(s.cluster_id).toBe('demo');
      expect(s.agent_id).toBe('agent-1');
      for (const h of [...s.services.map((x) => x.latency), ...s.edges.map((x) => x.latency), ...s.ingress.map((x) => x.latency)]) {
        expect(histogramProblem(h, 'latency')).toBeNull();
      }
    }
    // routes: 8 mappings whose service keys are the ones Traefik reports
    const last = rx.bySeq.get(final.lastSeq!)!;
    expect(last.routes).toHaveLength(8);
    const truth = fleet.truth();
    expect(new Set(last.routes.map((r) => r.service_key))).toEqual(new Set(Object.keys(truth.ingress)));
    expect(new Set(last.routes.map((r) => r.domain))).toEqual(new Set(['shop.example.com', 'api.example.com', 'media.example.com']));

    const want = truthTotals(windows);
    expect(want.get('svc shop/web requests')).toBeGreaterThan(1000);
    expectTotalsEqual(sumSnapshots(snaps), want);
    // excluded: the linkerd-viz Prometheus never appears, nor probe / admin-port traffic
    expect(snaps.some((s) => s.edges.some((e) => e.src_namespace === 'linkerd-viz'))).toBe(false);
  });

  it('runs on its own clock and serves its self-metrics', async () => {
    const live = await startDemoFleet({ port: 0, seed: 9, speed: 20 });
    const rx2 = await receiver();
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-agent-live-'));
    const cfg = loadConfig({ env: {}, flags: { dataDir: dir, 'agent.clusterId': 'live', 'agent.interval': '200ms', 'log.level': 'silent' } });
    const agent = await startAgent(cfg, { log, serverUrl: rx2.url, targets: live.targets, routesFile: live.routesFile, metricsPort: 0 });
    try {
      await expect.poll(() => [...rx2.bySeq.values()].filter((s) => s.services.length > 0).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
      const text = await (await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
      expect(value('vigil_agent_series')).toBeGreaterThan(1000);
      expect(value('vigil_agent_scrape_duration_seconds_count')).toBeGreaterThanOrEqual(live.targets.length);
      expect(value('vigil_agent_parse_errors_total')).toBe(0);
      expect(text).toMatch(/^vigil_agent_spool_depth \d+$/m);
      expect(text).toMatch(/^vigil_agent_targets\{state="up"\} 17$/m);
      expect(text).toMatch(/^vigil_agent_ship_attempts_total\{outcome="ok"\} [1-9]/m);
      expect(text).toContain('vigil_agent_process_cpu_seconds_total');
      const status = agent.status();
      expect(status.running).toBe(true);
      expect(status.routes).toBe(8);
      expect(status.shipper.shipped).toBeGreaterThanOrEqual(2);
    } finally {
      await agent.stop();
      await live.stop();
      await rx2.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
