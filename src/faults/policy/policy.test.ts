import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../../test/support/env.js';
import { PolicyValidationError, parsePolicyDocuments, validatePolicy, type FaultPolicy } from './index.js';
import { parseGoDuration } from './duration.js';

const hfi = fixturesDir('hfi');
// Bad-input cases reach deep into a policy to break one value.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

function refusal(fn: () => unknown): PolicyValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PolicyValidationError) return e;
    throw e;
  }
  throw new Error('expected a PolicyValidationError');
}

const minimal = (): FaultPolicy & Record<string, unknown> => ({
  metadata: { name: 'p' },
  spec: { rules: [{ match: { path: { prefix: '/' } }, fault: { percentage: 50, abort: { httpStatus: 503 } } }] },
});

describe.skipIf(!hfi)('HFI fixture files', () => {
  const dir = (sub: string) => path.join(hfi!, sub);
  const read = (sub: string, f: string) => readFileSync(path.join(dir(sub), f), 'utf8');

  it('accepts every file in current/ unchanged, without warnings', () => {
    const files = readdirSync(dir('current'));
    expect(files.length).toBe(8);
    for (const f of files) {
      const r = parsePolicyDocuments(read('current', f));
      expect(r.warnings, f).toEqual([]);
      expect(r.policies.length, f).toBeGreaterThan(0);
    }
  });

  it('reads all four documents of service-targeted-policy.yaml, selector included', () => {
    const r = parsePolicyDocuments(read('current', 'service-targeted-policy.yaml'));
    expect(r.policies.map((p) => p.metadata.name)).toEqual(['frontend-delay', 'global-abort', 'namespace-delay', 'legacy-policy']);
    expect(r.policies[1].spec.selector).toEqual({ service: '*', namespace: '*' });
    expect(r.policies[3].spec.selector).toBeUndefined();
    expect(r.policies[3].spec.rules[0].fault.percentage).toBe(0);
  });

  it('keeps every field of the canonical JSON policy', () => {
    const r = parsePolicyDocuments(read('current', 'canonical.json'));
    expect(r.policies).toEqual([
      {
        metadata: { name: 'frontend-delay', version: '' },
        spec: {
          selector: { service: 'frontend', namespace: 'demo' },
          rules: [
            {
              match: { method: { exact: 'GET' }, path: { prefix: '/' }, headers: [{ name: 'x-user-id', exact: 'test' }] },
              fault: { percentage: 50, delay: { fixed_delay_ms: 500 }, abort: { httpStatus: 503 } },
            },
          ],
        },
      },
    ]);
  });

  it('keeps rule timing and omits zeros as HFI stores them', () => {
    const late = parsePolicyDocuments(read('current', 'late-stage-policy.yaml')).policies[0].spec.rules[0].fault;
    expect(late).toEqual({ percentage: 20, start_delay_ms: 500, delay: { fixed_delay_ms: 2000 } });
    const timed = parsePolicyDocuments(read('current', 'time-limited-policy.yaml')).policies[0].spec.rules[0].fault;
    expect(timed.duration_seconds).toBe(300);
  });

  it('converts legacy fixed_delay strings, with a warning naming the field', () => {
    const expected: Record<string, number> = { 'delay-policy.yaml': 1000, 'late-stage-fault-policy.yaml': 2000, 'production-delay.yaml': 1000 };
    for (const [f, ms] of Object.entries(expected)) {
      const r = parsePolicyDocuments(read('legacy', f));
      expect(r.policies[0].spec.rules[0].fault.delay, f).toEqual({ fixed_delay_ms: ms });
      expect(r.warnings, f).toHaveLength(1);
      expect(r.warnings[0]).toContain('spec.rules[0].fault.delay.fixed_delay');
      expect(r.warnings[0]).toContain(`fixed_delay_ms: ${ms}`);
    }
  });

  it('refuses legacy/invalid-policy.yaml naming metadata.name', () => {
    const e = refusal(() => parsePolicyDocuments(read('legacy', 'invalid-policy.yaml')));
    expect(e.field).toBe('metadata.name');
    expect(e.message).toContain('metadata.name');
  });
});

