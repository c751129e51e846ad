/**
 * The demo fleet's traffic engine (pure, deterministic): one step is one simulated second. Every step
 * draws ingress requests per route (diurnal rate), propagates them through the call graph, splits them
 * into status codes (baseline error ratios plus error bursts) and latency buckets (log-normal, with
 * latency shifts), and adds them to the cumulative counters each proxy / Traefik would expose — and to
 * the ground truth, which a reliability test compares with what the server computed.
 *
 * Counters are internally consistent: a request counted inbound at a pod is counted outbound at its
 * caller's pod (same status code and buckets) and, for ingress traffic, by Traefik. Everything depends
 * only on the seed, the start time and the number of steps taken.
 */
import {
  buildPods,
  CALLS,
  INGRESS_DEPLOYMENT,
  INGRESS_NAMESPACE,
  LINKERD_BOUNDS,
  MONITORING_NAMESPACE,
  ROUTES,
  routeServiceKey,
  routerName,
  SERVICE_ORDER,
  SERVICES,
  TRAEFIK_BOUNDS_S,
  UNMESHED_CALLS,
  type PodDef,
  type RouteDef,
  type ServiceDef,
} from './model.js';
import { hash32, logNormalCdf, Rng } from './random.js';

export interface Histo {
  /** Finite bounds in ms. */
  bounds: number[];
  /** Per-bucket counts (bounds.length + 1). */
  counts: number[];
  sum_ms: number;
  count: number;
}

export interface ServiceTruth {
  namespace: string;
  name: string;
  /** Inbound application requests (probes and admin-port traffic excluded). */
  requests: number;
  /** 5xx (Linkerd classification="failure"). */
  failures: number;
  byStatus: Record<string, number>;
  /** Requests over mTLS (from meshed callers). */
  tlsRequests: number;
  latency: Histo;
}

export interface EdgeTruth {
  src: string;
  dst: string;
  requests: number;
  failures: number;
  latency: Histo;
}

export interface IngressTruth {
  serviceKey: string;
  router: string;
  domain: string;
  path: string;
  service: string;
  namespace: string;
  requests: number;
  /** 5xx */
  errors: number;
  byCode: Record<string, number>;
  byMethod: Record<string, number>;
  /** Milliseconds (Traefik's seconds × 1000). */
  latency: Histo;
}

/** Cumulative totals since the fleet started (restarts of targets do not reset them). */
export interface FleetTruth {
  seed: number;
  steps: number;
  /** Simulated epoch ms reached. */
  time: number;
  services: Record<string, ServiceTruth>;
  edges: Record<string, EdgeTruth>;
  ingress: Record<string, IngressTruth>;
}

/** One Linkerd series (without status labels) and its status. */
export interface MeshSeries {
  labels: string;
  status: string;
  classification: string;
  count: number;
  buckets: Float64Array;
  sum: number;
}

export interface TraefikSeries {
  service: string;
  router: string;
  code: string;
  method: string;
  count: number;
  buckets: Float64Array;
  /** seconds */
  sum: number;
}

export interface PodState {
  def: PodDef;
  /** Epoch seconds of the proxy's start. */
  startTime: number;
  /** Insertion-ordered; a series appears on its first request, like a real client library. */
  series: Map<string, MeshSeries>;
}

export interface TraefikState {
  startTime: number;
  series: Map<string, TraefikSeries>;
  entrypoints: Map<string, { entrypoint: string; code: string; method: string; count: number }>;
}

const NB = LINKERD_BOUNDS.length + 1;
const TRAEFIK_BOUNDS_MS = TRAEFIK_BOUNDS_S.map((s) => Math.round(s * 1e6) / 1e3);
const TB = TRAEFIK_BOUNDS_MS.length + 1;

function newHisto(bounds: number[]): Histo {
  return { bounds: bounds.slice(), counts: new Array(bounds.length + 1).fill(0), sum_ms: 0, count: 0 };
}

const idOf = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

export class FleetEngine {
  readonly seed: number;
  readonly startTime: number;
  readonly pods: PodDef[];
  readonly podStates = new Map<string, PodState>();
  readonly traefik: TraefikState;
  private stepsTaken = 0;
  private readonly services = new Map<string, ServiceDef>();
  private readonly podsOf = new Map<string, PodState[]>();
  private readonly ingressPod: PodState;
  private readonly monitorPod: PodState;
  private readonly truthServices = new Map<string, ServiceTruth>();
  private readonly truthEdges = new Map<string, EdgeTruth>();
  private readonly truthIngress = new Map<string, IngressTruth>();
  private readonly routeKeys: { route: RouteDef; key: string; router: string }[];
  private readonly cdfCache = new Map<string, Float64Array>();
  private readonly inboundLabels = new Map<string, string>();
  private readonly outboundLabels = new Map<string, string>();

