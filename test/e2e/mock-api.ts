/**
 * A deterministic demo fleet answering the dashboard's API contract (the servers' schemas.ts) inside
 * the browser (Playwright request interception). Used to look at, and test, the data-bearing pages
 * before or independently of the server modules; doubles as a worked example of every shape.
 */
import type { Page, Route } from 'playwright-core';
import type { AnomaliesResponse, CheckBody as AnomalyCheckRequest, CheckResponse as AnomalyCheckResponse, AnomalyEvent, AvailableKey, AvailableResponse, DayType } from '../../src/anomaly/schemas.js';
import type { BurnRate, ClustersResponse, DomainDetailResponse, DomainSlo as DomainSLO, DomainsResponse, MeshEdge, MeshHistoryPoint, MeshNode, ServiceDetailResponse as MeshServiceDetailResponse, TopologyResponse as MeshTopologyResponse, RouteSlo as RouteSLO, SloHistoryPoint as SLOHistoryPoint, SloMetrics as SLOMetrics, SloStatus as SLOStatus, SloTarget as SLOTarget, TargetsResponse, TimeRange } from '../../src/slo/server/schemas.js';
import { seededRandom } from '../../src/simulate/random.js';

const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const STEP: Record<TimeRange, number> = { '1h': 60, '6h': 300, '1d': 900, '7d': 3600, '30d': 21600 };
const SPAN: Record<TimeRange, number> = { '1h': 3600, '6h': 21600, '1d': 86400, '7d': 604800, '30d': 2592000 };

/** Envelope and coverage of the SLO reads: the demo fleet has data for the whole range. */
const envelope = (tr: TimeRange) => ({
  cluster_id: 'prod-tokyo',
  time_range: tr,
  generated_at: NOW,
  window: { from: NOW - SPAN[tr] * 1000, to: NOW },
  data_from: NOW - SPAN['30d'] * 1000,
  covered_seconds: SPAN[tr],
  status_minimum: { requests: 100, covered_seconds: 600 },
});

const rng = seededRandom;
const hash = (s: string) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);

interface RouteSpec {
  path: string;
  ns: string;
  svc: string;
  rps: number;
  avail: number;
  p95: number;
}
interface DomainSpec {
  domain: string;
  tls: boolean;
  routes: RouteSpec[];
}

const DOMAINS: DomainSpec[] = [
  {
    domain: 'shop.example.com',
    tls: true,
    routes: [
      { path: '/', ns: 'shop', svc: 'frontend', rps: 84.2, avail: 99.97, p95: 142 },
      { path: '/api', ns: 'shop', svc: 'catalog', rps: 212.5, avail: 99.92, p95: 88 },
      { path: '/api/cart', ns: 'shop', svc: 'cart', rps: 41.3, avail: 99.71, p95: 410 },
      { path: '/static', ns: 'shop', svc: 'assets', rps: 160.1, avail: 100, p95: 9.4 },
    ],
  },
  {
    domain: 'atlantis.example.com',
    tls: true,
    routes: [
      { path: '/', ns: 'atlantis', svc: 'web', rps: 12.4, avail: 99.9, p95: 145 },
      { path: '/api', ns: 'atlantis', svc: 'api', rps: 30.8, avail: 99.5, p95: 320 },
    ],
  },
  {
    domain: 'atlhyper.example.com',
    tls: true,
    routes: [
      { path: '/', ns: 'atlhyper', svc: 'web', rps: 6.2, avail: 100, p95: 98 },
      { path: '/api', ns: 'atlhyper', svc: 'master', rps: 18.9, avail: 99.8, p95: 156 },
      { path: '/ws', ns: 'atlhyper', svc: 'master', rps: 0.4, avail: 100, p95: 12 },
    ],
  },
  {
    domain: 'auth.example.com',
    tls: true,
    routes: [
      { path: '/oauth', ns: 'auth', svc: 'identity', rps: 55.1, avail: 97.8, p95: 690 },
      { path: '/.well-known', ns: 'auth', svc: 'identity', rps: 3.1, avail: 99.99, p95: 6 },
    ],
  },
  { domain: 'legacy.internal', tls: false, routes: [{ path: '/', ns: 'legacy', svc: 'monolith', rps: 0, avail: NaN, p95: NaN }] },
];

