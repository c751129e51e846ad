/**
 * THE HTTP contract between the Vigil server and the web dashboard.
 *
 * Server modules implement these shapes; the dashboard reads nothing else. Field names under
 * /api/v2/slo are snake_case as in seed 001 (its DomainSLOResponse / RouteSLO are kept verbatim and
 * extended); the anomaly endpoints (/v1/*, /api/v1/anomalies) are camelCase like seed 004 and
 * src/anomaly/rule.ts.
 *
 * Units, everywhere in this file unless a field says otherwise:
 *   - percentages are 0–100 (availability 99.95 means 99.95 %), never 0–1 fractions;
 *   - latencies are milliseconds (float);
 *   - rates (`rps`) are requests per second averaged over the covered part of the requested time range
 *     (`covered_seconds`: from the cluster's first snapshot on), `current_rps` over the last 5 minutes;
 *   - timestamps are UTC epoch milliseconds (numbers), never strings;
 *   - a metric that cannot be computed (no requests, no histogram samples) is `null`, not 0 or NaN.
 *
 * Errors: every 4xx/5xx body is an {@link ApiErrorBody}. 400 names the offending field; 401 means a
 * missing/invalid bearer token; 403 a role that may not call the route; 404 an unknown domain,
 * service or cluster (and, until a module ships, an unknown route).
 *
 * Auth: GET routes need role viewer (or anonymous read, see {@link WhoAmI.anonymousRead}); writes
 * (PUT /api/v2/slo/targets) need admin. POST /v1/anomaly/check only reads, so it is declared
 * `auth: 'viewer'` (anyone who may read may ask for a verdict). The dashboard sends
 * `Authorization: Bearer <token>`. The built dashboard's static files (/assets/*, /favicon.svg,
 * index.html) must be public, or a server without anonymous read shows a blank page.
 */

// =================================================================== platform

/** Body of every error response (src/platform/http/errors.ts). */
export interface ApiErrorBody {
  /** Machine-readable code: bad_request, unauthorized, forbidden, not_found, internal, … */
  error: string;
  /** A sentence a person can act on. */
  message: string;
  /** For 400: the offending field, e.g. "time_range" or "targets[0].availability_target". */
  field?: string;
}

export type Role = 'admin' | 'agent' | 'viewer';

/** `GET /api/v1/whoami` (public). */
export interface WhoAmI {
  authenticated: boolean;
  role: Role | null;
  name: string | null;
  /** Set for agent tokens (bound to one cluster). */
  clusterId: string | null;
  /** True when GET routes answer without a token. */
  anonymousRead: boolean;
}

// =================================================================== SLO — common

/** Query parameter `time_range` of every SLO read. Default '1d' when omitted. */
export type TimeRange = '1h' | '6h' | '1d' | '7d' | '30d';
export const TIME_RANGES: readonly TimeRange[] = ['1h', '6h', '1d', '7d', '30d'];

/** Health verdict computed by the server against the targets (or the server's default targets). */
/** `insufficient_data`: traffic below {@link SLOCoverage.status_minimum}; too little to judge. */
export type SLOStatus = 'healthy' | 'warning' | 'critical' | 'unknown' | 'insufficient_data';

/** Window an SLO target (and its error budget) is evaluated over. */
export type SLOWindow = '1d' | '7d' | '30d';
export const SLO_WINDOWS: readonly SLOWindow[] = ['1d', '7d', '30d'];

/**
 * Golden metrics of a route, domain or service over the requested time range
 * (seed 001 `SLOMetrics`). Latency quantiles are computed from merged histogram buckets.
 */
export interface SLOMetrics {
  /** Non-5xx responses / all responses, percent 0–100; null when total_requests is 0. */
  availability: number | null;
  p50_latency: number | null;
  p95_latency: number | null;
  p99_latency: number | null;
  /** Requests per second averaged over the covered part of the range (`covered_seconds`). */
  rps: number;
  /** Requests counted in the range. */
  total_requests: number;
  /** 5xx responses / all responses, percent 0–100; null when total_requests is 0. */
  error_rate: number | null;
  /** Seconds of the range that have data (from the first snapshot on): the denominator of `rps`. */
  covered_seconds?: number;
  /** Requests per second over the last 5 minutes (detail pages' current metrics only). */
  current_rps?: number | null;
}

