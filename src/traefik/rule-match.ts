/**
 * Evaluates a Traefik rule against a request, with the semantics of Traefik's HTTP muxer for each
 * rule syntax (pkg/muxer/http/matcher.go for v3, matcher_v2.go + gorilla/mux for v2):
 *
 *  - Host (v3): the request host is canonicalised like the requestdecorator middleware (port and
 *    IPv6 brackets stripped, lower-cased); case-insensitive equality, a trailing dot on either side is
 *    ignored, `*.example.com` matches exactly one extra label, `**.example.com` one or more, `*` any.
 *  - Host / HostHeader (v2): any of the values, same canonicalisation, no wildcards.
 *  - HostRegexp (v3): Go regexp against the canonical host (and, as Traefik does, against the CNAME-
 *    flattened host, which is empty here). HostRegexp (v2): mux host templates against the raw host,
 *    port stripped unless the pattern mentions `:`, case-insensitive.
 *  - Path / PathPrefix / PathRegexp: on the routing path — the escaped path with percent-encoded
 *    unreserved characters decoded (reserved ones such as %2F stay encoded).
 *  - Method: the request method must equal the upper-cased value (a request method is not upper-cased).
 *  - Header* (v3), Headers* (v2): the rule key is canonicalised (`x-forwarded-proto` →
 *    `X-Forwarded-Proto`) and looked up as-is in the request headers, like Go's http.Header. Supply
 *    canonical header names, as a Go server would (see canonicalHeaderKey).
 *  - Query / QueryRegexp (v3): url.ParseQuery semantics; Query(`k`) matches a key with an empty value.
 *    Query (v2): mux query templates, checked against the first occurrence of each key.
 *  - ClientIP: the remote address (host of host:port, or the whole value), IP or CIDR; v2 takes many.
 */
import { compileGoRegexp } from './regexp.js';
import { checkerContains, newIPChecker, remoteAddrIP, splitHostPort } from './ip.js';
import { muxMatch } from './mux-template.js';
import { formatRule, muxRegexpsOf, parseRule, type MatcherNode, type RuleNode, type RuleSyntax } from './rule-parser.js';

export interface RouteRequest {
  /** Request host as received (Host header, or the authority of an absolute-form URL); port allowed. */
  host: string;
  /** URL path as sent on the wire (percent-encoding kept), without the query; may be ''. */
  path: string;
  /** Raw query string, without the leading '?'. */
  query?: string;
  /** Defaults to GET. Compared as-is (Go does not upper-case request methods). */
  method?: string;
  /** Request headers with Go http.Header semantics: looked up by exact (canonical) key. */
  headers?: Readonly<Record<string, readonly string[] | string>>;
  /** Client address as Go's RemoteAddr: `ip` or `ip:port` (`[v6]:port`). */
  clientIP?: string;
}

/** Internal, pre-digested request. */
interface Req {
  rawHost: string;
  canonicalHost: string;
  routingPath: string | undefined;
  rawQuery: string;
  method: string;
  headers: Readonly<Record<string, readonly string[] | string>>;
  clientIP: string;
}

type Fn = (req: Req) => boolean;

/** How one matcher of a rule fared against a request. */
export interface MatcherVerdict {
  /** The matcher as a canonical rule fragment, e.g. ``PathPrefix(`/api`)``. */
  matcher: string;
  /** The matcher sits under an odd number of `!`: the rule needs it NOT to match. */
  negated: boolean;
  matched: boolean;
}

export interface CompiledRule {
  readonly rule: string;
  readonly syntax: RuleSyntax;
  readonly ast: RuleNode;
  match(req: RouteRequest): boolean;
  /** Every matcher of the rule, in rule order, with its own result: why the rule matched or not. */
  explain(req: RouteRequest): MatcherVerdict[];
}

interface Leaf {
  matcher: string;
  negated: boolean;
  fn: Fn;
}

const HEADER_TOKEN = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]*$/;

/** Go's http.CanonicalHeaderKey: `x-forwarded-proto` → `X-Forwarded-Proto`; invalid names unchanged. */
export function canonicalHeaderKey(key: string): string {
  if (!HEADER_TOKEN.test(key)) return key;
  let upper = true;
  let out = '';
  for (const c of key) {
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === '-';
  }
  return out;
}

/** requestdecorator: host without port (or IPv6 brackets), trimmed and lower-cased. */
export function canonicalHost(host: string): string {
  let h = host;
  if (h.includes(':')) {
    const split = splitHostPort(h);
    if (split) h = split.host;
    else if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  }
  return h.trim().toLowerCase();
}

const RESERVED_ESCAPES = new Set([
  '%3A', '%2F', '%3F', '%23', '%5B', '%5D', '%40', '%21', '%24', '%26', '%27', '%28', '%29', '%2A', '%2B', '%2C', '%3B', '%3D', '%25',
]);