const DEFAULT_TARGET = { availability_target: 99.9, p95_latency_target: 300, p99_latency_target: null, window: '30d' as const };
let targets: SLOTarget[] = [
  { scope: 'domain', key: 'shop.example.com', window: '30d', availability_target: 99.9, p95_latency_target: 250, p99_latency_target: 800, updated_at: NOW - 86400_000 * 3, updated_by: 'admin (first start)' },
  { scope: 'route', key: 'shop.example.com/api/cart', window: '30d', availability_target: 99.5, p95_latency_target: 400, updated_at: NOW - 86400_000, updated_by: 'admin (first start)' },
  { scope: 'domain', key: 'auth.example.com', window: '30d', availability_target: 99.95, p95_latency_target: 500 },
];

function targetFor(domain: string, path?: string) {
  const route = path !== undefined ? targets.find((t) => t.scope === 'route' && t.key === `${domain}${path}` && t.window === '30d') : undefined;
  const dom = targets.find((t) => t.scope === 'domain' && t.key === domain && t.window === '30d');
  const t = route ?? dom;
  return t
    ? { availability_target: t.availability_target, p95_latency_target: t.p95_latency_target, p99_latency_target: t.p99_latency_target ?? null, source: t.scope }
    : { ...DEFAULT_TARGET, source: 'default' as const };
}

function statusOf(avail: number | null, p95: number | null, target: { availability_target: number; p95_latency_target: number }): SLOStatus {
  if (avail === null) return 'unknown';
  if (avail < target.availability_target - (100 - target.availability_target) * 2) return 'critical';
  if (avail < target.availability_target || (p95 ?? 0) > target.p95_latency_target) return 'warning';
  return 'healthy';
}

function budgetOf(avail: number | null, target: number): number | null {
  if (avail === null) return null;
  const allowed = 100 - target;
  return allowed <= 0 ? null : ((allowed - (100 - avail)) / allowed) * 100;
}

function metrics(r: RouteSpec, tr: TimeRange, scale = 1): SLOMetrics {
  if (!r.rps) return { availability: null, p50_latency: null, p95_latency: null, p99_latency: null, rps: 0, total_requests: 0, error_rate: null, covered_seconds: SPAN[tr] };
  const a = Math.min(100, r.avail + (scale - 1) * 0.05);
  return {
    availability: a,
    p50_latency: r.p95 * 0.42,
    p95_latency: r.p95 * scale,
    p99_latency: r.p95 * 2.3 * scale,
    rps: r.rps,
    total_requests: Math.round(r.rps * SPAN[tr]),
    error_rate: 100 - a,
    covered_seconds: SPAN[tr],
  };
}

function aggregate(ms: SLOMetrics[]): SLOMetrics {
  const total = ms.reduce((s, m) => s + m.total_requests, 0);
  const covered_seconds = Math.max(0, ...ms.map((m) => m.covered_seconds));
  if (!total) return { availability: null, p50_latency: null, p95_latency: null, p99_latency: null, rps: 0, total_requests: 0, error_rate: null, covered_seconds };
  const w = (f: (m: SLOMetrics) => number | null) => ms.reduce((s, m) => s + (f(m) ?? 0) * m.total_requests, 0) / total;
  const max = (f: (m: SLOMetrics) => number | null) => Math.max(...ms.map((m) => f(m) ?? 0));
  return {
    availability: w((m) => m.availability),
    p50_latency: w((m) => m.p50_latency),
    p95_latency: max((m) => m.p95_latency) * 0.8,
    p99_latency: max((m) => m.p99_latency) * 0.85,
    rps: ms.reduce((s, m) => s + m.rps, 0),
    total_requests: total,
    error_rate: w((m) => m.error_rate),
    covered_seconds,
  };
}

