/**
 * The agent → server wire contract (POST /api/v2/agent/snapshots), field names after seed 000/001.
 * Every count is a DELTA over the agent's last interval (Prometheus `increase` semantics), never a
 * cumulative counter, so the server can add snapshots without knowing about restarts.
 */

/** A latency histogram in milliseconds with its exact bucket layout (never re-bucketed). */
export interface LatencyHistogram {
  /** Finite upper bounds in ms, strictly increasing. */
  bounds: number[];
  /** Per-bucket (NOT cumulative) counts; length = bounds.length + 1, the last being (max bound, +Inf). */
  counts: number[];
  sum_ms: number;
  count: number;
}

export interface ServiceRequests {
  status_code: string;
  /** Linkerd's classification: 'success' | 'failure' (mesh failure = 5xx, not 4xx). */
  classification: string;
  count: number;
}

export interface ServiceMetrics {
  namespace: string;
  name: string;
  requests: ServiceRequests[];
  /** Requests over mTLS (Linkerd `tls="true"`). */
  tls_requests: number;
  latency: LatencyHistogram;
}

export interface EdgeMetrics {
  src_namespace: string;
  src_name: string;
  dst_namespace: string;
  dst_name: string;
  requests: number;
  failures: number;
  latency: LatencyHistogram;
}

export interface IngressRequests {
  code: string;
  method: string;
  count: number;
}

export interface IngressMetrics {
  /** The Traefik `service` label, e.g. `default-web-6b204d94623b3df4370c@kubernetescrd`. */
  service_key: string;
  requests: IngressRequests[];
  latency: LatencyHistogram;
}

/** One (domain, path) an ingress route serves (seed 001 IngressRouteInfo). */
export interface RouteInfo {
  name: string;
  namespace: string;
  domain: string;
  path_prefix: string;
  service_key: string;
  service_name: string;
  service_port: number;
  tls: boolean;
  /**
   * What `vigil routes match` and GET /api/v2/slo/routes/match need to tell which router serves a
   * URL (agents before these fields send none; the server then says so). The router name carries its
   * provider (`…@kubernetescrd`), which orders routers of equal priority.
   */
  router?: string;
  rule?: string;
  syntax?: 'v2' | 'v3';
  /** Explicit router priority; absent or 0 = the rule's length. */
  priority?: number;
  /** Entry points the router listens on; empty = all. */
  entry_points?: string[];
}

/** Longest rule an agent ships (longer rules go without, as from an old agent). */
export const MAX_RULE_LENGTH = 4096;

export interface Snapshot {
  cluster_id: string;
  agent_id: string;
  /** Monotonic per agent; (cluster_id, agent_id, seq) is the idempotency key. */
  seq: number;
  /** End of the interval the deltas cover, epoch ms. */
  timestamp: number;
  services: ServiceMetrics[];
  edges: EdgeMetrics[];
  ingress: IngressMetrics[];
  routes: RouteInfo[];
}

const histogramSchema = {
  type: 'object',
  required: ['bounds', 'counts', 'sum_ms', 'count'],
  properties: {
    bounds: { type: 'array', maxItems: 200, items: { type: 'number' } },
    counts: { type: 'array', maxItems: 201, items: { type: 'number', minimum: 0 } },
    sum_ms: { type: 'number', minimum: 0 },
    count: { type: 'number', minimum: 0 },
  },
} as const;

const name = { type: 'string', minLength: 1, maxLength: 253 } as const;
const count = { type: 'number', minimum: 0 } as const;

/** JSON schema of Snapshot; the server validates every body against it (and histograms' shape in code). */
export const snapshotSchema = {
  type: 'object',
  required: ['cluster_id', 'agent_id', 'seq', 'timestamp', 'services', 'edges', 'ingress', 'routes'],
  properties: {
    cluster_id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
    agent_id: { type: 'string', minLength: 1, maxLength: 128 },
    seq: { type: 'integer', minimum: 0 },
    timestamp: { type: 'integer', minimum: 0 },
    services: {
      type: 'array',
      items: {
        type: 'object',
        required: ['namespace', 'name', 'requests', 'tls_requests', 'latency'],
        properties: {
          namespace: name,
          name,
          requests: {
            type: 'array',
            items: {
              type: 'object',
              required: ['status_code', 'classification', 'count'],
              properties: { status_code: { type: 'string', maxLength: 8 }, classification: { type: 'string', maxLength: 32 }, count },
            },
          },
          tls_requests: count,
          latency: histogramSchema,
        },
      },
    },
    edges: {
      type: 'array',
      items: {
        type: 'object',
        required: ['src_namespace', 'src_name', 'dst_namespace', 'dst_name', 'requests', 'failures', 'latency'],
        properties: { src_namespace: name, src_name: name, dst_namespace: name, dst_name: name, requests: count, failures: count, latency: histogramSchema },
      },
    },
    ingress: {
      type: 'array',
      items: {
        type: 'object',
        required: ['service_key', 'requests', 'latency'],
        properties: {
          service_key: { type: 'string', minLength: 1, maxLength: 512 },
          requests: {
            type: 'array',
            items: {
              type: 'object',
              required: ['code', 'method', 'count'],
              properties: { code: { type: 'string', maxLength: 8 }, method: { type: 'string', maxLength: 16 }, count },
            },
          },
          latency: histogramSchema,
        },
      },
    },
    routes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['domain', 'path_prefix', 'service_key'],
        properties: {
          name: { type: 'string' },
          namespace: { type: 'string' },
          domain: { type: 'string', minLength: 1, maxLength: 253 },
          path_prefix: { type: 'string', minLength: 1, maxLength: 1024 },
          service_key: { type: 'string', minLength: 1, maxLength: 512 },
          service_name: { type: 'string' },
          service_port: { type: 'integer' },
          tls: { type: 'boolean' },
          router: { type: 'string', minLength: 1, maxLength: 512 },
          rule: { type: 'string', minLength: 1, maxLength: MAX_RULE_LENGTH },
          syntax: { type: 'string', enum: ['v2', 'v3'] },
          priority: { type: 'integer' },
          entry_points: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 128 } },
        },
      },
    },
  },
} as const;

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
