/**
 * Demo-fleet traces: the shop's services send OTLP/JSON (gzip) to POST /v1/traces, with a daily
 * latency pattern in the configured time zone (slower and busier around lunch and in the evening,
 * quieter at night and at weekends), rare slow outliers, and one short incident per hour on
 * payments (a minute of ~6× latency), so `vigil up` shows baselines and anomalies.
 *
 * On first start (the server has no baselines yet) it also sends the last 7 days at a sparse rate
 * with generated timestamps: about 60 traces per endpoint, hour and day type, enough for every
 * bucket's own baseline once the baseline job has run (within anomaly.baselineInterval).
 *
 * Timestamps are real (epoch ms now); `speed` multiplies the live traffic rate only.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { bucketOf } from '../anomaly/index.js';
import { Rng as SeededRandom } from './random.js';

export interface TraceGeneratorLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface TraceGeneratorOptions {
  serverUrl: string;
  /** A token with role agent or admin (it also reads /v1/available to decide whether to send history). */
  token: string;
  /** Random seed of latencies and traffic (default 42). */
  seed?: number;
  /** Live traffic is this many times the base rate (default 1). */
  speed?: number;
  log?: TraceGeneratorLog;
  /** Zone of the daily pattern (default Asia/Taipei; pass config.anomaly.timeZone). */
  timeZone?: string;
  weekendDays?: readonly number[];
  /** Days of history sent on first start (default 7; 0 = none). */
  historyDays?: number;
  /** Traces per endpoint, hour and day type the history aims for (default 60). */
  historyPerBucket?: number;
  /** Live traces per second over all endpoints at the busiest hour, before `speed` (default 6). */
  peakRate?: number;
  /** Live tick (default 1 s). */
  tickMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface TraceGenerator {
  /** Resolves when the first-start history has been sent (or was not needed). */
  readonly ready: Promise<void>;
  readonly stats: { traces: number; spans: number; batches: number; failures: number; outliers: number };
  stop(): Promise<void>;
}

/** A downstream call made inside a trace: its own SERVER span in another service. */
interface Call {
  service: string;
  name: string;
  medianMs: number;
}

export interface DemoEndpoint {
  service: string;
  /** Root span name (Tempo's rootTraceName). */
  name: string;
  method: string;
  route: string;
  /** Median duration at the quietest hour, ms. */
  medianMs: number;
  /** Spread of ln(duration). */
  sigma: number;
  /** Share of the traffic. */
  weight: number;
  calls: Call[];
}

/** The demo shop (the same services as the simulated mesh: frontend, catalog, cart, checkout, payments, inventory, identity). */
export const DEMO_ENDPOINTS: readonly DemoEndpoint[] = [
  { service: 'frontend', name: 'GET /', method: 'GET', route: '/', medianMs: 45, sigma: 0.25, weight: 18, calls: [{ service: 'catalog', name: 'GET /products', medianMs: 20 }] },
  { service: 'frontend', name: 'GET /product/{id}', method: 'GET', route: '/product/{id}', medianMs: 70, sigma: 0.3, weight: 16, calls: [{ service: 'catalog', name: 'GET /products/{id}', medianMs: 22 }] },
  { service: 'catalog', name: 'GET /products', method: 'GET', route: '/products', medianMs: 60, sigma: 0.3, weight: 10, calls: [] },
  { service: 'catalog', name: 'GET /products/{id}', method: 'GET', route: '/products/{id}', medianMs: 22, sigma: 0.25, weight: 12, calls: [{ service: 'inventory', name: 'GET /stock/{sku}', medianMs: 8 }] },
  { service: 'cart', name: 'GET /cart', method: 'GET', route: '/cart', medianMs: 35, sigma: 0.25, weight: 9, calls: [] },
  { service: 'cart', name: 'POST /cart/items', method: 'POST', route: '/cart/items', medianMs: 48, sigma: 0.3, weight: 6, calls: [{ service: 'inventory', name: 'GET /stock/{sku}', medianMs: 8 }] },
  {
    service: 'checkout',
    name: 'POST /checkout',
    method: 'POST',
    route: '/checkout',
    medianMs: 420,
    sigma: 0.3,
    weight: 4,
    calls: [
      { service: 'payments', name: 'POST /payments/charge', medianMs: 280 },
      { service: 'inventory', name: 'POST /stock/reserve', medianMs: 25 },
    ],
  },
  { service: 'payments', name: 'POST /payments/charge', method: 'POST', route: '/payments/charge', medianMs: 300, sigma: 0.3, weight: 3, calls: [] },
  { service: 'inventory', name: 'GET /stock/{sku}', method: 'GET', route: '/stock/{sku}', medianMs: 9, sigma: 0.2, weight: 8, calls: [] },
  { service: 'identity', name: 'POST /auth/token', method: 'POST', route: '/auth/token', medianMs: 30, sigma: 0.25, weight: 6, calls: [] },
];

// ---------------------------------------------------------------- model (pure)

/** The demo fleet's seeded generator (mulberry32), shared with the metrics simulator. */
export { SeededRandom };

