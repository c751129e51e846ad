/**
 * The wire contract of the /api/v2/slo routes and the agent's snapshot ingest (TypeBox): route
 * validation, the OpenAPI document, the server's types and the web app's types come from these.
 * Response schemas also let Fastify serialise the large answers with a compiled serialiser, which
 * is why nullable values and enums are written as `type: [t, 'null']` and `enum` (src/platform/schemas.ts).
 *
 * Units, unless a field says otherwise: percentages are 0–100 (never 0–1 fractions); latencies are
 * milliseconds; rates (`rps`) are requests per second over the covered part of the range
 * (`covered_seconds`, from the cluster's first snapshot on); timestamps are UTC epoch milliseconds;
 * a metric that cannot be computed (no requests, no histogram samples) is null, never 0 or NaN.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum, typed, type Same } from '../../platform/schemas.js';
import type { SloStatus as MathSloStatus, SloWindow as MathSloWindow } from '../math/slo.js';
import type { TargetScope as MathTargetScope } from '../math/targets.js';
import type { TimeRange as MathTimeRange } from '../math/time.js';
import { Snapshot } from '../snapshot.js';

const num = (description?: string) => Type.Number(description ? { description } : {});
const numOrNull = (description?: string) => Nullable(Type.Number(), description ? { description } : {});
const str = () => Type.String();
const Opt = Type.Optional;

const RANGES = ['1h', '6h', '1d', '7d', '30d'] as const;
export const TimeRange = StringEnum(RANGES);
export type TimeRange = Static<typeof TimeRange>;
export const SloWindow = StringEnum(['1d', '7d', '30d']);
export type SloWindow = Static<typeof SloWindow>;
export const TargetScope = StringEnum(['domain', 'route', 'service']);
export type TargetScope = Static<typeof TargetScope>;
const STATUSES = ['healthy', 'warning', 'critical', 'unknown', 'insufficient_data'] as const;

export const SloStatus = StringEnum(STATUSES, {
  description: 'Verdict against the targets in force. unknown = no traffic; insufficient_data = traffic below the sample minimum (status_minimum) a verdict needs',
});
export type SloStatus = Static<typeof SloStatus>;

// The enums above spell out the math modules' unions: a change on one side only fails to compile.
const sameUnions: [Same<TimeRange, MathTimeRange>, Same<SloWindow, MathSloWindow>, Same<TargetScope, MathTargetScope>, Same<SloStatus, MathSloStatus>] = [true, true, true, true];
void sameUnions;

// ---------------------------------------------------------------- answers

export const SloMetrics = Type.Object(
  {
    availability: numOrNull('Percent of requests that did not fail (0–100); null without traffic'),
    p50_latency: numOrNull('ms'),
    p95_latency: numOrNull('ms'),
    p99_latency: numOrNull('ms'),
    rps: num('Requests per second over the covered seconds (the part of the window that has data)'),
    total_requests: num('Requests counted in the range'),
    error_rate: numOrNull('Percent of requests that failed (0–100); null without traffic'),
    covered_seconds: num('Seconds of the window that have data (from the first snapshot on): the denominator of rps'),
    current_rps: Opt(numOrNull('Requests per second over the last 5 minutes (current metrics of the detail answers); null before any data')),
  },
  { description: 'Golden metrics of a route, domain or service over the requested range; latency quantiles from merged histogram buckets' },
);
export type SloMetrics = Static<typeof SloMetrics>;

const TargetSpecFields = {
  availability_target: num('Percent, 0 < x ≤ 100'),
  p95_latency_target: num('ms, > 0'),
  p99_latency_target: Opt(numOrNull('ms, > 0; null when not set')),
};

const EffectiveTarget = Type.Object({ ...TargetSpecFields, source: Opt(StringEnum(['route', 'domain', 'service', 'default'], { description: 'Where the target in force comes from' })) });
export type EffectiveTarget = Static<typeof EffectiveTarget>;

/** Targets in force by window: inheritance (route → domain → default) is resolved by the server. */
export const TargetsByWindow = typed<Partial<Record<SloWindow, EffectiveTarget>>>({
  type: 'object',
  additionalProperties: JSON.parse(JSON.stringify(EffectiveTarget)) as unknown,
  description: 'Targets in force, keyed by window (1d, 7d, 30d)',
});
export type TargetsByWindow = Static<typeof TargetsByWindow>;

const Window = Type.Object({ from: num('epoch ms'), to: num('epoch ms') });

