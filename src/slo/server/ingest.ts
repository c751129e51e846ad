/**
 * Turning a snapshot into rows (no I/O): validation beyond the JSON schema, route mappings, and the
 * raw rows of services, edges and ingress routes. Ingress rows are resolved to (domain, path_prefix)
 * by the repository, which can also consult the mappings stored from earlier snapshots.
 */
import { histogramProblem, type LatencyHistogram, type RouteInfo, type Snapshot } from '../snapshot.js';
import { boundsKey } from '../math/histogram.js';
import { MINUTE, floorTo } from '../math/time.js';
import type { MetricRow } from './tables.js';

export interface SnapshotProblem {
  field: string;
  message: string;
}

export interface ValidateLimits {
  now: number;
  /** Refuse timestamps further in the future than this (clock skew allowance). */
  maxFutureMs: number;
  /** Refuse timestamps older than this (their data would be deleted by retention at once). */
  maxAgeMs: number;
}

/**
 * What the JSON schema cannot say: histogram consistency (src/slo/snapshot.ts histogramProblem) and a
 * plausible timestamp. Returns the first problem, naming its field (`services[3].latency.counts`).
 */
export function snapshotProblem(s: Snapshot, limits: ValidateLimits): SnapshotProblem | null {
  if (s.timestamp > limits.now + limits.maxFutureMs) {
    return { field: 'timestamp', message: `timestamp ${s.timestamp} is more than ${limits.maxFutureMs / 1000} s in the future (check the agent's clock)` };
  }
  if (s.timestamp < limits.now - limits.maxAgeMs) {
    return { field: 'timestamp', message: `timestamp ${s.timestamp} is older than the hourly retention; the data would be deleted at once` };
  }
  const check = (h: LatencyHistogram, at: string): SnapshotProblem | null => {
    for (const b of h.bounds) if (!Number.isFinite(b)) return { field: `${at}.bounds`, message: `${at}.bounds must be finite numbers` };
    const p = histogramProblem(h, at);
    if (!p) return null;
    const field = p.split(' ')[0];
    return { field, message: p };
  };
  for (const [i, x] of s.services.entries()) {
    const p = check(x.latency, `services[${i}].latency`);
    if (p) return p;
  }
  for (const [i, x] of s.edges.entries()) {
    const p = check(x.latency, `edges[${i}].latency`);
    if (p) return p;
  }
  for (const [i, x] of s.ingress.entries()) {
    const p = check(x.latency, `ingress[${i}].latency`);
    if (p) return p;
  }
  return null;
}

/** `default-web-80@kubernetes` → `default-web-80`: the name an unmapped Traefik service keeps. */
export function serviceNameOfKey(serviceKey: string): string {
  const at = serviceKey.lastIndexOf('@');
  return at > 0 ? serviceKey.slice(0, at) : serviceKey;
}

export interface MappingRow {
  cluster_id: string;
  domain: string;
  path_prefix: string;
  ingress_name: string;
  namespace: string;
  tls: number;
  service_key: string;
  service_name: string;
  service_port: number;
  first_seen: number;
  last_seen: number;
}

/**
 * Route mappings of a snapshot, one per (domain, path_prefix) (the last wins). A route without a host
 * falls back to its service name as the domain; a missing path is "/".
 */
