/**
 * Exposition parser benchmark: our streaming parser vs `parse-prometheus-text-format` (npm peer)
 * and a bare newline scan of the same bytes, in the same run.
 *
 *   npx tsx bench/slo-parser.ts
 *   node --import tsx --cpu-prof bench/slo-parser.ts     # profile
 *
 * Payloads:
 *  (a) the Linkerd proxy fixture replicated to ~10 MB; each replica adds a distinct `pod` label so
 *      every series is distinct, and families stay contiguous (metadata once, samples of all replicas);
 *  (b) a generated payload of 100k series (counters, histograms, gauges) with realistic labels.
 * When the fixtures are absent, (a) falls back to generated Linkerd-like text, and says so.
 *
 * Ratios are throughput ratios: ours / peer (higher is better for us).
 */
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseExposition, parseToFamilies, type ExpositionVisitor, type Labels } from '../src/prom/parser.js';

const require = createRequire(import.meta.url);
const peerParse = require('parse-prometheus-text-format') as (text: string) => unknown[];

export interface BenchRow {
  payload: string;
  parser: string;
  'MB/s': number;
  'samples/s': number;
  'ms/parse': number;
  'ours/peer': string;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function fixturesBase(): string {
  return process.env.VIGIL_FIXTURES ?? path.resolve(repoRoot, '../shared/fixtures');
}

/** Linkerd fixture replicated to ~targetBytes, with a distinct pod label per replica. */
export function linkerdPayload(targetBytes = 10 * 1024 * 1024): { text: string; source: string } {
  const file = path.join(fixturesBase(), 'linkerd/sampleMetrics.txt');
  let base: string;
  let source: string;
  if (existsSync(file)) {
    base = readFileSync(file, 'utf8');
    source = 'linkerd fixture';
  } else {
    base = generatedLinkerdLike();
    source = 'generated (linkerd fixture absent)';
  }
  // Split into blocks: metadata/comment lines followed by their sample lines.
  const lines = base.split('\n');
  const blocks: { meta: string[]; samples: string[] }[] = [];
  let cur: { meta: string[]; samples: string[] } | undefined;
  for (const line of lines) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (!cur || cur.samples.length > 0) {
        cur = { meta: [], samples: [] };
        blocks.push(cur);
      }
      cur.meta.push(line);
    } else {
      if (!cur) {
        cur = { meta: [], samples: [] };
        blocks.push(cur);
      }
      cur.samples.push(line);
    }
  }
  const replicas = Math.max(1, Math.ceil(targetBytes / Buffer.byteLength(base)));
  const out: string[] = [];
  for (const b of blocks) {
    for (const m of b.meta) out.push(m);
    for (let r = 0; r < replicas; r++) {
      const pod = `pod="web-7d9f8c${(r % 1000).toString().padStart(3, '0')}-${r}"`;
      for (const s of b.samples) {
        const brace = s.indexOf('{');
        const sp = s.indexOf(' ');
        if (brace >= 0 && brace < sp) out.push(`${s.slice(0, brace + 1)}${pod},${s.slice(brace + 1)}`);
        else out.push(`${s.slice(0, sp)}{${pod}}${s.slice(sp)}`);
      }
    }
  }
  return { text: out.join('\n') + '\n', source: `${source} ×${replicas}` };
}

function generatedLinkerdLike(): string {
  const out: string[] = ['# HELP request_total Total count of HTTP requests.', '# TYPE request_total counter'];
  for (let i = 0; i < 20; i++) {
    out.push(`request_total{direction="inbound",target_addr="0.0.0.0:4191",target_ip="0.0.0.0",target_port="4191",tls="no_identity",srv_kind="default",srv_name="svc-${i}"} ${i * 31}`);
  }
  out.push('# HELP response_latency_ms Elapsed times.', '# TYPE response_latency_ms histogram');
  const les = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000];
  for (let i = 0; i < 10; i++) {
    let c = 0;
    for (const le of les) {
      c += i;
      out.push(`response_latency_ms_bucket{direction="inbound",target_addr="0.0.0.0:4191",status_code="200",srv_name="svc-${i}",le="${le}"} ${c}`);
    }
    out.push(`response_latency_ms_bucket{direction="inbound",target_addr="0.0.0.0:4191",status_code="200",srv_name="svc-${i}",le="+Inf"} ${c}`);
    out.push(`response_latency_ms_count{direction="inbound",target_addr="0.0.0.0:4191",status_code="200",srv_name="svc-${i}"} ${c}`);
    out.push(`response_latency_ms_sum{direction="inbound",target_addr="0.0.0.0:4191",status_code="200",srv_name="svc-${i}"} ${c * 7}`);
  }
  return out.join('\n') + '\n';
}

