/**
 * SLO agent cycle benchmark: parse + per-series delta + aggregation of 100k series (Linkerd proxy
 * expositions of 100 pods: inbound and outbound `response_total` and `response_latency_ms` histograms),
 * against a peer doing the same work the obvious way in the same run: `parse-prometheus-text-format`
 * (npm), a Map keyed by name + JSON labels for the deltas, and a plain object aggregation. (The peer
 * flattens labelled histograms into one unlabelled series, so it reads the histogram samples untyped:
 * same bytes minus two HELP/TYPE lines per pod.)
 *
 *   npx tsx bench/slo-agent-cycle.ts
 *   node --import tsx --cpu-prof bench/slo-agent-cycle.ts --child ours     # profile one side
 *
 * Each side runs in its own child process, so its peak RSS is its own. A cycle is measured after a
 * priming cycle (the first scrape only records); CPU is process.cpuUsage() user + system, median of
 * the measured cycles. Goals: < 1 s CPU and < 300 MB peak RSS per 100k-series cycle.
 * A third row runs the real Agent over loopback HTTP against targets served by another process
 * (scrape + decode + parse + delta + aggregate + snapshot JSON + gzip).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { report, type Row as ReportRow } from './lib/report.js';
import { Agent } from '../src/slo/agent/agent.js';
import { Aggregator } from '../src/slo/agent/aggregate.js';
import { DialectClassifier } from '../src/slo/agent/dialect.js';
import { SeriesFilter } from '../src/slo/agent/filter.js';
import { processExposition, TargetState } from '../src/slo/agent/pipeline.js';

const SERIES = 100_000;
const PODS = 100;
const BOUNDS = ['1', '2', '3', '4', '5', '10', '20', '30', '40', '50', '100', '200', '300', '400', '500', '1000', '2000', '3000', '4000', '5000', '10000', '20000', '30000', '40000', '50000', '+Inf'];
/** samples per label set: response_total + 26 buckets + _sum + _count */
const PER_SET = 1 + BOUNDS.length + 2;
const SETS_PER_POD = Math.ceil(SERIES / PODS / PER_SET);
const MEASURED = 5;

export interface Row {
  side: string;
  series: number;
  'CPU ms/cycle': number;
  'wall ms/cycle': number;
  'peak RSS MB': number;
  'CPU vs peer': string;
  goal: string;
}

/** One pod's exposition at cycle `c` (values grow every cycle). */
export function podExposition(pod: number, c: number): string {
  const out: string[] = [];
  const ip = `10.42.${pod >> 8}.${pod & 255}`;
  const sets: { labels: string; cls: string; status: string }[] = [];
  for (let i = 0; i < SETS_PER_POD; i++) {
    const status = ['200', '404', '500', '503'][i % 4];
    const cls = status.startsWith('5') ? 'failure' : 'success';
    if (i % 2 === 0) {
      sets.push({
        labels: `direction="inbound",target_addr="${ip}:8080",target_ip="${ip}",target_port="8080",tls="true",client_id="client-${i}.team-${pod % 7}.serviceaccount.identity.linkerd.cluster.local",srv_kind="default",srv_name="all-unauthenticated",authz_kind="default",authz_name="all-unauthenticated",route_kind="default",route_name="default"`,
        cls,
        status,
      });
    } else {
      const dst = `svc-${(pod * 7 + i) % 300}`;
      sets.push({
        labels: `direction="outbound",authority="${dst}.team-${i % 7}.svc.cluster.local:8080",target_addr="10.43.${i}.${pod & 255}:8080",target_ip="10.43.${i}.${pod & 255}",target_port="8080",tls="true",server_id="${dst}.team-${i % 7}.serviceaccount.identity.linkerd.cluster.local",dst_control_plane_ns="linkerd",dst_deployment="${dst}",dst_namespace="team-${i % 7}",dst_pod="${dst}-5d8f7c9b6-x${i}",dst_serviceaccount="${dst}"`,
        cls,
        status,
      });
    }
  }
  out.push('# HELP response_latency_ms Elapsed times', '# TYPE response_latency_ms histogram');
  sets.forEach((s, i) => {
    const l = `${s.labels},status_code="${s.status}"`;
    const base = (pod + i) * 3 + c * 10;
    for (let b = 0; b < BOUNDS.length; b++) out.push(`response_latency_ms_bucket{${l},le="${BOUNDS[b]}"} ${base + Math.min(b, 20) * (c + 1)}`);
    const total = base + 20 * (c + 1);
    out.push(`response_latency_ms_count{${l}} ${total}`, `response_latency_ms_sum{${l}} ${total * 37.5}`);
  });
  out.push('# HELP response_total Total count of HTTP responses.', '# TYPE response_total counter');
  sets.forEach((s, i) => out.push(`response_total{${s.labels},status_code="${s.status}",classification="${s.cls}"} ${(pod + i) * 3 + c * 10 + 20 * (c + 1)}`));
  out.push(''); // trailing newline without a second (rope) string: a scraped body is one flat string
  return out.join('\n');
}

