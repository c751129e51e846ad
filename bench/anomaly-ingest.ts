/**
 * Two measurements of the anomaly ingest path, each beside a peer measured in the same run:
 *
 * 1. OTLP/HTTP protobuf ingest (POST /v1/traces, 8 concurrent exporters, 512-span batches made by the
 *    OpenTelemetry SDK and serialised by @opentelemetry/otlp-transformer) in spans/s, on the
 *    embedded SQLite KV (the default), the in-process KV and Redis. @opentelemetry/otlp-transformer has no request deserializer, so the
 *    peer is the ceiling: decoding + summarising the same bytes in process, without HTTP or storage.
 * 2. The baseline job over 10 000 dirty buckets of 1 000 samples (memory and SQLite KV; Redis when reachable),
 *    beside a plain sort-based reference (Array sort with a comparator, a second sort for MAD) over the
 *    same arrays, and the core's computeBaseline alone.
 */
import { SpanKind, context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { decodeOtlpTraces, summarize, AnomalyStore, baselineKey, computeBaseline, storeKeys } from '../src/anomaly/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryKv } from '../src/platform/backends/kv/memory.js';
import { SqliteKv } from '../src/platform/backends/kv/sqlite.js';
import { RedisKv } from '../src/platform/backends/kv/redis.js';
import type { KvStore } from '../src/platform/backends/kv/types.js';
import { redisReachable, redisUrlForBench, startChild } from './anomaly-check.js';
import { isMain, report, round, type Row } from './lib/report.js';

const BATCHES = Number(process.env.BENCH_OTLP_BATCHES ?? 160);
const TRACES_PER_BATCH = 128; // × 4 spans = 512, the BatchSpanProcessor's default export size
const CONCURRENCY = 8;
const KEYS = Number(process.env.BENCH_BASELINE_KEYS ?? 10_000);
const SAMPLES = 1000;

// ---------------------------------------------------------------- 1. OTLP ingest

const SERVICES = ['frontend', 'catalog', 'cart', 'checkout', 'payments', 'inventory', 'identity', 'shipping'];

/** One batch of OTLP protobuf bytes: traces of a root SERVER span and three child SERVER spans. */
function makeBatches(n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const t0 = Date.now() - 3600_000;
  for (let b = 0; b < n; b++) {
    const spans: ReadableSpan[] = [];
    for (const svc of SERVICES) {
      const exporter = new InMemorySpanExporter();
      const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': svc }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
      const tracer = provider.getTracer('bench');
      for (let i = 0; i < TRACES_PER_BATCH / SERVICES.length; i++) {
        const start = t0 + b * 1000 + i;
        const root = tracer.startSpan(`GET /api/${svc}/items/{id}`, { kind: SpanKind.SERVER, startTime: start, attributes: { 'http.request.method': 'GET', 'http.route': `/api/${svc}/items/{id}` } });
        const ctx = trace.setSpan(context.active(), root);
        for (let c = 0; c < 3; c++) tracer.startSpan(`GET /child/${c}`, { kind: SpanKind.SERVER, startTime: start + 1 + c }, ctx).end(start + 5 + c);
        root.end(start + 20 + (i % 30));
      }
      spans.push(...exporter.getFinishedSpans());
    }
    out.push(ProtobufTraceSerializer.serializeRequest(spans)!);
  }
  return out;
}

async function postAll(url: string, token: string, bodies: Uint8Array[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` }, body: body as BodyInit });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`/v1/traces answered ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return performance.now() - started;
}

async function otlpRows(redisUrl: string | undefined): Promise<Row[]> {
  const bodies = makeBatches(BATCHES);
  const spans = BATCHES * TRACES_PER_BATCH * 4;
  const mb = bodies.reduce((n, b) => n + b.length, 0) / 1e6;
  // peer (ceiling): decode + summarise the same bytes in process
  for (const b of bodies.slice(0, 10)) summarize(decodeOtlpTraces({ body: b, contentType: 'application/x-protobuf' }).spans);
  // best of three passes each (the machine is shared; the best pass is the least disturbed)
  let decoded = 0;
  let decodeMs = Infinity;
  let summarizeMs = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    let t = performance.now();
    decoded = 0;
    for (const b of bodies) decoded += decodeOtlpTraces({ body: b, contentType: 'application/x-protobuf' }).spans.length;
    decodeMs = Math.min(decodeMs, performance.now() - t);
    t = performance.now();
    for (const b of bodies) summarize(decodeOtlpTraces({ body: b, contentType: 'application/x-protobuf' }).spans);
    summarizeMs = Math.min(summarizeMs, performance.now() - t);
  }
  if (decoded !== spans) throw new Error(`decoded ${decoded} spans, expected ${spans}`);
  const ceiling = spans / (summarizeMs / 1000);
  const rows: Row[] = [
    { path: 'decode only (in process, same bytes)', 'spans/s': round(spans / (decodeMs / 1000), 0), 'MB/s': round(mb / (decodeMs / 1000), 1), 'vs ceiling': '' },
    { path: 'decode + summarise (in process): ceiling', 'spans/s': round(ceiling, 0), 'MB/s': round(mb / (summarizeMs / 1000), 1), 'vs ceiling': '100%' },
  ];
  // '' is the embedded default (the durable SQLite KV); memory: is the in-process store tests use
  const backends: [string, string][] = [['sqlite, default', ''], ['memory', 'memory:']];
  if (redisUrl) backends.push(['redis', redisUrl]);
  for (const [name, url] of backends) {
    const target = await startChild(url, false);
    try {
      // distinct batches for the warm-up, so the measured ones are all new traces
      await postAll(target.url, target.token, makeBatches(8));
      const ms = await postAll(target.url, target.token, bodies);
      const rate = spans / (ms / 1000);
      rows.push({ path: `POST /v1/traces → store + check (${name} KV)`, 'spans/s': round(rate, 0), 'MB/s': round(mb / (ms / 1000), 1), 'vs ceiling': `${round((100 * rate) / ceiling, 0)}%` });
    } finally {
      await target.stop();
    }
  }
  return report(
    'anomaly-ingest-otlp',
    `OTLP/HTTP protobuf ingest: ${BATCHES} batches × 512 spans (${round(mb, 1)} MB), ${CONCURRENCY} concurrent exporters, loopback; ` +
      'peer = in-process decode of the same bytes (otlp-transformer has no request deserializer)',
    rows,
  );
}

// ---------------------------------------------------------------- 2. baseline recompute

/** Deterministic latency-like samples: a log-normal-ish body with a tail. */
function windows(): { key: string; values: Float64Array; strings: string[] }[] {
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const out = [];
  for (let k = 0; k < KEYS; k++) {
    const ep = Math.floor(k / 48);
    const key = baselineKey(`svc-${ep % 20}`, `GET /e${ep}`, k % 24, (k % 48) < 24 ? 'weekday' : 'weekend');
    const values = new Float64Array(SAMPLES);
    const strings: string[] = new Array(SAMPLES);
    for (let i = 0; i < SAMPLES; i++) {
      const v = Math.round(50 * Math.exp(0.4 * (rnd() + rnd() + rnd() - 1.5)) * (rnd() < 0.01 ? 8 : 1) * 1000) / 1000;
      values[i] = v;
      strings[i] = String(v);
    }
    out.push({ key, values, strings });
  }
  return out;
}

function plainReference(values: Float64Array) {
  const a = Array.from(values).sort((x, y) => x - y);
  const n = a.length;
  const med = n % 2 ? a[n >> 1] : (a[n / 2 - 1] + a[n / 2]) / 2;
  const p95 = a[Math.ceil(0.95 * n) - 1];
  const dev = a.map((x) => Math.abs(x - med)).sort((x, y) => x - y);
  const mad = n % 2 ? dev[n >> 1] : (dev[n / 2 - 1] + dev[n / 2]) / 2;
  return { p50: med, p95, mad };
}

/** The store's key layout: the windows are loaded where the baseline job looks for them. */
const STORE_KEYS = storeKeys();

async function load(kv: KvStore, data: ReturnType<typeof windows>) {
  for (let i = 0; i < data.length; i += 64) {
    await Promise.all(data.slice(i, i + 64).map((w) => kv.pushTrim(STORE_KEYS.dur(w.key), w.strings, SAMPLES)));
  }
  for (let i = 0; i < data.length; i += 1000) await kv.sadd(STORE_KEYS.dirty, ...data.slice(i, i + 1000).map((w) => w.key));
}

async function baselineRows(redisUrl: string | undefined): Promise<Row[]> {
  const data = windows();
  // reference and core stats over the same arrays (warm up both first)
  for (const w of data.slice(0, 200)) {
    plainReference(w.values);
    computeBaseline(w.values, 0);
  }
  let t = performance.now();
  let check = 0;
  for (const w of data) check += plainReference(w.values).mad;
  const refMs = performance.now() - t;
  t = performance.now();
  let check2 = 0;
  for (const w of data) check2 += computeBaseline(w.values, 0)!.mad;
  const coreMs = performance.now() - t;
  if (Math.abs(check - check2) > 1e-6 * Math.abs(check)) throw new Error('reference and core disagree on MAD');

  const rows: Row[] = [
    { what: `plain sort reference: ${KEYS} windows × ${SAMPLES} (stats only)`, 'time ms': round(refMs, 0), 'buckets/s': round(KEYS / (refMs / 1000), 0), 'vs reference': '1.00×' },
    { what: 'computeBaseline: typed-array sort + merged MAD (stats only)', 'time ms': round(coreMs, 0), 'buckets/s': round(KEYS / (coreMs / 1000), 0), 'vs reference': `${round(refMs / coreMs, 2)}× faster` },
  ];
  const engines: [string, () => Promise<KvStore>][] = [
    ['memory', async () => new MemoryKv()],
    ['sqlite', async () => new SqliteKv({ file: path.join(mkdtempSync(path.join(tmpdir(), 'vigil-bench-kv-')), 'kv.db') })],
  ];
  if (redisUrl) engines.push(['redis', async () => new RedisKv(redisUrl, { prefix: `vigil-bench-baseline-${process.pid}:` }).connect()]);
  for (const [name, open] of engines) {
    const kv = await open();
    try {
      await load(kv, data);
      const store = new AnomalyStore(kv);
      t = performance.now();
      const r = await store.runBaselineJob({ batchSize: 500, maxBatches: 10_000 });
      const ms = performance.now() - t;
      if (r.keys !== KEYS || r.remaining !== 0) throw new Error(`baseline job recomputed ${r.keys} of ${KEYS} keys (${r.remaining} left, errors ${r.errors.join('; ')})`);
      rows.push({
        what: `baseline job, ${name} KV: read windows, stats, write hashes + ${r.aggregates} endpoint aggregates`,
        'time ms': round(ms, 0),
        'buckets/s': round(KEYS / (ms / 1000), 0),
        'vs reference': `${round(ms / refMs, 2)}× the reference time`,
      });
    } finally {
      if (kv.kind === 'redis') {
        const keys = await kv.scanKeys('*');
        for (let i = 0; i < keys.length; i += 1000) await kv.del(...keys.slice(i, i + 1000));
      }
      await kv.close();
    }
  }
  return report('anomaly-ingest-baseline', `Baseline recompute: ${KEYS} dirty buckets × ${SAMPLES} samples, beside a plain sort-based reference over the same arrays`, rows);
}

export async function run(): Promise<Row[]> {
  const url = redisUrlForBench();
  const redis = (await redisReachable(url)) ? url : undefined;
  if (!redis) console.log(`[skip] Redis not reachable at ${url}: Redis rows omitted`);
  return [...(await otlpRows(redis)), ...(await baselineRows(redis))];
}

if (isMain(import.meta.url)) await run();
