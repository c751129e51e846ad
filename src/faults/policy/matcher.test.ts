import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../../test/support/env.js';
import { compilePolicies, DEFAULT_ABORT_BODY, HEADER_FAULTS_POLICY, parsePolicyDocuments, validatePolicy, type FaultPolicy, type RequestFacts } from './index.js';

const hfi = fixturesDir('hfi');
const target = { service: 'frontend', namespace: 'demo' };
const req = (method: string, p: string, headers: RequestFacts['headers'] = {}): RequestFacts => ({ method, path: p, headers });
const always = () => 0;
const never = () => 0.999999;

function policy(name: string, rules: unknown[], spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): FaultPolicy {
  return validatePolicy({ metadata: { name, ...meta }, spec: { rules, ...spec } }).policy;
}
const rule = (match: unknown, fault: unknown) => ({ match, fault });

describe.skipIf(!hfi)('HFI fixtures decide as HFI documents them', () => {
  const load = (f: string) => parsePolicyDocuments(readFileSync(path.join(hfi!, 'current', f), 'utf8')).policies;

  it('abort-policy aborts GET / with 503 and HFI body, nothing else', () => {
    const c = compilePolicies(load('abort-policy.yaml'), target);
    expect(c.decide(req('GET', '/'), always)).toEqual({ policy: 'abort-policy', rule: 0, abort: { status: 503, body: DEFAULT_ABORT_BODY, headers: {} } });
    expect(c.decide(req('GET', '/x'), always)).toBeNull();
    expect(c.decide(req('POST', '/'), always)).toBeNull();
    // the query string is not part of the path
    expect(c.decide(req('GET', '/?q=1'), always)?.abort?.status).toBe(503);
  });

  it('selector: another service or namespace gets nothing', () => {
    expect(compilePolicies(load('abort-policy.yaml'), { service: 'cart', namespace: 'demo' }).ruleCount).toBe(0);
    expect(compilePolicies(load('abort-policy.yaml'), { service: 'frontend', namespace: 'prod' }).ruleCount).toBe(0);
  });

  it('service-targeted: wildcards and absent selectors target everyone', () => {
    const all = load('service-targeted-policy.yaml');
    expect(compilePolicies(all, target).ruleCount).toBe(4);
    expect(compilePolicies(all, { service: 'cart', namespace: 'demo' }).ruleCount).toBe(3); // not frontend-delay
    expect(compilePolicies(all, { service: 'cart', namespace: 'prod' }).ruleCount).toBe(2); // global-abort, legacy-policy
  });

  it('header-policy matches on the header value only', () => {
    const c = compilePolicies(load('header-policy.yaml'), target);
    expect(c.decide(req('GET', '/', { 'x-user-id': 'test' }), always)?.delayMs).toBe(800);
    expect(c.decide(req('GET', '/', { 'x-user-id': 'other' }), always)).toBeNull();
    expect(c.decide(req('GET', '/'), always)).toBeNull();
  });

  it('canonical: delay and abort in one rule give both', () => {
    const c = compilePolicies(load('canonical.json'), target);
    expect(c.decide(req('GET', '/a', { 'x-user-id': 'test' }), always)).toMatchObject({ delayMs: 500, abort: { status: 503 } });
  });

  it('late-stage carries its start delay', () => {
    const c = compilePolicies(load('late-stage-policy.yaml'), target);
    expect(c.decide(req('POST', '/api/orders'), always)).toMatchObject({ delayMs: 2000, startDelayMs: 500 });
  });
});