/** An objective, without its scope (seed 001 `SLOTargetSpec`). */
export interface SLOTargetSpec {
  /** Percent, e.g. 99.9. 0 < x ≤ 100. */
  availability_target: number;
  /** Milliseconds, > 0. */
  p95_latency_target: number;
  /** Milliseconds, > 0; null/absent when not set. */
  p99_latency_target?: number | null;
}

/**
 * Targets in force for a domain or route, keyed by window (seed 001: `targets: map[string]*SLOTargetSpec`).
 * The server resolves inheritance (route → domain → default), so a route lists the effective targets;
 * `source` says where each came from.
 */
export type TargetsByWindow = Partial<Record<SLOWindow, SLOTargetSpec & { source?: 'route' | 'domain' | 'service' | 'default' }>>;

/**
 * One point of a time series. `timestamp` is the start of the step (UTC epoch ms); steps are
 * `step_seconds` long (1h → 60 s, 6h → 300 s, 1d → 900 s, 7d → 3600 s, 30d → 21600 s suggested).
 * Steps without traffic are present with null metrics and rps 0, so charts show gaps.
 */
export interface SLOHistoryPoint {
  timestamp: number;
  availability: number | null;
  p95_latency: number | null;
  p99_latency: number | null;
  rps: number;
  error_rate: number | null;
  /** Percent of the error budget left at that moment, for the primary target window; null without traffic. */
  error_budget_remaining: number | null;
  /** Seconds of the step that have data (the incomplete last step covers less than a step). */
  covered_seconds?: number;
  total_requests?: number;
}

/**
 * Multi-window, multi-burn-rate alert state (Google SRE workbook). A window fires when both its long
 * and its short burn rate exceed `threshold`. Suggested windows: 1h/5m (14.4), 6h/30m (6), 1d/2h (3), 3d/6h (1).
 */
export interface BurnRate {
  /** "long/short", e.g. "1h/5m". */
  window: string;
  /** Error rate over the long window divided by the error rate the target allows (1 = spending exactly on budget). */
  long_rate: number | null;
  short_rate: number | null;
  threshold: number;
  firing: boolean;
  /** 'page' for the fast windows, 'ticket' for the slow ones. */
  severity?: 'page' | 'ticket';
  /** The rate is infinite (failures against a 100 % target); the rate field is then null. */
  long_infinite?: boolean;
  short_infinite?: boolean;
  long_requests?: number;
  long_covered_seconds?: number;
  /** Too little traffic or covered time in the long window to fire. */
  insufficient_data?: boolean;
}

/** Where data starts and the least sample a status needs (beside the envelope of SLO reads). */
export interface SLOCoverage {
  /** Epoch ms of the cluster's first snapshot kept; null before any. */
  data_from?: number | null;
  /** Seconds of the window that have data. */
  covered_seconds?: number;
  /** Below these the status is `insufficient_data`. */
  status_minimum?: { requests: number; covered_seconds: number };
}

/** Common envelope fields of SLO reads. */
export interface SLOEnvelope {
  /** The cluster answered for: the query's cluster_id or, when omitted, the most recently seen one; null when no agent has ever shipped. */
  cluster_id: string | null;
  time_range: TimeRange;
  /** When the server computed the answer (epoch ms). */
  generated_at: number;
}

// =================================================================== SLO — clusters

/** `GET /api/v2/slo/clusters` → clusters that have shipped snapshots, most recently seen first. */
export interface ClustersResponse {
  clusters: ClusterInfo[];
}

export interface ClusterInfo {
  cluster_id: string;
  /** Epoch ms of the newest snapshot received from its agent. */
  last_seen: number;
  first_seen?: number;
}

// =================================================================== SLO — domains (seed 001)

/**
 * One path of a domain (seed 001 `RouteSLO`, extended). A route is one Traefik IngressRoute rule
 * `Host(domain) && PathPrefix(path_prefix)` → one Kubernetes service.
 */
