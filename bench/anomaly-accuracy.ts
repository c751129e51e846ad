/**
 * Accuracy of the time-aware latency rule against two time-blind peers, on a labelled synthetic workload.
 *
 * Workload (deterministic, seeded): eight service endpoints over `weeks` (6) weeks in Asia/Taipei.
 * Six serve people — quiet nights, busy afternoons, half the traffic at weekends, so some buckets are
 * thin and the fallback chain is exercised — two serve machines (device events, partners' webhooks)
 * around the clock. Each has its own rhythm of latency, smooth across the day: business-hours load,
 * a nightly batch, an evening peak, a morning login rush, a weekend sale, nightly storage compaction,
 * a partner that is slow in its business hours. Noise is heavy-tailed: log-normal (σ 0.25) times, for
 * 3 % of requests, a Pareto factor (α 3). With probability 1 % a trace is an injected anomaly: an
 * incident multiplies the request's own duration (typical × noise, drawn as for any request) by m,
 * log-uniform in [1.5, 10]. Labels come from the generator's model alone, not from any percentile
 * a detector computes: a mild incident on a fast draw can stay below every threshold, so recall
 * below 1 is a real loss the table shows. Anomalies occur in the training weeks too (unlabelled
 * there, as in real traffic); the weeks after `trainWeeks` are scored.
 *
 * Detectors, all trained on the first `trainWeeks` weeks, then frozen:
 *  - time-aware: the real pipeline — AnomalyStore over the in-memory KV (windows of 1000 per
 *    {service, endpoint, hour, dayType}, aggregates), the baseline job, then rule.decide with the
 *    default configuration (factor 2.0, k 10, MAD floor 1 ms, minSamples 50, fallback 20/50/30).
 *    cannotDetermine counts as "not flagged".
 *  - global 2×p95: per service endpoint, 2 × p95 of all its training durations, no time buckets.
 *  - z-score: per service endpoint, mean + 3σ of all its training durations, no time buckets.
 * Scored by precision, recall and F1 against the injected labels.
 *
 * Run: `npx tsx bench/anomaly-accuracy.ts` (exit code 1 if the time-aware rule does not have the best F1).
 */
import { pathToFileURL } from 'node:url';
import { MemoryKv } from '../src/platform/backends/kv/memory.js';
import { localHourAndDay, resolveRuleConfig, computeBaseline, meanStd, AnomalyStore, type DayType, type TraceSummary } from '../src/anomaly/index.js';

export interface AccuracyOptions {
  seed?: number;
  weeks?: number;
  trainWeeks?: number;
  /** Multiplies every endpoint's traffic (default 1: ~190k traces over 6 weeks). */
  traffic?: number;
  anomalyRate?: number;
  print?: boolean;
}

export interface AccuracyRow {
  detector: string;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
  note: string;
}

export interface AccuracyResult {
  rows: AccuracyRow[];
  /** F1 of each detector per service endpoint, in the order of rows. */
  perEndpoint: { endpoint: string; anomalies: number; f1: number[] }[];
  trainTraces: number;
  testTraces: number;
  testAnomalies: number;
  fallbackLevels: Record<string, number>;
  timeAwareWins: boolean;
}

const TZ = 'Asia/Taipei';
const H = 3600_000;
// Monday 2024-01-01 00:00 in Asia/Taipei
const START = Date.parse('2023-12-31T16:00:00Z');

/** sfc32: small, fast, good enough for simulation. */
function rngFrom(seed: number) {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ (seed * 31);
  let c = 0xb7e15162;
  let d = 1;
  const next = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 20; i++) next();
  const normal = () => {
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const poisson = (lambda: number) => {
    const L = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= next();
    } while (p > L);
    return k - 1;
  };
  return { next, normal, poisson };
}

/** Smooth bump around a local hour, circular over the day. */
const bump = (h: number, center: number, width: number) => {
  let dist = Math.abs(h - center);
  if (dist > 12) dist = 24 - dist;
  return Math.exp(-0.5 * (dist / width) ** 2);
};

interface EndpointProfile {
  service: string;
  endpoint: string;
  /** Typical duration at quiet times, ms. */
  base: number;
  /** Traces per hour at the busiest weekday hour. */
  rate: number;
  /** Share of `rate` by local hour (fractional) and day type. */
  traffic: (h: number, d: DayType) => number;
  /** Slow-down factor by local hour (fractional) and day type. */
  slow: (h: number, d: DayType) => number;
}

/** People: quiet nights, busy afternoons, half the traffic at weekends. */
const human = (h: number, d: DayType) => (0.1 + 0.9 * bump(h, 14, 4.5)) * (d === 'weekend' ? 0.5 : 1);
/** Machines (devices, partners' webhooks): around the clock, a little less at weekends. */
const machine = (_h: number, d: DayType) => (d === 'weekend' ? 0.9 : 1);