/**
 * Load of the shop at a local hour (0.2 at night … ~1 at lunch, a second peak in the evening);
 * weekends are busier in the afternoon and quieter in the morning, and lighter overall.
 */
export function dailyLoad(hour: number, weekend: boolean): number {
  const bump = (c: number, w: number) => Math.exp(-((hour - c) ** 2) / w);
  const l = weekend ? 0.2 + 0.55 * bump(15, 14) + 0.45 * bump(21, 6) : 0.2 + 0.8 * bump(12.5, 8) + 0.55 * bump(20.5, 5);
  return Math.min(1, l);
}

/** Latency multiplier at a load: a busy hour is up to ~1.9× the quiet one. */
export const latencyFactor = (load: number) => 1 + 0.9 * load;

export interface GeneratedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  service: string;
  name: string;
  method: string;
  route: string;
  startMs: number;
  durationMs: number;
}

export interface ShapeOptions {
  timeZone: string;
  weekendDays: readonly number[];
  /** Probability of a slow outlier per trace (default 0.003). */
  outlierRate?: number;
  /** Whether incidents apply (live traffic only). */
  incidents?: boolean;
}

/** Minute 17 of every hour (wall clock, UTC), payments charges run ~6× slower. */
export const isIncident = (service: string, name: string, startMs: number) =>
  service === 'payments' && name === 'POST /payments/charge' && Math.floor(startMs / 60_000) % 60 === 17;

/** One trace of an endpoint starting at startMs: the root span plus one SERVER span per downstream call. */
export function makeTrace(rng: SeededRandom, ep: DemoEndpoint, startMs: number, o: ShapeOptions): { spans: GeneratedSpan[]; outlier: boolean } {
  const b = bucketOf(startMs, o.timeZone, o.weekendDays);
  const f = latencyFactor(dailyLoad(b.hour, b.dayType === 'weekend'));
  const traceId = randomBytes(16).toString('hex');
  const rootId = randomBytes(8).toString('hex');
  let dur = ep.medianMs * f * Math.exp(ep.sigma * rng.normal());
  const outlier = rng.next() < (o.outlierRate ?? 0.003);
  if (outlier) dur *= 5 + 10 * rng.next();
  const spans: GeneratedSpan[] = [];
  let offset = Math.min(2, dur * 0.05);
  for (const c of ep.calls) {
    let cd = c.medianMs * f * Math.exp(0.2 * rng.normal());
    if (o.incidents && isIncident(c.service, c.name, startMs)) cd *= 6;
    spans.push({ traceId, spanId: randomBytes(8).toString('hex'), parentSpanId: rootId, service: c.service, name: c.name, method: c.name.split(' ')[0], route: c.name.split(' ')[1], startMs: startMs + offset, durationMs: cd });
    offset += cd + 0.5;
  }
  if (o.incidents && isIncident(ep.service, ep.name, startMs)) dur *= 6;
  dur = Math.max(dur, offset + 1);
  spans.unshift({ traceId, spanId: rootId, parentSpanId: '', service: ep.service, name: ep.name, method: ep.method, route: ep.route, startMs, durationMs: dur });
  return { spans, outlier };
}

const nanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
const str = (key: string, v: string) => ({ key, value: { stringValue: v } });

/** OTLP/JSON ExportTraceServiceRequest of some spans, one resource per service. */
export function otlpJson(spans: readonly GeneratedSpan[]): object {
  const byService = new Map<string, GeneratedSpan[]>();
  for (const s of spans) {
    const l = byService.get(s.service);
    if (l) l.push(s);
    else byService.set(s.service, [s]);
  }
  return {
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: [str('service.name', service), str('service.namespace', 'shop'), str('deployment.environment', 'demo')] },
      scopeSpans: [
        {
          scope: { name: 'vigil-demo', version: '1' },
          spans: list.map((s) => ({
            traceId: s.traceId,
            spanId: s.spanId,
            ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            name: s.name,
            kind: 2,
            startTimeUnixNano: nanos(s.startMs),
            endTimeUnixNano: nanos(s.startMs + s.durationMs),
            attributes: [str('http.request.method', s.method), str('http.route', s.route)],
            status: { code: 0 },
          })),
        },
      ],
    })),
  };
}

/**
 * History for the last `days` days before nowMs: per endpoint and local hour, enough traces that
 * each hour bucket of each day type gets about perBucket samples (fewer days of a type → more per day).
 */
export function* historyBatches(rng: SeededRandom, nowMs: number, o: ShapeOptions & { days: number; perBucket: number; batchTraces?: number }): Generator<GeneratedSpan[]> {
  const hourMs = 3600_000;
  const firstHour = Math.floor(nowMs / hourMs) * hourMs - o.days * 24 * hourMs;
  const lastHour = Math.floor(nowMs / hourMs) * hourMs - hourMs; // the current hour is left to live traffic
  const weekendDaysInRange = Math.max(1, Math.round((o.days * o.weekendDays.length) / 7));
  const weekdayDaysInRange = Math.max(1, o.days - weekendDaysInRange);
  let batch: GeneratedSpan[] = [];
  let traces = 0;
  for (let h = firstHour; h <= lastHour; h += hourMs) {
    const weekend = bucketOf(h + 1, o.timeZone, o.weekendDays).dayType === 'weekend';
    const perHour = Math.ceil(o.perBucket / (weekend ? weekendDaysInRange : weekdayDaysInRange));
    for (const ep of DEMO_ENDPOINTS) {
      for (let i = 0; i < perHour; i++) {
        batch.push(...makeTrace(rng, ep, h + rng.next() * (hourMs - 60_000), { ...o, incidents: false }).spans);
        if (++traces >= (o.batchTraces ?? 1000)) {
          yield batch;
          batch = [];
          traces = 0;
        }
      }
    }
  }
  if (batch.length) yield batch;
}

