/**
 * Response schemas of the /api/v2/slo routes (web/src/api/types.ts). They document the answers in the
 * OpenAPI spec and let Fastify serialise the large ones with a compiled serialiser.
 */
const num = { type: 'number' } as const;
const numOrNull = { type: ['number', 'null'] } as const;
const str = { type: 'string' } as const;
const STATUS = { type: 'string', enum: ['healthy', 'warning', 'critical', 'unknown'] } as const;

const obj = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({ type: 'object', properties, required }) as const;

export const SloMetricsSchema = obj({
  availability: { ...numOrNull, description: 'Percent of requests that did not fail (0–100); null without traffic' },
  p50_latency: { ...numOrNull, description: 'ms' },
  p95_latency: { ...numOrNull, description: 'ms' },
  p99_latency: { ...numOrNull, description: 'ms' },
  rps: { ...num, description: 'Requests per second over the window' },
  total_requests: num,
  error_rate: { ...numOrNull, description: 'Percent (0–100); null without traffic' },
});

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

export const HistoryPointSchema = obj({
  timestamp: num,
  total_requests: num,
  availability: numOrNull,
  p95_latency: numOrNull,
  p99_latency: numOrNull,
  rps: num,
  error_rate: numOrNull,
  error_budget_remaining: { ...numOrNull, description: 'Percent of the primary target’s budget left at the end of the step' },
});

export const BurnRateSchema = obj({
  window: { ...str, description: 'long/short, e.g. 1h/5m' },
  long_rate: numOrNull,
  short_rate: numOrNull,
  threshold: num,
  firing: { type: 'boolean' },
  severity: { type: 'string', enum: ['page', 'ticket'] },
  long_requests: num,
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
    avg_availability: numOrNull,
    total_rps: num,
  }),
});

export const DomainDetailSchema = obj({
  ...envelope,
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
});

export const TopologySchema = obj({ ...envelope, nodes: { type: 'array', items: NodeSchema }, edges: { type: 'array', items: EdgeSchema } });

export const ServiceDetailSchema = obj({
  ...envelope,
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