export interface RouteSLO {
  /** "/" when the rule has no PathPrefix. */
  path_prefix: string;
  ingress_name: string;
  namespace: string;
  /** Traefik service key, `{namespace}-{service}-{port}@kubernetes`. */
  service_key: string;
  service_name: string;
  service_port?: number;
  /** Metrics over `time_range`. */
  current: SLOMetrics;
  /** Metrics over the preceding range of the same length (for trends); absent when unknown. */
  previous?: SLOMetrics;
  targets?: TargetsByWindow;
  status: SLOStatus;
  /** Percent of the error budget left (primary window); negative when overspent; null without traffic. */
  error_budget_remaining: number | null;
}

/** One domain with its paths (seed 001 `DomainSLOResponse`, extended). */
export interface DomainSLO {
  domain: string;
  tls: boolean;
  routes: RouteSLO[];
  /** Aggregate of all routes (requests summed, histograms merged). */
  summary: SLOMetrics;
  previous?: SLOMetrics;
  targets?: TargetsByWindow;
  /** Worst status of its routes (unknown only if every route is unknown). */
  status: SLOStatus;
  error_budget_remaining: number | null;
}

/** Fleet totals over the listed domains. */
export interface DomainsSummary {
  total_domains: number;
  healthy_count: number;
  warning_count: number;
  critical_count: number;
  unknown_count: number;
  /** Request-weighted mean availability of all domains, percent; null without traffic. */
  avg_availability: number | null;
  total_rps: number;
  insufficient_data_count?: number;
}

/** `GET /api/v2/slo/domains?cluster_id=&time_range=` */
export interface DomainsResponse extends SLOEnvelope, SLOCoverage {
  domains: DomainSLO[];
  summary: DomainsSummary;
}

/** A route of the domain detail: the list entry plus its series. */
export interface RouteSLODetail extends RouteSLO {
  history: SLOHistoryPoint[];
  burn_rates?: BurnRate[];
}

/**
 * `GET /api/v2/slo/domains/{domain}?cluster_id=&time_range=` (domain URL-encoded). 404 when the
 * cluster has no such domain.
 */
export interface DomainDetailResponse extends SLOEnvelope, SLOCoverage {
  /** Length of one history step in seconds. */
  step_seconds: number;
  domain: string;
  tls: boolean;
  status: SLOStatus;
  summary: SLOMetrics;
  previous?: SLOMetrics;
  targets?: TargetsByWindow;
  error_budget_remaining: number | null;
  /** Burn rates of the domain as a whole against its primary availability target. */
  burn_rates: BurnRate[];
  /** Domain aggregate series. */
  history: SLOHistoryPoint[];
  routes: RouteSLODetail[];
}

// =================================================================== SLO — targets

export type TargetScope = 'domain' | 'route' | 'service';

/**
 * One stored objective. Keys:
 *   scope 'domain'  → key = domain, e.g. "shop.example.com"
 *   scope 'route'   → key = domain + path_prefix, e.g. "shop.example.com/api" (root: "shop.example.com/")
 *   scope 'service' → key = "namespace/name", e.g. "shop/cart"
 * (scope, key, window) is unique per cluster.
 */
export interface SLOTarget extends SLOTargetSpec {
  scope: TargetScope;
  key: string;
  window: SLOWindow;
  /** Set by the server. */
  updated_at?: number;
  /** Token name of the last writer. */
  updated_by?: string;
}

export interface SLOTargetKey {
  scope: TargetScope;
  key: string;
  window: SLOWindow;
}

/** `GET /api/v2/slo/targets?cluster_id=` */
export interface TargetsResponse {
  cluster_id: string | null;
  targets: SLOTarget[];
  /** What applies where nothing is configured. */
  defaults: SLOTargetSpec & { window: SLOWindow };
}

/**
 * `PUT /api/v2/slo/targets?cluster_id=` (admin). Upserts every entry of `targets` by (scope, key,
 * window) and deletes every entry of `remove`; answers the full {@link TargetsResponse} afterwards.
 * 400 names the field, e.g. "targets[1].p95_latency_target".
 */
