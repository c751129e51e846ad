import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../test/support/env.js';
import {
  formatRule,
  parseExpression,
  parseMatchers,
  parseRule,
  RuleError,
  toTraefikTree,
  tryParseRule,
  type RuleSyntax,
  type TraefikTree,
} from './rule-parser.js';

const dir = fixturesDir('traefik');

interface Case {
  rule: string;
  syntax: RuleSyntax;
  valid: boolean;
  desc: string;
  source: string;
}

describe.skipIf(!dir)('rules.json corpus: validity verdict of every case', () => {
  const cases = dir ? (JSON.parse(readFileSync(path.join(dir, 'rules.json'), 'utf8')) as Case[]) : [];

  it('has the documented size (249 cases, 151 valid)', () => {
    expect(cases).toHaveLength(249);
    expect(cases.filter((c) => c.valid)).toHaveLength(151);
  });

  it.each(cases.map((c, i) => [i, c.syntax, c.desc, c] as const))('#%i %s %s', (_i, _s, _d, c) => {
    const result = tryParseRule(c.rule, { syntax: c.syntax });
    if (c.valid && !result.ok) throw new Error(`expected valid, got: ${result.error.message}`);
    expect(result.ok).toBe(c.valid);
  });
});

interface ExpectedTree {
  matcher: string;
  not: boolean;
  value: string[] | null;
  ruleLeft?: ExpectedTree;
  ruleRight?: ExpectedTree;
  checkRuleError: boolean;
}

interface ParserCase {
  desc: string;
  rule: string;
  parses: boolean;
  tree?: ExpectedTree;
  parseMatchersArg?: string[] | null;
  parseMatchersResult?: string[] | null;
}

/** rules.CheckRule on a tree node: an error when there is no value or an empty one. */
function checkRuleError(t: TraefikTree): boolean {
  return !t.value || t.value.length === 0 || t.value.some((v) => v === '');
}

function withCheck(t: TraefikTree): ExpectedTree {
  const out: ExpectedTree = { matcher: t.matcher, not: t.not, value: t.value, checkRuleError: checkRuleError(t) };
  if (t.ruleLeft) out.ruleLeft = withCheck(t.ruleLeft);
  if (t.ruleRight) out.ruleRight = withCheck(t.ruleRight);
  return out;
}

describe.skipIf(!dir)('rules-parser.json (pkg/rules TestRuleMatch, matchers ["m"])', () => {
  const doc = dir ? (JSON.parse(readFileSync(path.join(dir, 'rules-parser.json'), 'utf8')) as { parserMatchers: string[]; cases: ParserCase[] }) : { parserMatchers: [], cases: [] };

  it.each(doc.cases.map((c) => [c.desc, c.rule, c] as const))('%s: %s', (_d, _r, c) => {
    let tree: TraefikTree | undefined;
    try {
      tree = toTraefikTree(parseExpression(c.rule, { matchers: doc.parserMatchers }));
    } catch (e) {
      expect(e).toBeInstanceOf(RuleError);
    }
    expect(tree !== undefined).toBe(c.parses);
    if (!tree || !c.tree) return;
    expect(withCheck(tree)).toEqual(c.tree);
    expect(parseMatchers(tree, c.parseMatchersArg ?? [])).toEqual(c.parseMatchersResult ?? null);
  });
});

