import { describe, expect, it } from 'vitest';
import type { RouteInfo } from '../snapshot.js';
import { BadRouteRequest } from '../../traefik/index.js';
import { matchRoutes } from './route-match.js';

/** A shipped route; priorities below are worked out by hand from Traefik's rule: its length unless set. */
function route(router: string, rule: string | undefined, over: Partial<RouteInfo> = {}): RouteInfo {
  const svc = router.split('@')[0];
  return {
    name: svc,
    namespace: 'shop',
    domain: 'shop.example.com',
    path_prefix: '/',
    service_key: `${svc}-key`,
    service_name: svc,
    service_port: 80,
    tls: false,
    ...(rule !== undefined ? { router, rule, syntax: 'v3' as const, entry_points: [] } : {}),
    ...over,
  };
}

const SHOP = 'Host(`shop.example.com`)'; // 24 characters
const SHOP_API = 'Host(`shop.example.com`) && PathPrefix(`/api`)'; // 46 characters

const routes: RouteInfo[] = [
  route('web@kubernetescrd', SHOP),
  route('api@kubernetescrd', SHOP_API, { path_prefix: '/api' }),
  // Same rule and priority, later provider: Traefik tries the kubernetescrd router first.
  route('legacy@kubernetes', SHOP_API, { path_prefix: '/api', name: 'legacy-ingress' }),
  route('other@kubernetescrd', 'Host(`other.example.com`)', { domain: 'other.example.com', priority: 100 }),
  route('broken@kubernetescrd', 'Host(`shop.example.com`) &&', { priority: 1000 }),
  route('from-metrics@kubernetescrd', undefined, { domain: 'metrics-only' }),
];
const stored = { ts: 1_700_000_000_000, routes };

