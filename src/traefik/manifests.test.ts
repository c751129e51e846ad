import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../test/support/env.js';
import { ManifestError, routeMappingsFromObjects, routeMappingsFromYaml, withTypeMeta, type RouteMapping } from './manifests.js';

const dir = fixturesDir('traefik');

interface ExpectedService {
  name: string;
  loadBalancer?: unknown;
  weighted?: { services: { name: string; weight: number }[] };
}

interface ExpectedFixture {
  file: string;
  loadedWith: string[];
  apiGroup: string;
  ingressRoute: { namespace: string; name: string };
  routers: { name: string; rule: string; ruleSha256First20Hex: string; service: string; entryPoints: string[]; priority: number; tls?: unknown }[];
  services: ExpectedService[];
  alsoTested?: { ingressClass?: string; routers: unknown[] };
}

/** The services whose metrics carry a router's traffic: load balancers reached through weighted services. */
function leafServices(services: ExpectedService[], name: string): string[] {
  const svc = services.find((s) => s.name === name);
  if (!svc) throw new Error(`expected.json has no service ${name}`);
  if (svc.weighted) return svc.weighted.services.flatMap((c) => leafServices(services, c.name));
  return [name];
}

/** Worked out by hand from each fixture's `match`. */
const SERVED: Record<string, { domain: string; pathPrefix: string }[]> = {
  'crd/traefik.io/simple.yml': [{ domain: 'foo.com', pathPrefix: '/bar' }],
  'crd/traefik.io/with_middleware.yml': [{ domain: 'foo.com', pathPrefix: '/tobestripped' }],
  'crd/traefik.io/with_two_rules.yml': [
    { domain: 'foo.com', pathPrefix: '/foo' },
    { domain: 'foo.com', pathPrefix: '/bar' },
  ],
  'crd/traefik.io/with_two_services.yml': [{ domain: 'foo.com', pathPrefix: '/foo' }],
  'crd/traefik.io/with_tls.yml': [{ domain: 'foo.com', pathPrefix: '/bar' }],
  'crd/traefik.containo.us/simple.yml': [{ domain: 'foo.com', pathPrefix: '/bar' }],
  'crd/traefik.containo.us/with_two_services.yml': [{ domain: 'foo.com', pathPrefix: '/foo' }],
};

describe.skipIf(!dir)('expected.json: IngressRoute fixtures through manifests.ts', () => {
  const expected = dir ? (JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as { fixtures: ExpectedFixture[] }) : { fixtures: [] };
  const read = (f: string) => readFileSync(path.join(dir!, f), 'utf8');
  const load = (fx: ExpectedFixture, options = {}) => routeMappingsFromYaml([read(fx.file), ...fx.loadedWith.map(read)].join('\n---\n'), options);

  it('covers every fixture under crd/traefik.io and crd/traefik.containo.us', () => {
    expect(expected.fixtures.map((f) => f.file).sort()).toEqual(Object.keys(SERVED).sort());
  });

  describe.each(expected.fixtures.map((f) => [f.file, f] as const))('%s', (_file, fx) => {
    const mappings = load(fx);

    it('yields the router label values of expected.json', () => {
      const routers = [...new Set(mappings.map((m) => m.router))].sort();
      expect(routers).toEqual(fx.routers.map((r) => `${r.name}@kubernetescrd`).sort());
    });

    it('yields the service label values that carry each router\'s traffic', () => {
      for (const r of fx.routers) {
        const got = [...new Set(mappings.filter((m) => m.router === `${r.name}@kubernetescrd`).map((m) => m.traefikService))].sort();
        expect(got, r.name).toEqual(leafServices(fx.services, r.service).map((s) => `${s}@kubernetescrd`).sort());
      }
    });

    it('names the IngressRoute, its namespace, entry points and TLS, and keeps the rule', () => {
      for (const r of fx.routers) {
        const ms = mappings.filter((m) => m.router === `${r.name}@kubernetescrd`);
        expect(ms.length).toBeGreaterThan(0);
        for (const m of ms) {
          expect([m.namespace, m.name, m.apiVersion, m.rule, m.entryPoints, m.tls, m.priority]).toEqual([
            fx.ingressRoute.namespace,
            fx.ingressRoute.name,
            fx.apiGroup,
            r.rule,
            r.entryPoints,
            r.tls !== undefined,
            r.priority,
          ]);
          expect(m.router).toContain(r.ruleSha256First20Hex);
        }
      }
    });

    it('maps the domain and path of the rule', () => {
      const served = [...new Map(mappings.map((m) => [`${m.domain} ${m.pathPrefix}`, { domain: m.domain, pathPrefix: m.pathPrefix }])).values()];
      expect(served).toEqual(SERVED[fx.file]);
      expect(mappings.every((m) => m.domainFromRule && !m.exactPath && m.ruleError === undefined)).toBe(true);
    });

    if (fx.alsoTested?.ingressClass) {
      const ingressClass = fx.alsoTested.ingressClass;
      it(`drops the IngressRoute when the provider's ingressClass is ${ingressClass}`, () => {
        expect(load(fx, { ingressClass })).toHaveLength(fx.alsoTested!.routers.length);
      });
    }
  });
});

