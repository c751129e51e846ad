import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../test/support/env.js';
import { canonicalHeaderKey, compileRule, matchRule, routingPath, type RouteRequest } from './rule-match.js';
import type { RuleSyntax } from './rule-parser.js';

const dir = fixturesDir('traefik');

interface CorpusRequest {
  url?: string;
  host?: string;
  path?: string;
  query?: string;
  method?: string;
  headers?: Record<string, string[]>;
  remoteAddr?: string;
  rawRequest?: string;
  match: boolean;
  status: number;
}

interface Case {
  rule: string;
  syntax: RuleSyntax;
  valid: boolean;
  desc: string;
  source: string;
  requests: CorpusRequest[];
}

/**
 * What Go's HTTP server does with a raw HTTP/1.1 request (TestEmptyHost): an absolute-form target's
 * authority wins over the Host header unless it is empty (`http://@/`).
 */
function fromRawRequest(raw: string): RouteRequest {
  const [head] = raw.split('\r\n\r\n');
  const [requestLine, ...headerLines] = head.split('\r\n');
  const [method, target] = requestLine.split(' ');
  const headers: Record<string, string[]> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const key = canonicalHeaderKey(line.slice(0, colon).trim());
    (headers[key] ??= []).push(line.slice(colon + 1).trim());
  }
  const m = /^[a-z]+:\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/i.exec(target);
  const authority = m ? m[1].replace(/^.*@/, '') : '';
  return {
    method,
    host: authority !== '' ? authority : (headers.Host?.[0] ?? ''),
    path: m ? m[2] : target,
    query: m?.[3] ?? '',
    headers,
  };
}

function toRequest(r: CorpusRequest): RouteRequest {
  if (r.rawRequest) return fromRawRequest(r.rawRequest);
  return { host: r.host ?? '', path: r.path ?? '', query: r.query ?? '', method: r.method, headers: r.headers, clientIP: r.remoteAddr };
}

describe.skipIf(!dir)('rules.json corpus: every request matches (or not) as in Traefik', () => {
  const cases = dir ? (JSON.parse(readFileSync(path.join(dir, 'rules.json'), 'utf8')) as Case[]) : [];
  const rows = cases.flatMap((c, i) => c.requests.map((r, j) => [`${i}.${j}`, c.syntax, c.rule, r.url ?? 'raw', r.match, c, r] as const));

  it('has the documented 536 requests', () => {
    expect(rows).toHaveLength(536);
  });

  it.each(rows)('#%s %s %s %s → %s', (_id, _s, _rule, _url, expected, c, r) => {
    const compiled = compileRule(c.rule, { syntax: c.syntax });
    expect(compiled.match(toRequest(r))).toBe(expected);
  });
});

describe('matching details', () => {
  it('decodes unreserved percent-escapes in the routing path and keeps reserved ones', () => {
    expect(routingPath('/foo%20bar')).toBe('/foo bar');
    expect(routingPath('/a%2Fb')).toBe('/a%2Fb');
    expect(routingPath('/%7Bx%7D')).toBe('/{x}');
    expect(routingPath('/bad%zz')).toBeUndefined();
    expect(matchRule('PathPrefix(`/foo bar`)', { host: 'a', path: '/foo%20bar' })).toBe(true);
    expect(matchRule('Path(`/a/b`)', { host: 'a', path: '/a%2Fb' })).toBe(false);
  });

  it('v3 host wildcards: * one label, ** one or more, never the apex', () => {
    const one = compileRule('Host(`*.example.com`)');
    const many = compileRule('Host(`**.example.com`)');
    const req = (host: string) => ({ host, path: '/' });
    expect([one.match(req('a.example.com')), one.match(req('a.b.example.com')), one.match(req('example.com'))]).toEqual([true, false, false]);
    expect([many.match(req('a.example.com')), many.match(req('a.b.example.com:443')), many.match(req('example.com'))]).toEqual([true, true, false]);
  });

  it('canonicalises the rule header name, not the request header name', () => {
    const rule = compileRule('Header(`content-type`, `application/json`)');
    expect(rule.match({ host: 'a', path: '/', headers: { 'Content-Type': ['application/json'] } })).toBe(true);
    expect(rule.match({ host: 'a', path: '/', headers: { 'content-type': 'application/json' } })).toBe(false);
  });

  it('v2 Query checks the first occurrence of the key only (gorilla/mux)', () => {
    const v2 = compileRule('Query(`q=a`)', { syntax: 'v2' });
    const v3 = compileRule('Query(`q`, `a`)', { syntax: 'v3' });
    const req = { host: 'x', path: '/', query: 'q=b&q=a' };
    expect(v2.match(req)).toBe(false);
    expect(v3.match(req)).toBe(true);
  });

  it('ClientIP takes the host of host:port and handles IPv4-mapped IPv6', () => {
    const rule = compileRule('ClientIP(`10.0.0.0/8`)');
    expect(rule.match({ host: 'a', path: '/', clientIP: '10.1.2.3:5555' })).toBe(true);
    expect(rule.match({ host: 'a', path: '/', clientIP: '[::ffff:10.1.2.3]:5555' })).toBe(true);
    expect(rule.match({ host: 'a', path: '/', clientIP: '11.1.2.3' })).toBe(false);
    expect(rule.match({ host: 'a', path: '/', clientIP: '' })).toBe(false);
  });
});
