import { describe, expect, it } from 'vitest';
import { countdown, percentWords, ruleWords, selectorWords, targetService } from '../../web/src/components/faults/words.js';
import type { FaultPolicy } from '../../src/faults/policy/types.js';

const policy = (spec: Partial<FaultPolicy['spec']>): FaultPolicy => ({ metadata: { name: 'p' }, spec: { rules: [], ...spec } });

describe('Faults page: policies in words', () => {
  it('says what a rule matches and does', () => {
    expect(ruleWords({ match: { method: { exact: 'GET' }, path: { exact: '/' } }, fault: { percentage: 100, abort: { httpStatus: 503 } } })).toBe('GET / → abort 503');
    expect(ruleWords({ match: { path: { prefix: '/api/' } }, fault: { percentage: 50, delay: { fixed_delay_ms: 500 }, duration_seconds: 300 } })).toBe('/api/* → delay 500 ms (for 300 s)');
    expect(ruleWords({ match: { headers: [{ name: 'x-user', exact: 'qa' }] }, fault: { percentage: 1, delay: { fixed_delay_ms: 10 }, abort: { httpStatus: 500 } } })).toBe('x-user = qa → delay 10 ms then abort 500');
    expect(ruleWords({ match: {}, fault: { percentage: 5, reset: true } })).toBe('any request → reset');
  });

  it('links only a selector that names one service', () => {
    expect(targetService(policy({ selector: { service: 'frontend', namespace: 'demo' } }))).toEqual({ namespace: 'demo', name: 'frontend' });
    expect(targetService(policy({ selector: { service: 'frontend' } }))).toBeNull();
    expect(targetService(policy({ selector: { service: '*', namespace: 'demo' } }))).toBeNull();
    expect(selectorWords(policy({ selector: { service: 'frontend' } }))).toBe('*/frontend');
  });

  it('shows percentages and expiry countdowns', () => {
    const rule = (percentage: number) => ({ match: {}, fault: { percentage, reset: true } });
    expect(percentWords(policy({ rules: [rule(100)] }))).toBe('100%');
    expect(percentWords(policy({ rules: [rule(50), rule(0.5)] }))).toBe('0.5–50%');
    expect(countdown(null, 0)).toBe('never');
    expect(countdown(300_000, 0)).toBe('in 5m 00s');
    expect(countdown(299_001, 0)).toBe('in 5m 00s');
    expect(countdown(65_000, 0)).toBe('in 1m 05s');
    expect(countdown(9_000, 0)).toBe('in 9s');
    expect(countdown(7_200_000 + 60_000, 0)).toBe('in 2h 01m');
    expect(countdown(1000, 1000)).toBe('expiring');
  });
});
