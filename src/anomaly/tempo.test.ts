import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../test/support/env.js';
import {
  ROOT_SPAN_NOT_YET_RECEIVED,
  TempoResponseError,
  buildHeaders,
  buildSearchUrl,
  isTruncated,
  normalizeTraceId,
  parseSearchResponse,
  splitWindow,
} from './tempo.js';

const dir = fixturesDir('tempo');
const read = (f: string) => JSON.parse(readFileSync(path.join(dir!, f), 'utf8'));

describe.skipIf(!dir)('Tempo documentation fixtures', () => {
  it('parses the /api/search example into trace summaries, ignoring metrics', () => {
    const r = parseSearchResponse(read('docs-search-tags-based.response.json'));
    expect(r).toMatchObject({ traceCount: 2, rootNotYetReceived: 0, invalid: 0 });
    expect(r.summaries).toEqual([
      { traceId: '0000000000000000d6e9329d67b6146a', service: 'frontend', endpoint: '/cart', startMs: 1634727903545, durationMs: 611 },
      { traceId: '00000000000000001b1ba462b409200d', service: 'frontend', endpoint: '/cart', startMs: 1634727775935, durationMs: 611 },
    ]);
  });

  it('treats a response without traces (tag values) as empty', () => {
    expect(parseSearchResponse(read('docs-search-tag-values.response.json'))).toEqual({ summaries: [], traceCount: 0, rootNotYetReceived: 0, invalid: 0 });
  });
});

describe('parseSearchResponse', () => {
  it('skips and counts traces whose root span has not arrived, defaults a missing durationMs to 0', () => {
    const r = parseSearchResponse({
      traces: [
        { traceID: 'a1', rootServiceName: ROOT_SPAN_NOT_YET_RECEIVED, startTimeUnixNano: '1700000000000000000', durationMs: 5 },
        { traceID: 'A2', rootServiceName: 'cart', rootTraceName: 'GET /x', startTimeUnixNano: '1700000000000000000', spanSets: [{ spans: [] }], newField: true },
        { traceID: 'a3', rootServiceName: 'cart', startTimeUnixNano: 'x' },
        { traceID: '', rootServiceName: 'cart', startTimeUnixNano: '1' },
        { traceID: 'a5', rootServiceName: 'cart', startTimeUnixNano: '1', durationMs: -1 },
        null,
      ],
      metrics: { inspectedTraces: 1, somethingNew: {} },
    });
    expect(r.traceCount).toBe(6);
    expect(r.rootNotYetReceived).toBe(1);
    expect(r.invalid).toBe(4);
    expect(r.summaries).toEqual([
      { traceId: '000000000000000000000000000000a2', service: 'cart', endpoint: 'GET /x', startMs: 1_700_000_000_000, durationMs: 0 },
    ]);
  });

  it('rejects a body that is not a search response', () => {
    expect(() => parseSearchResponse([])).toThrow(TempoResponseError);
    expect(() => parseSearchResponse({ traces: {} })).toThrow(TempoResponseError);
  });

  it('pads Tempo trace ids to the 32 digits OTLP uses, so both sources de-duplicate', () => {
    expect(normalizeTraceId('D6E9329D67B6146A')).toBe('0000000000000000d6e9329d67b6146a');
    expect(normalizeTraceId('0af7651916cd43dd8448eb211c80319c')).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(normalizeTraceId('xyz')).toBeNull();
    expect(normalizeTraceId('0'.repeat(32))).toBeNull();
    expect(normalizeTraceId('1'.repeat(33))).toBeNull();
  });
});

describe('request helpers', () => {
  it('builds the search URL with unix seconds, limit and q (or tags)', () => {
    const url = new URL(buildSearchUrl('http://tempo:3200/', { start: 1700000000, end: 1700000120 }, { limit: 500, q: '{ resource.service.name = "cart" }' }));
    expect(url.pathname).toBe('/api/search');
    expect(Object.fromEntries(url.searchParams)).toEqual({ start: '1700000000', end: '1700000120', limit: '500', q: '{ resource.service.name = "cart" }' });
    const tags = new URL(buildSearchUrl('https://grafana/api/datasources/proxy/uid/tempo', { start: 1, end: 2 }, { limit: 20, tags: 'service.name=cart' }));
    expect(tags.pathname).toBe('/api/datasources/proxy/uid/tempo/api/search');
    expect(tags.searchParams.get('tags')).toBe('service.name=cart');
    expect(tags.searchParams.get('q')).toBeNull();
  });

  it('builds tenant and auth headers', () => {
    expect(buildHeaders({ tenant: 'team-a', auth: { type: 'basic', username: 'user', password: 'pass' } })).toEqual({
      Accept: 'application/json',
      'X-Scope-OrgID': 'team-a',
      Authorization: 'Basic dXNlcjpwYXNz',
    });
    expect(buildHeaders({ auth: { type: 'bearer', token: 't0k' } }).Authorization).toBe('Bearer t0k');
    expect(buildHeaders()).toEqual({ Accept: 'application/json' });
  });

  it('detects truncation and splits windows', () => {
    expect(isTruncated({ traceCount: 20 }, 20)).toBe(true);
    expect(isTruncated({ traceCount: 19 }, 20)).toBe(false);
    expect(splitWindow({ start: 100, end: 220 })).toEqual([
      { start: 100, end: 160 },
      { start: 160, end: 220 },
    ]);
    expect(splitWindow({ start: 100, end: 101 })).toBeNull();
  });
});