/** Traefik's routing path: percent-decodes everything but RFC 3986 reserved characters (and %). */
export function routingPath(escapedPath: string): string | undefined {
  if (!escapedPath.includes('%')) return escapedPath;
  const enc = new TextEncoder();
  const bytes: number[] = [];
  for (let i = 0; i < escapedPath.length; i++) {
    const c = escapedPath[i];
    if (c !== '%') {
      bytes.push(...enc.encode(c));
      continue;
    }
    const triplet = escapedPath.slice(i, i + 3);
    if (!/^%[0-9A-Fa-f]{2}$/.test(triplet)) return undefined; // Traefik answers 400
    if (RESERVED_ESCAPES.has(triplet)) bytes.push(...enc.encode(triplet));
    else bytes.push(parseInt(triplet.slice(1), 16));
    i += 2;
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Go's url.ParseQuery (values of malformed pairs, and pairs containing ';', are dropped). */
export function parseQuery(raw: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const unescape = (s: string): string | undefined => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      // decodeURIComponent also rejects well-formed escapes of invalid UTF-8; Go keeps the bytes.
      if (/%(?![0-9A-Fa-f]{2})/.test(s)) return undefined;
      const bytes: number[] = [];
      const enc = new TextEncoder();
      for (let i = 0; i < s.length; i++) {
        if (s[i] === '%') {
          bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
          i += 2;
        } else bytes.push(...enc.encode(s[i] === '+' ? ' ' : s[i]));
      }
      return new TextDecoder().decode(new Uint8Array(bytes));
    }
  };
  for (const pair of raw.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const k = unescape(eq < 0 ? pair : pair.slice(0, eq));
    const v = unescape(eq < 0 ? '' : pair.slice(eq + 1));
    if (k === undefined || v === undefined) continue;
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

function headerValues(req: Req, key: string): readonly string[] | undefined {
  const v = req.headers[canonicalHeaderKey(key)];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? [v] : v;
}

/** Traefik's muxer.DomainMatchHostExpression (with `*` alone matching any host). */
function domainMatchHostExpression(domain: string, expr: string): boolean {
  if (expr === '*') return domain.length > 0;
  if (expr.startsWith('**.')) {
    const suffix = expr.slice(3);
    return domain.length > suffix.length + 1 && domain.slice(domain.length - suffix.length - 1).toLowerCase() === '.' + suffix.toLowerCase();
  }
  if (expr.startsWith('*')) {
    const labels = domain.split('.');
    labels[0] = '*';
    return labels.join('.').toLowerCase() === expr.toLowerCase();
  }
  return domain.toLowerCase() === expr.toLowerCase();
}

function hostV3(expr: string): Fn {
  const hostExpr = expr.toLowerCase();
  return (req) => {
    const h = req.canonicalHost;
    if (h.length === 0) return false;
    if (domainMatchHostExpression(h, hostExpr)) return true;
    if (hostExpr.endsWith('.') && domainMatchHostExpression(h, hostExpr.slice(0, -1))) return true;
    if (h.endsWith('.') && domainMatchHostExpression(h.slice(0, -1), hostExpr)) return true;
    return false;
  };
}

function hostV2(values: readonly string[]): Fn {
  const hosts = values.map((v) => v.toLowerCase());
  return (req) => {
    const h = req.canonicalHost;
    if (h.length === 0) return false;
    return hosts.some((host) => h === host || (host.endsWith('.') && h === host.slice(0, -1)) || (h.endsWith('.') && h.slice(0, -1) === host));
  };
}

function compileMatcherV3(m: MatcherNode): Fn {
  const [a, b] = m.args;
  switch (m.name) {
    case 'ClientIP': {
      const r = newIPChecker(m.args);
      if (!('checker' in r)) throw new Error(`invalid ClientIP value ${r.invalid}`);
      return (req) => checkerContains(r.checker, remoteAddrIP(req.clientIP));
    }
    case 'Method': {
      const method = a.toUpperCase();
      return (req) => req.method === method;
    }
    case 'Host':
      return hostV3(a);
    case 'HostRegexp': {
      const re = compileGoRegexp(a);
      return (req) => re.test(req.canonicalHost) || re.test('');
    }
    case 'Path':
      return (req) => req.routingPath !== undefined && req.routingPath === a;
    case 'PathPrefix':
      return (req) => req.routingPath !== undefined && req.routingPath.startsWith(a);
    case 'PathRegexp': {
      const re = compileGoRegexp(a);
      return (req) => req.routingPath !== undefined && re.test(req.routingPath);
    }
    case 'Header':
      return (req) => headerValues(req, a)?.includes(b) ?? false;
    case 'HeaderRegexp': {
      const re = compileGoRegexp(b);
      return (req) => headerValues(req, a)?.some((v) => re.test(v)) ?? false;
    }
    case 'Query':
    case 'QueryRegexp': {
      if (m.name === 'Query' || m.args.length === 1) {
        const value = b ?? '';
        return (req) => parseQuery(req.rawQuery).get(a)?.includes(value) ?? false;
      }
      const re = compileGoRegexp(b);
      return (req) => parseQuery(req.rawQuery).get(a)?.some((v) => re.test(v)) ?? false;
    }
    default:
      throw new Error(`matcher ${m.name} is not a v3 matcher`);
  }
}

function pairs<T>(args: readonly string[], value: (v: string) => T): Map<string, T> {
  const map = new Map<string, T>();
  for (let i = 0; i + 1 < args.length; i += 2) map.set(args[i], value(args[i + 1]));
  return map;
}

function compileMatcherV2(m: MatcherNode): Fn {
  switch (m.name) {
    case 'Host':
    case 'HostHeader':
      return hostV2(m.args);
    case 'ClientIP': {
      const r = newIPChecker(m.args);
      if (!('checker' in r)) throw new Error(`invalid ClientIP value ${r.invalid}`);
      return (req) => checkerContains(r.checker, remoteAddrIP(req.clientIP));
    }
    case 'Method': {
      const methods = m.args.map((x) => x.toUpperCase());
      return (req) => methods.includes(req.method);
    }
    case 'HostRegexp':
    case 'Path':
    case 'PathPrefix': {
      const regexps = muxRegexpsOf(m);
      return (req) => {
        if (m.name !== 'HostRegexp' && req.routingPath === undefined) return false;
        const r = { host: req.rawHost, path: req.routingPath ?? '', rawQuery: req.rawQuery };
        return regexps.some((x) => muxMatch(x, r));
      };
    }
    case 'Query': {
      const regexps = muxRegexpsOf(m);
      return (req) => {
        const r = { host: req.rawHost, path: req.routingPath ?? '', rawQuery: req.rawQuery };
        return regexps.every((x) => muxMatch(x, r));
      };
    }
    case 'Headers': {
      const wanted = pairs(m.args, (v) => v);
      return (req) => [...wanted].every(([k, v]) => headerValues(req, k)?.includes(v) ?? false);
    }
    case 'HeadersRegexp': {
      const wanted = pairs(m.args, (v) => compileGoRegexp(v));
      return (req) => [...wanted].every(([k, re]) => headerValues(req, k)?.some((v) => re.test(v)) ?? false);
    }
    default:
      throw new Error(`matcher ${m.name} is not a v2 matcher`);
  }
}

function compileNode(node: RuleNode, syntax: RuleSyntax, leaves: Leaf[], negated = false): Fn {
  switch (node.type) {
    case 'matcher': {
      const fn = syntax === 'v2' ? compileMatcherV2(node) : compileMatcherV3(node);
      leaves.push({ matcher: formatRule(node), negated, fn });
      return fn;
    }
    case 'not': {
      const f = compileNode(node.operand, syntax, leaves, !negated);
      return (req) => !f(req);
    }
    case 'and': {
      const l = compileNode(node.left, syntax, leaves, negated);
      const r = compileNode(node.right, syntax, leaves, negated);
      return (req) => l(req) && r(req);
    }
    case 'or': {
      const l = compileNode(node.left, syntax, leaves, negated);
      const r = compileNode(node.right, syntax, leaves, negated);
      return (req) => l(req) || r(req);
    }
  }
}

function digest(req: RouteRequest): Req {
  return {
    rawHost: req.host,
    canonicalHost: canonicalHost(req.host),
    routingPath: routingPath(req.path),
    rawQuery: req.query ?? '',
    method: req.method ?? 'GET',
    headers: req.headers ?? {},
    clientIP: req.clientIP ?? '',
  };
}

/**
 * Parses (unless given an AST), validates and compiles a rule. Throws RuleError for a rule Traefik
 * would reject. An AST must have been validated for the same syntax (parseRule does).
 */
export function compileRule(rule: string | RuleNode, options: { syntax?: RuleSyntax } = {}): CompiledRule {
  const syntax = options.syntax ?? 'v3';
  const ast = typeof rule === 'string' ? parseRule(rule, { syntax }) : rule;
  const leaves: Leaf[] = [];
  const fn = compileNode(ast, syntax, leaves);
  return {
    rule: typeof rule === 'string' ? rule : '',
    syntax,
    ast,
    match: (req) => fn(digest(req)),
    explain: (req) => {
      const d = digest(req);
      return leaves.map((l) => ({ matcher: l.matcher, negated: l.negated, matched: l.fn(d) }));
    },
  };
}

/** One-shot: does the rule match the request? Throws RuleError for an invalid rule. */
export function matchRule(rule: string, req: RouteRequest, options: { syntax?: RuleSyntax } = {}): boolean {
  return compileRule(rule, options).match(req);
}