function cpuMs(f: () => void): { cpu: number; wall: number } {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  f();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1000, wall: performance.now() - w0 };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Our pipeline: visitor parser → SeriesTable deltas → Aggregator. */
function oursChild(): { cpu: number; wall: number; samples: number } {
  const classifier = new DialectClassifier('otel_');
  const filter = new SeriesFilter({ excludeNamespaces: ['linkerd', 'linkerd-viz', 'kube-system'] });
  const states = Array.from({ length: PODS }, () => new TargetState());
  let samples = 0;
  const cycle = (c: number, bodies: Buffer[]) => {
    const agg = new Aggregator();
    samples = 0;
    for (let p = 0; p < PODS; p++) {
      const r = processExposition(bodies[p].toString('utf8'), { namespace: `team-${p % 7}`, deployment: `app-${p}`, pod: `app-${p}-5d8f7c9b6-abcde` }, states[p], agg, {
        classifier,
        filter,
        now: c * 15_000,
      });
      samples += r.used;
    }
    return agg.build();
  };
  const results: { cpu: number; wall: number }[] = [];
  for (let c = 0; c <= MEASURED; c++) {
    const bodies = responseBodies(c, false);
    const m = cpuMs(() => void cycle(c, bodies));
    if (c > 0) results.push(m);
  }
  return { cpu: median(results.map((r) => r.cpu)), wall: median(results.map((r) => r.wall)), samples };
}

/**
 * The cycle's response bodies, as bytes (what a scrape receives); decoding them to a string is part
 * of the measured cycle, like `res.text()` (UTF-8) is part of a scrape.
 */
function responseBodies(c: number, peer: boolean): Buffer[] {
  return Array.from({ length: PODS }, (_, p) => Buffer.from(peer ? podExposition(p, c).replace(PEER_STRIP, '') : podExposition(p, c), 'latin1'));
}

interface PeerMetric {
  labels?: Record<string, string>;
  value?: string;
}

/** The peer: parse-prometheus-text-format objects, a Map of JSON keys for deltas, object aggregation. */
function peerChild(): { cpu: number; wall: number; samples: number } {
  const require = createRequire(import.meta.url);
  const parse = require('parse-prometheus-text-format') as (text: string) => { name: string; type: string; metrics: PeerMetric[] }[];
  const last: Map<string, number>[] = Array.from({ length: PODS }, () => new Map());
  let samples = 0;
  const delta = (m: Map<string, number>, key: string, v: number, primed: boolean) => {
    const prev = m.get(key);
    m.set(key, v);
    if (prev === undefined) return primed ? v : 0;
    return v < prev ? v : v - prev;
  };
  const cycle = (c: number, bodies: Buffer[]) => {
    const services: Record<string, { requests: Record<string, number>; buckets: Record<string, number> }> = {};
    const edges: Record<string, { requests: number; failures: number; buckets: Record<string, number> }> = {};
    samples = 0;
    for (let p = 0; p < PODS; p++) {
      const primed = c > 0;
      const svcKey = `team-${p % 7}/app-${p}`;
      for (const fam of parse(bodies[p].toString('utf8'))) {
        for (const m of fam.metrics) {
          const l = m.labels ?? {};
          if (l.target_port === '4191' || l.route_name === 'probe') continue;
          const inbound = l.direction === 'inbound';
          const base = fam.name + JSON.stringify(l);
          if (fam.type === 'COUNTER' && fam.name === 'response_total') {
            samples++;
            const d = delta(last[p], base, Number(m.value), primed);
            if (inbound) {
              const s = (services[svcKey] ??= { requests: {}, buckets: {} });
              const k = `${l.status_code}/${l.classification}`;
              s.requests[k] = (s.requests[k] ?? 0) + d;
            } else {
              const e = (edges[`${svcKey}>${l.dst_namespace}/${l.dst_deployment}`] ??= { requests: 0, failures: 0, buckets: {} });
              e.requests += d;
              if (l.classification === 'failure') e.failures += d;
            }
          } else if (fam.name.startsWith('response_latency_ms_')) {
            samples++;
            const d = delta(last[p], base, Number(m.value), primed);
            if (fam.name !== 'response_latency_ms_bucket') continue;
            const target = inbound
              ? (services[svcKey] ??= { requests: {}, buckets: {} }).buckets
              : (edges[`${svcKey}>${l.dst_namespace}/${l.dst_deployment}`] ??= { requests: 0, failures: 0, buckets: {} }).buckets;
            target[l.le] = (target[l.le] ?? 0) + d;
          }
        }
      }
    }
    return { services, edges };
  };
  const results: { cpu: number; wall: number }[] = [];
  for (let c = 0; c <= MEASURED; c++) {
    // The peer's histogram support drops the labels of labelled histograms (flattenMetrics): it gets
    // the histogram's samples untyped (their HELP/TYPE lines removed), one series per bucket.
    const bodies = responseBodies(c, true);
    const m = cpuMs(() => void cycle(c, bodies));
    if (c > 0) results.push(m);
  }
  return { cpu: median(results.map((r) => r.cpu)), wall: median(results.map((r) => r.wall)), samples };
}