  constructor(opts: { seed: number; startTime?: number }) {
    this.seed = opts.seed;
    this.startTime = Math.floor((opts.startTime ?? Date.now()) / 1000) * 1000;
    this.pods = buildPods(opts.seed);
    const rng = new Rng(hash32(opts.seed, 'uptime'));
    for (const p of this.pods) {
      // Proxies have been up for a few hours to a few days.
      const st: PodState = { def: p, startTime: Math.floor(this.startTime / 1000 - 3600 * (2 + rng.next() * 70)), series: new Map() };
      this.podStates.set(p.pod, st);
      const id = `${p.namespace}/${p.deployment}`;
      const list = this.podsOf.get(id) ?? [];
      list.push(st);
      this.podsOf.set(id, list);
    }
    for (const s of SERVICES) {
      this.services.set(idOf(s), s);
      this.truthServices.set(idOf(s), {
        namespace: s.namespace,
        name: s.name,
        requests: 0,
        failures: 0,
        byStatus: {},
        tlsRequests: 0,
        latency: newHisto(LINKERD_BOUNDS),
      });
    }
    this.ingressPod = this.podsOf.get(`${INGRESS_NAMESPACE}/${INGRESS_DEPLOYMENT}`)![0];
    this.monitorPod = this.podsOf.get(`${MONITORING_NAMESPACE}/prometheus`)![0];
    this.traefik = { startTime: this.ingressPod.startTime + 3, series: new Map(), entrypoints: new Map() };
    this.routeKeys = ROUTES.map((route) => ({ route, key: routeServiceKey(route), router: routerName(route) }));
    for (const { route, key, router } of this.routeKeys) {
      this.truthIngress.set(key, {
        serviceKey: key,
        router,
        domain: route.domain,
        path: route.path,
        service: route.service,
        namespace: route.namespace,
        requests: 0,
        errors: 0,
        byCode: {},
        byMethod: {},
        latency: newHisto(TRAEFIK_BOUNDS_MS),
      });
    }
  }

  get steps(): number {
    return this.stepsTaken;
  }

  /** Simulated epoch ms reached (start of the next step). */
  get now(): number {
    return this.startTime + this.stepsTaken * 1000;
  }

  /** Advance by `n` simulated seconds. */
  run(n: number): void {
    for (let i = 0; i < n; i++) this.step();
  }

  /** Reset a target's counters as a process restart would: a pod name, or `traefik` for Traefik itself. */
  restart(target: string): void {
    const nowSec = Math.floor(this.now / 1000);
    if (target === 'traefik') {
      this.traefik.series.clear();
      this.traefik.entrypoints.clear();
      this.traefik.startTime = nowSec;
      return;
    }
    const p = this.podStates.get(target);
    if (!p) throw new Error(`no such target: ${target}`);
    p.series.clear();
    p.startTime = nowSec;
  }

  truth(): FleetTruth {
    const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
    return {
      seed: this.seed,
      steps: this.stepsTaken,
      time: this.now,
      services: clone(Object.fromEntries(this.truthServices)),
      edges: clone(Object.fromEntries(this.truthEdges)),
      ingress: clone(Object.fromEntries(this.truthIngress)),
    };
  }

  /** Error ratio and latency factor of a service at simulated time t (s): bursts and shifts by window. */
  conditions(svc: ServiceDef, t: number): { errorRate: number; latencyFactor: number } {
    const id = idOf(svc);
    const w5 = Math.floor(t / 300);
    const b = hash32(this.seed, 'burst', id, w5) / 4294967296;
    // Rare, moderate bursts: most services meet a 99.9% target most hours, a few visibly do not.
    const errorRate = b < 0.01 ? 0.02 + 0.08 * (hash32(this.seed, 'burst-size', id, w5) / 4294967296) : svc.errorRate;
    const w10 = Math.floor(t / 600);
    const l = hash32(this.seed, 'shift', id, w10) / 4294967296;
    const latencyFactor = l < 0.12 ? 2 + Math.floor(4 * (hash32(this.seed, 'shift-size', id, w10) / 4294967296)) / 2 : 1;
    return { errorRate, latencyFactor };
  }

