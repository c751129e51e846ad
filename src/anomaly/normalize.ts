/**
 * Endpoint name normalisation (pure), so that baselines do not fragment into one bucket per id:
 * `GET /users/123/orders/9f1c2b7e4d` → `GET /users/{id}/orders/{id}`.
 *
 * Order: configured rules first (regex → replacement over the whole name, in order), then the
 * built-in ones, which look at each whitespace-separated token and at each segment of a URL path:
 * - the query string and fragment of a path are dropped, repeated and trailing slashes collapsed;
 * - a segment (or token) becomes the placeholder when it is a UUID, a run of decimal digits,
 *   a hex string of 8+ characters containing a digit, a ULID, an e-mail address, or an opaque token
 *   of 20+ letters/digits/`-`/`_` mixing letters and digits.
 * Route templates (`:id`, `{id}`), words, versions (`v2`) and short hex words stay as they are.
 */
import { ValidationError } from './errors.js';

export interface NormalizeRule {
  /** A JavaScript regular expression (source text or RegExp). */
  pattern: string | RegExp;
  /** Replacement text; `$1` etc. refer to capture groups. */
  replacement: string;
  /** RegExp flags for a string pattern (default "g"). */
  flags?: string;
}

export interface NormalizeOptions {
  rules?: readonly NormalizeRule[];
  /** Apply the built-in id rules after the configured ones (default true). */
  builtins?: boolean;
  /** Text that replaces an id (default "{id}"). */
  placeholder?: string;
  /** Longer names are cut and end with "…" (default 200 characters). */
  maxLength?: number;
}

export type Normalizer = (name: string) => string;

/** The name given to spans without one. */
export const UNNAMED_ENDPOINT = '(unnamed)';

/** Longest service name accepted (a Kubernetes name; OTLP spans with longer ones are rejected). */
export const MAX_SERVICE_LENGTH = 253;
/** Longest endpoint accepted by the HTTP routes (OTLP span names are cut to it). */
export const MAX_ENDPOINT_LENGTH = 4096;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

const isDigit = (c: number) => c >= 48 && c <= 57;
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;

/** local@domain.tld: one '@', no whitespace or '/', a '.' inside the domain part. */
function isEmail(seg: string): boolean {
  const at = seg.indexOf('@');
  if (at <= 0 || seg.indexOf('@', at + 1) >= 0) return false;
  const dot = seg.indexOf('.', at + 2);
  if (dot < 0 || dot === seg.length - 1) return false;
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c === 47 || isSpace(c)) return false;
  }
  return true;
}

/**
 * True when one path segment or token looks like an identifier rather than a name. One pass over the
 * characters (plus fixed-length patterns), so segments of any length cost linear time and no stack.
 */
export function looksLikeId(seg: string): boolean {
  const n = seg.length;
  if (n === 0) return false;
  let digits = 0;
  let letters = 0;
  let hex = 0;
  let opaque = 0;
  for (let i = 0; i < n; i++) {
    const c = seg.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (isLetter(c)) letters++;
    if (isHex(c)) hex++;
    if (isDigit(c) || isLetter(c) || c === 45 || c === 95) opaque++;
  }
  if (digits === n) return true;
  if (n === 36 && UUID.test(seg)) return true;
  if (n >= 8 && hex === n && digits > 0) return true;
  if (n === 26 && digits > 0 && ULID.test(seg)) return true;
  if (isEmail(seg)) return true;
  if (n >= 20 && opaque === n && digits > 0 && letters > 0) return true;
  return false;
}

function normalizePath(token: string, placeholder: string): string {
  let path = token;
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  let prefix = '';
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  if (scheme) {
    prefix = scheme[0];
    path = path.slice(prefix.length);
  }
  const segs = path.split('/');
  const out: string[] = [];
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (s === '' && i > 0) continue; // repeated or trailing slash
    out.push(looksLikeId(s) ? placeholder : s);
  }
  let joined = out.join('/');
  if (path.startsWith('/') && !joined.startsWith('/')) joined = '/' + joined;
  if (joined === '' && (path.startsWith('/') || prefix)) joined = '/';
  return prefix + joined;
}

/** Build a normaliser; a bad configured pattern is a ValidationError naming `normalizeRules[i].pattern`. */
export function createNormalizer(opts: NormalizeOptions = {}): Normalizer {
  const placeholder = opts.placeholder ?? '{id}';
  const maxLength = opts.maxLength ?? 200;
  const builtins = opts.builtins ?? true;
  const rules = (opts.rules ?? []).map((r, i) => {
    let re: RegExp;
    try {
      re = typeof r.pattern === 'string' ? new RegExp(r.pattern, r.flags ?? 'g') : r.pattern;
    } catch (e) {
      throw new ValidationError(`normalizeRules[${i}].pattern`, `normalizeRules[${i}].pattern is not a valid regular expression: ${(e as Error).message}`);
    }
    if (typeof r.replacement !== 'string') {
      throw new ValidationError(`normalizeRules[${i}].replacement`, `normalizeRules[${i}].replacement must be a string`);
    }
    return { re, replacement: r.replacement };
  });

  return (name: string): string => {
    // Only the first MAX_ENDPOINT_LENGTH characters can matter (the result is cut to maxLength);
    // NUL cannot be stored by PostgreSQL (the anomaly feed).
    let s = String(name ?? '')
      .slice(0, MAX_ENDPOINT_LENGTH)
      .replaceAll('\u0000', '\ufffd')
      .replace(/\s+/g, ' ')
      .trim();
    for (const { re, replacement } of rules) {
      re.lastIndex = 0;
      s = s.replace(re, replacement);
    }
    if (builtins && s !== '') {
      const tokens = s.split(' ');
      for (let i = 0; i < tokens.length; i++) {
        const t = tokens[i];
        if (t.startsWith('/') || t.includes('://')) tokens[i] = normalizePath(t, placeholder);
        else if (looksLikeId(t)) tokens[i] = placeholder;
      }
      s = tokens.join(' ');
    }
    if (s === '') return UNNAMED_ENDPOINT;
    if (s.length > maxLength) s = s.slice(0, Math.max(1, maxLength - 1)) + '…';
    return s;
  };
}

/** The normaliser with built-in rules only. */
export const normalizeEndpoint: Normalizer = createNormalizer();