const PEER_STRIP = '# HELP response_latency_ms Elapsed times\n# TYPE response_latency_ms histogram\n';

/**
 * The real agent over loopback HTTP: scrape 100 targets, deltas, aggregate, gzip. The targets are
 * served by another process (`--child serve`), so this process' CPU and RSS are the agent's alone.
 */
async function agentChild(): Promise<{ cpu: number; wall: number; samples: number }> {
  const srv = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', 'serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    srv.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    srv.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const agent = new Agent({
    clusterId: 'bench',
    agentId: 'bench',
    serverUrl: 'http://127.0.0.1:1',
    token: '',
    intervalMs: 15_000,
    scrapeTimeoutMs: 60_000,
    seriesTtlMs: 600_000,
    targets: Array.from({ length: PODS }, (_, p) => ({ url: `http://127.0.0.1:${port}/pod/${p}/metrics`, namespace: `team-${p % 7}`, deployment: `app-${p}` })),
    otelPrefix: 'otel_',
    excludeNamespaces: ['linkerd'],
    spoolDir: '',
    spoolMaxBytes: 512 * 1024 * 1024,
    log: pino({ level: 'silent' }),
    sink: (snap) => void gzipSync(JSON.stringify(snap)),
  });
  const results: { cpu: number; wall: number }[] = [];
  let series = 0;
  for (let c = 0; c <= MEASURED; c++) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const r = await agent.runCycle();
    const used = process.cpuUsage(c0);
    if (r.failed > 0) throw new Error(`${r.failed} scrapes failed`);
    series = r.series;
    if (c > 0) results.push({ cpu: (used.user + used.system) / 1000, wall: performance.now() - w0 });
  }
  await agent.stop(0);
  srv.kill();
  return { cpu: median(results.map((r) => r.cpu)), wall: median(results.map((r) => r.wall)), samples: series };
}

/** Target server for agentChild: the n-th request of a pod gets cycle n. */
async function serveChild(): Promise<void> {
  const served = new Array<number>(PODS).fill(0);
  const server = createServer((req, res) => {
    const p = Number(/\/pod\/(\d+)\//.exec(req.url ?? '')?.[1] ?? 0);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(podExposition(p, served[p]++));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
}

const round = (n: number) => (n >= 100 ? Math.round(n) : Math.round(n * 10) / 10);

export async function run(): Promise<Row[]> {
  const self = fileURLToPath(import.meta.url);
  const child = (side: string): { cpu: number; wall: number; samples: number; rssMb: number } => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', side], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`${side} child failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { cpu: number; wall: number; samples: number; rssMb: number };
  };
  const ours = child('ours');
  const peer = child('peer');
  const agent = child('agent');
  if (ours.samples !== peer.samples) throw new Error(`sample counts differ: ours ${ours.samples}, peer ${peer.samples}`);
  const rows: Row[] = [
    {
      side: 'vigil pipeline (visitor parser + slot table + aggregator)',
      series: ours.samples,
      'CPU ms/cycle': round(ours.cpu),
      'wall ms/cycle': round(ours.wall),
      'peak RSS MB': round(ours.rssMb),
      'CPU vs peer': `${round(peer.cpu / ours.cpu)}× less`,
      goal: ours.cpu < 1000 && ours.rssMb < 300 ? 'met (< 1 s, < 300 MB)' : 'MISSED (< 1 s, < 300 MB)',
    },
    {
      side: 'peer: parse-prometheus-text-format + Map(JSON key) delta',
      series: peer.samples,
      'CPU ms/cycle': round(peer.cpu),
      'wall ms/cycle': round(peer.wall),
      'peak RSS MB': round(peer.rssMb),
      'CPU vs peer': '1×',
      goal: '—',
    },
    {
      side: 'vigil Agent.runCycle over loopback HTTP (100 targets, + gzip)',
      series: agent.samples,
      'CPU ms/cycle': round(agent.cpu),
      'wall ms/cycle': round(agent.wall),
      'peak RSS MB': round(agent.rssMb),
      'CPU vs peer': `${round(peer.cpu / agent.cpu)}× less`,
      goal: agent.cpu < 1000 && agent.rssMb < 300 ? 'met' : 'MISSED',
    },
  ];
  report('slo-agent-cycle', `SLO agent cycle: ${SERIES.toLocaleString()} series from ${PODS} Linkerd proxies (median of ${MEASURED} cycles after priming)`, rows as unknown as ReportRow[]);
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--child');
  if (i >= 0) {
    const side = process.argv[i + 1];
    if (side === 'serve') {
      await serveChild();
    } else {
      const r = side === 'ours' ? oursChild() : side === 'peer' ? peerChild() : await agentChild();
      const rssMb = process.resourceUsage().maxRSS / 1024;
      process.stdout.write(JSON.stringify({ ...r, rssMb }) + '\n');
    }
  } else {
    await run();
  }
}
