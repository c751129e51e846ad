/**
 * Response schemas of the /api/v2/slo routes (web/src/api/types.ts). They document the answers in the
 * OpenAPI spec and let Fastify serialise the large ones with a compiled serialiser.
 */
const num = { type: 'number' } as const;
const numOrNull = { type: ['number', 'null'] } as const;
const str = { type: 'string' } as const;
const STATUS = {
  type: 'string',
  enum: ['healthy', 'warning', 'critical', 'unknown', 'insufficient_data'],
  description: 'unknown = no traffic; insufficient_data = traffic below the sample minimum (status_minimum) a verdict needs',
} as const;

const obj = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({ type: 'object', properties, required }) as const;

const metricsProps = {
  availability: { ...numOrNull, description: 'Percent of requests that did not fail (0–100); null without traffic' },
  p50_latency: { ...numOrNull, description: 'ms' },
  p95_latency: { ...numOrNull, description: 'ms' },
  p99_latency: { ...numOrNull, description: 'ms' },
  rps: { ...num, description: 'Requests per second over the covered seconds (the part of the window that has data)' },
  total_requests: num,
  error_rate: { ...numOrNull, description: 'Percent (0–100); null without traffic' },
  covered_seconds: { ...num, description: 'Seconds of the window that have data (from the first snapshot on)' },
  current_rps: { ...numOrNull, description: 'Requests per second over the last 5 minutes (current metrics of the detail answers); null before any data' },
};
export const SloMetricsSchema = obj(metricsProps, ['availability', 'p50_latency', 'p95_latency', 'p99_latency', 'rps', 'total_requests', 'error_rate', 'covered_seconds']);

const TargetSpecSchema = obj(
  {
    availability_target: num,
    p95_latency_target: num,
    p99_latency_target: numOrNull,
    source: { type: 'string', enum: ['route', 'domain', 'service', 'default'] },
  },
  ['availability_target', 'p95_latency_target'],
);

/** Targets in force by window ('1d' | '7d' | '30d'). */
export const TargetsByWindowSchema = { type: 'object', additionalProperties: TargetSpecSchema } as const;

const WindowSchema = obj({ from: num, to: num });

const envelope = {
  cluster_id: { type: ['string', 'null'] },
  time_range: str,
  generated_at: num,
  window: WindowSchema,
};

/** Beside `window` in the reads that judge statuses. */
const coverage = {
  data_from: { ...numOrNull, description: 'Epoch ms of the cluster’s first kept snapshot (where its data starts); null before any' },
  covered_seconds: { ...num, description: 'Seconds of the window that have data: the denominator of every rps' },
  status_minimum: {
    ...obj({ requests: num, covered_seconds: num }),
    description: 'Least traffic and covered time a status (and a burn alert) needs; below it the status is insufficient_data',
  },
};

export const HistoryPointSchema = obj({
  timestamp: num,
  total_requests: num,
  availability: numOrNull,
  p95_latency: numOrNull,
  p99_latency: numOrNull,
  rps: num,
  error_rate: numOrNull,
  error_budget_remaining: {
    ...numOrNull,
    description: 'Percent of the primary target’s budget left at the end of the step (or now), over the SLO window ending there: what the card showed then',
  },
  covered_seconds: { ...num, description: 'Seconds of the step that have data (the rps denominator; the incomplete last step is shorter)' },
});

export const BurnRateSchema = obj({
  window: { ...str, description: 'long/short, e.g. 1h/5m' },
  long_rate: { ...numOrNull, description: 'null without traffic, or when infinite (long_infinite)' },
  short_rate: { ...numOrNull, description: 'null without traffic, or when infinite (short_infinite)' },
  long_infinite: { type: 'boolean', description: 'Failures against a 100 % target: the budget is exhausted at any rate' },
  short_infinite: { type: 'boolean' },
  threshold: num,
  firing: { type: 'boolean' },
  severity: { type: 'string', enum: ['page', 'ticket'] },
  long_requests: num,
  long_covered_seconds: { ...num, description: 'Seconds of the long window that have data' },
  insufficient_data: { type: 'boolean', description: 'Too little traffic or covered time in the long window to fire (status_minimum, and at least the short window)' },
});

const routeProps = {
  path_prefix: str,
  ingress_name: str,
  namespace: str,
  service_key: str,
  service_name: str,
  service_port: num,
  current: SloMetricsSchema,
  previous: SloMetricsSchema,
  targets: TargetsByWindowSchema,
  status: STATUS,
  error_budget_remaining: numOrNull,
};
const routeRequired = ['path_prefix', 'ingress_name', 'namespace', 'service_key', 'service_name', 'current', 'status', 'error_budget_remaining'];

export const RouteSchema = obj(routeProps, routeRequired);