const envelope = {
  cluster_id: Nullable(Type.String(), { description: 'The cluster answered for: the query’s cluster_id or the most recently seen one; null when no agent has ever shipped' }),
  time_range: Type.String(),
  generated_at: num('When the server computed the answer, epoch ms'),
  window: Window,
};

/** Beside `window` in the reads that judge statuses. */
const coverage = {
  data_from: numOrNull('Epoch ms of the cluster’s first kept snapshot (where its data starts); null before any'),
  covered_seconds: num('Seconds of the window that have data: the denominator of every rps'),
  status_minimum: Type.Object(
    { requests: num(), covered_seconds: num() },
    { description: 'Least traffic and covered time a status (and a burn alert) needs; below it the status is insufficient_data' },
  ),
};

export const SloHistoryPoint = Type.Object(
  {
    timestamp: num('Start of the step, epoch ms'),
    total_requests: num(),
    availability: numOrNull(),
    p95_latency: numOrNull(),
    p99_latency: numOrNull(),
    rps: num(),
    error_rate: numOrNull(),
    error_budget_remaining: numOrNull(
      'Percent of the primary target’s budget left at the end of the step (or now), over the SLO window ending there: what the card showed then',
    ),
    covered_seconds: num('Seconds of the step that have data (the rps denominator; the incomplete last step is shorter)'),
  },
  { description: 'One step of a series; steps without traffic are present with null metrics and rps 0, so charts show gaps' },
);
export type SloHistoryPoint = Static<typeof SloHistoryPoint>;

export const BurnRate = Type.Object(
  {
    window: Type.String({ description: 'long/short, e.g. 1h/5m' }),
    long_rate: numOrNull('Error rate over the long window / the rate the target allows (1 = spending exactly on budget); null without traffic, or when infinite (long_infinite)'),
    short_rate: numOrNull('null without traffic, or when infinite (short_infinite)'),
    long_infinite: Type.Boolean({ description: 'Failures against a 100 % target: the budget is exhausted at any rate' }),
    short_infinite: Type.Boolean(),
    threshold: num(),
    firing: Type.Boolean({ description: 'Both the long and the short rate exceed the threshold' }),
    severity: StringEnum(['page', 'ticket'], { description: 'page for the fast windows, ticket for the slow ones' }),
    long_requests: num(),
    long_covered_seconds: num('Seconds of the long window that have data'),
    insufficient_data: Type.Boolean({ description: 'Too little traffic or covered time in the long window to fire (status_minimum, and at least the short window)' }),
  },
  { description: 'Multi-window, multi-burn-rate alert state (Google SRE workbook)' },
);
export type BurnRate = Static<typeof BurnRate>;

const routeFields = {
  path_prefix: Type.String({ description: '"/" when the rule has no PathPrefix' }),
  ingress_name: str(),
  namespace: str(),
  service_key: Type.String({ description: 'Traefik service key, {namespace}-{service}-{port}@kubernetes' }),
  service_name: str(),
  service_port: Opt(num()),
  current: SloMetrics,
  previous: Opt(SloMetrics),
  targets: Opt(TargetsByWindow),
  status: SloStatus,
  error_budget_remaining: numOrNull('Percent of the error budget left (primary window); negative when overspent; null without traffic'),
};

/** One path of a domain: a Traefik rule Host(domain) && PathPrefix(path_prefix) → one Kubernetes service. */
export const RouteSlo = Type.Object(routeFields);
export type RouteSlo = Static<typeof RouteSlo>;

export const DomainSlo = Type.Object({
  domain: str(),
  tls: Type.Boolean(),
  routes: Type.Array(RouteSlo),
  summary: SloMetrics,
  targets: Opt(TargetsByWindow),
  status: StringEnum(STATUSES, { description: 'Worst status of its routes (unknown only if every route is unknown)' }),
  error_budget_remaining: numOrNull(),
});
export type DomainSlo = Static<typeof DomainSlo>;

export const DomainsSummary = Type.Object({
  total_domains: num(),
  healthy_count: num(),
  warning_count: num(),
  critical_count: num(),
  unknown_count: num(),
  insufficient_data_count: num(),
  avg_availability: numOrNull('Request-weighted mean availability of all domains, percent; null without traffic'),
  total_rps: num(),
});

/** `GET /api/v2/slo/domains` */
export const DomainsResponse = Type.Object({ ...envelope, ...coverage, domains: Type.Array(DomainSlo), summary: DomainsSummary });
export type DomainsResponse = Static<typeof DomainsResponse>;