const PROFILES: EndpointProfile[] = [
  { service: 'frontend', endpoint: 'GET /', base: 80, rate: 80, traffic: human, slow: (h, d) => 1 + 0.6 * bump(h, 13, 3) * (d === 'weekday' ? 1 : 0.3) },
  {
    service: 'checkout',
    endpoint: 'POST /orders',
    base: 220,
    rate: 40,
    traffic: human,
    slow: (h, d) => 1 + (d === 'weekday' ? 1.5 * bump(h, 13, 2.5) : 0.4 * bump(h, 15, 3)),
  },
  // a nightly batch job shares the database every day around 01:00–04:00
  { service: 'reports', endpoint: 'GET /reports/{id}', base: 300, rate: 25, traffic: human, slow: (h) => 1 + 3 * bump(h, 2.5, 1.2) },
  {
    service: 'search',
    endpoint: 'GET /search',
    base: 120,
    rate: 60,
    traffic: human,
    slow: (h, d) => 1 + (d === 'weekend' ? 1.8 : 1.2) * bump(h, 21, 1.8),
  },
  {
    service: 'auth',
    endpoint: 'POST /login',
    base: 40,
    rate: 50,
    traffic: human,
    slow: (h, d) => 1 + (d === 'weekday' ? 2 * bump(h, 9, 1) : 0.2 * bump(h, 11, 2)),
  },
  // a weekend sale doubles inventory lookups' latency all weekend
  { service: 'inventory', endpoint: 'GET /items/{id}', base: 30, rate: 50, traffic: human, slow: (h, d) => (d === 'weekend' ? 2.2 : 1 + 0.2 * bump(h, 13, 3)) },
  // devices send events around the clock; nightly storage compaction slows writes around 02:00–05:00
  { service: 'ingest', endpoint: 'POST /v1/events', base: 25, rate: 60, traffic: machine, slow: (h) => 1 + 2.5 * bump(h, 3.5, 1.3) },
  // partners' webhooks arrive around the clock; the partner bank is slow during its weekday business hours
  {
    service: 'payments',
    endpoint: 'POST /webhooks/{id}',
    base: 150,
    rate: 30,
    traffic: machine,
    slow: (h, d) => 1 + (d === 'weekday' ? 1.2 * bump(h, 11, 2.5) : 0),
  },
];

const SIGMA = 0.25;
const TAIL_P = 0.03;
const PARETO_ALPHA = 3;

interface Labelled extends TraceSummary {
  anomaly: boolean;
}

function generate(opts: Required<Pick<AccuracyOptions, 'seed' | 'weeks' | 'traffic' | 'anomalyRate'>>) {
  const rng = rngFrom(opts.seed);
  const noise = () => {
    let x = Math.exp(SIGMA * rng.normal());
    if (rng.next() < TAIL_P) x *= (1 - rng.next()) ** (-1 / PARETO_ALPHA);
    return x;
  };
  const incident = () => 1.5 * (10 / 1.5) ** rng.next(); // log-uniform in [1.5, 10]

  const traces: Labelled[] = [];
  let id = 0;
  const hours = opts.weeks * 7 * 24;
  for (let hi = 0; hi < hours; hi++) {
    const hourStart = START + hi * H;
    const { hour, weekday } = localHourAndDay(hourStart + H / 2, TZ);
    const dayType: DayType = weekday === 0 || weekday === 6 ? 'weekend' : 'weekday';
    for (const p of PROFILES) {
      const n = rng.poisson(p.rate * opts.traffic * p.traffic(hour + 0.5, dayType));
      for (let i = 0; i < n; i++) {
        const startMs = hourStart + Math.floor(rng.next() * H);
        const localH = hour + ((startMs - hourStart) % H) / H; // Taipei is a whole-hour offset
        const typical = p.base * p.slow(localH, dayType);
        const anomaly = rng.next() < opts.anomalyRate;
        const durationMs = typical * noise() * (anomaly ? incident() : 1);
        traces.push({
          traceId: (++id).toString(16).padStart(32, '0'),
          service: p.service,
          endpoint: p.endpoint,
          startMs,
          durationMs: Math.round(durationMs * 1000) / 1000,
          anomaly,
        });
      }
    }
  }
  traces.sort((a, b) => a.startMs - b.startMs);
  return traces;
}

function score(detector: string, flagged: boolean[], test: Labelled[], note: string): AccuracyRow {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  test.forEach((t, i) => {
    if (flagged[i] && t.anomaly) tp++;
    else if (flagged[i]) fp++;
    else if (t.anomaly) fn++;
  });
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { detector, tp, fp, fn, precision, recall, f1, note };
}

