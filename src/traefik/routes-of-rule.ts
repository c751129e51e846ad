/**
 * Which (domain, path) pairs does a rule serve?
 *
 * The rule is put in negation normal form (De Morgan, like Traefik's rules.Tree) and expanded into
 * its disjunctive terms: OR adds alternatives, AND combines the host and path conditions of its sides,
 * a v2 multi-value `Host(a, b)` / `Path(x, y)` is an OR of its values. In each term:
 *
 *  - negated matchers add nothing (`!Host(a)` does not name a domain), nor do Method, Header*, Query*
 *    and ClientIP, which do not change the domain or path;
 *  - hosts: Host / HostHeader values are lower-cased, without a trailing dot; several in one term must
 *    agree — a wildcard (`*.example.com`) or a HostRegexp gives way to a concrete host it matches,
 *    and a term whose hosts contradict each other serves nothing. A HostRegexp alone yields its
 *    pattern as the domain (`domainKind: 'regexp'`), as written; a v3 `Host(`*.x`)` keeps its
 *    wildcard (`domainKind: 'wildcard'`);
 *  - paths: `Path` is exact and overrides a `PathPrefix` it starts with; of two prefixes the longer
 *    one wins when one extends the other; contradictions serve nothing. PathRegexp (and v2 templates
 *    with `{var}`) yield their literal leading part as the prefix, with the pattern in `pathRegexp`;
 *  - no host → `domain` undefined (the caller falls back, e.g. to the service name); no path → `/`.
 */
import { compileGoRegexp, GoRegexpSyntaxError } from './regexp.js';
import { muxMatch, newMuxRegexp, MuxTemplateError, type MuxRegexp } from './mux-template.js';
import {
  parseExpression,
  parseRule,
  toTraefikTree,
  V2_MATCHERS,
  V3_MATCHERS,
  type RuleNode,
  type RuleSyntax,
  type TraefikTree,
} from './rule-parser.js';

export interface ServedRoute {
  /** Host the route answers for; undefined when the branch has no positive host condition. */
  domain?: string;
  domainKind?: 'host' | 'wildcard' | 'regexp';
  /** Path prefix; '/' when the branch has no positive path condition. */
  pathPrefix: string;
  /** True when the path comes from Path(): only that exact path is served. */
  exact: boolean;
  /** The PathRegexp pattern (or v2 template) when the path condition is a regexp. */
  pathRegexp?: string;
}

type HostC =
  | { kind: 'host'; value: string }
  | { kind: 'wildcard'; value: string }
  | { kind: 'regexp'; value: string; test: (host: string) => boolean };

type PathC =
  | { kind: 'exact'; value: string }
  | { kind: 'prefix'; value: string }
  | { kind: 'regexp'; value: string; literal: string; test: (path: string) => boolean };

interface Term {
  hosts: HostC[];
  paths: PathC[];
}

const MAX_TERMS = 4096;

function normalizeHost(h: string): string {
  const lower = h.toLowerCase();
  return lower.endsWith('.') && lower.length > 1 ? lower.slice(0, -1) : lower;
}

/** The literal text a Go regexp requires at the start of the path (`^/api/v1` → `/api/v1`), or '/'. */
function regexpLiteralPrefix(pattern: string): string {
  const body = pattern.startsWith('(?i)') ? undefined : pattern.startsWith('^') ? pattern.slice(1) : undefined;
  if (body === undefined) return '/';
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      const n = body[i + 1];
      if (n !== undefined && /[^A-Za-z0-9]/.test(n)) {
        out += n;
        i++;
        continue;
      }
      break;
    }
    if ('.+*?()|[]{}^$'.includes(c)) {
      // A quantifier makes the previous character optional or repeated: drop it.
      if ('*?{'.includes(c) && out.length > 0) out = out.slice(0, -1);
      break;
    }
    out += c;
  }
  return out.startsWith('/') ? out : '/';
}

function safeGoTest(pattern: string, ignoreCase = false): (s: string) => boolean {
  try {
    const re = compileGoRegexp(pattern, { ignoreCase });
    return (s) => re.test(s);
  } catch (e) {
    if (e instanceof GoRegexpSyntaxError) return () => true;
    throw e;
  }
}