function history(seed: string, r: RouteSpec, tr: TimeRange, target: number): SLOHistoryPoint[] {
  const rand = rng(hash(seed + tr));
  const step = STEP[tr];
  const n = Math.round(SPAN[tr] / step);
  const out: SLOHistoryPoint[] = [];
  let budget = budgetOf(r.avail, target) ?? 100;
  for (let i = 0; i < n; i++) {
    const ts = NOW - (n - i) * step * 1000;
    if (!r.rps) {
      out.push({ timestamp: ts, total_requests: 0, availability: null, p95_latency: null, p99_latency: null, rps: 0, error_rate: null, error_budget_remaining: null, covered_seconds: step });
      continue;
    }
    const hour = new Date(ts).getUTCHours();
    const diurnal = 0.55 + 0.45 * Math.sin(((hour - 6) / 24) * 2 * Math.PI) ** 2;
    const incident = seed.includes('cart') && i > n * 0.7 && i < n * 0.78;
    const rps = r.rps * diurnal * (0.9 + rand() * 0.2);
    const err = (100 - r.avail) * (0.4 + rand() * 1.2) * (incident ? 6 : 1);
    const p95 = r.p95 * (0.85 + rand() * 0.3) * (incident ? 2.2 : 1) * (0.8 + diurnal * 0.3);
    budget += (rand() - 0.52) * 0.6 - (incident ? 1.5 : 0);
    out.push({
      timestamp: ts,
      total_requests: Math.round(rps * step),
      covered_seconds: step,
      availability: Math.max(90, 100 - err),
      p95_latency: p95,
      p99_latency: p95 * (2 + rand()),
      rps,
      error_rate: err,
      error_budget_remaining: budget,
    });
  }
  return out;
}

function burnRates(avail: number | null, target: number, seed: string): BurnRate[] {
  const rand = rng(hash(seed));
  const base = avail === null ? null : (100 - avail) / (100 - target);
  const mk = (window: string, threshold: number, severity: 'page' | 'ticket'): BurnRate => {
    const long = base === null ? null : base * (0.8 + rand() * 0.4);
    const short = base === null ? null : base * (0.6 + rand() * 0.9);
    const firing = long !== null && short !== null && long > threshold && short > threshold;
    return { window, long_rate: long, short_rate: short, long_infinite: false, short_infinite: false, threshold, firing, severity, long_requests: 10_000, long_covered_seconds: 3600, insufficient_data: false };
  };
  return [mk('1h/5m', 14.4, 'page'), mk('6h/30m', 6, 'page'), mk('1d/2h', 3, 'ticket'), mk('3d/6h', 1, 'ticket')];
}

function routeSLO(d: DomainSpec, r: RouteSpec, tr: TimeRange): RouteSLO {
  const t = targetFor(d.domain, r.path);
  const current = metrics(r, tr);
  return {
    path_prefix: r.path,
    ingress_name: `${r.svc}-${d.domain.split('.')[0]}`,
    namespace: r.ns,
    service_key: `${r.ns}-${r.svc}-80@kubernetes`,
    service_name: r.svc,
    service_port: 80,
    current,
    previous: metrics(r, tr, 0.96),
    targets: { '30d': t },
    status: statusOf(current.availability, current.p95_latency, t),
    error_budget_remaining: budgetOf(current.availability, t.availability_target),
  };
}

const worst = (ss: SLOStatus[]): SLOStatus => (['critical', 'warning', 'healthy'] as const).find((s) => ss.includes(s)) ?? 'unknown';

function domainSLO(d: DomainSpec, tr: TimeRange): DomainSLO {
  const routes = d.routes.map((r) => routeSLO(d, r, tr));
  const summary = aggregate(routes.map((r) => r.current));
  const t = targetFor(d.domain);
  return { domain: d.domain, tls: d.tls, routes, summary, targets: { '30d': t }, status: worst(routes.map((r) => r.status)), error_budget_remaining: budgetOf(summary.availability, t.availability_target) };
}

export function domainsResponse(tr: TimeRange): DomainsResponse {
  const domains = DOMAINS.map((d) => domainSLO(d, tr));
  const withTraffic = domains.filter((d) => d.summary.total_requests > 0);
  const total = withTraffic.reduce((s, d) => s + d.summary.total_requests, 0);
  return {
    ...envelope(tr),
    domains,
    summary: {
      total_domains: domains.length,
      healthy_count: domains.filter((d) => d.status === 'healthy').length,
      warning_count: domains.filter((d) => d.status === 'warning').length,
      critical_count: domains.filter((d) => d.status === 'critical').length,
      unknown_count: domains.filter((d) => d.status === 'unknown').length,
      insufficient_data_count: domains.filter((d) => d.status === 'insufficient_data').length,
      avg_availability: total ? withTraffic.reduce((s, d) => s + (d.summary.availability ?? 0) * d.summary.total_requests, 0) / total : null,
      total_rps: domains.reduce((s, d) => s + d.summary.rps, 0),
    },
  };
}

