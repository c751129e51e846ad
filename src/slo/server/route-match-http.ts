/**
 * GET /api/v2/slo/routes/match: which of a cluster's ingress routes serves a URL, and why (the domain
 * page's "Which route serves this URL?"). Read like the other SLO reads (viewer role).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../platform/http/errors.js';
import { ErrorBody } from '../../platform/schemas.js';
import type { SloQueries } from './query.js';
import type { SloRepository } from './repository.js';
import { BadRouteRequest } from '../../traefik/index.js';
import { matchRoutes } from './route-match.js';
import { RouteMatchQuery, RouteMatchResponse } from './route-match-schemas.js';
import { latestRouteRules } from './route-rules.js';
import { sloDb } from './tx.js';

export function registerRouteMatchRoute(scope: FastifyInstance, deps: { repo: SloRepository; queries: SloQueries }): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/v2/slo/routes/match',
    {
      schema: {
        tags: ['slo'],
        summary: 'Which ingress route serves a URL, and why: every router Traefik tries before it, with each matcher’s result',
        description:
          'Evaluates the Traefik rules the cluster’s agent last shipped, in Traefik’s order (priority, then provider), the same verdicts as `vigil routes match`. Routes shipped without a rule (older agents) are counted in without_rule and not considered.',
        querystring: RouteMatchQuery,
        response: { 200: RouteMatchResponse, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const q = req.query;
      const cluster = await deps.queries.resolveCluster(q.cluster_id);
      const stored = await latestRouteRules(sloDb(deps.repo.store), cluster);
      try {
        return matchRoutes(cluster, stored, { host: q.host, path: q.path, method: q.method, headers: q.header, clientIp: q.client_ip, entryPoint: q.entry_point });
      } catch (err) {
        if (err instanceof BadRouteRequest) throw badRequest(err.message, err.field);
        throw err;
      }
    },
  );
}
