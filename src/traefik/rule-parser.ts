/**
 * Traefik HTTP router rule parser: tokenizer + recursive-descent parser → AST, then per-syntax
 * validation of matchers and their arguments.
 *
 * Facts taken from Traefik (pkg/rules/parser.go, pkg/muxer/http/{parser,mux,matcher,matcher_v2}.go)
 * and vulcand/predicate, which parses a rule as a Go expression:
 *  - operators `&&`, `||` (lower precedence), prefix `!`, parentheses; Go's newline rule applies
 *    (a newline after `)`, a string or a name ends the expression, so `a(…)\n&& b(…)` is an error);
 *  - arguments are Go string literals only: raw `` `…` `` or interpreted `"…"` with Go escapes;
 *    single quotes, numbers and bare names are rejected;
 *  - a matcher name is accepted as registered (`PathPrefix`), lower case (`pathprefix`), upper case
 *    (`PATHPREFIX`) or title case of the lower-cased name (`Pathprefix`), not in any other casing
 *    (`pathPrefix` is an unknown matcher) — `anyCase: true` relaxes this;
 *  - v3 matchers: ClientIP, Method, Host, HostRegexp, Path, PathRegexp, PathPrefix (one argument),
 *    Header, HeaderRegexp (two), Query, QueryRegexp (one or two);
 *  - v2 matchers: Host, HostHeader, HostRegexp, ClientIP, Path, PathPrefix, Method (one or more),
 *    Headers, HeadersRegexp, Query (key/value pairs), with gorilla/mux `{name:regexp}` templates;
 *  - every matcher needs at least one argument and no argument may be empty (rules.CheckRule).
 *
 * The AST keeps `!` as a `not` node; toTraefikTree() applies De Morgan like Traefik's rules.Tree.
 */
import { compileGoRegexp, GoRegexpSyntaxError } from './regexp.js';
import { newIPChecker } from './ip.js';
import { checkUniqueVars, MuxTemplateError, newMuxRegexp, type MuxRegexp } from './mux-template.js';

export type RuleSyntax = 'v2' | 'v3';

export type MatcherNode = {
  type: 'matcher';
  /** Canonical matcher name (`PathPrefix`), whatever casing the rule used. */
  name: string;
  /** The name as written in the rule. */
  rawName: string;
  /** Decoded string arguments. */
  args: string[];
  /** Offset of the matcher name in the rule. */
  pos: number;
  /** Offset of each argument's opening quote. */
  argPos: number[];
};
export type NotNode = { type: 'not'; operand: RuleNode; pos: number };
export type AndNode = { type: 'and'; left: RuleNode; right: RuleNode; pos: number };
export type OrNode = { type: 'or'; left: RuleNode; right: RuleNode; pos: number };
export type RuleNode = MatcherNode | NotNode | AndNode | OrNode;

export type RuleErrorCode =
  | 'syntax' // tokenizer / grammar error (unbalanced parentheses or quotes, dangling operator, …)
  | 'unknown-matcher'
  | 'no-args'
  | 'empty-arg'
  | 'arg-count'
  | 'invalid-arg';

export class RuleError extends Error {
  readonly code: RuleErrorCode;
  /** 0-based offset (UTF-16 code units) into the rule where the problem is. */
  readonly position: number;
  readonly rule: string;
  readonly detail: string;
  readonly matcher?: string;
  constructor(code: RuleErrorCode, detail: string, position: number, rule: string, matcher?: string) {
    super(`${detail} at position ${position} in rule ${JSON.stringify(rule)}`);
    this.name = 'RuleError';
    this.code = code;
    this.detail = detail;
    this.position = position;
    this.rule = rule;
    this.matcher = matcher;
  }
}

export const V3_MATCHERS = [
  'ClientIP',
  'Method',
  'Host',
  'HostRegexp',
  'Path',
  'PathRegexp',
  'PathPrefix',
  'Header',
  'HeaderRegexp',
  'Query',
  'QueryRegexp',
] as const;

export const V2_MATCHERS = [
  'Host',
  'HostHeader',
  'HostRegexp',
  'ClientIP',
  'Path',
  'PathPrefix',
  'Method',
  'Headers',
  'HeadersRegexp',
  'Query',
] as const;