export const RouteSloDetail = Type.Object({ ...routeFields, history: Type.Array(SloHistoryPoint), burn_rates: Type.Array(BurnRate) });
export type RouteSloDetail = Static<typeof RouteSloDetail>;

/** `GET /api/v2/slo/domains/{domain}`: 404 when the cluster has no such domain. */
export const DomainDetailResponse = Type.Object({
  ...envelope,
  ...coverage,
  step_seconds: num('Length of one history step'),
  domain: str(),
  tls: Type.Boolean(),
  status: SloStatus,
  summary: SloMetrics,
  previous: SloMetrics,
  targets: TargetsByWindow,
  error_budget_remaining: numOrNull(),
  burn_rates: Type.Array(BurnRate, { description: 'Of the domain as a whole against its primary availability target' }),
  history: Type.Array(SloHistoryPoint, { description: 'Domain aggregate series' }),
  routes: Type.Array(RouteSloDetail),
});
export type DomainDetailResponse = Static<typeof DomainDetailResponse>;

/** A caller → callee edge (source and target are node ids). */
export const MeshEdge = Type.Object({
  source: str(),
  target: str(),
  rps: num(),
  total_requests: num(),
  p95_latency: numOrNull(),
  avg_latency: numOrNull(),
  error_rate: numOrNull('Percent 0–100; null without traffic'),
});
export type MeshEdge = Static<typeof MeshEdge>;

export const LatencyBucket = Type.Object({
  le: numOrNull('Upper bound in ms; null = +Inf'),
  count: num('Requests in (previous le, le] (not cumulative)'),
});
export type LatencyBucket = Static<typeof LatencyBucket>;

export const StatusCodeCount = Type.Object({ code: Type.String({ description: 'HTTP status as text ("200", "503"); other codes as the mesh reports them' }), count: num() });
export type StatusCodeCount = Static<typeof StatusCodeCount>;

/** A meshed workload (Linkerd), id "namespace/name". */
export const MeshNode = Type.Object({
  id: str(),
  namespace: str(),
  name: str(),
  rps: num(),
  total_requests: num(),
  p50_latency: numOrNull(),
  p95_latency: numOrNull(),
  p99_latency: numOrNull(),
  error_rate: numOrNull('Percent 0–100; null without traffic'),
  mtls_percent: numOrNull('Percent of inbound requests over mTLS, 0–100; null without traffic'),
  status: SloStatus,
  latency_distribution: Type.Array(LatencyBucket),
  status_codes: Type.Array(StatusCodeCount),
  covered_seconds: num(),
  current_rps: numOrNull('Inbound requests per second over the last 5 minutes'),
  role: StringEnum(['service', 'source'], { description: 'source = a caller with no inbound traffic of its own (the ingress): drawn by its outbound traffic' }),
  outbound_rps: num('Requests per second it sends over its outbound edges'),
});
export type MeshNode = Static<typeof MeshNode>;

/** `GET /api/v2/slo/mesh/topology` */
export const TopologyResponse = Type.Object({ ...envelope, ...coverage, nodes: Type.Array(MeshNode), edges: Type.Array(MeshEdge) });
export type TopologyResponse = Static<typeof TopologyResponse>;

export const MeshHistoryPoint = Type.Object({
  timestamp: num(),
  rps: num(),
  p50_latency: numOrNull(),
  p95_latency: numOrNull(),
  p99_latency: numOrNull(),
  error_rate: numOrNull(),
  mtls_percent: numOrNull(),
});
export type MeshHistoryPoint = Static<typeof MeshHistoryPoint>;

/** `GET /api/v2/slo/mesh/services/{namespace}/{name}`: 404 for an unknown service. */
export const ServiceDetailResponse = Type.Object({
  ...envelope,
  ...coverage,
  step_seconds: num(),
  node: MeshNode,
  targets: TargetsByWindow,
  history: Type.Array(MeshHistoryPoint),
  inbound: Type.Array(MeshEdge, { description: 'Edges whose target is this node' }),
  outbound: Type.Array(MeshEdge, { description: 'Edges whose source is this node' }),
  routes: Type.Array(Type.Object({ domain: str(), path_prefix: str() }), { description: 'Ingress routes that send traffic to this service' }),
});
export type ServiceDetailResponse = Static<typeof ServiceDetailResponse>;

export const ClusterInfo = Type.Object({ cluster_id: str(), last_seen: num('Epoch ms of the newest snapshot received'), first_seen: num() });
export type ClusterInfo = Static<typeof ClusterInfo>;

/** `GET /api/v2/slo/clusters`: most recently seen first. */
export const ClustersResponse = Type.Object({ clusters: Type.Array(ClusterInfo) });
export type ClustersResponse = Static<typeof ClustersResponse>;