  private step(): void {
    const k = this.stepsTaken;
    const t = this.startTime / 1000 + k;
    const rng = new Rng(hash32(this.seed, 'step', k));
    const hour = (t / 3600) % 24;
    const diurnal = 1 + 0.45 * Math.sin((2 * Math.PI * (hour - 9)) / 24);
    const inbound = new Map<string, number>();
    const cond = new Map<string, { errorRate: number; latencyFactor: number }>();
    for (const s of SERVICES) cond.set(idOf(s), this.conditions(s, t));

    // Ingress traffic: Traefik → backend.
    for (const { route, key, router } of this.routeKeys) {
      const n = rng.poisson(route.rps * diurnal);
      if (n === 0) continue;
      const svc = this.services.get(`${route.namespace}/${route.service}`)!;
      let left = n;
      route.methods.forEach(([method, w], i) => {
        const total = route.methods.slice(i).reduce((a, [, x]) => a + x, 0);
        const m = i === route.methods.length - 1 ? left : rng.binomial(left, w / total);
        left -= m;
        if (m > 0) this.deliver(rng, k, [this.ingressPod], svc, m, cond.get(idOf(svc))!, inbound, { route, key, router, method });
      });
    }
    // Unmeshed clients.
    for (const u of UNMESHED_CALLS) {
      const n = rng.poisson(u.rps * diurnal);
      const svc = this.services.get(u.to)!;
      if (n > 0) this.deliver(rng, k, undefined, svc, n, cond.get(u.to)!, inbound, undefined);
    }
    // The call graph, callers first.
    for (const id of SERVICE_ORDER) {
      const nIn = inbound.get(id) ?? 0;
      if (nIn === 0) continue;
      const callerPods = this.podsOf.get(id)!;
      for (const c of CALLS) {
        if (c.from !== id) continue;
        const n = rng.poisson(nIn * c.perRequest);
        if (n > 0) this.deliver(rng, k, callerPods, this.services.get(c.to)!, n, cond.get(c.to)!, inbound, undefined);
      }
    }
    // Every 10 s: kubelet probes on the app port (route_name="probe") and Prometheus scraping the
    // proxies' admin port 4191 from linkerd-viz. Neither is application traffic.
    if (k % 10 === 0) {
      for (const p of this.podStates.values()) {
        const svc = this.services.get(`${p.def.namespace}/${p.def.deployment}`);
        if (svc) this.addMesh(p, this.probeLabels(p.def, svc), '200', 2, this.cdf(2, 0.3, LINKERD_BOUNDS), 0.5, 4);
        if (p !== this.monitorPod) {
          const cdf = this.cdf(1.5, 0.3, LINKERD_BOUNDS);
          this.addMesh(p, adminInboundLabels(), '200', 1, cdf, 0.3, 1.6);
          this.addMesh(this.monitorPod, this.outLabels(p.def, 4191), '200', 1, cdf, 0.3, 2.1);
        }
      }
    }
    this.stepsTaken++;
  }