function safeMux(tpl: string, type: 'host' | 'path' | 'prefix'): MuxRegexp | undefined {
  try {
    return newMuxRegexp(tpl, type);
  } catch (e) {
    if (e instanceof MuxTemplateError) return undefined;
    throw e;
  }
}

/** The alternatives (terms) contributed by one positive matcher. */
function leafTerms(name: string, args: readonly string[], syntax: RuleSyntax): Term[] {
  const one = (t: Partial<Term>): Term => ({ hosts: t.hosts ?? [], paths: t.paths ?? [] });
  switch (name) {
    case 'Host':
    case 'HostHeader':
      return args.map((a) => {
        const v = normalizeHost(a);
        return one({ hosts: [syntax === 'v3' && v.startsWith('*') ? { kind: 'wildcard', value: v } : { kind: 'host', value: v }] });
      });
    case 'HostRegexp':
      return args.map((a) => {
        if (syntax === 'v2') {
          const mux = safeMux(a, 'host');
          return one({ hosts: [{ kind: 'regexp', value: a, test: (h) => (mux ? muxMatch(mux, { host: h, path: '', rawQuery: '' }) : true) }] });
        }
        const test = safeGoTest(a);
        return one({ hosts: [{ kind: 'regexp', value: a, test }] });
      });
    case 'Path':
    case 'PathPrefix':
      return args.map((a) => {
        if (syntax === 'v2' && a.includes('{')) {
          const mux = safeMux(a, name === 'Path' ? 'path' : 'prefix');
          const literal = mux?.literalPrefix ?? a.slice(0, a.indexOf('{'));
          return one({ paths: [{ kind: 'regexp', value: a, literal: literal || '/', test: (p) => (mux ? muxMatch(mux, { host: '', path: p, rawQuery: '' }) : true) }] });
        }
        return one({ paths: [{ kind: name === 'Path' ? 'exact' : 'prefix', value: a }] });
      });
    case 'PathRegexp':
      return args.map((a) => one({ paths: [{ kind: 'regexp', value: a, literal: regexpLiteralPrefix(a), test: safeGoTest(a) }] }));
    default:
      return [one({})];
  }
}

function terms(node: RuleNode, negate: boolean, syntax: RuleSyntax): Term[] {
  switch (node.type) {
    case 'matcher':
      return negate ? [{ hosts: [], paths: [] }] : leafTerms(node.name, node.args, syntax);
    case 'not':
      return terms(node.operand, !negate, syntax);
    case 'and':
    case 'or': {
      const isAnd = (node.type === 'and') !== negate;
      const left = terms(node.left, negate, syntax);
      const right = terms(node.right, negate, syntax);
      if (!isAnd) return [...left, ...right].slice(0, MAX_TERMS);
      const out: Term[] = [];
      for (const l of left) {
        for (const r of right) {
          if (out.length >= MAX_TERMS) return out;
          out.push({ hosts: [...l.hosts, ...r.hosts], paths: [...l.paths, ...r.paths] });
        }
      }
      return out;
    }
  }
}

function wildcardMatches(wildcard: string, host: string): boolean {
  if (wildcard === '*') return true;
  if (wildcard.startsWith('**.')) return host.endsWith(wildcard.slice(2)) && host.length > wildcard.length - 2;
  const labels = host.split('.');
  labels[0] = '*';
  return labels.join('.') === wildcard;
}

/** null when the host conditions contradict each other. */
function resolveHosts(hosts: HostC[]): { domain?: string; domainKind?: ServedRoute['domainKind'] } | null {
  if (hosts.length === 0) return {};
  const concrete = [...new Set(hosts.filter((h) => h.kind === 'host').map((h) => h.value))];
  if (concrete.length > 1) return null;
  if (concrete.length === 1) {
    const host = concrete[0];
    for (const h of hosts) {
      if (h.kind === 'wildcard' && !wildcardMatches(h.value, host)) return null;
      if (h.kind === 'regexp' && !h.test(host)) return null;
    }
    return { domain: host, domainKind: 'host' };
  }
  const first = hosts.find((h) => h.kind === 'wildcard') ?? hosts[0];
  return { domain: first.value, domainKind: first.kind === 'wildcard' ? 'wildcard' : 'regexp' };
}