export function matchersOf(syntax: RuleSyntax): readonly string[] {
  return syntax === 'v2' ? V2_MATCHERS : V3_MATCHERS;
}

// ---------------------------------------------------------------------------------------------
// Tokenizer (a subset of Go's scanner, enough for what vulcand/predicate accepts)

type TokKind = 'ident' | 'string' | 'number' | '(' | ')' | ',' | '&&' | '||' | '!' | 'newline' | 'eof';

interface Token {
  kind: TokKind;
  pos: number;
  /** ident: the name; string: the decoded value. */
  value: string;
}

const IDENT_START = /[\p{L}_]/u;
const IDENT_PART = /[\p{L}\p{Nd}_]/u;

function decodeUtf8(bytes: number[]): string {
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  const enc = new TextEncoder();
  let i = 0;
  // Go inserts a semicolon at a newline that follows a name, a literal or `)`.
  const semiAllowed = () => {
    const last = tokens[tokens.length - 1];
    return last !== undefined && (last.kind === 'ident' || last.kind === 'string' || last.kind === 'number' || last.kind === ')');
  };
  const fail = (detail: string, pos: number): never => {
    throw new RuleError('syntax', detail, pos, rule);
  };
  while (i < rule.length) {
    const c = rule[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '\n') {
      if (semiAllowed()) tokens.push({ kind: 'newline', pos: i, value: '\n' });
      i++;
      continue;
    }
    if (c === '/' && rule[i + 1] === '/') {
      const nl = rule.indexOf('\n', i);
      if (semiAllowed()) tokens.push({ kind: 'newline', pos: i, value: '\n' });
      i = nl < 0 ? rule.length : nl + 1;
      continue;
    }
    if (c === '/' && rule[i + 1] === '*') {
      const close = rule.indexOf('*/', i + 2);
      if (close < 0) fail('comment not terminated', i);
      if (rule.slice(i, close).includes('\n') && semiAllowed()) tokens.push({ kind: 'newline', pos: i, value: '\n' });
      i = close + 2;
      continue;
    }
    const start = i;
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, pos: i, value: c });
      i++;
      continue;
    }
    if (c === '&' || c === '|') {
      if (rule[i + 1] !== c) fail(`unexpected operator ${JSON.stringify(c)} (use ${c}${c})`, i);
      tokens.push({ kind: c === '&' ? '&&' : '||', pos: i, value: c + c });
      i += 2;
      continue;
    }
    if (c === '!') {
      if (rule[i + 1] === '=') fail('unsupported operator "!="', i);
      tokens.push({ kind: '!', pos: i, value: '!' });
      i++;
      continue;
    }
    if (c === '`') {
      const close = rule.indexOf('`', i + 1);
      if (close < 0) fail('raw string literal not terminated (missing closing backtick)', i);
      tokens.push({ kind: 'string', pos: i, value: rule.slice(i + 1, close).replace(/\r/g, '') });
      i = close + 1;
      continue;
    }
    if (c === '"') {
      const bytes: number[] = [];
      i++;
      for (;;) {
        if (i >= rule.length || rule[i] === '\n') fail('string literal not terminated (missing closing double quote)', start);
        const ch = rule[i];
        if (ch === '"') {
          i++;
          break;
        }
        if (ch !== '\\') {
          const cp = rule.codePointAt(i)!;
          const s = String.fromCodePoint(cp);
          bytes.push(...enc.encode(s));
          i += s.length;
          continue;
        }
        const escPos = i;
        const e = rule[i + 1];
        i += 2;
        const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34 };
        if (e !== undefined && e in simple) {
          bytes.push(simple[e]);
        } else if (e !== undefined && e >= '0' && e <= '7') {
          const oct = rule.slice(i - 1, i + 2);
          if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) fail('invalid octal escape in string literal', escPos);
          bytes.push(parseInt(oct, 8));
          i += 2;
        } else if (e === 'x' || e === 'u' || e === 'U') {
          const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
          const hex = rule.slice(i, i + n);
          if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(hex)) fail(`invalid \\${e} escape in string literal`, escPos);
          const v = parseInt(hex, 16);
          i += n;
          if (e === 'x') bytes.push(v);
          else {
            if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) fail('escape sequence is invalid Unicode code point', escPos);
            bytes.push(...enc.encode(String.fromCodePoint(v)));
          }
        } else {
          fail(`unknown escape sequence in string literal`, escPos);
        }
      }
      tokens.push({ kind: 'string', pos: start, value: decodeUtf8(bytes) });
      continue;
    }
    if (c === "'") fail('single quotes are not accepted; use backticks or double quotes', i);
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(rule[i + 1] ?? ''))) {
      while (i < rule.length && /[0-9A-Za-z_.]/.test(rule[i])) i++;
      tokens.push({ kind: 'number', pos: start, value: rule.slice(start, i) });
      continue;
    }
    const cp = rule.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    if (IDENT_START.test(ch)) {
      i += ch.length;
      while (i < rule.length) {
        const n = String.fromCodePoint(rule.codePointAt(i)!);
        if (!IDENT_PART.test(n)) break;
        i += n.length;
      }
      tokens.push({ kind: 'ident', pos: start, value: rule.slice(start, i) });
      continue;
    }
    fail(`unexpected character ${JSON.stringify(ch)}`, i);
  }
  tokens.push({ kind: 'eof', pos: rule.length, value: '' });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser

function titleOfLower(name: string): string {
  const lower = name.toLowerCase();
  return lower.charAt(0).toUpperCase() + lower.slice(1);
}

/** The spellings Traefik registers for each matcher: as-is, lower, UPPER and Title(lower). */
function buildNameTable(matchers: readonly string[], anyCase: boolean): Map<string, string> {
  const table = new Map<string, string>();
  for (const m of matchers) {
    if (anyCase) table.set(m.toLowerCase(), m);
    else for (const spelling of [m, m.toLowerCase(), m.toUpperCase(), titleOfLower(m)]) table.set(spelling, m);
  }
  return table;
}

class Parser {
  private i = 0;
  constructor(
    private readonly rule: string,
    private readonly tokens: Token[],
    private readonly names: Map<string, string>,
    private readonly anyCase: boolean,
  ) {}

  private get tok(): Token {
    return this.tokens[this.i];
  }

  /** A method, not a property, so TypeScript does not keep a narrowed kind across `this.i++`. */
  private kind(): TokKind {
    return this.tokens[this.i].kind;
  }

  private fail(detail: string, pos = this.tok.pos, code: RuleErrorCode = 'syntax'): never {
    throw new RuleError(code, detail, pos, this.rule);
  }

  private describe(t: Token): string {
    switch (t.kind) {
      case 'eof':
        return 'end of rule';
      case 'newline':
        return 'newline';
      case 'ident':
        return `name ${t.value}`;
      case 'string':
        return 'string literal';
      case 'number':
        return `number ${t.value}`;
      default:
        return `"${t.kind}"`;
    }
  }

  parse(): RuleNode {
    if (this.kind() === 'eof') this.fail('empty rule');
    const node = this.parseOr();
    if (this.kind() === 'newline') this.i++;
    if (this.kind() !== 'eof') {
      if (this.kind() === ')') this.fail('unbalanced parentheses: unexpected ")"');
      this.fail(`expected end of rule, found ${this.describe(this.tok)}`);
    }
    return node;
  }

  private parseOr(): RuleNode {
    let left = this.parseAnd();
    while (this.kind() === '||') {
      const pos = this.tok.pos;
      this.i++;
      const right = this.parseAnd();
      left = { type: 'or', left, right, pos };
    }
    return left;
  }

  private parseAnd(): RuleNode {
    let left = this.parseUnary();
    while (this.kind() === '&&') {
      const pos = this.tok.pos;
      this.i++;
      const right = this.parseUnary();
      left = { type: 'and', left, right, pos };
    }
    return left;
  }