export async function run(options: AccuracyOptions = {}): Promise<AccuracyResult> {
  const opts = { seed: 42, weeks: 6, trainWeeks: 4, traffic: 1, anomalyRate: 0.01, print: false, ...options };
  const traces = generate(opts);
  const split = START + opts.trainWeeks * 7 * 24 * H;
  const train = traces.filter((t) => t.startMs < split);
  const test = traces.filter((t) => t.startMs >= split);

  // time-aware: the real store, job and rule
  const rule = resolveRuleConfig({ timeZone: TZ });
  const store = new AnomalyStore(new MemoryKv(), { rule });
  for (let i = 0; i < train.length; i += 2000) await store.ingestMany(train.slice(i, i + 2000));
  await store.runBaselineJob({ batchSize: 1000, maxBatches: 1000 });
  const fallbackLevels: Record<string, number> = {};
  const timeAware: boolean[] = [];
  for (const t of test) {
    const r = await store.check({ service: t.service, endpoint: t.endpoint, epochMs: t.startMs, durationMs: t.durationMs });
    fallbackLevels[r.fallbackLevel] = (fallbackLevels[r.fallbackLevel] ?? 0) + 1;
    timeAware.push(r.isAnomaly);
  }

  // time-blind peers, per service endpoint
  const byEndpoint = new Map<string, number[]>();
  for (const t of train) {
    const k = `${t.service}|${t.endpoint}`;
    let l = byEndpoint.get(k);
    if (!l) byEndpoint.set(k, (l = []));
    l.push(t.durationMs);
  }
  const globalThr = new Map<string, number>();
  const zThr = new Map<string, number>();
  for (const [k, l] of byEndpoint) {
    globalThr.set(k, 2 * computeBaseline(l, 0)!.p95);
    const { mean, std } = meanStd(l);
    zThr.set(k, mean + 3 * std);
  }
  const global = test.map((t) => t.durationMs > globalThr.get(`${t.service}|${t.endpoint}`)!);
  const z = test.map((t) => t.durationMs > zThr.get(`${t.service}|${t.endpoint}`)!);

  const perEndpoint = PROFILES.map((p) => {
    const idx = test.map((t, i) => (t.service === p.service && t.endpoint === p.endpoint ? i : -1)).filter((i) => i >= 0);
    const sub = idx.map((i) => test[i]);
    const f1 = [timeAware, global, z].map((flags) => score('', idx.map((i) => flags[i]), sub, '').f1);
    return { endpoint: `${p.service} ${p.endpoint}`, anomalies: sub.filter((t) => t.anomaly).length, f1 };
  });
  const cannot = fallbackLevels.none ?? 0;
  const rows = [
    score('time-aware max(2×p95, p50+10×MAD)', timeAware, test, `hour × day type ${TZ}; ${cannot} cannotDetermine`),
    score('global 2×p95', global, test, 'per endpoint, no time buckets'),
    score('z-score mean+3σ', z, test, 'per endpoint, no time buckets'),
  ];
  const timeAwareWins = rows[0].f1 > rows[1].f1 && rows[0].f1 > rows[2].f1;
  const result: AccuracyResult = {
    rows,
    perEndpoint,
    trainTraces: train.length,
    testTraces: test.length,
    testAnomalies: test.filter((t) => t.anomaly).length,
    fallbackLevels,
    timeAwareWins,
  };
  if (opts.print) printTable(result, opts);
  return result;
}

function printTable(r: AccuracyResult, opts: { seed: number; weeks: number; trainWeeks: number }) {
  const f = (x: number) => x.toFixed(3);
  const head = ['detector', 'TP', 'FP', 'FN', 'precision', 'recall', 'F1', 'note'];
  const body = r.rows.map((x) => [x.detector, String(x.tp), String(x.fp), String(x.fn), f(x.precision), f(x.recall), f(x.f1), x.note]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 7 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(
    `anomaly accuracy — seed ${opts.seed}, ${opts.weeks} weeks (${opts.trainWeeks} train, ${opts.weeks - opts.trainWeeks} test), ` +
      `${r.trainTraces} training traces, ${r.testTraces} test traces, ${r.testAnomalies} injected anomalies (incidents: 1.5–10 × the request's own duration)`,
  );
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of body) console.log(line(row));
  console.log('');
  console.log('F1 per endpoint            anomalies  time-aware  global 2×p95  z-score');
  for (const e of r.perEndpoint) {
    console.log(
      `${e.endpoint.padEnd(28)}${String(e.anomalies).padStart(7)}  ${e.f1.map((x, i) => x.toFixed(3).padStart([10, 12, 7][i])).join('  ')}`,
    );
  }
  console.log(`time-aware baseline levels used: ${Object.entries(r.fallbackLevels).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const best = r.rows[0].f1;
  console.log(
    r.timeAwareWins
      ? `time-aware F1 ${best.toFixed(3)} beats global ×${(best / r.rows[1].f1).toFixed(2)} and z-score ×${(best / r.rows[2].f1).toFixed(2)}`
      : 'FAIL: the time-aware rule does not have the best F1',
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run({ print: true }).then(
    (r) => {
      if (!r.timeAwareWins) process.exitCode = 1;
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