/** null when the path conditions contradict each other. */
function resolvePaths(paths: PathC[]): Pick<ServedRoute, 'pathPrefix' | 'exact' | 'pathRegexp'> | null {
  if (paths.length === 0) return { pathPrefix: '/', exact: false };
  const exacts = [...new Set(paths.filter((p) => p.kind === 'exact').map((p) => p.value))];
  if (exacts.length > 1) return null;
  if (exacts.length === 1) {
    const path = exacts[0];
    for (const p of paths) {
      if (p.kind === 'prefix' && !path.startsWith(p.value)) return null;
      if (p.kind === 'regexp' && !p.test(path)) return null;
    }
    return { pathPrefix: path, exact: true };
  }
  let prefix: string | undefined;
  for (const p of paths) {
    if (p.kind !== 'prefix') continue;
    if (prefix === undefined || p.value.startsWith(prefix)) prefix = p.value;
    else if (!prefix.startsWith(p.value)) return null;
  }
  const regexps = paths.filter((p): p is Extract<PathC, { kind: 'regexp' }> => p.kind === 'regexp');
  if (prefix === undefined && regexps.length > 0) {
    const r = regexps[0];
    return { pathPrefix: r.literal, exact: false, pathRegexp: r.value };
  }
  return { pathPrefix: prefix ?? '/', exact: false, ...(regexps.length > 0 ? { pathRegexp: regexps[0].value } : {}) };
}

/** Every (domain, path) the rule serves, in rule order, without duplicates. */
export function routesOfRule(ast: RuleNode, syntax: RuleSyntax = 'v3'): ServedRoute[] {
  const out: ServedRoute[] = [];
  const seen = new Set<string>();
  for (const term of terms(ast, false, syntax)) {
    const host = resolveHosts(term.hosts);
    const path = resolvePaths(term.paths);
    if (!host || !path) continue;
    const route: ServedRoute = { ...host, ...path };
    if (route.domain === undefined) delete route.domain;
    if (route.domainKind === undefined) delete route.domainKind;
    const key = JSON.stringify([route.domain, route.domainKind, route.pathPrefix, route.exact, route.pathRegexp]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(route);
  }
  return out;
}

/** Parses (and validates) a rule, then returns routesOfRule. Throws RuleError for an invalid rule. */
export function routesOfRuleString(rule: string, options: { syntax?: RuleSyntax } = {}): ServedRoute[] {
  const syntax = options.syntax ?? 'v3';
  return routesOfRule(parseRule(rule, { syntax }), syntax);
}

const ALL_MATCHERS = [...new Set<string>([...V3_MATCHERS, ...V2_MATCHERS])];

function positiveMatchers(tree: TraefikTree, names: readonly string[]): string[] {
  if (tree.matcher === 'and' || tree.matcher === 'or') {
    return [...positiveMatchers(tree.ruleLeft!, names), ...positiveMatchers(tree.ruleRight!, names)];
  }
  if (tree.not || !names.includes(tree.matcher) || !tree.value) return [];
  return tree.value.map((v) => v.toLowerCase());
}

/**
 * Traefik's ParseDomains: lower-cased values of the positive (not negated) Host matchers, parsing with
 * the matchers of both syntaxes and no argument validation; null when there are none. Throws RuleError.
 */
export function parseDomains(rule: string): string[] | null {
  const tree = toTraefikTree(parseExpression(rule, { matchers: ALL_MATCHERS }));
  const domains = positiveMatchers(tree, ['Host']);
  return domains.length === 0 ? null : domains;
}

/** Traefik's GetRulePriority: the rule's length in bytes, less 2 per `**.` double-wildcard host. */
export function getRulePriority(rule: string): number {
  const length = new TextEncoder().encode(rule).length;
  let domains: string[] | null;
  try {
    domains = parseDomains(rule);
  } catch {
    return length;
  }
  return length - (domains ?? []).filter((d) => d.startsWith('**.')).length * 2;
}