export interface PutTargetsRequest {
  targets: (SLOTargetSpec & SLOTargetKey)[];
  remove?: SLOTargetKey[];
}

// =================================================================== SLO — mesh (seed 000)

/** One bucket of a latency histogram: requests that took at most `le` ms (NOT cumulative). */
export interface LatencyBucket {
  /** Upper bound in ms; null is the +Inf overflow bucket. */
  le: number | null;
  /** Requests in (previous le, le]. */
  count: number;
}

export interface StatusCodeCount {
  /** HTTP status as text: "200", "503"; gRPC or unknown codes as the mesh reports them. */
  code: string;
  count: number;
}

/** A meshed workload (Linkerd), id "namespace/name". */
export interface MeshNode {
  id: string;
  namespace: string;
  name: string;
  rps: number;
  total_requests: number;
  p50_latency: number | null;
  p95_latency: number | null;
  p99_latency: number | null;
  /** Percent 0–100; null without traffic. */
  error_rate: number | null;
  /** Percent of inbound requests over mTLS, 0–100; null without traffic. */
  mtls_percent: number | null;
  status: SLOStatus;
  latency_distribution: LatencyBucket[];
  status_codes: StatusCodeCount[];
  covered_seconds?: number;
  current_rps?: number | null;
  /** 'source': a caller with no inbound traffic of its own (the ingress), drawn by its outbound traffic. */
  role?: 'service' | 'source';
  /** Requests per second it sends over its outbound edges. */
  outbound_rps?: number;
}

/** A caller → callee edge (source/target are node ids). */
export interface MeshEdge {
  source: string;
  target: string;
  rps: number;
  p95_latency: number | null;
  avg_latency: number | null;
  /** Percent 0–100; null without traffic. */
  error_rate: number | null;
  mtls_percent?: number | null;
}

/** `GET /api/v2/slo/mesh/topology?cluster_id=&time_range=` */
export interface MeshTopologyResponse extends SLOEnvelope, SLOCoverage {
  nodes: MeshNode[];
  edges: MeshEdge[];
}

export interface MeshHistoryPoint {
  timestamp: number;
  rps: number;
  p50_latency: number | null;
  p95_latency: number | null;
  p99_latency: number | null;
  error_rate: number | null;
  mtls_percent: number | null;
}

/** `GET /api/v2/slo/mesh/services/{namespace}/{name}?cluster_id=&time_range=` — 404 for an unknown service. */
export interface MeshServiceDetailResponse extends SLOEnvelope, SLOCoverage {
  step_seconds: number;
  node: MeshNode;
  history: MeshHistoryPoint[];
  /** Edges whose target is this node. */
  inbound: MeshEdge[];
  /** Edges whose source is this node. */
  outbound: MeshEdge[];
  /** Ingress routes that send traffic to this service. */
  routes?: { domain: string; path_prefix: string }[];
}

// =================================================================== anomaly (seed 004)

export type DayType = 'weekday' | 'weekend';

/** Local hour of day (0–23) and day type in the server's configured time zone. */
export interface Bucket {
  hour: number;
  dayType: DayType;
}

/** Learned statistics of one bucket (src/anomaly/types.ts). */
export interface BaselineStats {
  p50: number;
  p95: number;
  mad: number;
  sampleCount: number;
  /** Epoch ms of the recomputation that produced them. */
  updatedAt: number;
}

/**
 * `POST /v1/anomaly/check`. The seed's names {rootServiceName, rootTraceName, startTimeUnixNano}
 * are accepted as aliases. `timestampNano` is nanoseconds since the epoch as a decimal string (or a
 * number); omitted means now. `hour`/`dayType` pin the bucket instead of deriving it from the time.
 */
export interface AnomalyCheckRequest {
  service: string;
  endpoint: string;
  timestampNano?: string | number;
  durationMs: number;
  hour?: number;
  dayType?: DayType;
}

export type FallbackLevel = 'exact' | 'neighbours' | 'dayType' | 'all' | 'none';

export interface ThresholdDetail {
  factor: number;
  k: number;
  /** factor × p95 */
  p95Term: number;
  /** p50 + k × madUsed */
  madTerm: number;
  madUsed: number;
  madFloorMs: number;
  madFloorApplied: boolean;
}

