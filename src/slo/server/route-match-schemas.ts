/**
 * Wire contract of GET /api/v2/slo/routes/match (TypeBox): route validation, the OpenAPI document,
 * the server's types and the web app's (RouteMatchPanel imports them with `import type`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../platform/schemas.js';

const Opt = Type.Optional;

export const RouteMatchQuery = Type.Object({
  cluster_id: Opt(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Cluster; omitted = the only cluster there is' })),
  host: Type.String({
    minLength: 1,
    maxLength: 300,
    pattern: '^[^\\s/?#@]+$',
    description: 'Request host (Host header), port allowed, e.g. shop.example.com or [::1]:8443',
  }),
  path: Type.String({
    minLength: 1,
    maxLength: 4096,
    pattern: '^/',
    description: 'Request path as sent, percent-encoding kept; a ?query is honoured (Query matchers)',
  }),
  method: Opt(Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$", description: 'Request method, compared as sent (Traefik does not upper-case it); default GET' })),
  header: Opt(
    Type.Array(Type.String({ minLength: 1, maxLength: 8192 }), {
      maxItems: 64,
      description: 'A request header as "Name: value" or "Name=value", repeatable: for Header, HeaderRegexp and HeadersRegexp rules',
    }),
  ),
  client_ip: Opt(Type.String({ minLength: 1, maxLength: 64, description: 'Client address (ip, ip:port or [v6]:port): for ClientIP rules' })),
  entry_point: Opt(Type.String({ minLength: 1, maxLength: 128, description: 'Only the routers listening on this entry point (a router without entry points listens on all)' })),
});
export type RouteMatchQuery = Static<typeof RouteMatchQuery>;

export const MatchedRoute = Type.Object(
  {
    name: Type.String({ description: 'IngressRoute or Ingress name' }),
    namespace: Type.String(),
    domain: Type.String(),
    path_prefix: Type.String(),
    service_key: Type.String({ description: 'Traefik service label the route is counted under' }),
    service_name: Type.String({ description: 'Kubernetes service behind it' }),
    service_port: Type.Integer(),
  },
  { description: 'A route (ingress mapping) as the agent shipped it' },
);
export type MatchedRoute = Static<typeof MatchedRoute>;

export const MatcherVerdictOut = Type.Object({
  matcher: Type.String({ description: 'The matcher as a rule fragment, e.g. PathPrefix(`/api`)' }),
  negated: Type.Boolean({ description: 'Under an odd number of "!": the rule needs it NOT to match' }),
  matched: Type.Boolean({ description: 'The matcher alone matched the request' }),
  satisfied: Type.Boolean({ description: 'What the rule got from it: matched, or not matched when negated' }),
});

export const RouterOut = Type.Object({
  router: Type.String({ description: 'Router name with its provider, e.g. shop-web-6b204d94623b3df4370c@kubernetescrd' }),
  rule: Type.String(),
  syntax: StringEnum(['v2', 'v3']),
  priority: Type.Integer(),
  priority_from: StringEnum(['explicit', 'rule'], { description: 'explicit = set on the route; rule = the length of the rule (Traefik default)' }),
  entry_points: Type.Array(Type.String()),
  verdict: StringEnum(['serves', 'tied', 'shadowed', 'no_match', 'invalid'], {
    description:
      'serves: the router Traefik picks; tied: also matches with the same priority and provider (the pick depends on load order); shadowed: matches but comes later; no_match: a matcher failed; invalid: Traefik refuses the rule (never installed)',
  }),
  matchers: Type.Array(MatcherVerdictOut, { description: 'Every matcher of the rule in rule order, with its own result' }),
  error: Nullable(Type.String(), { description: 'Why Traefik refuses the rule (verdict invalid)' }),
  routes: Type.Array(MatchedRoute, { description: 'The routes (host, path, service) the router serves' }),
});
export type RouterOut = Static<typeof RouterOut>;

export const RouteMatchResponse = Type.Object({
  cluster_id: Type.String(),
  request: Type.Object({ host: Type.String(), path: Type.String(), query: Type.String(), method: Type.String(), entry_point: Opt(Type.String()) }),
  routes_at: Nullable(Type.Number(), { description: 'Timestamp (epoch ms) of the snapshot the routes come from; null when the agent never shipped any' }),
  summary: Type.String({ description: 'The answer in one sentence, as `vigil routes match` prints it' }),
  served: Type.Union([MatchedRoute, Type.Null()], { description: 'The route that serves the request; null when none does (Traefik answers 404) or none can be evaluated' }),
  served_by: Nullable(Type.String(), { description: 'The router that serves the request' }),
  tied_with: Type.Array(Type.String(), { description: 'Routers Traefik cannot tell apart from served_by' }),
  routers: Type.Array(RouterOut, {
    description:
      'In the order Traefik tries them (priority, then provider): those tried before the one that serves, it, the tied and the shadowed ones; every router when none serves. At most 100 that did not match are listed',
  }),
  routers_considered: Type.Integer({ description: 'Routers with a rule (on the entry point, when given)' }),
  routers_omitted: Type.Integer({ description: 'Routers considered but not listed (did not match, beyond the list limit or after the one that serves)' }),
  without_rule: Type.Object(
    { count: Type.Integer(), routes: Type.Array(MatchedRoute, { description: 'The first 100' }) },
    { description: 'Routes shipped without their rule (agents older than this endpoint, routes known only from metrics): not considered' },
  ),
});
export type RouteMatchResponse = Static<typeof RouteMatchResponse>;
