/**
 * Sums per-series deltas into the snapshot's three views (pure):
 *  - service (namespace/name, inbound mesh traffic): requests by status code and classification,
 *    mTLS requests, latency;
 *  - edge (src → dst, outbound mesh traffic): requests, failures (classification="failure"), latency;
 *  - ingress (Traefik service label, or an ingress-nginx ingress): requests by code and method, latency.
 */
import type { EdgeMetrics, IngressMetrics, RouteInfo, ServiceMetrics } from '../snapshot.js';
import { HistogramAccumulator } from './histogram.js';

export interface ServiceAgg {
  namespace: string;
  name: string;
  /** `${status_code}\u0000${classification}` → count */
  requests: Map<string, number>;
  tls: number;
  latency: HistogramAccumulator;
}

export interface EdgeAgg {
  srcNamespace: string;
  srcName: string;
  dstNamespace: string;
  dstName: string;
  requests: number;
  failures: number;
  latency: HistogramAccumulator;
}

export interface IngressAgg {
  key: string;
  /** `${code}\u0000${method}` → count */
  requests: Map<string, number>;
  latency: HistogramAccumulator;
}

export class Aggregator {
  readonly services = new Map<string, ServiceAgg>();
  readonly edges = new Map<string, EdgeAgg>();
  /** Ingress from Traefik service-level families, ingress-nginx, and router-level families (kept apart). */
  readonly ingress = new Map<string, IngressAgg>();
  readonly routerIngress = new Map<string, IngressAgg>();
  /** Routes learnt from metrics themselves (ingress-nginx carries host and path labels). */
  readonly metricRoutes = new Map<string, RouteInfo>();

  service(namespace: string, name: string): ServiceAgg {
    const key = namespace + '/' + name;
    let s = this.services.get(key);
    if (!s) {
      s = { namespace, name, requests: new Map(), tls: 0, latency: new HistogramAccumulator() };
      this.services.set(key, s);
    }
    return s;
  }

  edge(srcNamespace: string, srcName: string, dstNamespace: string, dstName: string): EdgeAgg {
    const key = srcNamespace + '/' + srcName + '\u0000' + dstNamespace + '/' + dstName;
    let e = this.edges.get(key);
    if (!e) {
      e = { srcNamespace, srcName, dstNamespace, dstName, requests: 0, failures: 0, latency: new HistogramAccumulator() };
      this.edges.set(key, e);
    }
    return e;
  }

  ingressOf(key: string, router = false): IngressAgg {
    const map = router ? this.routerIngress : this.ingress;
    let i = map.get(key);
    if (!i) {
      i = { key, requests: new Map(), latency: new HistogramAccumulator() };
      map.set(key, i);
    }
    return i;
  }

  /** Merge another aggregator (one target's) into this one. */
  merge(o: Aggregator): void {
    for (const s of o.services.values()) {
      const t = this.service(s.namespace, s.name);
      for (const [k, v] of s.requests) t.requests.set(k, (t.requests.get(k) ?? 0) + v);
      t.tls += s.tls;
      t.latency.merge(s.latency);
    }
    for (const e of o.edges.values()) {
      const t = this.edge(e.srcNamespace, e.srcName, e.dstNamespace, e.dstName);
      t.requests += e.requests;
      t.failures += e.failures;
      t.latency.merge(e.latency);
    }
    for (const [router, map] of [
      [false, o.ingress],
      [true, o.routerIngress],
    ] as const) {
      for (const i of map.values()) {
        const t = this.ingressOf(i.key, router);
        for (const [k, v] of i.requests) t.requests.set(k, (t.requests.get(k) ?? 0) + v);
        t.latency.merge(i.latency);
      }
    }
    for (const [k, r] of o.metricRoutes) this.metricRoutes.set(k, r);
  }

  build(): { services: ServiceMetrics[]; edges: EdgeMetrics[]; ingress: IngressMetrics[] } {
    const services: ServiceMetrics[] = [];
    for (const s of this.services.values()) {
      const requests = [];
      for (const [k, count] of s.requests) {
        const i = k.indexOf('\u0000');
        requests.push({ status_code: clip(k.slice(0, i), 8), classification: clip(k.slice(i + 1), 32), count });
      }
      requests.sort((a, b) => (a.status_code < b.status_code ? -1 : a.status_code > b.status_code ? 1 : a.classification < b.classification ? -1 : 1));
      services.push({ namespace: clip(s.namespace, 253), name: clip(s.name, 253), requests, tls_requests: s.tls, latency: s.latency.toLatency() });
    }
    const edges: EdgeMetrics[] = [];
    for (const e of this.edges.values()) {
      edges.push({
        src_namespace: clip(e.srcNamespace, 253),
        src_name: clip(e.srcName, 253),
        dst_namespace: clip(e.dstNamespace, 253),
        dst_name: clip(e.dstName, 253),
        requests: e.requests,
        failures: e.failures,
        latency: e.latency.toLatency(),
      });
    }
    const ingress: IngressMetrics[] = [];
    const emit = (i: IngressAgg) => {
      const requests = [];
      for (const [k, count] of i.requests) {
        const j = k.indexOf('\u0000');
        requests.push({ code: clip(k.slice(0, j), 8), method: clip(k.slice(j + 1), 16), count });
      }
      requests.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : a.method < b.method ? -1 : 1));
      ingress.push({ service_key: clip(i.key, 512), requests, latency: i.latency.toLatency() });
    };
    for (const i of this.ingress.values()) emit(i);
    // Router-level families count the same requests as service-level ones: use them only for
    // services no service-level family reported.
    for (const i of this.routerIngress.values()) if (!this.ingress.has(i.key)) emit(i);
    const byName = (a: { namespace: string; name: string }, b: { namespace: string; name: string }) =>
      a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : a.namespace < b.namespace ? -1 : 1;
    services.sort(byName);
    edges.sort((a, b) =>
      `${a.src_namespace}/${a.src_name}>${a.dst_namespace}/${a.dst_name}` < `${b.src_namespace}/${b.src_name}>${b.dst_namespace}/${b.dst_name}` ? -1 : 1,
    );
    ingress.sort((a, b) => (a.service_key < b.service_key ? -1 : 1));
    return { services, edges, ingress };
  }
}

/** Values longer than the wire schema allows are cut, so one odd label cannot get a whole snapshot refused. */
function clip(v: string, max: number): string {
  return v.length <= max ? v : v.slice(0, max);
}

export const requestKey = (a: string, b: string): string => a + '\u0000' + b;
