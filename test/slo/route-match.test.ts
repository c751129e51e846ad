/**
 * GET /api/v2/slo/routes/match through the real server, on SQLite and PostgreSQL: routes built the way
 * the agent builds them (manifests → routeInfosFromMappings) are ingested with a snapshot, then the
 * endpoint says which route serves a URL. Expected routes are worked out by hand from Traefik's
 * rules: the longer rule wins (an unset priority is the rule's length).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { routeInfosFromMappings } from '../../src/slo/agent/routes.js';
import { sloModule } from '../../src/slo/module.js';
import type { RouteMatchResponse } from '../../src/slo/server/route-match-schemas.js';
import type { RouteInfo, Snapshot } from '../../src/slo/snapshot.js';
import { routeMappingsFromYaml } from '../../src/traefik/index.js';
import { sqlCases } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MANIFESTS = `
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: { name: shop, namespace: shop }
spec:
  entryPoints: [websecure]
  routes:
    - match: Host(\`shop.example.com\`) && PathPrefix(\`/api\`)
      kind: Rule
      services: [{ name: api, port: 8080 }]
    - match: Host(\`shop.example.com\`)
      kind: Rule
      services: [{ name: web, port: 80 }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: legacy
  namespace: shop
  annotations: { kubernetes.io/ingress.class: traefik }
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /api/v1
            pathType: Prefix
            backend: { service: { name: legacy, port: { number: 80 } } }
`;

const MIN = 60_000;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const shipped = routeInfosFromMappings(routeMappingsFromYaml(MANIFESTS));
/** A route the agent knows only from Traefik's metrics: it has no rule. */
const metricsOnly: RouteInfo = { name: '', namespace: '', domain: 'media', path_prefix: '/', service_key: 'media-svc-80@kubernetes', service_name: 'media', service_port: 80, tls: false };
const withoutRules = (rs: RouteInfo[]): RouteInfo[] => rs.map(({ name, namespace, domain, path_prefix, service_key, service_name, service_port, tls }) => ({ name, namespace, domain, path_prefix, service_key, service_name, service_port, tls }));