export function domainDetail(domain: string, tr: TimeRange): DomainDetailResponse | null {
  const d = DOMAINS.find((x) => x.domain === domain);
  if (!d) return null;
  const s = domainSLO(d, tr);
  const routes = d.routes.map((r, i) => {
    const t = targetFor(d.domain, r.path);
    return { ...s.routes[i], history: history(`${domain}${r.path}`, r, tr, t.availability_target), burn_rates: burnRates(s.routes[i].current.availability, t.availability_target, `${domain}${r.path}`) };
  });
  const t = targetFor(domain);
  return {
    ...envelope(tr),
    step_seconds: STEP[tr],
    domain,
    tls: d.tls,
    status: s.status,
    summary: s.summary,
    previous: aggregate(s.routes.map((r) => r.previous ?? r.current)),
    targets: s.targets ?? {},
    error_budget_remaining: s.error_budget_remaining,
    burn_rates: burnRates(s.summary.availability, t.availability_target, domain),
    history: routes[0]?.history ?? [],
    routes,
  };
}

// ------------------------------------------------------------------ mesh

const NODES: [string, number, number, number, number][] = [
  // id, rps, p95, error %, mtls %
  ['shop/frontend', 84, 142, 0.03, 100],
  ['shop/catalog', 240, 88, 0.08, 100],
  ['shop/cart', 61, 410, 0.6, 100],
  ['shop/checkout', 12, 520, 0.2, 100],
  ['shop/payments', 11, 380, 0.1, 100],
  ['shop/inventory', 95, 24, 0, 100],
  ['auth/identity', 130, 690, 2.2, 100],
  ['auth/token-store', 150, 8, 0, 100],
  ['atlantis/api', 31, 320, 0.5, 72],
  ['atlantis/web', 12, 145, 0.1, 100],
  ['legacy/monolith', 0, 0, 0, 0],
];
const EDGES: [string, string, number][] = [
  ['shop/frontend', 'shop/catalog', 120],
  ['shop/frontend', 'shop/cart', 48],
  ['shop/cart', 'shop/catalog', 35],
  ['shop/cart', 'shop/checkout', 12],
  ['shop/checkout', 'shop/payments', 11],
  ['shop/checkout', 'shop/inventory', 12],
  ['shop/catalog', 'shop/inventory', 83],
  ['shop/frontend', 'auth/identity', 40],
  ['shop/checkout', 'auth/identity', 12],
  ['auth/identity', 'auth/token-store', 150],
  ['atlantis/web', 'atlantis/api', 11],
  ['atlantis/api', 'auth/identity', 20],
  ['shop/catalog', 'shop/cart', 4],
];

function node([id, rps, p95, err, mtls]: (typeof NODES)[number]): MeshNode {
  const [namespace, name] = id.split('/');
  const total = Math.round(rps * 86400);
  const status: SLOStatus = !rps ? 'unknown' : err >= 2 ? 'critical' : err >= 0.5 || p95 > 400 ? 'warning' : 'healthy';
  const les = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, null];
  const rand = rng(hash(id));
  const dist = les.map((le) => {
    const center = Math.log(p95 * 0.5 || 1);
    const x = le === null ? Math.log(10000) : Math.log(le);
    return { le, count: total ? Math.round(total * Math.exp(-((x - center) ** 2) / 1.2) * (0.08 + rand() * 0.02)) : 0 };
  });
  const codes = total
    ? [
        { code: '200', count: Math.round(total * (0.93 - err / 100)) },
        { code: '201', count: Math.round(total * 0.03) },
        { code: '304', count: Math.round(total * 0.02) },
        { code: '404', count: Math.round(total * 0.015) },
        { code: '429', count: Math.round(total * 0.005) },
        { code: '500', count: Math.round((total * err) / 100 / 2) },
        { code: '503', count: Math.round((total * err) / 100 / 2) },
      ]
    : [];
  return {
    id,
    namespace,
    name,
    rps,
    total_requests: total,
    p50_latency: rps ? p95 * 0.4 : null,
    p95_latency: rps ? p95 : null,
    p99_latency: rps ? p95 * 2.4 : null,
    error_rate: rps ? err : null,
    mtls_percent: rps ? mtls : null,
    status,
    latency_distribution: dist,
    status_codes: codes,
    covered_seconds: SPAN['1d'],
    current_rps: rps || null,
    role: 'service',
    outbound_rps: EDGES.filter((e) => e[0] === id).reduce((sum, e) => sum + e[2], 0),
  };
}