  /**
   * n requests from `callers` (undefined = unmeshed client) to `svc`: split into status codes and
   * callee pods, counted inbound (callee), outbound (caller), by Traefik (ingress) and in the truth.
   */
  private deliver(
    rng: Rng,
    k: number,
    callers: PodState[] | undefined,
    svc: ServiceDef,
    n: number,
    cond: { errorRate: number; latencyFactor: number },
    inbound: Map<string, number>,
    ingress: { route: RouteDef; key: string; router: string; method: string } | undefined,
  ): void {
    const id = idOf(svc);
    inbound.set(id, (inbound.get(id) ?? 0) + n);
    const write = ingress !== undefined && ingress.method !== 'GET';
    const n5 = rng.binomial(n, cond.errorRate);
    const n503 = rng.binomial(n5, 0.35);
    const n4 = rng.binomial(n - n5, svc.clientErrorRate);
    const ok = n - n5 - n4;
    const codes: [string, number][] = [
      [write && ingress?.method === 'POST' ? '201' : '200', ok],
      [write ? '422' : '404', n4],
      ['500', n5 - n503],
      ['503', n503],
    ];
    const calleePods = this.podsOf.get(id)!;
    const median = svc.medianMs * cond.latencyFactor;
    const cdf = this.cdf(median, svc.sigma, LINKERD_BOUNDS);
    const meanMs = median * Math.exp((svc.sigma * svc.sigma) / 2);
    const callerId = callers ? `${callers[0].def.namespace}/${callers[0].def.deployment}` : undefined;
    const truthSvc = this.truthServices.get(id)!;
    const edgeKey = callerId ? `${callerId}->${id}` : undefined;
    let truthEdge: EdgeTruth | undefined;
    if (edgeKey) {
      truthEdge = this.truthEdges.get(edgeKey);
      if (!truthEdge) {
        truthEdge = { src: callerId!, dst: id, requests: 0, failures: 0, latency: newHisto(LINKERD_BOUNDS) };
        this.truthEdges.set(edgeKey, truthEdge);
      }
    }
    codes.forEach(([code, c], ci) => {
      if (c <= 0) return;
      const failure = code.startsWith('5');
      const classification = failure ? 'failure' : 'success';
      // Errors answer faster than successes.
      const codeCdf = failure ? this.cdf(Math.max(1, median / 3), svc.sigma, LINKERD_BOUNDS) : cdf;
      const codeMean = failure ? meanMs / 3 : meanMs;
      const per = splitEven(c, calleePods.length, k + ci);
      per.forEach((cp, pi) => {
        if (cp === 0) return;
        const callee = calleePods[pi];
        const buckets = spread(cp, codeCdf, rng.next());
        const sum = Math.max(0, cp * codeMean * (1 + 0.1 * rng.normal()));
        const caller = callers ? callers[(k + pi + ci) % callers.length] : undefined;
        this.addMeshBuckets(callee, this.inLabels(callee.def, svc, caller?.def), code, classification, cp, buckets, sum);
        if (caller) this.addMeshBuckets(caller, this.outLabels(callee.def, svc.port), code, classification, cp, buckets, sum + cp);
        // truth
        truthSvc.requests += cp;
        if (failure) truthSvc.failures += cp;
        truthSvc.byStatus[code] = (truthSvc.byStatus[code] ?? 0) + cp;
        if (caller) truthSvc.tlsRequests += cp;
        addHisto(truthSvc.latency, buckets, sum);
        if (truthEdge) {
          truthEdge.requests += cp;
          if (failure) truthEdge.failures += cp;
          addHisto(truthEdge.latency, buckets, sum + cp);
        }
      });
      if (ingress) {
        const tcdf = this.cdf((failure ? Math.max(1, median / 3) : median) + 2, svc.sigma, TRAEFIK_BOUNDS_MS);
        const tb = spread(c, tcdf, rng.next());
        const tsumMs = Math.max(0, c * (codeMean + 2) * (1 + 0.1 * rng.normal()));
        const skey = `${ingress.key}|${code}|${ingress.method}`;
        let ts = this.traefik.series.get(skey);
        if (!ts) {
          ts = { service: ingress.key, router: ingress.router, code, method: ingress.method, count: 0, buckets: new Float64Array(TB), sum: 0 };
          this.traefik.series.set(skey, ts);
        }
        ts.count += c;
        for (let i = 0; i < TB; i++) ts.buckets[i] += tb[i];
        ts.sum += tsumMs / 1000;
        const ep = ingress.route.tls ? 'websecure' : 'web';
        const ekey = `${ep}|${code}|${ingress.method}`;
        const e = this.traefik.entrypoints.get(ekey) ?? { entrypoint: ep, code, method: ingress.method, count: 0 };
        e.count += c;
        this.traefik.entrypoints.set(ekey, e);
        const ti = this.truthIngress.get(ingress.key)!;
        ti.requests += c;
        if (failure) ti.errors += c;
        ti.byCode[code] = (ti.byCode[code] ?? 0) + c;
        ti.byMethod[ingress.method] = (ti.byMethod[ingress.method] ?? 0) + c;
        addHisto(ti.latency, tb, tsumMs);
      }
    });
  }

  private addMesh(p: PodState, labels: string, code: string, n: number, cdf: Float64Array, u: number, sum: number): void {
    this.addMeshBuckets(p, labels, code, 'success', n, spread(n, cdf, u), sum);
  }

  private addMeshBuckets(p: PodState, labels: string, code: string, classification: string, n: number, buckets: ArrayLike<number>, sum: number): void {
    const key = labels + '|' + code;
    let s = p.series.get(key);
    if (!s) {
      s = { labels, status: code, classification, count: 0, buckets: new Float64Array(NB), sum: 0 };
      p.series.set(key, s);
    }
    s.count += n;
    for (let i = 0; i < NB; i++) s.buckets[i] += buckets[i];
    s.sum += sum;
  }

