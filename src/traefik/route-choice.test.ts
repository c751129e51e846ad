import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../test/support/env.js';
import { chooseRoute, routersFromMappings, routersOnEntryPoint, type Router } from './route-choice.js';
import { routeMappingsFromYaml } from './manifests.js';

const dir = fixturesDir('traefik');

interface PriorityCase {
  desc: string;
  path: string;
  routes: { xFrom: string; rule: string; priority: number; providerName: string }[];
  expectedXFrom: string;
}

describe.skipIf(!dir)('rules-priority.json Test_addRoutePriority: the router Traefik picks', () => {
  const cases = dir ? (JSON.parse(readFileSync(path.join(dir, 'rules-priority.json'), 'utf8')) as { addRoutePriority: { cases: PriorityCase[] } }).addRoutePriority.cases : [];

  it('has the documented 12 cases', () => {
    expect(cases).toHaveLength(12);
  });

  it.each(cases.map((c) => [c.desc, c] as const))('%s', (_desc, c) => {
    // The router name carries its provider as `name@provider`; xFrom identifies the route.
    const routers: Router[] = c.routes.map((r) => ({ name: r.providerName ? `${r.xFrom}@${r.providerName}` : r.xFrom, rule: r.rule, syntax: 'v3', priority: r.priority }));
    const served = chooseRoute(routers, { host: 'example.com', path: c.path, method: 'GET' }).served;
    expect(served?.router.name.split('@')[0]).toBe(c.expectedXFrom);
  });
});

describe('chooseRoute', () => {
  const req = { host: 'shop.example.com', path: '/api/cart' };

  it('takes the rule length as priority when none is set, so the longer rule wins', () => {
    const choice = chooseRoute(
      [
        { name: 'short@kubernetescrd', rule: 'PathPrefix(`/`)', syntax: 'v3' },
        { name: 'long@kubernetescrd', rule: 'Host(`shop.example.com`) && PathPrefix(`/api`)', syntax: 'v3', priority: 0 },
      ],
      req,
    );
    expect(choice.served?.router.name).toBe('long@kubernetescrd');
    expect(choice.served?.priorityFrom).toBe('rule');
    expect(choice.served?.priority).toBe('Host(`shop.example.com`) && PathPrefix(`/api`)'.length);
    expect(choice.verdicts.map((v) => v.router.name)).toEqual(['long@kubernetescrd', 'short@kubernetescrd']);
    expect(choice.tiedWith).toEqual([]);
  });

  it('explains each matcher, negated ones included', () => {
    const choice = chooseRoute([{ name: 'r', rule: 'Host(`shop.example.com`) && !PathPrefix(`/admin`) && Method(`POST`)', syntax: 'v3' }], req);
    expect(choice.served).toBeUndefined();
    expect(choice.verdicts[0].parts).toEqual([
      { matcher: 'Host(`shop.example.com`)', negated: false, matched: true },
      { matcher: 'PathPrefix(`/admin`)', negated: true, matched: false },
      { matcher: 'Method(`POST`)', negated: false, matched: false },
    ]);
  });

  it('never serves from a rule Traefik rejects, and says why', () => {
    const choice = chooseRoute([{ name: 'bad', rule: 'PathRegexp(`^/api(`)', syntax: 'v3', priority: 100 }, { name: 'ok', rule: 'PathPrefix(`/api`)', syntax: 'v3' }], req);
    expect(choice.served?.router.name).toBe('ok');
    expect(choice.verdicts[0].error).toContain('missing closing )');
  });

  it('reports routers of equal priority and provider that also match as a tie', () => {
    const choice = chooseRoute(
      [
        { name: 'a@kubernetescrd', rule: 'PathPrefix(`/api`)', syntax: 'v3', priority: 5 },
        { name: 'b@kubernetescrd', rule: 'PathPrefix(`/ap`)', syntax: 'v3', priority: 5 },
        { name: 'c@kubernetes', rule: 'PathPrefix(`/a`)', syntax: 'v3', priority: 5 },
      ],
      req,
    );
    expect(choice.served?.router.name).toBe('a@kubernetescrd');
    expect(choice.tiedWith.map((v) => v.router.name)).toEqual(['b@kubernetescrd']);
  });
});

describe.skipIf(!dir)('routers from the fixture manifests', () => {
  const read = (f: string) => readFileSync(path.join(dir!, 'crd', f), 'utf8');

  it('one router per IngressRoute route, named as Traefik names it, filtered by entry point', () => {
    const routers = routersFromMappings(routeMappingsFromYaml(read('traefik.io/with_two_services.yml')));
    expect(routers.map((r) => [r.name, r.priority, r.entryPoints])).toEqual([['default-test-route-77c62dfe9517144aeeaa@kubernetescrd', 12, ['web']]]);
    expect(routers[0].mappings.map((m) => m.traefikService)).toEqual(['default-whoami-80@kubernetescrd', 'default-whoami2-8080@kubernetescrd']);
    expect(routersOnEntryPoint(routers, 'web')).toHaveLength(1);
    expect(routersOnEntryPoint(routers, 'websecure')).toHaveLength(0);
  });
});