const ingressRoute = (routes: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'traefik.io/v1alpha1',
  kind: 'IngressRoute',
  metadata: { name: 'shop', namespace: 'prod' },
  spec: { entryPoints: ['websecure'], routes, ...extra },
});

describe('IngressRoute mappings', () => {
  it('falls back to the service name when the rule has no host', () => {
    const [m] = routeMappingsFromObjects([ingressRoute([{ match: 'PathPrefix(`/api`)', kind: 'Rule', services: [{ name: 'api', port: 8080 }] }])]);
    expect([m.domain, m.domainFromRule, m.pathPrefix]).toEqual(['api', false, '/api']);
    // sha256("PathPrefix(`/api`)") computed with `printf '%s' 'PathPrefix(`/api`)' | sha256sum`
    expect(m.traefikService).toBe('prod-shop-29f28a463fb5d5ba16d2@kubernetescrd');
    expect(m.backendServices).toEqual([{ name: 'api', namespace: 'prod', port: 8080, kind: 'Service' }]);
  });

  it('yields one mapping per (domain, path) and per leaf service of a multi-service route', () => {
    const ms = routeMappingsFromObjects([
      ingressRoute([
        {
          match: 'Host(`a.example.com`) || Host(`b.example.com`) && PathPrefix(`/b`)',
          kind: 'Rule',
          services: [
            { name: 'web', port: 80 },
            { name: 'web-canary', port: 'http', namespace: 'canary' },
          ],
        },
      ]),
    ]);
    expect(ms.map((m) => [m.traefikService, m.domain, m.pathPrefix])).toEqual([
      ['prod-web-80@kubernetescrd', 'a.example.com', '/'],
      ['prod-web-80@kubernetescrd', 'b.example.com', '/b'],
      ['canary-web-canary-http@kubernetescrd', 'a.example.com', '/'],
      ['canary-web-canary-http@kubernetescrd', 'b.example.com', '/b'],
    ]);
  });

  it('parses traefik.containo.us rules as v2 and falls back to v2 for a traefik.io v2-only rule', () => {
    const containo = { ...ingressRoute([{ match: 'Host(`a.com`, `b.com`)', kind: 'Rule', services: [{ name: 's', port: 80 }] }]), apiVersion: 'traefik.containo.us/v1alpha1' };
    const io = ingressRoute([{ match: 'Host(`a.com`, `b.com`)', kind: 'Rule', services: [{ name: 's', port: 80 }] }]);
    const a = routeMappingsFromObjects([containo]);
    const b = routeMappingsFromObjects([io]);
    expect(a.map((m) => [m.domain, m.syntax, m.syntaxFallback ?? false])).toEqual([
      ['a.com', 'v2', false],
      ['b.com', 'v2', false],
    ]);
    expect(b.map((m) => [m.domain, m.syntax, m.syntaxFallback ?? false])).toEqual([
      ['a.com', 'v2', true],
      ['b.com', 'v2', true],
    ]);
    const strict = routeMappingsFromObjects([io], { syntaxFallback: false });
    expect(strict.map((m) => [m.domain, m.ruleError !== undefined])).toEqual([['s', true]]);
  });

  it('expands a TraefikService reference when the TraefikService is among the objects', () => {
    const ts = {
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'TraefikService',
      metadata: { name: 'split', namespace: 'prod' },
      spec: { weighted: { services: [{ name: 'v1', port: 80, weight: 3 }, { name: 'v2', port: 80, weight: 1 }] } },
    };
    const route = ingressRoute([{ match: 'Host(`shop.example.com`)', kind: 'Rule', services: [{ name: 'split', kind: 'TraefikService' }] }]);
    expect(routeMappingsFromObjects([route, ts]).map((m) => m.traefikService)).toEqual(['prod-v1-80@kubernetescrd', 'prod-v2-80@kubernetescrd']);
    expect(routeMappingsFromObjects([route]).map((m) => m.traefikService)).toEqual(['prod-split@kubernetescrd']);
  });

  it('skips routes Traefik skips and reports malformed objects with their path', () => {
    expect(routeMappingsFromObjects([ingressRoute([{ match: '', kind: 'Rule', services: [{ name: 's' }] }])])).toEqual([]);
    expect(routeMappingsFromObjects([ingressRoute([{ match: 'Host(`a`)', kind: 'Other', services: [{ name: 's' }] }])])).toEqual([]);
    expect(() => routeMappingsFromObjects([ingressRoute([{ match: 'Host(`a`)', kind: 'Rule', services: [{ port: 80 }] }])])).toThrow(
      'objects[0].spec.routes[0].services[0].name: is required',
    );
    const errors: ManifestError[] = [];
    const ok = ingressRoute([{ match: 'Host(`a`)', kind: 'Rule', services: [{ name: 's', port: 80 }] }]);
    const bad = ingressRoute([{ match: 'Host(`a`)', kind: 'Rule', services: 'nope' }]);
    expect(routeMappingsFromObjects([bad, ok], { onError: (e) => errors.push(e) })).toHaveLength(1);
    expect(errors.map((e) => e.path)).toEqual(['objects[0].spec.routes[0].services']);
  });

  it('accepts list items without apiVersion/kind once withTypeMeta fills them in', () => {
    const item = { metadata: { name: 'shop', namespace: 'prod' }, spec: { routes: [{ match: 'Host(`a.com`)', kind: 'Rule', services: [{ name: 's', port: 80 }] }] } };
    expect(routeMappingsFromObjects([item])).toEqual([]);
    expect(routeMappingsFromObjects(withTypeMeta([item], 'traefik.io/v1alpha1', 'IngressRoute')).map((m) => m.domain)).toEqual(['a.com']);
  });

  it('reports invalid YAML with the document index', () => {
    expect(() => routeMappingsFromYaml('kind: IngressRoute\n---\nspec: [unclosed\n')).toThrow(/^documents\[1\]: invalid YAML/);
  });
});