/**
 * One stored objective; (scope, key, window) is unique per cluster. Keys: domain → "shop.example.com";
 * route → domain + path_prefix, "shop.example.com/api" (root: "shop.example.com/"); service → "shop/cart".
 */
export const SloTarget = Type.Object({
  scope: TargetScope,
  key: str(),
  window: SloWindow,
  ...TargetSpecFields,
  updated_at: Opt(num('Set by the server')),
  updated_by: Opt(Type.String({ description: 'Token name of the last writer' })),
});
export type SloTarget = Static<typeof SloTarget>;

/** `GET /api/v2/slo/targets` (and the answer of PUT). */
export const TargetsResponse = Type.Object({
  cluster_id: Nullable(Type.String()),
  targets: Type.Array(SloTarget),
  defaults: Type.Object(
    { availability_target: num(), p95_latency_target: num(), p99_latency_target: numOrNull(), window: Type.String() },
    { description: 'What applies where nothing is configured' },
  ),
});
export type TargetsResponse = Static<typeof TargetsResponse>;

export const StatusTransition = Type.Object({
  timestamp: num(),
  scope: TargetScope,
  key: str(),
  domain: Nullable(Type.String()),
  status: SloStatus,
  previous_status: Nullable(Type.String()),
  availability: numOrNull(),
  p95_latency: numOrNull(),
  p99_latency: numOrNull(),
  error_budget_remaining: numOrNull(),
  total_requests: num(),
});
export type StatusTransition = Static<typeof StatusTransition>;

export const StatusHistoryResponse = Type.Object({ cluster_id: str(), evaluation_range: str(), transitions: Type.Array(StatusTransition) });
export type StatusHistoryResponse = Static<typeof StatusHistoryResponse>;

// ---------------------------------------------------------------- requests

const CLUSTER_ID = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Cluster; omitted = the only cluster there is' });
const NAME = Type.String({ minLength: 1, maxLength: 253 });
const KEY = Type.String({ minLength: 1, maxLength: 1300 });

export const RangeQuery = Type.Object({
  cluster_id: Opt(CLUSTER_ID),
  time_range: StringEnum(RANGES, { default: '1d', description: 'Range the metrics cover' }),
});
export type RangeQuery = Static<typeof RangeQuery>;

export const ClusterQuery = Type.Object({ cluster_id: Opt(CLUSTER_ID) });
export const DomainParams = Type.Object({ domain: NAME });
export const ServiceParams = Type.Object({ namespace: NAME, name: NAME });

export const StatusHistoryQuery = Type.Object({
  cluster_id: Opt(CLUSTER_ID),
  domain: Opt(NAME),
  scope: Opt(TargetScope),
  key: Opt(KEY),
  since: Opt(Type.Integer({ minimum: 0, description: 'Only transitions after this epoch ms' })),
  limit: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
});

export const SloTargetKey = Type.Object({ scope: TargetScope, key: KEY, window: SloWindow }, { additionalProperties: false });
export type SloTargetKey = Static<typeof SloTargetKey>;

const TargetUpsert = Type.Object(
  {
    scope: TargetScope,
    key: KEY,
    window: SloWindow,
    availability_target: Type.Number({ exclusiveMinimum: 0, maximum: 100, description: 'Percent' }),
    p95_latency_target: Type.Number({ exclusiveMinimum: 0, description: 'ms' }),
    p99_latency_target: Opt(Nullable(Type.Number(), { exclusiveMinimum: 0, description: 'ms; null = none' })),
  },
  { additionalProperties: false },
);

/** `PUT /api/v2/slo/targets` (admin): upserts `targets` by (scope, key, window), deletes `remove`. */
export const PutTargetsBody = Type.Object(
  {
    targets: Type.Array(TargetUpsert, { maxItems: 5000 }),
    remove: Opt(Type.Array(SloTargetKey, { maxItems: 5000 })),
  },
  { additionalProperties: false },
);
export type PutTargetsBody = Static<typeof PutTargetsBody>;

export const IngestReply = Type.Object({
  status: StringEnum(['accepted', 'duplicate']),
  cluster_id: str(),
  agent_id: str(),
  seq: Type.Integer(),
  rows: typed<Record<string, number>>({ type: 'object', additionalProperties: { type: 'integer' }, description: 'Rows written, by table' }),
});

/** The snapshot body: the agent's wire contract, as the agent builds it (src/slo/snapshot.ts). */
export const SnapshotBody = Snapshot;