function snapshot(cluster: string, seq: number, timestamp: number, routes: RouteInfo[]): Snapshot {
  return { cluster_id: cluster, agent_id: 'agent-1', seq, timestamp, services: [], edges: [], ingress: [], routes };
}

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`GET /api/v2/slo/routes/match (${c.name})`, () => {
    let t: TestServer;
    const now = Date.now();

    const get = async (query: string) => {
      const res = await fetch(`${t.url}/api/v2/slo/routes/match?${query}`, { headers: { authorization: `Bearer ${t.adminToken}` } });
      return { status: res.status, body: (await res.json()) as Json };
    };
    const match = async (query: string) => {
      const r = await get(query);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body as RouteMatchResponse;
    };
    const post = async (s: Snapshot) => {
      const res = await fetch(`${t.url}/api/v2/agent/snapshots`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(s),
      });
      expect(res.status, await res.text()).toBe(200);
    };

    beforeAll(async () => {
      t = await startTestServer({ pgUrl: c.url, modules: [sloModule(loadConfig({ env: {} }))], flags: { 'server.jobs': false } });
      await post(snapshot('rm', 1, now - 3 * MIN, [...shipped, metricsOnly]));
      await post(snapshot('old', 1, now - 3 * MIN, withoutRules(shipped)));
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('the agent ships each route with its router, rule, syntax and entry points', () => {
      const api = shipped.find((r) => r.service_name === 'api')!;
      expect(api.rule).toBe('Host(`shop.example.com`) && PathPrefix(`/api`)');
      expect(api.syntax).toBe('v3');
      expect(api.entry_points).toEqual(['websecure']);
      expect(api.router).toMatch(/^shop-shop-[0-9a-f]+@kubernetescrd$/);
      const legacy = shipped.find((r) => r.service_name === 'legacy')!;
      expect(legacy.rule).toBe('Host(`shop.example.com`) && PathPrefix(`/api/v1`)');
      expect(legacy.router).toMatch(/@kubernetes$/);
    });

    it('names the route that serves a URL and the routers tried before it', async () => {
      const r = await match('cluster_id=rm&host=shop.example.com&path=/api/cart');
      expect(r.served).toMatchObject({ name: 'shop', namespace: 'shop', domain: 'shop.example.com', path_prefix: '/api', service_name: 'api' });
      // The Ingress rule is longer (49 > 46 characters), so Traefik tries it first.
      expect(r.routers.map((x) => [x.rule, x.priority, x.verdict])).toEqual([
        ['Host(`shop.example.com`) && PathPrefix(`/api/v1`)', 49, 'no_match'],
        ['Host(`shop.example.com`) && PathPrefix(`/api`)', 46, 'serves'],
        ['Host(`shop.example.com`)', 24, 'shadowed'],
      ]);
      expect(r.routers[0].matchers.map((m) => [m.matcher, m.satisfied])).toEqual([
        ['Host(`shop.example.com`)', true],
        ['PathPrefix(`/api/v1`)', false],
      ]);
      expect(r.without_rule.count).toBe(1);
      expect(r.without_rule.routes[0].domain).toBe('media');
      expect(r.routes_at).toBe(now - 3 * MIN);
    });

    it('the longer rule wins; a host with a port and other case still matches', async () => {
      expect((await match('cluster_id=rm&host=shop.example.com&path=/api/v1/users')).served).toMatchObject({ name: 'legacy', service_name: 'legacy', path_prefix: '/api/v1' });
      const root = await match('cluster_id=rm&host=Shop.Example.com:443&path=/');
      expect(root.served).toMatchObject({ name: 'shop', service_name: 'web', path_prefix: '/' });
      const none = await match('cluster_id=rm&host=elsewhere.example.com&path=/');
      expect(none.served).toBeNull();
      expect(none.summary).toMatch(/served by no route \(Traefik answers 404\): 3 router\(s\) tried/);
      const ep = await match('cluster_id=rm&host=shop.example.com&path=/&entry_point=web');
      // The IngressRoute listens on websecure only; the Ingress router on every entry point.
      expect(ep.routers_considered).toBe(1);
      expect(ep.served).toBeNull();
    });

    it('routes from an agent without rules are said to be so', async () => {
      const r = await match('cluster_id=old&host=shop.example.com&path=/api/cart');
      expect(r.served).toBeNull();
      expect(r.routers).toEqual([]);
      expect(r.without_rule.count).toBe(3);
      expect(r.summary).toMatch(/none of the cluster's 3 route\(s\) came with its rule/);
    });

    it('a newer snapshot replaces the routes; a late, older one does not bring them back', async () => {
      const web = shipped.filter((r) => r.service_name === 'web');
      await post(snapshot('swap', 1, now - 3 * MIN, shipped));
      await post(snapshot('swap', 2, now - 2 * MIN, web));
      expect((await match('cluster_id=swap&host=shop.example.com&path=/api/cart')).served).toMatchObject({ service_name: 'web' });
      await post(snapshot('swap', 3, now - 4 * MIN, shipped));
      const r = await match('cluster_id=swap&host=shop.example.com&path=/api/cart');
      expect(r.served).toMatchObject({ service_name: 'web' });
      expect(r.routers_considered).toBe(1);
      expect(r.routes_at).toBe(now - 2 * MIN);
    });

    it('hostile or malformed input is 400 naming the field', async () => {
      const cases: [string, string][] = [
        [`cluster_id=rm&host=shop.example.com&path=/${'a'.repeat(8192)}`, 'path'],
        ['cluster_id=rm&host=shop.example.com&path=/a%00b', 'path'],
        ['cluster_id=rm&host=shop%00.example.com&path=/', 'host'],
        ['cluster_id=rm&host=shop.example.com&path=/a%25zz', 'path'],
        ['cluster_id=rm&host=shop.example.com&path=relative', 'path'],
        ['cluster_id=rm&path=/', 'host'],
        ['cluster_id=rm&host=shop.example.com&path=/&method=GE%20T', 'method'],
        ['cluster_id=rm&host=shop.example.com&path=/&header=X-A%3A1&header=no-separator', 'header.1'],
        [`cluster_id=rm&host=shop.example.com&path=/&header=X-Big%3A${'v'.repeat(9000)}`, 'header.0'],
        [`cluster_id=rm&host=shop.example.com&path=/${'&header=A%3A1'.repeat(65)}`, 'header'],
        ['cluster_id=rm&host=shop.example.com&path=/&client_ip=not-an-ip', 'client_ip'],
      ];
      for (const [query, field] of cases) {
        const r = await get(query);
        expect(r.status, `${query.slice(0, 80)} → ${JSON.stringify(r.body).slice(0, 200)}`).toBe(400);
        expect(r.body.error).toBe('bad_request');
        expect(r.body.field).toBe(field);
      }
    });

    it('takes request headers and the client address (one or many header parameters)', async () => {
      const one = await match('cluster_id=rm&host=shop.example.com&path=/api/cart&header=X-Canary%3A1&client_ip=10.0.0.7');
      expect(one.served).toMatchObject({ service_name: 'api' });
      const many = await match('cluster_id=rm&host=shop.example.com&path=/&header=X-A%3A1&header=X-B%3D2&client_ip=%5B%3A%3A1%5D%3A443');
      expect(many.served).toMatchObject({ service_name: 'web' });
    });

    it('is documented in OpenAPI under the slo tag, with its query parameters', async () => {
      const spec = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as Json;
      const op = spec.paths['/api/v2/slo/routes/match']?.get;
      expect(op?.tags).toEqual(['slo']);
      expect((op.parameters as { name: string; required?: boolean }[]).filter((p) => p.required).map((p) => p.name).sort()).toEqual(['host', 'path']);
    });

    it('an unknown cluster is 404', async () => {
      expect((await get('cluster_id=nope&host=shop.example.com&path=/')).status).toBe(404);
    });
  });
}