export function mappingRows(s: Snapshot): MappingRow[] {
  const byKey = new Map<string, MappingRow>();
  for (const r of s.routes) {
    const m = mappingOf(s.cluster_id, r, s.timestamp);
    byKey.set(`${m.domain}\u0000${m.path_prefix}`, m);
  }
  return [...byKey.values()].sort((a, b) => (a.domain === b.domain ? cmp(a.path_prefix, b.path_prefix) : cmp(a.domain, b.domain)));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function mappingOf(cluster: string, r: RouteInfo, ts: number): MappingRow {
  const serviceName = r.service_name || serviceNameOfKey(r.service_key);
  return {
    cluster_id: cluster,
    domain: r.domain || serviceName,
    path_prefix: r.path_prefix || '/',
    ingress_name: r.name ?? '',
    namespace: r.namespace ?? '',
    tls: r.tls ? 1 : 0,
    service_key: r.service_key,
    service_name: serviceName,
    service_port: r.service_port ?? 0,
    first_seen: ts,
    last_seen: ts,
  };
}

/** Linkerd marks each response class; a row without a known class counts 5xx as failures. */
/** JSON text of a code → count object (faster than JSON.stringify for objects with numeric-like keys). */
function codesJson(codes: Map<string, number>): string {
  let out = '{';
  for (const [k, v] of codes) out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${v}`;
  return out + '}';
}

function isFailure(classification: string, code: string): boolean {
  if (classification === 'failure') return true;
  if (classification === 'success') return false;
  return code.startsWith('5');
}

export interface PreparedRows {
  minute: number;
  services: MetricRow[];
  edges: MetricRow[];
  /** Ingress rows before resolution: domain/path_prefix empty, service_key set. */
  ingress: MetricRow[];
  routes: MappingRow[];
}

/**
 * Raw rows of a (valid) snapshot; snap_id is filled in by the repository. Rows are built as plain
 * literals with one fixed property order (no spreads): V8 keeps them in fast mode, which matters at
 * thousands of rows per snapshot.
 */
export function prepareRows(s: Snapshot): PreparedRows {
  const minute = floorTo(s.timestamp, MINUTE);
  const cluster = s.cluster_id;
  const services = s.services.map((x): MetricRow => {
    let requests = 0;
    let failures = 0;
    const codes = new Map<string, number>();
    for (const r of x.requests) {
      requests += r.count;
      if (isFailure(r.classification, r.status_code)) failures += r.count;
      const code = r.status_code || 'unknown';
      codes.set(code, (codes.get(code) ?? 0) + r.count);
    }
    return {
      snap_id: 0,
      cluster_id: cluster,
      ts: minute,
      namespace: x.namespace,
      name: x.name,
      requests,
      failures,
      tls_requests: x.tls_requests,
      codes: codesJson(codes),
      lat_bounds: boundsKey(x.latency.bounds),
      lat_counts: JSON.stringify(x.latency.counts),
      lat_sum: x.latency.sum_ms,
    };
  });
  const edges = s.edges.map(
    (x): MetricRow => ({
      snap_id: 0,
      cluster_id: cluster,
      ts: minute,
      src_namespace: x.src_namespace,
      src_name: x.src_name,
      dst_namespace: x.dst_namespace,
      dst_name: x.dst_name,
      requests: x.requests,
      failures: x.failures,
      tls_requests: 0,
      codes: null,
      lat_bounds: boundsKey(x.latency.bounds),
      lat_counts: JSON.stringify(x.latency.counts),
      lat_sum: x.latency.sum_ms,
    }),
  );
  const ingress = s.ingress.map((x): MetricRow => {
    let requests = 0;
    let failures = 0;
    const codes = new Map<string, number>();
    for (const r of x.requests) {
      requests += r.count;
      if (r.code.startsWith('5')) failures += r.count;
      const code = r.code || 'unknown';
      codes.set(code, (codes.get(code) ?? 0) + r.count);
    }
    return {
      snap_id: 0,
      cluster_id: cluster,
      ts: minute,
      domain: '',
      path_prefix: '',
      service_key: x.service_key,
      service_name: '',
      requests,
      failures,
      tls_requests: 0,
      codes: codesJson(codes),
      lat_bounds: boundsKey(x.latency.bounds),
      lat_counts: JSON.stringify(x.latency.counts),
      lat_sum: x.latency.sum_ms,
    };
  });
  return { minute, services, edges, ingress, routes: mappingRows(s) };
}

/**
 * Resolves ingress rows in place: a row takes the mapping of its service key (the snapshot's own
 * routes first, then `stored`); several routes on one Traefik service get its traffic attributed to the
 * first by (domain, path_prefix), so nothing is counted twice. Unmapped rows keep their service name as
 * the domain, path "/".
 */
export function resolveIngress(rows: MetricRow[], snapshotRoutes: MappingRow[], stored: Map<string, MappingRow>): void {
  const own = new Map<string, MappingRow>();
  for (const m of snapshotRoutes) if (!own.has(m.service_key)) own.set(m.service_key, m); // sorted: first wins
  for (const r of rows) {
    const key = r.service_key as string;
    const m = own.get(key) ?? stored.get(key);
    if (m) {
      r.domain = m.domain;
      r.path_prefix = m.path_prefix;
      r.service_name = m.service_name;
    } else {
      const name = serviceNameOfKey(key);
      r.domain = name;
      r.path_prefix = '/';
      r.service_name = name;
    }
  }
}
