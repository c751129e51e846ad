/**
 * Deterministic synthetic snapshots for tests and benchmarks (no I/O). A fleet of `services` mesh
 * services, `edges` caller → callee edges and `routes` ingress routes over `domains` domains; each
 * call with a different seq gives different (seeded) counts.
 */
import type { LatencyHistogram, Snapshot } from '../../src/slo/snapshot.js';
import { seededRandom } from '../../src/simulate/random.js';

export const DEFAULT_BOUNDS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export interface FleetShape {
  cluster: string;
  agent?: string;
  services: number;
  edges: number;
  routes: number;
  /** Domains the routes spread over (default routes / 5, at least 1). */
  domains?: number;
  bounds?: number[];
}

/** The seeded generator (mulberry32) of the simulator, so tests and benches share one. */
export const rng: (seed: number) => () => number = seededRandom;

export function histogram(rand: () => number, total: number, bounds: number[]): LatencyHistogram {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  let sum = 0;
  for (let i = 0; i < total; i++) {
    // Mostly fast, a tail of slow ones.
    const r = rand();
    const b = Math.min(bounds.length, Math.floor(r * r * r * (bounds.length + 1)));
    counts[b]++;
    const hi = b < bounds.length ? bounds[b] : bounds[bounds.length - 1] * 2;
    const lo = b === 0 ? 0 : bounds[b - 1];
    sum += lo + (hi - lo) * 0.5;
  }
  return { bounds: [...bounds], counts, sum_ms: sum, count: total };
}

/** A histogram with `total` requests without simulating each one (for large counts). */
export function fastHistogram(rand: () => number, total: number, bounds: number[]): LatencyHistogram {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  let left = total;
  let sum = 0;
  for (let b = 0; b <= bounds.length && left > 0; b++) {
    const n = b === bounds.length ? left : Math.min(left, Math.round(left * (0.35 + rand() * 0.3)));
    counts[b] = n;
    left -= n;
    const hi = b < bounds.length ? bounds[b] : bounds[bounds.length - 1] * 2;
    const lo = b === 0 ? 0 : bounds[b - 1];
    sum += n * (lo + (hi - lo) / 2);
  }
  return { bounds: [...bounds], counts, sum_ms: sum, count: total };
}

export const domainName = (i: number) => `d${i}.example.com`;
export const pathName = (j: number) => (j === 0 ? '/' : `/p${j}`);

/** One snapshot of the fleet at `timestamp` with sequence number `seq`. */
export function fleetSnapshot(shape: FleetShape, seq: number, timestamp: number): Snapshot {
  const rand = rng(seq * 7919 + 17);
  const bounds = shape.bounds ?? DEFAULT_BOUNDS;
  const domains = shape.domains ?? Math.max(1, Math.floor(shape.routes / 5));
  const svc = (i: number) => ({ namespace: `ns${i % 10}`, name: `svc${i}` });
  const services = Array.from({ length: shape.services }, (_, i) => {
    const ok = 20 + Math.floor(rand() * 100);
    const bad = rand() < 0.2 ? Math.floor(rand() * 3) : 0;
    return {
      ...svc(i),
      requests: [
        { status_code: '200', classification: 'success', count: ok },
        ...(bad ? [{ status_code: '503', classification: 'failure', count: bad }] : []),
      ],
      tls_requests: ok + bad - (i % 3 === 0 ? 1 : 0),
      latency: fastHistogram(rand, ok + bad, bounds),
    };
  });
  const edges = Array.from({ length: shape.edges }, (_, k) => {
    const src = svc(k % Math.max(1, shape.services));
    const dst = svc((k * 7 + 1 + Math.floor(k / Math.max(1, shape.services))) % Math.max(1, shape.services));
    const n = 5 + Math.floor(rand() * 50);
    return {
      src_namespace: src.namespace,
      src_name: `${src.name}-c${Math.floor(k / Math.max(1, shape.services))}`,
      dst_namespace: dst.namespace,
      dst_name: dst.name,
      requests: n,
      failures: rand() < 0.1 ? 1 : 0,
      latency: fastHistogram(rand, n, bounds),
    };
  });
  const routes = Array.from({ length: shape.routes }, (_, r) => {
    const d = r % domains;
    const j = Math.floor(r / domains);
    const s = svc(r % Math.max(1, shape.services));
    return {
      name: `ir-${r}`,
      namespace: s.namespace,
      domain: domainName(d),
      path_prefix: pathName(j),
      service_key: `${s.namespace}-ir-${r}-abcdef0123@kubernetescrd`,
      service_name: s.name,
      service_port: 80,
      tls: r % 2 === 0,
    };
  });
  const ingress = routes.map((rt) => {
    const ok = 50 + Math.floor(rand() * 200);
    const bad = rand() < 0.3 ? Math.floor(rand() * 4) : 0;
    return {
      service_key: rt.service_key,
      requests: [
        { code: '200', method: 'GET', count: ok },
        ...(bad ? [{ code: '502', method: 'GET', count: bad }] : []),
      ],
      latency: fastHistogram(rand, ok + bad, bounds),
    };
  });
  return { cluster_id: shape.cluster, agent_id: shape.agent ?? 'agent-1', seq, timestamp, services, edges, ingress, routes };
}

/** Totals a snapshot carries, to compare with what the API answers. */
export function snapshotTotals(s: Snapshot) {
  let ingress = 0;
  let ingressFailures = 0;
  for (const i of s.ingress)
    for (const r of i.requests) {
      ingress += r.count;
      if (r.code.startsWith('5')) ingressFailures += r.count;
    }
  let services = 0;
  for (const x of s.services) for (const r of x.requests) services += r.count;
  let edges = 0;
  for (const e of s.edges) edges += e.requests;
  return { ingress, ingressFailures, services, edges };
}