function edge([source, target, rps]: (typeof EDGES)[number]): MeshEdge {
  const t = NODES.find((n) => n[0] === target)!;
  return { source, target, rps, total_requests: Math.round(rps * SPAN['1d']), p95_latency: t[2] * 1.05, avg_latency: t[2] * 0.45, error_rate: t[3] };
}

export function meshTopology(tr: TimeRange): MeshTopologyResponse {
  return { ...envelope(tr), nodes: NODES.map(node), edges: EDGES.map(edge) };
}

export function meshService(ns: string, name: string, tr: TimeRange): MeshServiceDetailResponse | null {
  const spec = NODES.find((n) => n[0] === `${ns}/${name}`);
  if (!spec) return null;
  const n = node(spec);
  const rand = rng(hash(n.id + tr));
  const step = STEP[tr];
  const count = Math.round(SPAN[tr] / step);
  const hist: MeshHistoryPoint[] = Array.from({ length: count }, (_, i) => {
    const ts = NOW - (count - i) * step * 1000;
    const d = 0.6 + 0.4 * Math.sin(((new Date(ts).getUTCHours() - 6) / 24) * 2 * Math.PI) ** 2;
    const p95 = spec[2] * (0.85 + rand() * 0.3);
    return { timestamp: ts, rps: spec[1] * d * (0.9 + rand() * 0.2), p50_latency: p95 * 0.4, p95_latency: p95, p99_latency: p95 * 2.3, error_rate: spec[3] * (0.5 + rand()), mtls_percent: spec[4] };
  });
  const routes = DOMAINS.flatMap((d) => d.routes.filter((r) => r.ns === ns && r.svc === name).map((r) => ({ domain: d.domain, path_prefix: r.path })));
  return {
    ...envelope(tr),
    step_seconds: step,
    node: n,
    targets: {},
    history: hist,
    inbound: EDGES.filter((e) => e[1] === n.id).map(edge),
    outbound: EDGES.filter((e) => e[0] === n.id).map(edge),
    routes,
  };
}

// ------------------------------------------------------------------ anomaly

const ENDPOINTS: [string, string, number][] = [
  ['checkout', 'POST /checkout', 420],
  ['checkout', 'GET /cart/{id}', 85],
  ['catalog', 'GET /products', 60],
  ['catalog', 'GET /products/{id}', 22],
  ['identity', 'POST /oauth/token', 180],
];

export function available(): AvailableResponse {
  const keys: AvailableKey[] = [];
  for (const [service, endpoint, base] of ENDPOINTS) {
    const rand = rng(hash(service + endpoint));
    for (const dayType of ['weekday', 'weekend'] as DayType[]) {
      for (let hour = 0; hour < 24; hour++) {
        const busy = Math.exp(-((hour - 14) ** 2) / 18) + 0.6 * Math.exp(-((hour - 20) ** 2) / 6);
        const load = dayType === 'weekday' ? busy : busy * 0.6;
        const sampleCount = Math.round((dayType === 'weekday' ? 900 : 300) * (0.05 + load) * (0.8 + rand() * 0.4));
        if (sampleCount < 8) continue;
        const p95 = base * (0.7 + load * 0.9) * (0.9 + rand() * 0.2);
        keys.push({ service, endpoint, hour, dayType, sampleCount: Math.min(1000, sampleCount), p50: p95 * 0.45, p95, mad: p95 * 0.08, updatedAt: NOW - Math.round(rand() * 600_000) });
      }
    }
  }
  return { timeZone: 'Asia/Taipei', keys };
}