describe('evaluation order', () => {
  it('policies by name, then rules in order; the first match decides even when its draw says no', () => {
    const b = policy('b', [rule({ path: { prefix: '/' } }, { percentage: 100, abort: { httpStatus: 500 } })]);
    const a = policy('a', [
      rule({ path: { exact: '/x' } }, { percentage: 100, abort: { httpStatus: 501 } }),
      rule({ path: { prefix: '/' } }, { percentage: 30, abort: { httpStatus: 502 } }),
    ]);
    const c = compilePolicies([b, a], target);
    expect(c.decide(req('GET', '/x'), always)?.abort?.status).toBe(501);
    expect(c.decide(req('GET', '/y'), always)?.abort?.status).toBe(502);
    // a's second rule matched; its 30 % draw failed; b is not consulted
    expect(c.decide(req('GET', '/y'), () => 0.5)).toBeNull();
  });

  it('percentage draw is unbiased: p % of a uniform grid of draws inject', () => {
    const c = compilePolicies([policy('p', [rule({ path: { prefix: '/' } }, { percentage: 37.5, abort: { httpStatus: 500 } })])], target);
    let hits = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) if (c.decide(req('GET', '/'), () => i / n)) hits++;
    expect(hits).toBe(3750);
  });

  it('100 % always injects, 0 % never', () => {
    const full = compilePolicies([policy('p', [rule({ path: { prefix: '/' } }, { percentage: 100, abort: { httpStatus: 500 } })])], target);
    expect(full.decide(req('GET', '/'), never)).not.toBeNull();
    const zero = compilePolicies([policy('p', [rule({ path: { prefix: '/' } }, { percentage: 0, abort: { httpStatus: 500 } })])], target);
    expect(zero.decide(req('GET', '/'), always)).toBeNull();
  });

  it('method and header matchers support prefix and regex, headers of several values match any', () => {
    const c = compilePolicies(
      [policy('p', [rule({ method: { regex: '^(PUT|PATCH)$' }, headers: [{ name: 'X-Env', prefix: 'canary' }] }, { percentage: 100, delay: { fixed_delay_ms: 5 } })])],
      target,
    );
    expect(c.decide(req('PATCH', '/', { 'x-env': ['prod', 'canary-1'] }), always)?.delayMs).toBe(5);
    expect(c.decide(req('POST', '/', { 'x-env': 'canary' }), always)).toBeNull();
    expect(c.decide(req('PUT', '/', { 'x-env': 'prod' }), always)).toBeNull();
  });

  it('path regex is unanchored RE2 against the path without the query', () => {
    const c = compilePolicies([policy('p', [rule({ path: { regex: '/users/[0-9]+$' } }, { percentage: 100, abort: { httpStatus: 404 } })])], target);
    expect(c.decide(req('GET', '/api/users/42?x=/users/a'), always)?.abort?.status).toBe(404);
    expect(c.decide(req('GET', '/api/users/42/orders'), always)).toBeNull();
  });

  it('a catastrophic pattern on a 64 KiB path answers (linear-time matching)', () => {
    const c = compilePolicies([policy('p', [rule({ path: { regex: '(a+)+$' } }, { percentage: 100, abort: { httpStatus: 500 } })])], target);
    const evil = `/${'a'.repeat(64 * 1024)}!`;
    expect(c.decide(req('GET', evil), always)).toBeNull();
    expect(c.decide(req('GET', `/${'a'.repeat(64 * 1024)}`), always)?.abort?.status).toBe(500);
  });

  it('a 64 KiB header value and an 8 KiB path are matched like any other', () => {
    const c = compilePolicies([policy('p', [rule({ path: { prefix: '/big/' }, headers: [{ name: 'x-blob', regex: '(x+x+)+y' }] }, { percentage: 100, abort: { httpStatus: 500 } })])], target);
    const path8k = `/big/${'p'.repeat(8 * 1024)}`;
    expect(c.decide(req('GET', path8k, { 'x-blob': 'x'.repeat(64 * 1024) }), always)).toBeNull();
    expect(c.decide(req('GET', path8k, { 'x-blob': `${'x'.repeat(64 * 1024)}y` }), always)?.abort?.status).toBe(500);
  });

  it('decisions without jitter are shared and frozen', () => {
    const c = compilePolicies([policy('p', [rule({ path: { prefix: '/' } }, { percentage: 100, abort: { httpStatus: 500 } })])], target);
    const d1 = c.decide(req('GET', '/'), always);
    expect(c.decide(req('GET', '/b'), always)).toBe(d1);
    expect(Object.isFrozen(d1)).toBe(true);
  });

  it('jitter adds a uniform extra in [0, jitter)', () => {
    const c = compilePolicies([policy('p', [rule({ path: { prefix: '/' } }, { percentage: 100, delay: { fixed_delay_ms: 100, jitter_ms: 50 } })])], target);
    const draws = [0, 0.5];
    expect(c.decide(req('GET', '/'), () => draws.shift() ?? 0)?.delayMs).toBe(125);
  });

  it('passes reset, rate limit, custom body/headers and max_active_faults through', () => {
    const c = compilePolicies(
      [
        policy(
          'p',
          [
            rule({ path: { exact: '/r' } }, { percentage: 100, reset: true }),
            rule({ path: { exact: '/t' } }, { percentage: 100, response_rate_limit_kbps: 8 }),
            rule({ path: { exact: '/a' } }, { percentage: 100, abort: { httpStatus: 429, body: 'busy', headers: { 'retry-after': '3' } } }),
          ],
          { max_active_faults: 2, start_delay_ms: 10 },
        ),
      ],
      target,
    );
    expect(c.decide(req('GET', '/r'), always)).toEqual({ policy: 'p', rule: 0, reset: true, maxActiveFaults: 2, startDelayMs: 10 });
    expect(c.decide(req('GET', '/t'), always)).toMatchObject({ rule: 1, rateLimitKbps: 8 });
    expect(c.decide(req('GET', '/a'), always)).toMatchObject({ rule: 2, abort: { status: 429, body: 'busy', headers: { 'retry-after': '3' } } });
  });
});