describe('validation names the bad field', () => {
  const cases: [string, (p: Doc) => void, string, RegExp?][] = [
    ['percentage above 100', (p) => (p.spec.rules[0].fault.percentage = 101), 'spec.rules[0].fault.percentage', /between 0 and 100/],
    ['negative percentage', (p) => (p.spec.rules[0].fault.percentage = -1), 'spec.rules[0].fault.percentage'],
    ['percentage as a string', (p) => (p.spec.rules[0].fault.percentage = '50'), 'spec.rules[0].fault.percentage', /finite number/],
    ['missing percentage', (p) => delete p.spec.rules[0].fault.percentage, 'spec.rules[0].fault.percentage'],
    ['status 199', (p) => (p.spec.rules[0].fault.abort.httpStatus = 199), 'spec.rules[0].fault.abort.httpStatus'],
    ['status 600', (p) => (p.spec.rules[0].fault.abort.httpStatus = 600), 'spec.rules[0].fault.abort.httpStatus'],
    ['zero delay', (p) => (p.spec.rules[0].fault.delay = { fixed_delay_ms: 0 }), 'spec.rules[0].fault.delay.fixed_delay_ms'],
    ['delay over 1 h', (p) => (p.spec.rules[0].fault.delay = { fixed_delay_ms: 3_600_001 }), 'spec.rules[0].fault.delay.fixed_delay_ms'],
    ['legacy delay over 1 h', (p) => (p.spec.rules[0].fault.delay = { fixed_delay: '2h' }), 'spec.rules[0].fault.delay.fixed_delay'],
    ['legacy delay not a duration', (p) => (p.spec.rules[0].fault.delay = { fixed_delay: 'soon' }), 'spec.rules[0].fault.delay.fixed_delay'],
    ['name with a dot', (p) => (p.metadata.name = 'a.b'), 'metadata.name'],
    ['name of 64 characters', (p) => (p.metadata.name = 'a'.repeat(64)), 'metadata.name'],
    ['no rules', (p) => (p.spec.rules = []), 'spec.rules', /at least one rule/],
    ['rule without match', (p) => delete p.spec.rules[0].match, 'spec.rules[0].match'],
    ['empty match', (p) => (p.spec.rules[0].match = {}), 'spec.rules[0].match'],
    ['rule without action', (p) => (p.spec.rules[0].fault = { percentage: 5 }), 'spec.rules[0].fault', /needs an action/],
    ['unknown field in fault', (p) => (p.spec.rules[0].fault.abrot = { httpStatus: 500 }), 'spec.rules[0].fault.abrot', /unknown field "abrot"/],
    ['unknown top-level field', (p) => (p.kind = 'x'), 'kind', /unknown field/],
    ['unknown field in metadata', (p) => (p.metadata.labels = {}), 'metadata.labels'],
    ['unknown selector field', (p) => (p.spec.selector = { app: 'x' }), 'spec.selector.app'],
    ['invalid regex', (p) => (p.spec.rules[0].match.path = { regex: '(' }), 'spec.rules[0].match.path.regex', /RE2/],
    ['look-ahead is not RE2', (p) => (p.spec.rules[0].match.path = { regex: '(?=a)' }), 'spec.rules[0].match.path.regex'],
    ['two matcher kinds', (p) => (p.spec.rules[0].match.path = { exact: '/', prefix: '/' }), 'spec.rules[0].match.path', /exactly one/],
    ['header without name', (p) => (p.spec.rules[0].match.headers = [{ exact: 'x' }]), 'spec.rules[0].match.headers[0].name'],
    ['bad header regex', (p) => (p.spec.rules[0].match.headers = [{ name: 'x', regex: '[' }]), 'spec.rules[0].match.headers[0].regex'],
    ['reset with abort', (p) => (p.spec.rules[0].fault.reset = true), 'spec.rules[0].fault.reset'],
    ['abort header with CRLF', (p) => (p.spec.rules[0].fault.abort.headers = { 'x-a': 'a\r\nb: c' }), 'spec.rules[0].fault.abort.headers.x-a'],
    ['abort setting content-length', (p) => (p.spec.rules[0].fault.abort.headers = { 'Content-Length': '1' }), 'spec.rules[0].fault.abort.headers.Content-Length'],
    ['non-integer delay', (p) => (p.spec.rules[0].fault.delay = { fixed_delay_ms: 1.5 }), 'spec.rules[0].fault.delay.fixed_delay_ms'],
    ['NaN-like percentage', (p) => (p.spec.rules[0].fault.percentage = null), 'spec.rules[0].fault.percentage'],
    ['too many rules', (p) => (p.spec.rules = Array.from({ length: 10_000 }, () => p.spec.rules[0])), 'spec.rules', /limit is 1000/],
    ['second rule bad', (p) => p.spec.rules.push({ match: { path: { prefix: '/' } }, fault: { percentage: 1, delay: { fixed_delay_ms: -5 } } }), 'spec.rules[1].fault.delay.fixed_delay_ms'],
    ['max_active_faults zero', (p) => (p.spec.max_active_faults = 0), 'spec.max_active_faults'],
    ['negative duration', (p) => (p.spec.duration_seconds = -1), 'spec.duration_seconds'],
  ];
  for (const [what, mutate, field, message] of cases) {
    it(what, () => {
      const p = minimal() as Doc;
      mutate(p);
      const e = refusal(() => validatePolicy(p));
      expect(e.field).toBe(field);
      if (message) expect(e.message).toMatch(message);
    });
  }

  it('accepts decimal percentages and Vigil extensions', () => {
    const p = minimal() as Doc;
    p.spec.rules[0].fault = {
      percentage: 12.5,
      abort: { httpStatus: 429, body: 'slow down', headers: { 'Retry-After': '1' } },
      delay: { fixed_delay_ms: 10, jitter_ms: 5 },
      response_rate_limit_kbps: 64,
    };
    p.spec.max_active_faults = 3;
    const { policy } = validatePolicy(p);
    expect(policy.spec.rules[0].fault).toEqual({
      percentage: 12.5,
      abort: { httpStatus: 429, body: 'slow down', headers: { 'retry-after': '1' } },
      delay: { fixed_delay_ms: 10, jitter_ms: 5 },
      response_rate_limit_kbps: 64,
    });
    expect(policy.spec.max_active_faults).toBe(3);
  });
});