export function anomalies(): AnomaliesResponse {
  const list: AnomalyEvent[] = [
    ['checkout', 'POST /checkout', 2310, 980, 40],
    ['identity', 'POST /oauth/token', 1650, 610, 95],
    ['checkout', 'GET /cart/{id}', 640, 210, 260],
    ['catalog', 'GET /products', 512, 190, 900],
    ['checkout', 'POST /checkout', 1980, 960, 1800],
    ['identity', 'POST /oauth/token', 1320, 600, 5400],
  ].map(([service, endpoint, dur, thr, ago], i) => {
    const durationMs = dur as number;
    const threshold = thr as number;
    const p95 = threshold / 2;
    return {
      id: `a${i}`,
      traceId: Array.from({ length: 4 }, (_, j) => hash(`${service}${i}${j}`).toString(16).padStart(8, '0')).join(''),
      service: service as string,
      endpoint: endpoint as string,
      startMs: NOW - (ago as number) * 1000 - durationMs,
      durationMs,
      threshold,
      explanation: `${durationMs} ms is above ${threshold} ms = max(2.0 × p95 ${p95} ms, p50 ${Math.round(p95 * 0.45)} ms + 10 × MAD ${Math.round(p95 * 0.08)} ms), learned from 812 traces on weekdays 14:00–15:00 Asia/Taipei: anomalous (${(durationMs / p95).toFixed(1)}× the usual p95); look at what ${service} ${endpoint} was waiting on at that time.`,
      traceUrl: i % 2 === 0 ? `https://grafana.example.com/explore?traceId=${i}` : undefined,
      detectedAt: NOW - (ago as number) * 1000,
      bucket: { hour: 14, dayType: 'weekday' as DayType },
      fallbackLevel: 'exact' as const,
    };
  });
  return { anomalies: list };
}

export function check(body: AnomalyCheckRequest): AnomalyCheckResponse {
  // Either name of each value, as the server accepts them.
  const service = body.service ?? body.rootServiceName ?? '';
  const endpoint = body.endpoint ?? body.rootTraceName ?? '';
  const durationMs = body.durationMs ?? 0;
  const keys = available().keys.filter((k) => k.service === service && k.endpoint === endpoint);
  const hour = body.hour ?? 14;
  const dayType: DayType = body.dayType?.toLowerCase() === 'weekend' ? 'weekend' : 'weekday';
  const k = keys.find((x) => x.hour === hour && x.dayType === dayType);
  if (!k) {
    const explanation = `Cannot determine: no traces have been seen for service "${service}" yet. Check that the name matches the traces' service.name (Tempo's rootServiceName), or wait until its traces have been ingested.`;
    return { isAnomaly: false, cannotDetermine: true, service, endpoint, durationMs, bucket: { hour, dayType }, timeZone: 'Asia/Taipei', baseline: null, baselineAgeMs: null, baselineSource: null, fallbackLevel: 'none', threshold: null, thresholdDetail: null, explanation, reason: explanation };
  }
  const p95Term = 2 * k.p95;
  const madTerm = k.p50 + 10 * (k.mad ?? 0);
  const threshold = Math.max(p95Term, madTerm);
  const isAnomaly = durationMs > threshold;
  const explanation = `${durationMs} ms is ${isAnomaly ? 'above' : 'within'} ${Math.round(threshold)} ms = max(2.0 × p95 ${Math.round(k.p95)} ms, p50 ${Math.round(k.p50)} ms + 10 × MAD ${Math.round(k.mad ?? 0)} ms), learned from ${k.sampleCount} traces on ${dayType}s ${String(hour).padStart(2, '0')}:00–${String((hour + 1) % 24).padStart(2, '0')}:00 Asia/Taipei${isAnomaly ? `: anomalous (${(durationMs / k.p95).toFixed(1)}× the usual p95); look at what ${service} ${endpoint} was waiting on at that time.` : ': normal for this time.'}`;
  return {
    isAnomaly,
    service,
    endpoint,
    durationMs,
    bucket: { hour, dayType },
    timeZone: 'Asia/Taipei',
    baseline: { p50: k.p50, p95: k.p95, mad: k.mad ?? 0, sampleCount: k.sampleCount, updatedAt: k.updatedAt ?? NOW },
    baselineAgeMs: NOW - k.updatedAt,
    baselineSource: `${service}|${endpoint}|${hour}|${dayType}`,
    fallbackLevel: 'exact',
    threshold,
    thresholdDetail: { factor: 2, k: 10, p95Term, madTerm, madUsed: k.mad ?? 0, madFloorMs: 1, madFloorApplied: false },
    explanation,
    reason: explanation,
  };
}

// ------------------------------------------------------------------ routing

const json = (route: Route, status: number, body: unknown) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
const notFound = (route: Route, message: string) => json(route, 404, { error: 'not_found', message });

export interface MockApiOptions {
  /** A fresh server: no cluster, no domain, no baseline. */
  empty?: boolean;
  /**
   * Called as each request arrives; the answer waits for the promise it returns (a slow server, or
   * one held until the test says so). A request the page gave up on meanwhile is left unanswered.
   */
  answerWhen?: (url: URL) => Promise<void> | undefined;
}

