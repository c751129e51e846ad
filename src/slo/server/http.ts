/**
 * HTTP routes of the SLO module: the agent's snapshot ingest and the /api/v2/slo reads (paths and JSON
 * field names of seed 001 / web/src/api/types.ts). Every route declares its JSON schema, so bad input is
 * a 400 naming the field and the route appears in the OpenAPI document under the `slo` tag.
 */
import type { FastifyInstance } from 'fastify';
import type { Counter } from 'prom-client';
import { ErrorSchema, badRequest, forbidden } from '../../platform/http/errors.js';
import { snapshotSchema, type Snapshot } from '../snapshot.js';
import { SLO_WINDOWS, type SloWindow } from '../math/slo.js';
import { TIME_RANGES, type TimeRange } from '../math/time.js';
import type { StoredTarget, TargetScope } from '../math/targets.js';
import { snapshotProblem } from './ingest.js';
import type { SloRepository } from './repository.js';
import type { SloQueries } from './query.js';
import {
  ClustersSchema,
  DomainDetailSchema,
  DomainsResponseSchema,
  ServiceDetailSchema,
  StatusHistorySchema,
  TargetsResponseSchema,
  TopologySchema,
} from './schemas.js';

export interface SloHttpDeps {
  repo: SloRepository;
  queries: SloQueries;
  /** Clock skew allowed for snapshot timestamps. */
  maxFutureMs: number;
  /** Oldest snapshot accepted (the hourly retention). */
  maxAgeMs: number;
  snapshotsTotal?: Counter<'outcome'>;
}

const CLUSTER_ID = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Cluster; omitted = the only cluster there is' } as const;
const TIME_RANGE = { type: 'string', enum: [...TIME_RANGES], default: '1d', description: 'Range the metrics cover' } as const;
const NAME = { type: 'string', minLength: 1, maxLength: 253 } as const;
const SCOPE = { type: 'string', enum: ['domain', 'route', 'service'] } as const;
const WINDOW = { type: 'string', enum: [...SLO_WINDOWS] } as const;
const KEY = { type: 'string', minLength: 1, maxLength: 1300 } as const;

const rangeQuery = {
  type: 'object',
  properties: { cluster_id: CLUSTER_ID, time_range: TIME_RANGE },
} as const;

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema } as const;

/** Largest count or millisecond sum one snapshot may carry: sums of many stay exact and finite. */
export const MAX_SNAPSHOT_VALUE = 1e15;

/**
 * The snapshot schema, except that a route may come without a host or path (it falls back to its
 * service name and "/"), and with the limits of the columns the values land in: a service key or
 * service name may become a domain (253), ingress names and namespaces are Kubernetes names (253),
 * counts and sums are at most MAX_SNAPSHOT_VALUE.
 */
function ingestSchema() {
  type Node = { type?: unknown; minimum?: number; maximum?: number; properties?: Record<string, Node>; items?: Node; [k: string]: unknown };
  const s = JSON.parse(JSON.stringify(snapshotSchema)) as Node;
  const route = s.properties!.routes.items!.properties!;
  const text = (maxLength: number, minLength = 0) => ({ type: 'string', minLength, maxLength });
  route.domain = text(253);
  route.path_prefix = text(1024);
  route.name = text(253);
  route.namespace = text(253);
  route.service_key = text(253, 1);
  route.service_name = text(253);
  route.service_port = { type: 'integer', minimum: 0, maximum: 65535 };
  s.properties!.ingress.items!.properties!.service_key = text(253, 1);
  const bound = (n: Node) => {
    if (n.type === 'number' && n.minimum === 0) n.maximum = MAX_SNAPSHOT_VALUE;
    for (const c of Object.values(n.properties ?? {})) bound(c);
    if (n.items) bound(n.items);
  };
  bound(s);
  return s;
}

const targetKey = {
  type: 'object',
  additionalProperties: false,
  required: ['scope', 'key', 'window'],
  properties: { scope: SCOPE, key: KEY, window: WINDOW },
} as const;