// ---------------------------------------------------------------- runner

export function startTraceGenerator(opts: TraceGeneratorOptions): TraceGenerator {
  const doFetch = opts.fetch ?? ((...a) => globalThis.fetch(...a));
  const now = opts.now ?? Date.now;
  const base = opts.serverUrl.replace(/\/+$/, '');
  const shape: ShapeOptions = { timeZone: opts.timeZone ?? 'Asia/Taipei', weekendDays: opts.weekendDays ?? [0, 6], incidents: true };
  const rng = new SeededRandom(opts.seed ?? 42);
  const stats = { traces: 0, spans: 0, batches: 0, failures: 0, outliers: 0 };
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<unknown> = Promise.resolve();
  let lastWarn = 0;
  const headers = { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' };

  const send = async (spans: GeneratedSpan[]): Promise<boolean> => {
    try {
      const res = await doFetch(`${base}/v1/traces`, {
        method: 'POST',
        headers,
        body: gzipSync(JSON.stringify(otlpJson(spans))),
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(30_000)]),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      stats.batches++;
      stats.spans += spans.length;
      stats.traces += spans.filter((s) => !s.parentSpanId).length;
      return true;
    } catch (err) {
      if (abort.signal.aborted) return false;
      stats.failures++;
      if (now() - lastWarn > 60_000) {
        lastWarn = now();
        opts.log?.warn({ err: (err as Error).message, failures: stats.failures }, 'demo traces: sending to /v1/traces failed');
      }
      return false;
    }
  };

  const needsHistory = async (): Promise<boolean> => {
    if ((opts.historyDays ?? 7) <= 0) return false;
    try {
      const res = await doFetch(`${base}/v1/available?limit=1`, {
        headers: { authorization: `Bearer ${opts.token}` },
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(10_000)]),
      });
      if (!res.ok) return true;
      const body = (await res.json()) as { keys?: unknown[] };
      return !body.keys?.length;
    } catch {
      return !abort.signal.aborted;
    }
  };

  const sendHistory = async () => {
    if (!(await needsHistory())) return;
    const started = now();
    const before = stats.traces;
    for (const batch of historyBatches(rng, started, { ...shape, days: opts.historyDays ?? 7, perBucket: opts.historyPerBucket ?? 60 })) {
      if (abort.signal.aborted) return;
      await send(batch);
    }
    opts.log?.info({ traces: stats.traces - before, days: opts.historyDays ?? 7, ms: now() - started }, 'demo traces: history sent; baselines appear after the next baseline job');
  };

  const tick = () => {
    const t = now();
    const tickMs = opts.tickMs ?? 1000;
    const b = bucketOf(t, shape.timeZone, shape.weekendDays);
    const load = dailyLoad(b.hour, b.dayType === 'weekend');
    const totalWeight = DEMO_ENDPOINTS.reduce((n, e) => n + e.weight, 0);
    const spans: GeneratedSpan[] = [];
    for (const ep of DEMO_ENDPOINTS) {
      const n = rng.poisson(((opts.peakRate ?? 6) * (opts.speed ?? 1) * load * ep.weight * tickMs) / totalWeight / 1000);
      for (let i = 0; i < n; i++) {
        // shaped at this tick's time, then moved so that the whole trace has ended by now
        const tr = makeTrace(rng, ep, t, shape);
        const end = t - rng.next() * tickMs;
        const start = end - tr.spans[0].durationMs;
        const shifted = makeTraceAt(tr.spans, start);
        if (tr.outlier) stats.outliers++;
        spans.push(...shifted);
      }
    }
    if (spans.length) inflight = send(spans);
  };

  const ready = (async () => {
    await sendHistory();
    if (abort.signal.aborted) return;
    const loop = async () => {
      if (abort.signal.aborted) return;
      tick();
      await inflight;
      timer = setTimeout(() => void loop(), opts.tickMs ?? 1000);
      timer.unref?.();
    };
    void loop();
  })();

  return {
    ready,
    stats,
    async stop() {
      abort.abort();
      if (timer) clearTimeout(timer);
      await ready.catch(() => undefined);
      await inflight.catch(() => undefined);
    },
  };
}

/** Move a generated trace so that its root starts at startMs (children keep their offsets). */
function makeTraceAt(spans: GeneratedSpan[], startMs: number): GeneratedSpan[] {
  const shift = startMs - spans[0].startMs;
  return spans.map((s) => ({ ...s, startMs: s.startMs + shift }));
}