describe('matchRoutes', () => {
  it('names the router Traefik picks, what it tried first and what it shadows', () => {
    const r = matchRoutes('c1', stored, { host: 'shop.example.com', path: '/api/cart' });
    expect(r.served_by).toBe('api@kubernetescrd');
    expect(r.served).toEqual({ name: 'api', namespace: 'shop', domain: 'shop.example.com', path_prefix: '/api', service_key: 'api-key', service_name: 'api', service_port: 80 });
    expect(r.routers.map((x) => [x.router, x.priority, x.priority_from, x.verdict])).toEqual([
      ['broken@kubernetescrd', 1000, 'explicit', 'invalid'],
      ['other@kubernetescrd', 100, 'explicit', 'no_match'],
      ['api@kubernetescrd', 46, 'rule', 'serves'],
      ['legacy@kubernetes', 46, 'rule', 'shadowed'],
      ['web@kubernetescrd', 24, 'rule', 'shadowed'],
    ]);
    expect(r.tied_with).toEqual([]);
    expect(r.routers[1].matchers).toEqual([{ matcher: 'Host(`other.example.com`)', negated: false, matched: false, satisfied: false }]);
    expect(r.routers[2].matchers).toEqual([
      { matcher: 'Host(`shop.example.com`)', negated: false, matched: true, satisfied: true },
      { matcher: 'PathPrefix(`/api`)', negated: false, matched: true, satisfied: true },
    ]);
    expect(r.routers[0].error).toMatch(/./);
    expect(r.routers[0].matchers).toEqual([]);
    expect(r.routers_considered).toBe(5);
    expect(r.without_rule.count).toBe(1);
    expect(r.without_rule.routes[0].domain).toBe('metrics-only');
    expect(r.summary).toBe('GET shop.example.com/api/cart is served by api@kubernetescrd; 1 route(s) came without a rule and were not considered');
    expect(r.routes_at).toBe(1_700_000_000_000);
  });

  it('says which matcher failed for each router tried before the one that serves', () => {
    const r = matchRoutes('c1', stored, { host: 'SHOP.example.com:8443', path: '/' });
    expect(r.served_by).toBe('web@kubernetescrd');
    const api = r.routers.find((x) => x.router === 'api@kubernetescrd')!;
    expect(api.verdict).toBe('no_match');
    expect(api.matchers.map((m) => [m.matcher, m.satisfied])).toEqual([
      ['Host(`shop.example.com`)', true],
      ['PathPrefix(`/api`)', false],
    ]);
    // Routers after the one that serves and not matching are counted, not listed.
    expect(r.routers.map((x) => x.verdict)).toEqual(['invalid', 'no_match', 'no_match', 'no_match', 'serves']);
    expect(r.routers_omitted).toBe(0);
  });

  it('a negated matcher that matches fails the rule; no route means Traefik answers 404', () => {
    const r = matchRoutes('c1', { ts: 1, routes: [route('site@kubernetescrd', 'Host(`neg.example.com`) && !PathPrefix(`/private`)', { domain: 'neg.example.com' })] }, { host: 'neg.example.com', path: '/private/x' });
    expect(r.served).toBeNull();
    expect(r.served_by).toBeNull();
    expect(r.routers).toHaveLength(1);
    expect(r.routers[0].verdict).toBe('no_match');
    expect(r.routers[0].matchers).toEqual([
      { matcher: 'Host(`neg.example.com`)', negated: false, matched: true, satisfied: true },
      { matcher: 'PathPrefix(`/private`)', negated: true, matched: true, satisfied: false },
    ]);
    expect(r.summary).toBe('GET neg.example.com/private/x is served by no route (Traefik answers 404): 1 router(s) tried, none matched');
  });

  it('routers of equal priority and provider that both match are reported as tied', () => {
    const rs = [route('a@kubernetescrd', 'Host(`t.example.com`)', { domain: 't.example.com' }), route('b@kubernetescrd', 'Host(`t.example.com`)', { domain: 't.example.com' })];
    const r = matchRoutes('c1', { ts: 1, routes: rs }, { host: 't.example.com', path: '/x' });
    expect(r.served_by).toBe('a@kubernetescrd');
    expect(r.tied_with).toEqual(['b@kubernetescrd']);
    expect(r.routers.map((x) => x.verdict)).toEqual(['serves', 'tied']);
    expect(r.summary).toMatch(/ambiguous: b@kubernetescrd also match/);
  });

  it('v2 Host takes several hosts: the route of the requested host is the one named', () => {
    const rs = [
      route('multi@kubernetescrd', 'Host(`a.example.com`, `b.example.com`)', { domain: 'a.example.com', syntax: 'v2' }),
      route('multi@kubernetescrd', 'Host(`a.example.com`, `b.example.com`)', { domain: 'b.example.com', syntax: 'v2' }),
    ];
    const r = matchRoutes('c1', { ts: 1, routes: rs }, { host: 'b.example.com', path: '/' });
    expect(r.served_by).toBe('multi@kubernetescrd');
    expect(r.served?.domain).toBe('b.example.com');
    expect(r.routers[0].syntax).toBe('v2');
    expect(r.routers[0].routes.map((x) => x.domain)).toEqual(['a.example.com', 'b.example.com']);
  });

  it('Method and Query matchers see the method and the ?query of the path', () => {
    const rs = [route('post@kubernetescrd', 'Host(`shop.example.com`) && Method(`POST`) && Query(`debug`, `1`)')];
    expect(matchRoutes('c1', { ts: 1, routes: rs }, { host: 'shop.example.com', path: '/x?debug=1', method: 'POST' }).served_by).toBe('post@kubernetescrd');
    const get = matchRoutes('c1', { ts: 1, routes: rs }, { host: 'shop.example.com', path: '/x?debug=1' });
    expect(get.served_by).toBeNull();
    expect(get.routers[0].matchers.map((m) => m.satisfied)).toEqual([true, false, true]);
    expect(get.request).toEqual({ host: 'shop.example.com', path: '/x', query: 'debug=1', method: 'GET' });
  });

  it('an entry point leaves out the routers that do not listen on it', () => {
    const rs = [route('secure@kubernetescrd', SHOP, { entry_points: ['websecure'] }), route('plain@kubernetescrd', SHOP, { entry_points: ['web'] })];
    const r = matchRoutes('c1', { ts: 1, routes: rs }, { host: 'shop.example.com', path: '/', entryPoint: 'web' });
    expect(r.served_by).toBe('plain@kubernetescrd');
    expect(r.routers_considered).toBe(1);
  });

  it('routes from an agent that ships no rules are said to be so', () => {
    const r = matchRoutes('c1', { ts: 5, routes: [route('x@kubernetescrd', undefined), route('y@kubernetescrd', undefined)] }, { host: 'shop.example.com', path: '/' });
    expect(r.served).toBeNull();
    expect(r.routers).toEqual([]);
    expect(r.without_rule.count).toBe(2);
    expect(r.summary).toBe(
      "GET shop.example.com/: none of the cluster's 2 route(s) came with its rule (an agent older than this feature, or routes known only from metrics): cannot tell which serves it",
    );
    const none = matchRoutes('c1', null, { host: 'shop.example.com', path: '/' });
    expect(none.routes_at).toBeNull();
    expect(none.summary).toBe("GET shop.example.com/: the cluster's agent has shipped no ingress route");
  });

  it('a path Traefik would refuse is a BadRouteRequest naming path', () => {
    for (const path of ['/a%zz', 'relative', '/bad%2']) {
      let caught: unknown;
      try {
        matchRoutes('c1', stored, { host: 'shop.example.com', path });
      } catch (e) {
        caught = e;
      }
      expect(caught, path).toBeInstanceOf(BadRouteRequest);
      expect((caught as BadRouteRequest).field).toBe('path');
    }
  });

  it('headers and the client address take part, as Header and ClientIP rules need them', () => {
    const canary = route('canary@kubernetescrd', "Host(`shop.example.com`) && Header(`X-Canary`, `1`)", { service_name: 'canary' });
    const office = route('office@kubernetescrd', 'Host(`shop.example.com`) && ClientIP(`10.0.0.0/8`)', { service_name: 'office' });
    const rs = { ts: 1, routes: [route('web@kubernetescrd', SHOP), canary, office] };
    expect(matchRoutes('c1', rs, { host: 'shop.example.com', path: '/' }).served_by).toBe('web@kubernetescrd');
    // Header names are canonicalised (x-canary → X-Canary), as Go's Header.Set does.
    expect(matchRoutes('c1', rs, { host: 'shop.example.com', path: '/', headers: ['x-canary: 1'] }).served_by).toBe('canary@kubernetescrd');
    expect(matchRoutes('c1', rs, { host: 'shop.example.com', path: '/', headers: ['X-Canary=2'] }).served_by).toBe('web@kubernetescrd');
    expect(matchRoutes('c1', rs, { host: 'shop.example.com', path: '/', clientIp: '10.1.2.3:51234' }).served_by).toBe('office@kubernetescrd');
    expect(matchRoutes('c1', rs, { host: 'shop.example.com', path: '/', clientIp: '192.168.1.1' }).served_by).toBe('web@kubernetescrd');
  });

  it('a header or client address that cannot be read is a BadRouteRequest naming it', () => {
    const fieldOf = (q: Parameters<typeof matchRoutes>[2]) => {
      try {
        matchRoutes('c1', stored, q);
      } catch (e) {
        return e instanceof BadRouteRequest ? e.field : 'other error';
      }
      return 'no error';
    };
    expect(fieldOf({ host: 'shop.example.com', path: '/', headers: ['X-A: 1', 'no separator'] })).toBe('header.1');
    expect(fieldOf({ host: 'shop.example.com', path: '/', clientIp: 'not-an-ip' })).toBe('client_ip');
    expect(fieldOf({ host: 'shop.example.com', path: '/', clientIp: '[::1]:443' })).toBe('no error');
  });

  it('routers that do not match beyond the list limit are counted, not listed', () => {
    const many = Array.from({ length: 130 }, (_, i) => route(`r${i}@kubernetescrd`, `Host(\`h${i}.example.com\`)`, { domain: `h${i}.example.com` }));
    const r = matchRoutes('c1', { ts: 1, routes: many }, { host: 'nowhere.example.com', path: '/' });
    expect(r.routers).toHaveLength(100);
    expect(r.routers_omitted).toBe(30);
    expect(r.routers_considered).toBe(130);
  });
});