export const DomainsResponseSchema = obj({
  ...envelope,
  ...coverage,
  domains: {
    type: 'array',
    items: obj(
      {
        domain: str,
        tls: { type: 'boolean' },
        routes: { type: 'array', items: RouteSchema },
        summary: SloMetricsSchema,
        targets: TargetsByWindowSchema,
        status: STATUS,
        error_budget_remaining: numOrNull,
      },
      ['domain', 'tls', 'routes', 'summary', 'status', 'error_budget_remaining'],
    ),
  },
  summary: obj({
    total_domains: num,
    healthy_count: num,
    warning_count: num,
    critical_count: num,
    unknown_count: num,
    insufficient_data_count: num,
    avg_availability: numOrNull,
    total_rps: num,
  }),
});

export const DomainDetailSchema = obj({
  ...envelope,
  ...coverage,
  step_seconds: num,
  domain: str,
  tls: { type: 'boolean' },
  status: STATUS,
  summary: SloMetricsSchema,
  previous: SloMetricsSchema,
  targets: TargetsByWindowSchema,
  error_budget_remaining: numOrNull,
  burn_rates: { type: 'array', items: BurnRateSchema },
  history: { type: 'array', items: HistoryPointSchema },
  routes: {
    type: 'array',
    items: obj({ ...routeProps, history: { type: 'array', items: HistoryPointSchema }, burn_rates: { type: 'array', items: BurnRateSchema } }, [...routeRequired, 'history', 'burn_rates']),
  },
});

const EdgeSchema = obj({ source: str, target: str, rps: num, total_requests: num, p95_latency: numOrNull, avg_latency: numOrNull, error_rate: numOrNull });

const NodeSchema = obj({
  id: str,
  namespace: str,
  name: str,
  rps: num,
  total_requests: num,
  p50_latency: numOrNull,
  p95_latency: numOrNull,
  p99_latency: numOrNull,
  error_rate: numOrNull,
  mtls_percent: numOrNull,
  status: STATUS,
  latency_distribution: { type: 'array', items: obj({ le: { ...numOrNull, description: 'Upper bound in ms; null = +Inf' }, count: num }) },
  status_codes: { type: 'array', items: obj({ code: str, count: num }) },
  covered_seconds: num,
  current_rps: { ...numOrNull, description: 'Inbound requests per second over the last 5 minutes' },
  role: { type: 'string', enum: ['service', 'source'], description: 'source = a caller with no inbound traffic of its own (the ingress): drawn by its outbound traffic' },
  outbound_rps: { ...num, description: 'Requests per second it sends over its outbound edges' },
});

export const TopologySchema = obj({ ...envelope, ...coverage, nodes: { type: 'array', items: NodeSchema }, edges: { type: 'array', items: EdgeSchema } });

export const ServiceDetailSchema = obj({
  ...envelope,
  ...coverage,
  step_seconds: num,
  node: NodeSchema,
  targets: TargetsByWindowSchema,
  history: {
    type: 'array',
    items: obj({ timestamp: num, rps: num, p50_latency: numOrNull, p95_latency: numOrNull, p99_latency: numOrNull, error_rate: numOrNull, mtls_percent: numOrNull }),
  },
  inbound: { type: 'array', items: EdgeSchema },
  outbound: { type: 'array', items: EdgeSchema },
  routes: { type: 'array', items: obj({ domain: str, path_prefix: str }) },
});

export const ClustersSchema = obj({ clusters: { type: 'array', items: obj({ cluster_id: str, last_seen: num, first_seen: num }) } });

const StoredTargetSchema = obj(
  {
    scope: { type: 'string', enum: ['domain', 'route', 'service'] },
    key: str,
    window: { type: 'string', enum: ['1d', '7d', '30d'] },
    availability_target: num,
    p95_latency_target: num,
    p99_latency_target: numOrNull,
    updated_at: num,
    updated_by: str,
  },
  ['scope', 'key', 'window', 'availability_target', 'p95_latency_target'],
);

export const TargetsResponseSchema = obj({
  cluster_id: { type: ['string', 'null'] },
  targets: { type: 'array', items: StoredTargetSchema },
  defaults: obj({ availability_target: num, p95_latency_target: num, p99_latency_target: numOrNull, window: str }),
});

export const StatusHistorySchema = obj({
  cluster_id: str,
  evaluation_range: str,
  transitions: {
    type: 'array',
    items: obj({
      timestamp: num,
      scope: { type: 'string', enum: ['domain', 'route', 'service'] },
      key: str,
      domain: { type: ['string', 'null'] },
      status: STATUS,
      previous_status: { type: ['string', 'null'] },
      availability: numOrNull,
      p95_latency: numOrNull,
      p99_latency: numOrNull,
      error_budget_remaining: numOrNull,
      total_requests: num,
    }),
  },
});