describe('Ingress (networking.k8s.io/v1) mappings', () => {
  const ingress = (spec: Record<string, unknown>, annotations: Record<string, string> = {}) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'shop', annotations },
    spec: { ingressClassName: 'traefik', ...spec },
  });
  const paths = (host: string | undefined, list: { path?: string; pathType?: string; service: string; port: { number?: number; name?: string } }[]) => ({
    ...(host ? { host } : {}),
    http: { paths: list.map((p) => ({ path: p.path, pathType: p.pathType ?? 'Prefix', backend: { service: { name: p.service, port: p.port } } })) },
  });

  it('names services <ns>-<svc>-<port name or number>@kubernetes and routers <ns>-<ingress>-<host><path>', () => {
    const ms: RouteMapping[] = routeMappingsFromObjects([
      ingress({
        rules: [
          paths('Shop.Example.com', [
            { path: '/api', service: 'api', port: { number: 8080 } },
            { path: '/static', pathType: 'Exact', service: 'cdn', port: { name: 'http' } },
          ]),
          paths(undefined, [{ path: '/', service: 'web', port: { number: 80 } }]),
        ],
      }),
    ]);
    expect(ms.map((m) => [m.router, m.traefikService, m.domain, m.pathPrefix, m.exactPath, m.rule])).toEqual([
      ['shop-web-Shop-Example-com-api@kubernetes', 'shop-api-8080@kubernetes', 'shop.example.com', '/api', false, 'Host(`Shop.Example.com`) && PathPrefix(`/api`)'],
      ['shop-web-Shop-Example-com-static@kubernetes', 'shop-cdn-http@kubernetes', 'shop.example.com', '/static', true, 'Host(`Shop.Example.com`) && Path(`/static`)'],
      ['shop-web@kubernetes', 'shop-web-80@kubernetes', 'web', '/', false, 'PathPrefix(`/`)'],
    ]);
  });

  it('hashes router keys that collide inside one Ingress', () => {
    // Same host+path twice: Traefik appends the first 10 bytes of sha256(rule), in hex.
    const ms = routeMappingsFromObjects([
      ingress({
        rules: [
          paths('a.com', [{ path: '/x', pathType: 'Prefix', service: 's1', port: { number: 80 } }]),
          paths('a.com', [{ path: '/x', pathType: 'Exact', service: 's2', port: { number: 80 } }]),
        ],
      }),
    ]);
    // printf '%s' 'Host(`a.com`) && PathPrefix(`/x`)' | sha256sum | cut -c1-20 ; and the same with Path(`/x`)
    expect(ms.map((m) => m.router)).toEqual(['shop-web-a-com-x-c50ed0a59cb5794ec3f6@kubernetes', 'shop-web-a-com-x-a981ef1f57a97f641e49@kubernetes']);
  });

  it('maps a default backend to default-backend@kubernetes and honours ingress classes', () => {
    const [m] = routeMappingsFromObjects([ingress({ defaultBackend: { service: { name: 'fallback', port: { number: 80 } } } })]);
    expect([m.router, m.traefikService, m.domain, m.pathPrefix]).toEqual(['default-router@kubernetes', 'default-backend@kubernetes', 'fallback', '/']);
    const nginx = ingress({ ingressClassName: 'nginx', rules: [paths('a.com', [{ path: '/', service: 's', port: { number: 80 } }])] });
    expect(routeMappingsFromObjects([nginx])).toEqual([]);
    const ic = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'traefik.io/ingress-controller' } };
    expect(routeMappingsFromObjects([nginx, ic])).toHaveLength(1);
  });
});