/** Answer the SLO and anomaly routes with the demo fleet; everything else goes to the real server. */
export async function installMockApi(page: Page, opts: MockApiOptions = {}): Promise<void> {
  await page.route(
    (url) => /^\/(api\/v2\/slo|v1\/(available|baseline|anomaly)|api\/v1\/anomalies)/.test(url.pathname),
    async (route) => {
      const held = opts.answerWhen?.(new URL(route.request().url()));
      if (held) {
        await held;
        try {
          await answer(route, opts);
        } catch (err) {
          // The page aborted the request while it was held: nobody is left to answer.
          if (!/aborted|already handled|closed/i.test((err as Error).message)) throw err;
        }
        return;
      }
      await answer(route, opts);
    },
  );
}

async function answer(route: Route, opts: MockApiOptions): Promise<void> {
  const req = route.request();
  const url = new URL(req.url());
  const p = url.pathname;
  const tr = (url.searchParams.get('time_range') ?? '1d') as TimeRange;
  if (opts.empty) {
    if (p === '/api/v2/slo/clusters') return json(route, 200, { clusters: [] } satisfies ClustersResponse);
    if (p === '/api/v2/slo/domains') return json(route, 200, { ...domainsResponse(tr), cluster_id: null, domains: [], summary: { total_domains: 0, healthy_count: 0, warning_count: 0, critical_count: 0, unknown_count: 0, avg_availability: null, total_rps: 0 } });
    if (p === '/api/v2/slo/mesh/topology') return json(route, 200, { cluster_id: null, time_range: tr, generated_at: NOW, nodes: [], edges: [] });
    if (p === '/v1/available') return json(route, 200, { keys: [] });
    if (p === '/api/v1/anomalies') return json(route, 200, { anomalies: [] });
  }
  if (p === '/api/v2/slo/clusters')
    return json(route, 200, { clusters: [{ cluster_id: 'prod-tokyo', last_seen: Date.now() - 12_000, first_seen: NOW - SPAN['30d'] * 1000 }, { cluster_id: 'staging', last_seen: Date.now() - 3_600_000, first_seen: NOW - SPAN['7d'] * 1000 }] } satisfies ClustersResponse);
  if (p === '/api/v2/slo/domains') return json(route, 200, domainsResponse(tr));
  let m = /^\/api\/v2\/slo\/domains\/([^/]+)$/.exec(p);
  if (m) {
    const d = domainDetail(decodeURIComponent(m[1]), tr);
    return d ? json(route, 200, d) : notFound(route, `no domain ${decodeURIComponent(m[1])} in cluster prod-tokyo`);
  }
  if (p === '/api/v2/slo/targets') {
    if (req.method() === 'PUT') {
      const auth = req.headers()['authorization'];
      if (!auth) return json(route, 401, { error: 'unauthorized', message: 'this route needs a bearer token with role admin' });
      const body = req.postDataJSON() as { targets: SLOTarget[]; remove?: SLOTarget[] };
      const same = (a: SLOTarget, b: { scope: string; key: string; window: string }) => a.scope === b.scope && a.key === b.key && a.window === b.window;
      targets = targets.filter((t) => !(body.remove ?? []).some((r) => same(t, r)) && !body.targets.some((n) => same(t, n)));
      targets.push(...body.targets.map((t) => ({ ...t, updated_at: Date.now(), updated_by: 'admin' })));
    }
    return json(route, 200, { cluster_id: 'prod-tokyo', targets, defaults: DEFAULT_TARGET } satisfies TargetsResponse);
  }
  if (p === '/api/v2/slo/mesh/topology') return json(route, 200, meshTopology(tr));
  m = /^\/api\/v2\/slo\/mesh\/services\/([^/]+)\/([^/]+)$/.exec(p);
  if (m) {
    const s = meshService(decodeURIComponent(m[1]), decodeURIComponent(m[2]), tr);
    return s ? json(route, 200, s) : notFound(route, `no service ${m[1]}/${m[2]}`);
  }
  if (p === '/v1/available') return json(route, 200, available());
  if (p === '/api/v1/anomalies') return json(route, 200, anomalies());
  if (p === '/v1/anomaly/check' && req.method() === 'POST') return json(route, 200, check(req.postDataJSON() as AnomalyCheckRequest));
  return route.continue();
}