  private cdf(median: number, sigma: number, bounds: number[]): Float64Array {
    const key = `${median}|${sigma}|${bounds.length}`;
    let c = this.cdfCache.get(key);
    if (!c) {
      c = new Float64Array(bounds.length);
      for (let i = 0; i < bounds.length; i++) c[i] = logNormalCdf(bounds[i], median, sigma);
      this.cdfCache.set(key, c);
    }
    return c;
  }

  /** Inbound labels at a callee pod for traffic from `caller` (undefined = unmeshed client). */
  private inLabels(callee: PodDef, svc: ServiceDef, caller: PodDef | undefined): string {
    const key = `${callee.pod}|${caller ? caller.namespace + '/' + caller.deployment : '-'}`;
    let l = this.inboundLabels.get(key);
    if (!l) {
      const tls = caller
        ? `tls="true",client_id="${caller.deployment}.${caller.namespace}.serviceaccount.identity.linkerd.cluster.local"`
        : 'tls="no_identity",no_tls_reason="no_tls_from_remote"';
      l =
        `direction="inbound",target_addr="${callee.ip}:${svc.port}",target_ip="${callee.ip}",target_port="${svc.port}",${tls},` +
        'srv_kind="default",srv_name="all-unauthenticated",authz_kind="default",authz_name="all-unauthenticated",route_kind="default",route_name="default"';
      this.inboundLabels.set(key, l);
    }
    return l;
  }

  private probeLabels(p: PodDef, svc: ServiceDef): string {
    return (
      `direction="inbound",target_addr="${p.ip}:${svc.port}",target_ip="${p.ip}",target_port="${svc.port}",tls="no_identity",no_tls_reason="no_tls_from_remote",` +
      'srv_kind="default",srv_name="all-unauthenticated",authz_kind="default",authz_name="probe",route_kind="default",route_name="probe"'
    );
  }

  /** Outbound labels at a caller pod for traffic to one destination pod. */
  private outLabels(dst: PodDef, port: number): string {
    const key = `${dst.pod}|${port}`;
    let l = this.outboundLabels.get(key);
    if (!l) {
      const host = `${dst.deployment}.${dst.namespace}.svc.cluster.local:${port}`;
      l =
        `direction="outbound",authority="${host}",target_addr="${dst.ip}:${port}",target_ip="${dst.ip}",target_port="${port}",tls="true",` +
        `server_id="${dst.deployment}.${dst.namespace}.serviceaccount.identity.linkerd.cluster.local",dst_control_plane_ns="linkerd",` +
        `dst_deployment="${dst.deployment}",dst_namespace="${dst.namespace}",dst_pod="${dst.pod}",dst_pod_template_hash="${dst.templateHash}",` +
        `dst_serviceaccount="${dst.deployment}",dst_service="${dst.deployment}"`;
      this.outboundLabels.set(key, l);
    }
    return l;
  }
}

/** Labels of Prometheus' scrapes of the proxy admin port, as in a real proxy (linkerd2 test fixture). */
function adminInboundLabels(): string {
  return (
    'direction="inbound",target_addr="0.0.0.0:4191",target_ip="0.0.0.0",target_port="4191",tls="true",' +
    'client_id="prometheus.linkerd-viz.serviceaccount.identity.linkerd.cluster.local",srv_kind="default",srv_name="all-unauthenticated",' +
    'authz_kind="default",authz_name="all-unauthenticated"'
  );
}

/** Split n into `parts` near-equal integers; the remainder goes to rotating parts. */
export function splitEven(n: number, parts: number, rotate: number): number[] {
  const base = Math.floor(n / parts);
  const out = new Array<number>(parts).fill(base);
  let r = n - base * parts;
  for (let i = 0; r > 0; i++, r--) out[(rotate + i) % parts]++;
  return out;
}

/** Per-bucket counts of n observations following `cdf` (at the finite bounds), dithered by u ∈ [0,1). */
export function spread(n: number, cdf: Float64Array, u: number): number[] {
  const out = new Array<number>(cdf.length + 1);
  let prev = 0;
  for (let i = 0; i < cdf.length; i++) {
    const c = Math.min(n, Math.floor(n * cdf[i] + u));
    out[i] = c - prev;
    prev = c;
  }
  out[cdf.length] = n - prev;
  return out;
}

function addHisto(h: Histo, buckets: ArrayLike<number>, sum: number): void {
  let n = 0;
  for (let i = 0; i < h.counts.length; i++) {
    h.counts[i] += buckets[i];
    n += buckets[i];
  }
  h.count += n;
  h.sum_ms += sum;
}
