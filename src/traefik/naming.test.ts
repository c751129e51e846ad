import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../test/support/env.js';
import {
  crdServiceName,
  ingressRouteRouteNames,
  ingressRouterKey,
  ingressRule,
  ingressServiceName,
  normalizeName,
  ruleHash,
} from './naming.js';

const dir = fixturesDir('traefik');

describe.skipIf(!dir)('expected.json: router names and rule hashes', () => {
  const expected = dir
    ? (JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as {
        fixtures: { file: string; ingressRoute: { namespace: string; name: string }; routers: { name: string; rule: string; ruleSha256First20Hex: string }[] }[];
      })
    : { fixtures: [] };
  const routers = expected.fixtures.flatMap((f) => f.routers.map((r) => [f.file, r.rule, f, r] as const));

  it.each(routers)('%s %s', (_file, _rule, f, r) => {
    expect(ruleHash(r.rule)).toBe(r.ruleSha256First20Hex);
    expect(ingressRouteRouteNames(f.ingressRoute.namespace, f.ingressRoute.name, { match: r.rule, services: [{ name: 'whoami', port: 80 }] }).router).toBe(
      `${r.name}@kubernetescrd`,
    );
  });
});

describe('naming', () => {
  it('normalizes like provider.Normalize', () => {
    expect(normalizeName('default-test.route-abc')).toBe('default-test-route-abc');
    expect(normalizeName('--a..b__c--')).toBe('a-b-c');
    expect(normalizeName('ns-café-1')).toBe('ns-café-1');
  });

  it('names IngressRoute leaf services <ns>-<svc>-<port>, TraefikServices <ns>-<name>, cross-provider name@provider', () => {
    expect(crdServiceName('default', { name: 'whoami2', port: 8080 })).toBe('default-whoami2-8080');
    expect(crdServiceName('default', { name: 'whoami', port: 'web', namespace: 'other' })).toBe('other-whoami-web');
    expect(crdServiceName('default', { name: 'whoami' })).toBe('default-whoami');
    expect(crdServiceName('default', { name: 'split', kind: 'TraefikService' })).toBe('default-split');
    expect(crdServiceName('default', { name: 'api@file', kind: 'TraefikService' })).toBe('api@file');
    // An `…@kubernetescrd` reference is already `<ns>-<name>`: Traefik does not add the parent namespace.
    expect(crdServiceName('default', { name: 'prod-split@kubernetescrd', kind: 'TraefikService' })).toBe('prod-split');
    const multi = ingressRouteRouteNames('default', 'test.route', {
      match: 'Host(`foo.com`) && PathPrefix(`/foo`)',
      services: [
        { name: 'whoami', port: 80 },
        { name: 'whoami2', port: 8080 },
      ],
    });
    expect(multi).toEqual({
      router: 'default-test-route-77c62dfe9517144aeeaa@kubernetescrd',
      routerService: 'default-test-route-77c62dfe9517144aeeaa@kubernetescrd',
      leafServices: ['default-whoami-80@kubernetescrd', 'default-whoami2-8080@kubernetescrd'],
    });
  });

  it('names Ingress services and routers like the kubernetes provider', () => {
    expect(ingressServiceName('shop', 'api', { number: 8080 })).toBe('shop-api-8080');
    expect(ingressServiceName('shop', 'api', { name: 'http', number: 0 })).toBe('shop-api-http');
    expect(ingressRouterKey('shop', 'web', 'a.example.com', '/api/v1')).toBe('shop-web-a-example-com-api-v1');
    expect(ingressRouterKey('', 'web', '', '/')).toBe('web');
  });

  it('builds the Ingress provider rule', () => {
    expect(ingressRule('a.com', '/x', 'Prefix')).toBe('Host(`a.com`) && PathPrefix(`/x`)');
    expect(ingressRule('a.com', '/x', 'Exact')).toBe('Host(`a.com`) && Path(`/x`)');
    expect(ingressRule('', '/x', 'ImplementationSpecific', { pathMatcher: 'PathRegexp' })).toBe('PathRegexp(`/x`)');
    expect(ingressRule('*.a.com', '', undefined)).toBe('HostRegexp(`^[a-zA-Z0-9-]+\\.a\\.com$`)');
    expect(ingressRule('*.a.com', '', undefined, { syntax: 'v2' })).toBe('HostRegexp(`{subdomain:[a-zA-Z0-9-]+}.a.com`)');
  });
});