describe('parser: grammar', () => {
  it('gives && precedence over || and parses ! as a prefix', () => {
    const ast = parseRule('Host(`a`) || !Host(`b`) && Path(`/c`)');
    expect(formatRule(ast)).toBe('Host(`a`) || !Host(`b`) && Path(`/c`)');
    expect(ast.type).toBe('or');
    if (ast.type !== 'or') return;
    expect(ast.right.type).toBe('and');
  });

  it('decodes Go interpreted strings and raw strings', () => {
    const ast = parseRule('PathPrefix("/a\\x2fb\\u00e9") || PathPrefix(`/c\\d`)');
    expect(ast.type === 'or' && ast.left.type === 'matcher' && ast.left.args).toEqual(['/a/bé']);
    expect(ast.type === 'or' && ast.right.type === 'matcher' && ast.right.args).toEqual(['/c\\d']);
  });

  it('accepts the four spellings Traefik registers and rejects other casings', () => {
    for (const name of ['PathPrefix', 'pathprefix', 'PATHPREFIX', 'Pathprefix']) {
      expect(tryParseRule(`${name}(\`/a\`)`).ok).toBe(true);
    }
    const r = tryParseRule('pathPrefix(`/a`)');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('unknown-matcher');
    expect(tryParseRule('pathPrefix(`/a`)', { anyCase: true }).ok).toBe(true);
  });

  it('reports errors with their position', () => {
    const cases: [string, string, number][] = [
      ['Host(`a`) && ', 'syntax', 13],
      ['(Host(`a`)', 'syntax', 10],
      ['Host(`a`))', 'syntax', 9],
      ['Host(`a)', 'syntax', 5],
      ['Host("a)', 'syntax', 5],
      ['Host(`a`) & Path(`/`)', 'syntax', 10],
      ["Host('a')", 'syntax', 5],
      ['Host(a)', 'syntax', 5],
      ['Host(`a`) && Nope(`b`)', 'unknown-matcher', 13],
      ['Host(`a`) && Path()', 'no-args', 13],
      ['Host(`a`, ``)', 'empty-arg', 10],
      ['Host(`a`, `b`)', 'arg-count', 10],
      ['Path(`css`)', 'invalid-arg', 5],
      ['Host(`a`)\n&& Path(`/`)', 'syntax', 10],
    ];
    for (const [rule, code, pos] of cases) {
      const r = tryParseRule(rule, { syntax: 'v3' });
      expect(r.ok, rule).toBe(false);
      if (r.ok) continue;
      expect([rule, r.error.code, r.error.position]).toEqual([rule, code, pos]);
    }
  });

  it('allows a newline where Go allows one (after an operator, at the end)', () => {
    expect(tryParseRule('Host(`a`) &&\n  Path(`/`)\n').ok).toBe(true);
  });

  it('keeps ! in the AST and pushes it to the leaves in the Traefik tree (De Morgan)', () => {
    const ast = parseRule('!(Host(`a`) && !Path(`/b`))');
    expect(ast.type).toBe('not');
    const tree = toTraefikTree(ast);
    expect(tree.matcher).toBe('or');
    expect(tree.ruleLeft).toEqual({ matcher: 'Host', not: true, value: ['a'] });
    expect(tree.ruleRight).toEqual({ matcher: 'Path', not: false, value: ['/b'] });
  });

  it('knows which matchers belong to which syntax', () => {
    expect(tryParseRule('Headers(`a`, `b`)', { syntax: 'v3' }).ok).toBe(false);
    expect(tryParseRule('Header(`a`, `b`)', { syntax: 'v2' }).ok).toBe(false);
    expect(tryParseRule('PathRegexp(`^/a`)', { syntax: 'v2' }).ok).toBe(false);
    expect(tryParseRule('HostHeader(`a`)', { syntax: 'v2' }).ok).toBe(true);
    expect(tryParseRule('Host(`a`, `b`)', { syntax: 'v2' }).ok).toBe(true);
  });

  it('validates Go regexps (look-arounds and back-references are not RE2)', () => {
    expect(tryParseRule('PathRegexp(`^/(?!admin)`)').ok).toBe(false);
    expect(tryParseRule('PathRegexp(`^/(a)\\1`)').ok).toBe(false);
    expect(tryParseRule('PathRegexp(`(?i)^/api{v:[0-9]}`)').ok).toBe(true);
    expect(tryParseRule('HostRegexp(`{sub:[a-z]+}.example.com`)', { syntax: 'v2' }).ok).toBe(true);
    expect(tryParseRule('HostRegexp(`{sub:[a-z]+.example.com`)', { syntax: 'v2' }).ok).toBe(false);
    expect(tryParseRule('HostRegexp(`{:[a-z]+}.example.com`)', { syntax: 'v2' }).ok).toBe(false);
  });
});
