import { describe, expect, it } from 'vitest';
import { toEnvoy, toIstio } from './export.js';
import { validatePolicy } from './policy/index.js';

const policy = (spec: Record<string, unknown>) => validatePolicy({ metadata: { name: 'p' }, spec }).policy;
const rule = (fault: Record<string, unknown>, match: Record<string, unknown> = { path: { prefix: '/' } }) => ({ match, fault });

describe('export to Istio', () => {
  it('a wildcard selector needs a host: placeholder and a note, or --istio-host', () => {
    const p = policy({ selector: { service: '*' }, rules: [rule({ percentage: 5, abort: { httpStatus: 500 } })] });
    const r = toIstio(p);
    expect((r.document as { spec: { hosts: string[] } }).spec.hosts).toEqual(['SERVICE']);
    expect(r.notes.join('\n')).toMatch(/replace SERVICE/);
    expect((toIstio(p, { host: 'cart' }).document as { spec: { hosts: string[] } }).spec.hosts).toEqual(['cart']);
  });

  it('says what it leaves out: reset, rate limit, header control, timing, max_active_faults', () => {
    const p = policy({
      max_active_faults: 2,
      duration_seconds: 60,
      rules: [rule({ percentage: 5, reset: true, start_delay_ms: 10 }), rule({ percentage: 5, response_rate_limit_kbps: 8 }), rule({ percentage: 5, header_controlled: true })],
    });
    const notes = toIstio(p).notes.join('\n');
    for (const n of [/reset .*rule 0/, /rule 1: response_rate_limit_kbps/, /rule 2: header-controlled/, /start_delay_ms .*rule 0/, /duration_seconds/, /max_active_faults/]) expect(notes).toMatch(n);
    // a rule Istio cannot express keeps its route, without a fault
    expect((toIstio(p).document as { spec: { http: Record<string, unknown>[] } }).spec.http[0]).not.toHaveProperty('fault');
  });

  it('notes that one draw becomes two when delay and abort share a rule below 100 %', () => {
    expect(toIstio(policy({ rules: [rule({ percentage: 50, delay: { fixed_delay_ms: 1 }, abort: { httpStatus: 500 } })] })).notes.join()).toMatch(/draws delay and abort independently/);
    expect(toIstio(policy({ rules: [rule({ percentage: 100, delay: { fixed_delay_ms: 1 }, abort: { httpStatus: 500 } })] })).notes.join()).not.toMatch(/independently/);
  });
});

describe('export to Envoy', () => {
  it('header-controlled rules become header_abort / header_delay; rate limits and max_active_faults carry over', () => {
    const p = policy({ max_active_faults: 3, rules: [rule({ percentage: 100, header_controlled: true }), rule({ percentage: 0.0001, response_rate_limit_kbps: 8 })] });
    const filters = (toEnvoy(p).document as { http_filters: { typed_config: Record<string, unknown> }[] }).http_filters;
    expect(filters[0].typed_config).toMatchObject({
      abort: { header_abort: {}, percentage: { numerator: 1_000_000, denominator: 'MILLION' } },
      delay: { header_delay: {} },
      max_active_faults: 3,
    });
    expect(filters[1].typed_config).toMatchObject({ response_rate_limit: { fixed_limit: { limit_kbps: 8 }, percentage: { numerator: 1, denominator: 'MILLION' } } });
  });

  it('warns that :path includes the query string for exact paths', () => {
    expect(toEnvoy(policy({ rules: [rule({ percentage: 1, abort: { httpStatus: 500 } }, { path: { exact: '/a' } })] })).notes.join()).toMatch(/:path includes the query/);
  });
});