  private parseUnary(): RuleNode {
    if (this.kind() === '!') {
      const pos = this.tok.pos;
      this.i++;
      return { type: 'not', operand: this.parseUnary(), pos };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): RuleNode {
    const t = this.tok;
    if (t.kind === '(') {
      this.i++;
      const inner = this.parseOr();
      if (this.kind() !== ')') {
        this.fail(`unbalanced parentheses: expected ")" to close "(" at position ${t.pos}, found ${this.describe(this.tok)}`);
      }
      this.i++;
      return inner;
    }
    if (t.kind === 'ident') return this.parseCall();
    if (t.kind === 'eof') this.fail('expected a matcher, found end of rule');
    this.fail(`expected a matcher, found ${this.describe(t)}`);
  }

  private parseCall(): MatcherNode {
    const nameTok = this.tok;
    this.i++;
    if (this.kind() !== '(') {
      this.fail(`expected "(" after ${JSON.stringify(nameTok.value)}, found ${this.describe(this.tok)}`);
    }
    const name = this.names.get(this.anyCase ? nameTok.value.toLowerCase() : nameTok.value);
    if (name === undefined) {
      throw new RuleError('unknown-matcher', `unknown matcher ${JSON.stringify(nameTok.value)}`, nameTok.pos, this.rule, nameTok.value);
    }
    const open = this.tok;
    this.i++;
    const args: string[] = [];
    const argPos: number[] = [];
    while (this.kind() !== ')') {
      const a = this.tok;
      if (a.kind === 'string') {
        args.push(a.value);
        argPos.push(a.pos);
        this.i++;
      } else if (a.kind === 'eof') {
        this.fail(`unbalanced parentheses: missing ")" to close "(" at position ${open.pos}`, a.pos);
      } else if (a.kind === 'ident' || a.kind === 'number') {
        this.fail(`argument must be a quoted string (backticks or double quotes), found ${this.describe(a)}`);
      } else {
        this.fail(`expected an argument or ")", found ${this.describe(a)}`);
      }
      if (this.kind() === ',') {
        this.i++;
        continue;
      }
      if (this.kind() !== ')') {
        if (this.kind() === 'eof') this.fail(`unbalanced parentheses: missing ")" to close "(" at position ${open.pos}`);
        this.fail(`expected "," or ")" in arguments of ${name}, found ${this.describe(this.tok)}`);
      }
    }
    this.i++;
    return { type: 'matcher', name, rawName: nameTok.value, args, pos: nameTok.pos, argPos };
  }
}

export interface ExpressionOptions {
  /** Matcher names the expression may use (canonical spelling). */
  matchers: readonly string[];
  /** Accept matcher names in any casing (Traefik only accepts four spellings). */
  anyCase?: boolean;
}

/**
 * Parses the expression only (Traefik's predicate parser step): grammar, string literals and matcher
 * names. Arguments are not validated (`Host()` parses). Throws RuleError.
 */
export function parseExpression(rule: string, options: ExpressionOptions): RuleNode {
  const anyCase = options.anyCase === true;
  return new Parser(rule, tokenize(rule), buildNameTable(options.matchers, anyCase), anyCase).parse();
}

// ---------------------------------------------------------------------------------------------
// Validation

function isASCII(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function arities(syntax: RuleSyntax, name: string): number[] | undefined {
  if (syntax === 'v2') return undefined; // variadic
  switch (name) {
    case 'Header':
    case 'HeaderRegexp':
      return [2];
    case 'Query':
    case 'QueryRegexp':
      return [1, 2];
    default:
      return [1];
  }
}

/** Builds the gorilla/mux regexps of a v2 matcher (throws MuxTemplateError); used by validation and matching. */
export function muxRegexpsOf(node: MatcherNode): MuxRegexp[] {
  switch (node.name) {
    case 'HostRegexp':
      return node.args.map((a) => newMuxRegexp(a, 'host'));
    case 'Path':
      return node.args.map((a) => newMuxRegexp(a, 'path'));
    case 'PathPrefix':
      return node.args.map((a) => newMuxRegexp(a, 'prefix'));
    case 'Query': {
      const parts = node.args.flatMap((a) => {
        const eq = a.indexOf('=');
        return eq < 0 ? [a] : [a.slice(0, eq), a.slice(eq + 1)];
      });
      if (parts.length % 2 !== 0) {
        throw new MuxTemplateError(`mux: number of parameters must be multiple of 2, got ${JSON.stringify(parts)}`);
      }
      const out: MuxRegexp[] = [];
      for (let i = 0; i < parts.length; i += 2) out.push(newMuxRegexp(`${parts[i]}=${parts[i + 1]}`, 'query'));
      checkUniqueVars(out);
      return out;
    }
    default:
      return [];
  }
}

function validateMatcher(node: MatcherNode, syntax: RuleSyntax, rule: string): void {
  const fail = (code: RuleErrorCode, detail: string, pos = node.pos): never => {
    throw new RuleError(code, detail, pos, rule, node.name);
  };
  // rules.CheckRule
  if (node.args.length === 0) fail('no-args', `no args for matcher ${node.name}`);
  node.args.forEach((a, k) => {
    if (a.length === 0) fail('empty-arg', `empty args for matcher ${node.name}`, node.argPos[k]);
  });
  const allowed = arities(syntax, node.name);
  if (allowed && !allowed.includes(node.args.length)) {
    const max = allowed[allowed.length - 1];
    const pos = node.args.length > max ? node.argPos[max] : node.pos;
    fail('arg-count', `unexpected number of parameters for ${node.name}; got ${node.args.length}, expected ${allowed.join(' or ')}`, pos);
  }
  const regexpArg = (k: number) => {
    try {
      compileGoRegexp(node.args[k]);
    } catch (e) {
      if (e instanceof GoRegexpSyntaxError) fail('invalid-arg', `invalid regexp for ${node.name}: ${e.message}`, node.argPos[k]);
      throw e;
    }
  };
  const asciiArgs = () =>
    node.args.forEach((a, k) => {
      if (!isASCII(a)) fail('invalid-arg', `invalid value ${JSON.stringify(a)} for ${node.name} matcher, non-ASCII characters are not allowed`, node.argPos[k]);
    });
  const slashArgs = () =>
    node.args.forEach((a, k) => {
      if (!a.startsWith('/')) fail('invalid-arg', `path ${JSON.stringify(a)} does not start with a '/'`, node.argPos[k]);
    });

  switch (node.name) {
    case 'ClientIP': {
      const r = newIPChecker(node.args);
      if ('invalid' in r) fail('invalid-arg', `invalid value ${JSON.stringify(r.invalid)} for ClientIP matcher (not an IP or CIDR)`, node.argPos[node.args.indexOf(r.invalid)]);
      return;
    }
    case 'Host':
    case 'HostHeader':
      asciiArgs();
      return;
    case 'HostRegexp':
      asciiArgs();
      if (syntax === 'v3') regexpArg(0);
      break;
    case 'Path':
    case 'PathPrefix':
      if (syntax === 'v3') {
        slashArgs();
        return;
      }
      break;
    case 'PathRegexp':
      regexpArg(0);
      return;
    case 'HeaderRegexp':
      regexpArg(1);
      return;
    case 'QueryRegexp':
      if (node.args.length === 2) regexpArg(1);
      return;
    case 'Headers':
    case 'HeadersRegexp':
      if (node.args.length % 2 !== 0) {
        fail('arg-count', `mux: number of parameters must be multiple of 2, got ${node.args.length}`, node.argPos[node.args.length - 1]);
      }
      if (node.name === 'HeadersRegexp') for (let k = 1; k < node.args.length; k += 2) regexpArg(k);
      return;
    default:
      return;
  }
  // v2 HostRegexp / Path / PathPrefix templates are checked by validateV2Templates.
}

function validateV2Templates(node: MatcherNode, rule: string): void {
  if (!['HostRegexp', 'Path', 'PathPrefix', 'Query'].includes(node.name)) return;
  try {
    muxRegexpsOf(node);
  } catch (e) {
    if (e instanceof MuxTemplateError) {
      const code: RuleErrorCode = e.message.includes('multiple of 2') ? 'arg-count' : 'invalid-arg';
      throw new RuleError(code, `invalid value for ${node.name}: ${e.message}`, node.argPos[0] ?? node.pos, rule, node.name);
    }
    throw e;
  }
}

function walkMatchers(node: RuleNode, visit: (m: MatcherNode) => void): void {
  switch (node.type) {
    case 'matcher':
      visit(node);
      return;
    case 'not':
      walkMatchers(node.operand, visit);
      return;
    default:
      walkMatchers(node.left, visit);
      walkMatchers(node.right, visit);
  }
}

/** Validates every matcher of an AST the way Traefik's muxer does for the given syntax. Throws RuleError. */
export function validateRule(ast: RuleNode, syntax: RuleSyntax, rule: string): void {
  walkMatchers(ast, (m) => {
    validateMatcher(m, syntax, rule);
    if (syntax === 'v2') validateV2Templates(m, rule);
  });
}

export interface ParseOptions {
  /** Rule syntax; Traefik v3 defaults to 'v3'. */
  syntax?: RuleSyntax;
  /** Accept matcher names in any casing (Traefik accepts only `Name`, `name`, `NAME`, `Name`-title). */
  anyCase?: boolean;
}

/** Parses and validates a rule as Traefik would for the syntax. Throws RuleError. */
export function parseRule(rule: string, options: ParseOptions = {}): RuleNode {
  const syntax = options.syntax ?? 'v3';
  const ast = parseExpression(rule, { matchers: matchersOf(syntax), anyCase: options.anyCase });
  validateRule(ast, syntax, rule);
  return ast;
}

export type ParseResult = { ok: true; ast: RuleNode; syntax: RuleSyntax } | { ok: false; error: RuleError; syntax: RuleSyntax };

/** parseRule without throwing. */
export function tryParseRule(rule: string, options: ParseOptions = {}): ParseResult {
  const syntax = options.syntax ?? 'v3';
  try {
    return { ok: true, ast: parseRule(rule, { ...options, syntax }), syntax };
  } catch (e) {
    if (e instanceof RuleError) return { ok: false, error: e, syntax };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Traefik's rules.Tree view (negation pushed to the leaves) and a printer

export interface TraefikTree {
  matcher: string;
  not: boolean;
  value: string[] | null;
  ruleLeft?: TraefikTree;
  ruleRight?: TraefikTree;
}

/** The rules.Tree Traefik builds: `!` inverts with De Morgan down to the leaves' `not` flag. */
export function toTraefikTree(node: RuleNode, negate = false): TraefikTree {
  switch (node.type) {
    case 'matcher':
      return { matcher: node.name, not: negate, value: [...node.args] };
    case 'not':
      return toTraefikTree(node.operand, !negate);
    case 'and':
    case 'or': {
      const op = negate ? (node.type === 'and' ? 'or' : 'and') : node.type;
      return { matcher: op, not: false, value: null, ruleLeft: toTraefikTree(node.left, negate), ruleRight: toTraefikTree(node.right, negate) };
    }
  }
}

/** Traefik's Tree.ParseMatchers: lower-cased values of the leaves named in `matchers` (negated or not); null when none. */
export function parseMatchers(tree: TraefikTree, matchers: readonly string[]): string[] | null {
  if (tree.matcher === 'and' || tree.matcher === 'or') {
    const l = parseMatchers(tree.ruleLeft!, matchers) ?? [];
    const r = parseMatchers(tree.ruleRight!, matchers) ?? [];
    const all = [...l, ...r];
    return all.length === 0 ? null : all;
  }
  if (!matchers.includes(tree.matcher) || !tree.value || tree.value.length === 0) return null;
  return tree.value.map((v) => v.toLowerCase());
}

/** Prints an AST back as a canonical rule (backtick literals; double quotes when a value has a backtick). */
export function formatRule(node: RuleNode): string {
  const lit = (s: string) => (s.includes('`') ? JSON.stringify(s) : '`' + s + '`');
  const wrap = (n: RuleNode, parent: 'and' | 'or' | 'not') => {
    const s = formatRule(n);
    if (n.type === 'or' && parent !== 'or') return `(${s})`;
    if (n.type === 'and' && parent === 'not') return `(${s})`;
    return s;
  };
  switch (node.type) {
    case 'matcher':
      return `${node.name}(${node.args.map(lit).join(', ')})`;
    case 'not':
      return `!${wrap(node.operand, 'not')}`;
    case 'and':
      return `${wrap(node.left, 'and')} && ${wrap(node.right, 'and')}`;
    case 'or':
      return `${wrap(node.left, 'or')} || ${wrap(node.right, 'or')}`;
  }
}
