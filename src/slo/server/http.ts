/**
 * HTTP routes of the SLO module: the agent's snapshot ingest and the /api/v2/slo reads (paths and JSON
 * field names of seed 001). Every route declares its TypeBox schemas (schemas.ts), so bad input is a
 * 400 naming the field, handlers get typed requests and answers, and the route appears in the OpenAPI
 * document under the `slo` tag.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Counter } from 'prom-client';
import { badRequest, forbidden } from '../../platform/http/errors.js';
import { ErrorBody } from '../../platform/schemas.js';
import type { TargetScope } from '../math/targets.js';
import { rethrowAsHttpError } from './http-errors.js';
import { snapshotProblem } from './ingest.js';
import { registerRouteMatchRoute } from './route-match-http.js';
import type { SloRepository } from './repository.js';
import type { SloQueries } from './query.js';
import {
  ClusterQuery,
  ClustersResponse,
  DomainDetailResponse,
  DomainParams,
  DomainsResponse,
  IngestReply,
  PutTargetsBody,
  RangeQuery,
  ServiceDetailResponse,
  ServiceParams,
  SnapshotBody,
  StatusHistoryQuery,
  StatusHistoryResponse,
  TargetsResponse,
  TopologyResponse,
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

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/** A key must have the shape of its scope (see src/slo/math/targets.ts). */
function keyProblem(scope: TargetScope, key: string): string | null {
  if (scope === 'domain') return key.includes('/') ? 'a domain key is the domain alone, e.g. shop.example.com' : null;
  if (scope === 'route') return /^[^/]+\/.*$/.test(key) ? null : 'a route key is domain + path_prefix, e.g. shop.example.com/api (root: shop.example.com/)';
  return /^[^/]+\/[^/]+$/.test(key) ? null : 'a service key is namespace/name, e.g. shop/cart';
}

export function registerSloRoutes(scope: FastifyInstance, deps: SloHttpDeps): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { repo, queries } = deps;
  // Registered before the routes: the read model's domain errors become 400/404 here, the rest passes on.
  app.setErrorHandler(rethrowAsHttpError);
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
        body: SnapshotBody,
        response: { 200: IngestReply, ...errors },
      },
    },
    async (req) => {
      const s = req.body;
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
    { schema: { tags, summary: 'Clusters that have shipped snapshots, most recently seen first', response: { 200: ClustersResponse, 401: ErrorBody } } },
    async () => queries.clusters(),
  );

  app.get(
    '/api/v2/slo/domains',
    { schema: { tags, summary: 'Domains with their paths: golden metrics, status, error budget; fleet summary', querystring: RangeQuery, response: { 200: DomainsResponse, ...errors } } },
    async (req) => {
      const q = req.query;
      return queries.domains(await queries.resolveCluster(q.cluster_id), q.time_range);
    },
  );

  app.get(
    '/api/v2/slo/domains/:domain',
    {
      schema: {
        tags,
        summary: 'One domain: per-path metrics, history, burn rates, targets',
        params: DomainParams,
        querystring: RangeQuery,
        response: { 200: DomainDetailResponse, ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const { domain } = req.params;
      return queries.domain(await queries.resolveCluster(q.cluster_id), domain, q.time_range);
    },
  );

  app.get(
    '/api/v2/slo/mesh/topology',
    { schema: { tags, summary: 'Mesh services (nodes) and caller → callee edges with golden metrics', querystring: RangeQuery, response: { 200: TopologyResponse, ...errors } } },
    async (req) => {
      const q = req.query;
      return queries.topology(await queries.resolveCluster(q.cluster_id), q.time_range);
    },
  );

  app.get(
    '/api/v2/slo/mesh/services/:namespace/:name',
    {
      schema: {
        tags,
        summary: 'One mesh service: metrics, history, inbound and outbound edges, ingress routes',
        params: ServiceParams,
        querystring: RangeQuery,
        response: { 200: ServiceDetailResponse, ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const { namespace, name } = req.params;
      return queries.service(await queries.resolveCluster(q.cluster_id), namespace, name, q.time_range);
    },
  );

  app.get(
    '/api/v2/slo/targets',
    {
      schema: {
        tags,
        summary: 'SLO targets of a cluster (per domain, route or service and window) and the defaults',
        querystring: ClusterQuery,
        response: { 200: TargetsResponse, ...errors },
      },
    },
    async (req) => {
      const q = req.query;
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
        querystring: ClusterQuery,
        body: PutTargetsBody,
        response: { 200: TargetsResponse, ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const body = req.body;
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
        querystring: StatusHistoryQuery,
        response: { 200: StatusHistoryResponse, ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const cluster = await queries.resolveCluster(q.cluster_id);
      return queries.statusHistory(cluster, { domain: q.domain, scope: q.scope, key: q.key, since: q.since, limit: q.limit });
    },
  );

  registerRouteMatchRoute(scope, deps);
}
