/**
 * The agent → server wire contract (POST /api/v2/agent/snapshots), field names after seed 000/001.
 * Every count is a DELTA over the agent's last interval (Prometheus `increase` semantics), never a
 * cumulative counter, so the server can add snapshots without knowing about restarts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../platform/schemas.js';

/** Largest count or millisecond sum one snapshot may carry: sums of many stay exact and finite. */
export const MAX_SNAPSHOT_VALUE = 1e15;

/** Longest rule an agent ships (longer rules go without, as from an old agent). */
export const MAX_RULE_LENGTH = 4096;

/** A count or a millisecond sum: never negative, never so large that adding many loses precision. */
const Count = (description?: string) => Type.Number({ minimum: 0, maximum: MAX_SNAPSHOT_VALUE, ...(description ? { description } : {}) });
/** A Kubernetes name or namespace, or a service key / name that may become a domain (253). */
const Name = (minLength = 1) => Type.String({ minLength, maxLength: 253 });

/** A latency histogram in milliseconds with its exact bucket layout (never re-bucketed). */
export const LatencyHistogram = Type.Object({
  bounds: Type.Array(Type.Number(), { maxItems: 200, description: 'Finite upper bounds in ms, strictly increasing' }),
  counts: Type.Array(Count(), {
    maxItems: 201,
    description: 'Per-bucket (NOT cumulative) counts; length = bounds.length + 1, the last being (max bound, +Inf)',
  }),
  sum_ms: Count(),
  count: Count(),
});
export type LatencyHistogram = Static<typeof LatencyHistogram>;

export const ServiceRequests = Type.Object({
  status_code: Type.String({ maxLength: 8 }),
  classification: Type.String({ maxLength: 32, description: "Linkerd's classification: 'success' | 'failure' (mesh failure = 5xx, not 4xx)" }),
  count: Count(),
});
export type ServiceRequests = Static<typeof ServiceRequests>;

export const ServiceMetrics = Type.Object({
  namespace: Name(),
  name: Name(),
  requests: Type.Array(ServiceRequests),
  tls_requests: Count('Requests over mTLS (Linkerd `tls="true"`)'),
  latency: LatencyHistogram,
});
export type ServiceMetrics = Static<typeof ServiceMetrics>;

export const EdgeMetrics = Type.Object({
  src_namespace: Name(),
  src_name: Name(),
  dst_namespace: Name(),
  dst_name: Name(),
  requests: Count(),
  failures: Count(),
  latency: LatencyHistogram,
});
export type EdgeMetrics = Static<typeof EdgeMetrics>;

export const IngressRequests = Type.Object({
  code: Type.String({ maxLength: 8 }),
  method: Type.String({ maxLength: 16 }),
  count: Count(),
});
export type IngressRequests = Static<typeof IngressRequests>;

export const IngressMetrics = Type.Object({
  service_key: Type.String({ minLength: 1, maxLength: 253, description: 'The Traefik `service` label, e.g. `default-web-6b204d94623b3df4370c@kubernetescrd`' }),
  requests: Type.Array(IngressRequests),
  latency: LatencyHistogram,
});
export type IngressMetrics = Static<typeof IngressMetrics>;

/**
 * One (domain, path) an ingress route serves (seed 001 IngressRouteInfo). A route may come without a
 * host or path (the server falls back to its service name and "/"). `router` … `entry_points` are
 * what `vigil routes match` and GET /api/v2/slo/routes/match need to tell which router serves a URL
 * (agents before these fields send none; the server then says so).
 */
export const RouteInfo = Type.Object({
  name: Type.Optional(Name(0)),
  namespace: Type.Optional(Name(0)),
  domain: Name(0),
  path_prefix: Type.String({ maxLength: 1024 }),
  service_key: Name(),
  service_name: Type.Optional(Name(0)),
  service_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  tls: Type.Optional(Type.Boolean()),
  router: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'The router name with its provider (`…@kubernetescrd`), which orders routers of equal priority' })),
  rule: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_RULE_LENGTH })),
  syntax: Type.Optional(StringEnum(['v2', 'v3'])),
  priority: Type.Optional(Type.Integer({ description: "Explicit router priority; absent or 0 = the rule's length" })),
  entry_points: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 32, description: 'Entry points the router listens on; empty = all' })),
});
export type RouteInfo = Static<typeof RouteInfo>;

/** The body of POST /api/v2/agent/snapshots; the server validates every body against it (and histograms' shape in code). */
export const Snapshot = Type.Object({
  cluster_id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
  agent_id: Type.String({ minLength: 1, maxLength: 128 }),
  seq: Type.Integer({ minimum: 0, description: 'Monotonic per agent; (cluster_id, agent_id, seq) is the idempotency key' }),
  timestamp: Type.Integer({ minimum: 0, description: 'End of the interval the deltas cover, epoch ms' }),
  services: Type.Array(ServiceMetrics),
  edges: Type.Array(EdgeMetrics),
  ingress: Type.Array(IngressMetrics),
  routes: Type.Array(RouteInfo),
});
export type Snapshot = Static<typeof Snapshot>;

/**
 * Checks a JSON-schema-valid histogram is also consistent: bounds increasing, counts one longer,
 * count equal to the bucket total. Returns the offending field path or null.
 */
export function histogramProblem(h: LatencyHistogram, at: string): string | null {
  if (h.counts.length !== h.bounds.length + 1) return `${at}.counts must have bounds.length + 1 entries`;
  for (let i = 1; i < h.bounds.length; i++) if (!(h.bounds[i] > h.bounds[i - 1])) return `${at}.bounds must be strictly increasing`;
  let total = 0;
  for (const c of h.counts) total += c;
  if (Math.abs(total - h.count) > 1e-6 * Math.max(1, h.count)) return `${at}.count must equal the sum of counts`;
  return null;
}