/** ~100k distinct series: counters, classic histograms and gauges. */
export function generatedPayload(series = 100_000): string {
  const out: string[] = [];
  const methods = ['GET', 'POST', 'PUT', 'DELETE'];
  const codes = ['200', '201', '404', '500', '503'];
  const counterSeries = Math.floor(series * 0.4);
  const histSeries = Math.floor(series * 0.5);
  const gaugeSeries = series - counterSeries - histSeries;
  out.push('# HELP http_requests_total Total HTTP requests.', '# TYPE http_requests_total counter');
  for (let i = 0; i < counterSeries; i++) {
    out.push(
      `http_requests_total{namespace="team-${i % 37}",service="svc-${i % 997}",method="${methods[i % 4]}",code="${codes[i % 5]}",path="/api/v1/items/${i}"} ${(i * 7919) % 1000003} 1700000000${String(i % 1000).padStart(3, '0')}`,
    );
  }
  out.push('# HELP http_request_duration_seconds Request latency.', '# TYPE http_request_duration_seconds histogram');
  const les = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5'];
  const perHist = les.length + 3;
  for (let h = 0; h < Math.floor(histSeries / perHist); h++) {
    const lbl = `namespace="team-${h % 37}",service="svc-${h % 997}",route="/r/${h}"`;
    let c = 0;
    for (const le of les) {
      c += h % 13;
      out.push(`http_request_duration_seconds_bucket{${lbl},le="${le}"} ${c}`);
    }
    out.push(`http_request_duration_seconds_bucket{${lbl},le="+Inf"} ${c + 1}`);
    out.push(`http_request_duration_seconds_sum{${lbl}} ${(c * 0.137).toFixed(3)}`);
    out.push(`http_request_duration_seconds_count{${lbl}} ${c + 1}`);
  }
  out.push('# HELP process_open_fds Open file descriptors.', '# TYPE process_open_fds gauge');
  const gaugesWritten = out.length;
  void gaugesWritten;
  for (let i = 0; i < gaugeSeries + (histSeries % perHist); i++) {
    out.push(`process_open_fds{pod="pod-${i}",container="app"} ${i % 1024}`);
  }
  return out.join('\n') + '\n';
}

function newlineScan(text: string): number {
  let n = 0;
  let i = text.indexOf('\n');
  while (i >= 0) {
    n++;
    i = text.indexOf('\n', i + 1);
  }
  return n;
}

/** Run fn repeatedly for at least minMs (and at least minRuns) and return the median ms. */
function timeIt(fn: () => number, minMs: number, minRuns: number): { ms: number; result: number } {
  let result = fn(); // warm-up
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    result = fn();
    times.push(performance.now() - t0);
    if (times.length >= 50) break;
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], result };
}

function countingVisitor(): ExpositionVisitor & { n: number; acc: number } {
  const v = {
    n: 0,
    acc: 0,
    onSample(_name: string, labels: Labels, value: number) {
      v.n++;
      v.acc += labels.length + (value === value ? 0 : 1);
    },
  };
  return v;
}

export function run(opts: { minMs?: number; minRuns?: number; log?: boolean } = {}): BenchRow[] {
  const minMs = opts.minMs ?? 1500;
  const minRuns = opts.minRuns ?? 3;
  const log = opts.log ?? false;
  const payloads: { name: string; text: string }[] = [];
  const lp = linkerdPayload();
  payloads.push({ name: `linkerd ~10MB (${lp.source})`, text: lp.text });
  payloads.push({ name: 'generated 100k series', text: generatedPayload() });
  const rows: BenchRow[] = [];
  for (const { name, text } of payloads) {
    const mb = Buffer.byteLength(text) / (1024 * 1024);
    if (log) console.log(`payload ${name}: ${mb.toFixed(2)} MB`);
    const ours = timeIt(
      () => {
        const v = countingVisitor();
        parseExposition(text, v, { format: 'prometheus' });
        return v.n;
      },
      minMs,
      minRuns,
    );
    const oursObjects = timeIt(
      () => {
        const r = parseToFamilies(text, { format: 'prometheus' });
        let n = 0;
        for (const f of r.families) n += f.samples.length;
        return n;
      },
      minMs,
      minRuns,
    );
    const peer = timeIt(
      () => {
        const fams = peerParse(text) as { metrics: unknown[] }[];
        let n = 0;
        for (const f of fams) n += f.metrics.length;
        return n;
      },
      minMs,
      minRuns,
    );
    const scan = timeIt(() => newlineScan(text), minMs, minRuns);
    const samples = ours.result;
    const row = (parser: string, ms: number, ratio: string): BenchRow => ({
      payload: name,
      parser,
      'MB/s': round(mb / (ms / 1000)),
      'samples/s': Math.round(samples / (ms / 1000)),
      'ms/parse': round(ms),
      'ours/peer': ratio,
    });
    rows.push(row('vigil parseExposition (visitor)', ours.ms, `${round(peer.ms / ours.ms)}×`));
    rows.push(row('vigil parseToFamilies (objects)', oursObjects.ms, `${round(peer.ms / oursObjects.ms)}×`));
    rows.push(row('parse-prometheus-text-format (peer)', peer.ms, '1×'));
    rows.push(row('bare newline scan (floor)', scan.ms, '—'));
    if (oursObjects.result !== samples) throw new Error(`sample count mismatch: ${oursObjects.result} vs ${samples}`);
    if (log) console.log(`  samples: ours ${samples}, peer ${peer.result}`);
  }
  return rows;
}

function round(x: number): number {
  return x >= 100 ? Math.round(x) : Math.round(x * 100) / 100;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = run({ log: true });
  console.table(rows);
}