/** Answer of `POST /v1/anomaly/check` (src/anomaly/rule.ts CheckResult). */
export interface AnomalyCheckResponse {
  isAnomaly: boolean;
  /** true when no baseline was good enough; isAnomaly is then false. */
  cannotDetermine?: boolean;
  service: string;
  /** Endpoint after normalisation (ids → {id}). */
  endpoint: string;
  durationMs: number;
  bucket: Bucket;
  timeZone: string;
  baseline: BaselineStats | null;
  /** How long ago the baseline used was computed, ms (null without one). */
  baselineAgeMs?: number | null;
  /** Key(s) of the baseline used, e.g. "cart|GET /x|14|weekday". */
  baselineSource: string | null;
  fallbackLevel: FallbackLevel;
  threshold: number | null;
  thresholdDetail?: ThresholdDetail | null;
  /** A sentence a person can act on. */
  explanation: string;
  /** Same text as explanation (the seed's name). */
  reason?: string;
}

/** One learned hour bucket. Aggregates (hour '*') are not listed. */
export interface AvailableKey {
  service: string;
  endpoint: string;
  hour: number;
  dayType: DayType;
  sampleCount: number;
  p50: number;
  p95: number;
  mad?: number;
  updatedAt?: number;
}

/** `GET /v1/available?service=&endpoint=&limit=` → every learned hour bucket (optionally of one service/endpoint). */
export interface AvailableResponse {
  /** IANA zone the hours are in, e.g. "Asia/Taipei". */
  timeZone?: string;
  keys: AvailableKey[];
}

/**
 * `GET /v1/baseline?service=&endpoint=&hour=&dayType=` → the stored baseline of one bucket;
 * hour `*` (with a dayType, or with dayType `*`) reads the aggregates. 404 when not learned.
 */
export interface BaselineResponse extends BaselineStats {
  service: string;
  /** Normalised endpoint. */
  endpoint: string;
  hour: number | '*';
  dayType: DayType | '*';
  timeZone?: string;
}

/** One detected anomaly (a learned trace above its threshold). */
export interface AnomalyEvent {
  /** traceId, or traceId:spanId for span-level summaries. */
  id: string;
  traceId: string;
  spanId?: string;
  service: string;
  endpoint: string;
  /** Start of the trace, epoch ms. */
  startMs: number;
  durationMs: number;
  threshold: number;
  explanation: string;
  /** Link to the trace in Tempo/Grafana when the server knows one. */
  traceUrl?: string;
  /** When Vigil flagged it, epoch ms. */
  detectedAt: number;
  bucket?: Bucket;
  fallbackLevel?: FallbackLevel;
  /** The baseline the verdict used. */
  baseline?: Pick<BaselineStats, 'p50' | 'p95' | 'mad' | 'sampleCount'>;
  /** Where the trace came from: otlp, tempo, api. */
  source?: string;
}

/**
 * `GET /api/v1/anomalies?service=&endpoint=&since=&limit=` → newest first. `since` (epoch ms)
 * (or an ISO time) returns only events with detectedAt > since; `limit` defaults to 100 (max 1000).
 * `endpoint` is normalised like the baselines (ids → {id}).
 */
export interface AnomaliesResponse {
  anomalies: AnomalyEvent[];
}

// =================================================================== paths

/** Every path the dashboard calls (query strings are added by the caller). */
export const API = {
  whoami: '/api/v1/whoami',
  clusters: '/api/v2/slo/clusters',
  domains: '/api/v2/slo/domains',
  domain: (domain: string) => `/api/v2/slo/domains/${encodeURIComponent(domain)}`,
  targets: '/api/v2/slo/targets',
  meshTopology: '/api/v2/slo/mesh/topology',
  meshService: (namespace: string, name: string) =>
    `/api/v2/slo/mesh/services/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`,
  anomalyCheck: '/v1/anomaly/check',
  available: '/v1/available',
  baseline: '/v1/baseline',
  anomalies: '/api/v1/anomalies',
} as const;