describe('expiry (duration_seconds counts from applied_at)', () => {
  const applied = 1_000_000;
  const timed = (spec: Record<string, unknown>, fault: Record<string, unknown> = {}) =>
    policy('p', [rule({ path: { prefix: '/' } }, { percentage: 100, abort: { httpStatus: 500 }, ...fault })], spec, { applied_at: applied });

  it('a policy applies until applied_at + duration, then not at all', () => {
    const p = timed({ duration_seconds: 60 });
    const before = compilePolicies([p], target, applied + 59_999);
    expect(before.ruleCount).toBe(1);
    expect(before.nextExpiryAt).toBe(applied + 60_000);
    expect(compilePolicies([p], target, applied + 60_000).ruleCount).toBe(0);
  });

  it('a rule duration expires that rule alone', () => {
    const p = policy(
      'p',
      [rule({ path: { exact: '/a' } }, { percentage: 100, abort: { httpStatus: 500 }, duration_seconds: 10 }), rule({ path: { exact: '/b' } }, { percentage: 100, abort: { httpStatus: 501 } })],
      {},
      { applied_at: applied },
    );
    const c = compilePolicies([p], target, applied + 10_000);
    expect(c.ruleCount).toBe(1);
    expect(c.decide(req('GET', '/a'), always)).toBeNull();
    expect(c.decide(req('GET', '/b'), always)).toMatchObject({ rule: 1 });
  });

  it('0 or no duration never expires', () => {
    expect(compilePolicies([timed({})], target, applied + 1e12).nextExpiryAt).toBeNull();
  });
});

describe('header-controlled faults', () => {
  const opted = compilePolicies([policy('p', [rule({ path: { prefix: '/' } }, { percentage: 100, header_controlled: true })])], target);

  it('a rule with header_controlled lets the request pick abort and delay', () => {
    expect(opted.decide(req('GET', '/', { 'x-envoy-fault-abort-request': '418' }), always)).toEqual({ policy: 'p', rule: 0, abort: { status: 418, body: DEFAULT_ABORT_BODY, headers: {} } });
    expect(opted.decide(req('GET', '/', { 'x-envoy-fault-delay-request': '250' }), always)).toEqual({ policy: 'p', rule: 0, delayMs: 250 });
  });

  it('the -percentage header lowers the rate', () => {
    const h = { 'x-envoy-fault-abort-request': '500', 'x-envoy-fault-abort-request-percentage': '10' };
    expect(opted.decide(req('GET', '/', h), () => 0.05)).not.toBeNull();
    expect(opted.decide(req('GET', '/', h), () => 0.2)).toBeNull();
  });

  it('without fault headers (or with invalid values) the rule does not match', () => {
    expect(opted.decide(req('GET', '/'), always)).toBeNull();
    expect(opted.decide(req('GET', '/', { 'x-envoy-fault-abort-request': '999' }), always)).toBeNull();
    expect(opted.decide(req('GET', '/', { 'x-envoy-fault-delay-request': '-1' }), always)).toBeNull();
  });

  it('headers are ignored unless a rule or the target opts in', () => {
    const h = { 'x-envoy-fault-abort-request': '503' };
    expect(compilePolicies([], target).decide(req('GET', '/', h), always)).toBeNull();
    const d = compilePolicies([], { ...target, headerFaults: true }).decide(req('GET', '/', h), always);
    expect(d).toMatchObject({ policy: HEADER_FAULTS_POLICY, abort: { status: 503 } });
  });
});
