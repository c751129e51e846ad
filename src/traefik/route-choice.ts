/**
 * Which router serves a request, and why: the routers of one entry point are tried the way Traefik's
 * HTTP muxer orders them — higher priority first (an unset or zero priority is the rule's own,
 * GetRulePriority), then by provider (kubernetesgateway, kubernetescrd, kubernetes,
 * kubernetesingressnginx, any other last) — and the first whose rule matches serves it. A router
 * whose rule Traefik would reject is never installed, so it serves nothing.
 */
import type { RouteMapping } from './manifests.js';
import { compileRule, type MatcherVerdict, type RouteRequest } from './rule-match.js';
import { RuleError, type RuleSyntax } from './rule-parser.js';
import { getRulePriority } from './routes-of-rule.js';

export interface Router {
  /** Router name with its provider, e.g. `default-test-route-6b204d94623b3df4370c@kubernetescrd`. */
  name: string;
  rule: string;
  syntax: RuleSyntax;
  /** Explicit priority; unset or 0 means the rule's own. */
  priority?: number;
  /** Entry points the router listens on; empty means all. */
  entryPoints?: readonly string[];
}

export interface RouterVerdict<R extends Router = Router> {
  router: R;
  priority: number;
  /** `explicit` when the router sets it, `rule` when it is GetRulePriority(rule). */
  priorityFrom: 'explicit' | 'rule';
  matched: boolean;
  /** Each matcher of the rule with its own result (empty when the rule is invalid). */
  parts: MatcherVerdict[];
  /** Why Traefik would reject the rule. */
  error?: string;
}

export interface RouteChoice<R extends Router = Router> {
  /** The router that serves the request, if any. */
  served?: RouterVerdict<R>;
  /**
   * Other matching routers Traefik cannot tell apart from `served` (same priority and provider):
   * which one wins then depends on load order, so the answer is ambiguous.
   */
  tiedWith: RouterVerdict<R>[];
  /** Every router considered, in the order Traefik tries them. */
  verdicts: RouterVerdict<R>[];
}

const PROVIDER_ORDER = ['kubernetesgateway', 'kubernetescrd', 'kubernetes', 'kubernetesingressnginx'];

function providerRank(routerName: string): number {
  const at = routerName.lastIndexOf('@');
  const rank = at < 0 ? -1 : PROVIDER_ORDER.indexOf(routerName.slice(at + 1));
  return rank < 0 ? PROVIDER_ORDER.length : rank;
}

function verdictOf<R extends Router>(router: R, req: RouteRequest): RouterVerdict<R> {
  const explicit = router.priority !== undefined && router.priority !== 0;
  const priority = explicit ? router.priority! : getRulePriority(router.rule);
  const priorityFrom = explicit ? 'explicit' : 'rule';
  try {
    const compiled = compileRule(router.rule, { syntax: router.syntax });
    return { router, priority, priorityFrom, matched: compiled.match(req), parts: compiled.explain(req) };
  } catch (e) {
    if (e instanceof RuleError) return { router, priority, priorityFrom, matched: false, parts: [], error: e.message };
    throw e;
  }
}

/** Which of the routers (of one entry point: see routersOnEntryPoint) serves the request. */
export function chooseRoute<R extends Router>(routers: readonly R[], req: RouteRequest): RouteChoice<R> {
  const verdicts = routers
    .map((r, i) => ({ v: verdictOf(r, req), i }))
    .sort((a, b) => b.v.priority - a.v.priority || providerRank(a.v.router.name) - providerRank(b.v.router.name) || a.i - b.i)
    .map((x) => x.v);
  const served = verdicts.find((v) => v.matched);
  const tiedWith = served
    ? verdicts.filter((v) => v !== served && v.matched && v.priority === served.priority && providerRank(v.router.name) === providerRank(served.router.name))
    : [];
  return { ...(served ? { served } : {}), tiedWith, verdicts };
}

/** The routers that listen on an entry point (a router without entry points listens on all). */
export function routersOnEntryPoint<R extends Router>(routers: readonly R[], entryPoint: string): R[] {
  return routers.filter((r) => !r.entryPoints || r.entryPoints.length === 0 || r.entryPoints.includes(entryPoint));
}

/** A router built from manifests, with the route mappings (services, source object) behind it. */
export interface ManifestRouter extends Router {
  mappings: RouteMapping[];
}

/**
 * One router per distinct router name among `items`, in order, with the items behind each (several
 * routes or paths can share one router); the first item's rule wins. `routerOf` says an item's router,
 * or undefined for one without a rule (not considered).
 */
export function groupRouters<T>(items: readonly T[], routerOf: (item: T) => Router | undefined): { router: Router; items: T[] }[] {
  const byName = new Map<string, { router: Router; items: T[] }>();
  for (const item of items) {
    const router = routerOf(item);
    if (!router) continue;
    const known = byName.get(router.name);
    if (known) known.items.push(item);
    else byName.set(router.name, { router, items: [item] });
  }
  return [...byName.values()];
}

/** One router per distinct router name of the mappings (an IngressRoute route or an Ingress path), in manifest order. */
export function routersFromMappings(mappings: readonly RouteMapping[]): ManifestRouter[] {
  const groups = groupRouters(mappings, (m) =>
    m.rule === undefined
      ? undefined
      : { name: m.router, rule: m.rule, syntax: m.syntax, ...(m.priority !== undefined ? { priority: m.priority } : {}), entryPoints: m.entryPoints },
  );
  return groups.map(({ router, items }) => ({ ...router, mappings: items }));
}
