import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../test/support/env.js';
import { getRulePriority, parseDomains, routesOfRuleString, type ServedRoute } from './routes-of-rule.js';

const pairs = (routes: ServedRoute[]) => routes.map((r) => [r.domain, r.pathPrefix, r.exact]);

describe('routesOfRule', () => {
  it('host AND prefix', () => {
    expect(pairs(routesOfRuleString('Host(`foo.com`) && PathPrefix(`/bar`)'))).toEqual([['foo.com', '/bar', false]]);
  });

  it('distributes over OR', () => {
    expect(pairs(routesOfRuleString('Host(`a.com`) || Host(`b.com`) && PathPrefix(`/b`)'))).toEqual([
      ['a.com', '/', false],
      ['b.com', '/b', false],
    ]);
    expect(pairs(routesOfRuleString('(Host(`a.com`) || Host(`b.com`)) && (PathPrefix(`/x`) || PathPrefix(`/y`))'))).toEqual([
      ['a.com', '/x', false],
      ['a.com', '/y', false],
      ['b.com', '/x', false],
      ['b.com', '/y', false],
    ]);
  });

  it('Path overrides a prefix it extends; the longer of two nested prefixes wins; contradictions serve nothing', () => {
    expect(pairs(routesOfRuleString('Host(`a.com`) && PathPrefix(`/api`) && Path(`/api/health`)'))).toEqual([['a.com', '/api/health', true]]);
    expect(pairs(routesOfRuleString('PathPrefix(`/api`) && PathPrefix(`/api/v1`)'))).toEqual([[undefined, '/api/v1', false]]);
    expect(routesOfRuleString('Path(`/a`) && PathPrefix(`/b`)')).toEqual([]);
    expect(routesOfRuleString('Host(`a.com`) && Host(`b.com`)')).toEqual([]);
  });

  it('negations add nothing, double negation does', () => {
    expect(pairs(routesOfRuleString('Host(`a.com`) && !PathPrefix(`/admin`)'))).toEqual([['a.com', '/', false]]);
    expect(pairs(routesOfRuleString('!Host(`a.com`)'))).toEqual([[undefined, '/', false]]);
    expect(pairs(routesOfRuleString('!(!Host(`a.com`) || !Path(`/x`))'))).toEqual([['a.com', '/x', true]]);
  });

  it('ignores matchers that do not change domain or path', () => {
    expect(pairs(routesOfRuleString('Host(`a.com`) && Method(`GET`) && Header(`X-A`, `1`) && Query(`q`) && ClientIP(`10.0.0.0/8`)'))).toEqual([
      ['a.com', '/', false],
    ]);
  });

  it('expands v2 multi-value Host and Path', () => {
    expect(pairs(routesOfRuleString('Host(`a.com`, `B.com.`) && Path(`/x`, `/y`)', { syntax: 'v2' }))).toEqual([
      ['a.com', '/x', true],
      ['a.com', '/y', true],
      ['b.com', '/x', true],
      ['b.com', '/y', true],
    ]);
  });

  it('yields a HostRegexp pattern as the domain, unless a concrete host it matches is also required', () => {
    expect(routesOfRuleString('HostRegexp(`^.+\\.example\\.com$`)')).toEqual([{ domain: '^.+\\.example\\.com$', domainKind: 'regexp', pathPrefix: '/', exact: false }]);
    expect(pairs(routesOfRuleString('HostRegexp(`^.+\\.example\\.com$`) && Host(`a.example.com`)'))).toEqual([['a.example.com', '/', false]]);
    expect(routesOfRuleString('HostRegexp(`^.+\\.example\\.com$`) && Host(`a.example.org`)')).toEqual([]);
    expect(routesOfRuleString('HostRegexp(`{sub:[a-z]+}.example.com`)', { syntax: 'v2' })).toEqual([
      { domain: '{sub:[a-z]+}.example.com', domainKind: 'regexp', pathPrefix: '/', exact: false },
    ]);
  });

  it('keeps v3 wildcard hosts and gives PathRegexp its literal prefix', () => {
    expect(routesOfRuleString('Host(`*.example.com`) && PathRegexp(`^/api/v[0-9]+/`)')).toEqual([
      { domain: '*.example.com', domainKind: 'wildcard', pathPrefix: '/api/v', exact: false, pathRegexp: '^/api/v[0-9]+/' },
    ]);
    expect(routesOfRuleString('Path(`/css{path:(/.*)?}`)', { syntax: 'v2' })).toEqual([{ pathPrefix: '/css', exact: false, pathRegexp: '/css{path:(/.*)?}' }]);
  });
});

const dir = fixturesDir('traefik');

describe.skipIf(!dir)('rules-priority.json: ParseDomains and GetRulePriority', () => {
  const doc = dir
    ? (JSON.parse(readFileSync(path.join(dir, 'rules-priority.json'), 'utf8')) as {
        parseDomains: { cases: { desc: string; rule: string; error: boolean; domains: string[] | null }[] };
        getRulePriority: { cases: { desc: string; rule: string; expected: number }[] };
      })
    : { parseDomains: { cases: [] }, getRulePriority: { cases: [] } };

  it.each(doc.parseDomains.cases.map((c) => [c.desc, c.rule, c] as const))('ParseDomains %s: %s', (_d, _r, c) => {
    if (c.error) {
      expect(() => parseDomains(c.rule)).toThrow();
      return;
    }
    expect(parseDomains(c.rule)).toEqual(c.domains);
  });

  it.each(doc.getRulePriority.cases.map((c) => [c.desc, c.rule, c.expected] as const))('GetRulePriority %s: %s = %i', (_d, rule, expected) => {
    expect(getRulePriority(rule)).toBe(expected);
  });
});