describe('policy files', () => {
  it('reports malformed YAML with its line', () => {
    const e = refusal(() => parsePolicyDocuments('metadata:\n  name: x\nspec: [\n'));
    expect(e.message).toMatch(/malformed YAML at line \d/);
    expect(e.line).toBeGreaterThan(0);
  });

  it('reports malformed JSON', () => {
    const e = refusal(() => parsePolicyDocuments('{"metadata": {"name": "x"},'));
    expect(e.message).toMatch(/malformed JSON/);
  });

  it('refuses a key given twice rather than keeping the last', () => {
    const e = refusal(() => parsePolicyDocuments('metadata:\n  name: a\n  name: b\nspec: {}\n'));
    expect(e.message).toMatch(/line 3/);
  });

  it('names the document of a multi-document file that is wrong', () => {
    const good = 'metadata: {name: a}\nspec: {rules: [{match: {path: {prefix: /}}, fault: {percentage: 1, abort: {httpStatus: 500}}}]}\n';
    const bad = 'metadata: {name: b}\nspec: {rules: [{match: {path: {prefix: /}}, fault: {percentage: 1, abort: {httpStatus: 5000}}}]}\n';
    const e = refusal(() => parsePolicyDocuments(`${good}---\n${bad}`));
    expect(e.document).toBe(2);
    expect(e.field).toBe('spec.rules[0].fault.abort.httpStatus');
    expect(e.message).toMatch(/^document 2: /);
  });

  it('skips empty documents but refuses an input without any policy', () => {
    const one = 'metadata: {name: a}\nspec: {rules: [{match: {path: {prefix: /}}, fault: {percentage: 1, abort: {httpStatus: 500}}}]}\n';
    expect(parsePolicyDocuments(`---\n${one}---\n`).policies).toHaveLength(1);
    expect(refusal(() => parsePolicyDocuments('')).message).toMatch(/no policy/);
    expect(refusal(() => parsePolicyDocuments('# only a comment\n')).message).toMatch(/no policy/);
  });

  it('refuses the same name twice in one input', () => {
    const one = 'metadata: {name: a}\nspec: {rules: [{match: {path: {prefix: /}}, fault: {percentage: 1, abort: {httpStatus: 500}}}]}\n';
    expect(refusal(() => parsePolicyDocuments(`${one}---\n${one}`)).message).toMatch(/appears twice/);
  });

  it('accepts a JSON list of policies', () => {
    const r = parsePolicyDocuments(JSON.stringify([minimal(), { ...minimal(), metadata: { name: 'q' } }]));
    expect(r.policies.map((p) => p.metadata.name)).toEqual(['p', 'q']);
  });

  it('does not let YAML aliases blow up', () => {
    // nine levels of ten aliases each would expand to 10^9 nodes
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    expect(refusal(() => parsePolicyDocuments(lines.join('\n'))).message).toMatch(/alias/i);
  });
});

describe('Go durations (legacy fixed_delay)', () => {
  it.each([
    ['1000ms', 1000],
    ['1s', 1000],
    ['1.5s', 1500],
    ['1m30s', 90_000],
    ['1.1s', 1100],
    ['250us', 0.25],
  ])('%s is %d ms', (text, ms) => expect(parseGoDuration(text)).toBe(ms));
  it.each(['', '1', 'ms', '1 s', '1d', 's1'])('"%s" is not a duration', (text) => expect(parseGoDuration(text)).toBeNull());
});
