/**
 * "Which route serves this URL, and why" over the routes an agent shipped (route-rules.ts): the
 * same choice and verdicts as `vigil routes match` (src/traefik chooseRoute), said as data for
 * GET /api/v2/slo/routes/match. Pure: no I/O. A request Traefik could not receive is a
 * BadRouteRequest (src/traefik) naming the query field.
 */
import { chooseRoute, groupRouters, routeRequestOf, routersOnEntryPoint, type Router, type RouterVerdict } from '../../traefik/index.js';
import type { RouteInfo } from '../snapshot.js';
import type { MatchedRoute, RouteMatchResponse, RouterOut } from './route-match-schemas.js';

/** A router rebuilt from shipped routes, with the routes (mappings) it serves. */
interface ShippedRouter extends Router {
  routes: RouteInfo[];
}

/** Routers listed in an answer at most, per group (tried first / not served): the rest are counted. */
export const MAX_LISTED_ROUTERS = 100;

export interface MatchQuery {
  host: string;
  /** Path as sent, percent-encoding kept; a `?query` is split off as Traefik's URL parsing would. */
  path: string;
  method?: string;
  /** `Name: value` or `Name=value`, repeatable. */
  headers?: readonly string[];
  clientIp?: string;
  entryPoint?: string;
}

/** One router per router name among the routes that carry a rule (the first route's rule wins). */
function routersOf(routes: readonly RouteInfo[]): ShippedRouter[] {
  const groups = groupRouters(routes, (r) =>
    r.rule === undefined || r.router === undefined
      ? undefined
      : { name: r.router, rule: r.rule, syntax: r.syntax ?? 'v3', ...(r.priority !== undefined ? { priority: r.priority } : {}), entryPoints: r.entry_points ?? [] },
  );
  return groups.map(({ router, items }) => ({ ...router, routes: items }));
}

function routeOut(r: RouteInfo): MatchedRoute {
  return {
    name: r.name ?? '',
    namespace: r.namespace ?? '',
    domain: r.domain,
    path_prefix: r.path_prefix,
    service_key: r.service_key,
    service_name: r.service_name ?? '',
    service_port: r.service_port ?? 0,
  };
}

function routerOut(v: RouterVerdict<ShippedRouter>, verdict: RouterOut['verdict']): RouterOut {
  return {
    router: v.router.name,
    rule: v.router.rule,
    syntax: v.router.syntax,
    priority: v.priority,
    priority_from: v.priorityFrom,
    entry_points: [...(v.router.entryPoints ?? [])],
    verdict,
    // A negated matcher helps the rule when it does not match: `satisfied` is what the rule got.
    matchers: v.parts.map((p) => ({ matcher: p.matcher, negated: p.negated, matched: p.matched, satisfied: p.matched !== p.negated })),
    error: v.error ?? null,
    routes: v.router.routes.map(routeOut),
  };
}

/** The served router's route for the request's host (a router with several hosts has one route per host). */
function chosenRoute(router: ShippedRouter, host: string): MatchedRoute {
  const h = host.replace(/:\d+$/, '').toLowerCase();
  return routeOut(router.routes.find((r) => r.domain.toLowerCase() === h) ?? router.routes[0]);
}

/**
 * Which shipped router serves the request, and why. `stored` is null when the cluster's agent never
 * shipped routes.
 */
export function matchRoutes(cluster: string, stored: { ts: number; routes: RouteInfo[] } | null, q: MatchQuery): RouteMatchResponse {
  const req = routeRequestOf(q);
  const routes = stored?.routes ?? [];
  let routers = routersOf(routes);
  if (q.entryPoint !== undefined) routers = routersOnEntryPoint(routers, q.entryPoint);
  const withoutRule = routes.filter((r) => r.rule === undefined);
  const choice = chooseRoute(routers, req);
  const { served } = choice;

  const listed: RouterOut[] = [];
  let omitted = 0;
  const list = (v: RouterVerdict<ShippedRouter>, verdict: RouterOut['verdict'], capped: boolean) => {
    if (capped && listed.length >= MAX_LISTED_ROUTERS) omitted++;
    else listed.push(routerOut(v, verdict));
  };
  if (served) {
    const at = choice.verdicts.indexOf(served);
    // Tried first: higher in Traefik's order, did not match (or were refused).
    for (const v of choice.verdicts.slice(0, at)) list(v, v.error ? 'invalid' : 'no_match', true);
    list(served, 'serves', false);
    for (const v of choice.tiedWith) list(v, 'tied', false);
    for (const v of choice.verdicts.slice(at + 1)) {
      if (v.matched && !choice.tiedWith.includes(v)) list(v, 'shadowed', false);
      else if (!v.matched) omitted++;
    }
  } else {
    for (const v of choice.verdicts) list(v, v.error ? 'invalid' : 'no_match', true);
  }

  const url = `${req.method} ${req.host}${req.path}${req.query ? `?${req.query}` : ''}`;
  let summary: string;
  if (served) {
    summary = `${url} is served by ${served.router.name}`;
    if (choice.tiedWith.length > 0) summary += `; ambiguous: ${choice.tiedWith.map((v) => v.router.name).join(', ')} also match with the same priority and provider, and Traefik's pick among them depends on load order`;
  } else if (routers.length > 0) {
    summary = `${url} is served by no route (Traefik answers 404): ${routers.length} router(s) tried, none matched`;
  } else if (withoutRule.length > 0) {
    summary = `${url}: none of the cluster's ${withoutRule.length} route(s) came with its rule (an agent older than this feature, or routes known only from metrics): cannot tell which serves it`;
  } else {
    summary = `${url}: the cluster's agent has shipped no ingress route${q.entryPoint !== undefined && routes.length > 0 ? ` on entry point ${q.entryPoint}` : ''}`;
  }

  if (routers.length > 0 && withoutRule.length > 0) summary += `; ${withoutRule.length} route(s) came without a rule and were not considered`;

  return {
    cluster_id: cluster,
    request: { host: req.host, path: req.path, query: req.query ?? '', method: req.method ?? 'GET', ...(q.entryPoint !== undefined ? { entry_point: q.entryPoint } : {}) },
    routes_at: stored ? stored.ts : null,
    summary,
    served: served ? chosenRoute(served.router, req.host) : null,
    served_by: served ? served.router.name : null,
    tied_with: choice.tiedWith.map((v) => v.router.name),
    routers: listed,
    routers_considered: routers.length,
    routers_omitted: omitted,
    without_rule: { count: withoutRule.length, routes: withoutRule.slice(0, MAX_LISTED_ROUTERS).map(routeOut) },
  };
}