const targetSpec = {
  type: 'object',
  additionalProperties: false,
  required: ['scope', 'key', 'window', 'availability_target', 'p95_latency_target'],
  properties: {
    scope: SCOPE,
    key: KEY,
    window: WINDOW,
    availability_target: { type: 'number', exclusiveMinimum: 0, maximum: 100, description: 'Percent' },
    p95_latency_target: { type: 'number', exclusiveMinimum: 0, description: 'ms' },
    p99_latency_target: { type: ['number', 'null'], exclusiveMinimum: 0, description: 'ms; null = none' },
  },
} as const;

/** A key must have the shape of its scope (see src/slo/math/targets.ts). */
function keyProblem(scope: TargetScope, key: string): string | null {
  if (scope === 'domain') return key.includes('/') ? 'a domain key is the domain alone, e.g. shop.example.com' : null;
  if (scope === 'route') return /^[^/]+\/.*$/.test(key) ? null : 'a route key is domain + path_prefix, e.g. shop.example.com/api (root: shop.example.com/)';
  return /^[^/]+\/[^/]+$/.test(key) ? null : 'a service key is namespace/name, e.g. shop/cart';
}

export function registerSloRoutes(app: FastifyInstance, deps: SloHttpDeps): void {
  const { repo, queries } = deps;
  const tags = ['slo'];

  app.post(
    '/api/v2/agent/snapshots',
    {
      config: { auth: 'agent' },
      schema: {
        tags,
        summary: 'Ingest one agent snapshot (gzip accepted); idempotent by (cluster_id, agent_id, seq)',
        description:
          'Agent tokens may write only their own cluster (403 otherwise); admin tokens any. A snapshot already accepted answers 200 with status "duplicate" and changes nothing. A malformed snapshot is 400 naming the field and writes nothing.',
        body: ingestSchema(),
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string', enum: ['accepted', 'duplicate'] },
              cluster_id: { type: 'string' },
              agent_id: { type: 'string' },
              seq: { type: 'integer' },
              rows: { type: 'object', additionalProperties: { type: 'integer' } },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const s = req.body as Snapshot;
      const p = req.principal;
      if (p && p.role === 'agent' && p.clusterId !== s.cluster_id) {
        deps.snapshotsTotal?.inc({ outcome: 'forbidden' });
        throw forbidden(`this agent token is bound to cluster ${p.clusterId}; it may not write cluster ${s.cluster_id}`);
      }
      const now = queries.now();
      const problem = snapshotProblem(s, { now, maxFutureMs: deps.maxFutureMs, maxAgeMs: deps.maxAgeMs });
      if (problem) {
        deps.snapshotsTotal?.inc({ outcome: 'invalid' });
        throw badRequest(problem.message, problem.field);
      }
      const r = await repo.ingest(s, now);
      deps.snapshotsTotal?.inc({ outcome: r.status });
      return { status: r.status, cluster_id: s.cluster_id, agent_id: s.agent_id, seq: s.seq, rows: r.rows };
    },
  );

  app.get(
    '/api/v2/slo/clusters',
    { schema: { tags, summary: 'Clusters that have shipped snapshots, most recently seen first', response: { 200: ClustersSchema, 401: ErrorSchema } } },
    async () => queries.clusters(),
  );

  app.get(
    '/api/v2/slo/domains',
    { schema: { tags, summary: 'Domains with their paths: golden metrics, status, error budget; fleet summary', querystring: rangeQuery, response: { 200: DomainsResponseSchema, ...errors } } },
    async (req) => {
      const q = req.query as { cluster_id?: string; time_range: TimeRange };
      return queries.domains(await queries.resolveCluster(q.cluster_id), q.time_range);
    },
  );

  app.get(
    '/api/v2/slo/domains/:domain',
    {
      schema: {
        tags,
        summary: 'One domain: per-path metrics, history, burn rates, targets',
        params: { type: 'object', required: ['domain'], properties: { domain: NAME } },
        querystring: rangeQuery,
        response: { 200: DomainDetailSchema, ...errors },
      },
    },
    async (req) => {
      const q = req.query as { cluster_id?: string; time_range: TimeRange };
      const { domain } = req.params as { domain: string };
      return queries.domain(await queries.resolveCluster(q.cluster_id), domain, q.time_range);
    },
  );

  app.get(
    '/api/v2/slo/mesh/topology',
    { schema: { tags, summary: 'Mesh services (nodes) and caller → callee edges with golden metrics', querystring: rangeQuery, response: { 200: TopologySchema, ...errors } } },
    async (req) => {
      const q = req.query as { cluster_id?: string; time_range: TimeRange };
      return queries.topology(await queries.resolveCluster(q.cluster_id), q.time_range);
    },
  );

  app.get(
    '/api/v2/slo/mesh/services/:namespace/:name',
    {
      schema: {
        tags,
        summary: 'One mesh service: metrics, history, inbound and outbound edges, ingress routes',
        params: { type: 'object', required: ['namespace', 'name'], properties: { namespace: NAME, name: NAME } },
        querystring: rangeQuery,
        response: { 200: ServiceDetailSchema, ...errors },
      },
    },
    async (req) => {
      const q = req.query as { cluster_id?: string; time_range: TimeRange };
      const { namespace, name } = req.params as { namespace: string; name: string };
      return queries.service(await queries.resolveCluster(q.cluster_id), namespace, name, q.time_range);
    },
  );

  app.get(
    '/api/v2/slo/targets',
    {
      schema: {
        tags,
        summary: 'SLO targets of a cluster (per domain, route or service and window) and the defaults',
        querystring: { type: 'object', properties: { cluster_id: CLUSTER_ID } },
        response: { 200: TargetsResponseSchema, ...errors },
      },
    },
    async (req) => {
      const q = req.query as { cluster_id?: string };
      return queries.targets(await queries.resolveCluster(q.cluster_id, true));
    },
  );

  app.put(
    '/api/v2/slo/targets',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Upsert targets by (scope, key, window) and delete those in `remove`; answers the full list',
        querystring: { type: 'object', properties: { cluster_id: CLUSTER_ID } },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['targets'],
          properties: {
            targets: { type: 'array', maxItems: 5000, items: targetSpec },
            remove: { type: 'array', maxItems: 5000, items: targetKey },
          },
        },
        response: { 200: TargetsResponseSchema, ...errors },
      },
    },
    async (req) => {
      const q = req.query as { cluster_id?: string };
      const body = req.body as { targets: StoredTarget[]; remove?: { scope: TargetScope; key: string; window: SloWindow }[] };
      for (const [i, t] of body.targets.entries()) {
        const p = keyProblem(t.scope, t.key);
        if (p) throw badRequest(`targets.${i}.key: ${p}`, `targets.${i}.key`);
      }
      const seen = new Set<string>();
      for (const [i, t] of body.targets.entries()) {
        const k = `${t.scope}\u0000${t.key}\u0000${t.window}`;
        if (seen.has(k)) throw badRequest(`targets.${i} repeats ${t.scope} ${t.key} ${t.window}`, `targets.${i}`);
        seen.add(k);
      }
      const cluster = await queries.resolveCluster(q.cluster_id, true);
      return queries.putTargets(cluster, body.targets, body.remove ?? [], req.principal?.name ?? '');
    },
  );

  app.get(
    '/api/v2/slo/status-history',
    {
      schema: {
        tags,
        summary: 'Status transitions of domains, routes and services (recorded by the status job), oldest first',
        querystring: {
          type: 'object',
          properties: {
            cluster_id: CLUSTER_ID,
            domain: NAME,
            scope: SCOPE,
            key: KEY,
            since: { type: 'integer', minimum: 0, description: 'Only transitions after this epoch ms' },
            limit: { type: 'integer', minimum: 1, maximum: 5000, default: 500 },
          },
        },
        response: { 200: StatusHistorySchema, ...errors },
      },
    },
    async (req) => {
      const q = req.query as { cluster_id?: string; domain?: string; scope?: TargetScope; key?: string; since?: number; limit: number };
      const cluster = await queries.resolveCluster(q.cluster_id);
      return queries.statusHistory(cluster, { domain: q.domain, scope: q.scope, key: q.key, since: q.since, limit: q.limit });
    },
  );
}
