/**
 * gorilla/mux route templates, as Traefik's v2 rule syntax uses them: `Host`/`HostRegexp`, `Path`,
 * `PathPrefix` and `Query` values may contain `{name}` or `{name:pattern}` variables.
 *
 * Mirrors mux's newRouteRegexp: brace balancing, "missing name or pattern", literal parts quoted with
 * QuoteMeta, default variable patterns (`[^.]+` host, `[^/]+` path, `.*` query), `^…$` anchoring
 * (no `$` for prefixes), and the host quirk that the port is stripped from the request host only when
 * the generated pattern contains no `:`. Host templates match case-insensitively (Traefik's fork of
 * mux, containous/mux#6, see traefik/traefik#3930).
 */
import { compileGoRegexp, GoRegexpSyntaxError, quoteMeta, type GoRegexp } from './regexp.js';

export type MuxTemplateType = 'host' | 'path' | 'prefix' | 'query';

export class MuxTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MuxTemplateError';
  }
}

export interface MuxRegexp {
  template: string;
  type: MuxTemplateType;
  /** The Go pattern mux builds. */
  goPattern: string;
  regexp: GoRegexp;
  /** Host only: strip `:port` from the request host before matching. */
  wildcardHostPort: boolean;
  varNames: string[];
  /** The template's text before its first variable (useful as a path prefix). */
  literalPrefix: string;
}

/** mux braceIndices: start/end offsets of each top-level `{…}`; throws on unbalanced braces. */
function braceIndices(s: string): number[] {
  let level = 0;
  let idx = 0;
  const idxs: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '{') {
      if (++level === 1) idx = i;
    } else if (s[i] === '}') {
      if (--level === 0) idxs.push(idx, i + 1);
      else if (level < 0) throw new MuxTemplateError(`mux: unbalanced braces in ${JSON.stringify(s)}`);
    }
  }
  if (level !== 0) throw new MuxTemplateError(`mux: unbalanced braces in ${JSON.stringify(s)}`);
  return idxs;
}

function compile(pattern: string, ignoreCase: boolean): GoRegexp {
  try {
    return compileGoRegexp(pattern, { ignoreCase });
  } catch (e) {
    if (e instanceof GoRegexpSyntaxError) throw new MuxTemplateError(e.message);
    throw e;
  }
}

/** Builds the regexp mux would build for a template; throws MuxTemplateError when mux would fail. */
export function newMuxRegexp(tpl: string, type: MuxTemplateType): MuxRegexp {
  if ((type === 'path' || type === 'prefix') && tpl.length > 0 && tpl[0] !== '/') {
    throw new MuxTemplateError(`mux: path must start with a slash, got ${JSON.stringify(tpl)}`);
  }
  const idxs = braceIndices(tpl);
  const defaultPattern = type === 'query' ? '.*' : type === 'host' ? '[^.]+' : '[^/]+';
  let pattern = '^';
  let end = 0;
  const varNames: string[] = [];
  for (let i = 0; i < idxs.length; i += 2) {
    const raw = tpl.slice(end, idxs[i]);
    end = idxs[i + 1];
    const inner = tpl.slice(idxs[i] + 1, end - 1);
    const colon = inner.indexOf(':');
    const name = colon < 0 ? inner : inner.slice(0, colon);
    const patt = colon < 0 ? defaultPattern : inner.slice(colon + 1);
    if (name === '' || patt === '') {
      throw new MuxTemplateError(`mux: missing name or pattern in ${JSON.stringify(tpl.slice(idxs[i], end))}`);
    }
    pattern += `${quoteMeta(raw)}(?P<v${i / 2}>${patt})`;
    varNames.push(name);
    compile(`^${patt}$`, false);
  }
  pattern += quoteMeta(tpl.slice(end));
  if (type === 'query') {
    const eq = tpl.indexOf('=');
    if (eq >= 0 && tpl.slice(eq + 1) === '') pattern += defaultPattern;
  }
  if (type !== 'prefix') pattern += '$';
  const regexp = compile(pattern, type === 'host');
  return {
    template: tpl,
    type,
    goPattern: pattern,
    regexp,
    wildcardHostPort: type === 'host' && !pattern.includes(':'),
    varNames,
    literalPrefix: idxs.length > 0 ? tpl.slice(0, idxs[0]) : tpl,
  };
}

/** mux uniqueVars: variable names must not repeat across the regexps of one route. */
export function checkUniqueVars(regexps: readonly MuxRegexp[]): void {
  const seen = new Set<string>();
  for (const r of regexps) {
    for (const v of r.varNames) {
      if (seen.has(v)) throw new MuxTemplateError(`mux: duplicated route variable ${JSON.stringify(v)}`);
      seen.add(v);
    }
  }
}

/** Go's url.QueryUnescape; undefined on a malformed escape. */
export function queryUnescape(s: string): string | undefined {
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c === '+') {
      bytes.push(0x20);
    } else {
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes.push(...enc.encode(ch));
      if (ch.length === 2) i++;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** mux findFirstQueryKey: the first value of key in a raw query (pairs split on `&` and `;`). */
export function findFirstQueryKey(rawQuery: string, key: string): string | undefined {
  for (const part of rawQuery.split(/[&;]/)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawKey = eq >= 0 ? part.slice(0, eq) : part;
    const rawValue = eq >= 0 ? part.slice(eq + 1) : '';
    if (rawKey.length < key.length) continue;
    if (queryUnescape(rawKey) !== key) continue;
    const value = queryUnescape(rawValue);
    if (value === undefined) continue;
    return value;
  }
  return undefined;
}

/** Evaluates a mux regexp the way routeRegexp.Match does. host is the raw request host (port kept). */
export function muxMatch(r: MuxRegexp, req: { host: string; path: string; rawQuery: string }): boolean {
  switch (r.type) {
    case 'host': {
      let host = req.host;
      if (r.wildcardHostPort) {
        const i = host.indexOf(':');
        if (i >= 0) host = host.slice(0, i);
      }
      return r.regexp.test(host);
    }
    case 'query': {
      const eq = r.template.indexOf('=');
      const key = eq >= 0 ? r.template.slice(0, eq) : r.template;
      const value = findFirstQueryKey(req.rawQuery, key);
      return r.regexp.test(value === undefined ? '' : `${key}=${value}`);
    }
    default:
      return r.regexp.test(req.path);
  }
}
