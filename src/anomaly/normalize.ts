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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGITS = /^\d+$/;
const HEX8 = /^[0-9a-f]{8,}$/i;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const EMAIL = /^[^@\s/]+@[^@\s/]+\.[^@\s/]+$/;
const OPAQUE = /^[A-Za-z0-9_-]{20,}$/;
const HAS_DIGIT = /\d/;
const HAS_LETTER = /[A-Za-z]/;

/** True when one path segment or token looks like an identifier rather than a name. */
export function looksLikeId(seg: string): boolean {
  if (seg.length === 0) return false;
  if (DIGITS.test(seg)) return true;
  if (UUID.test(seg)) return true;
  if (HEX8.test(seg) && HAS_DIGIT.test(seg)) return true;
  if (ULID.test(seg) && HAS_DIGIT.test(seg)) return true;
  if (EMAIL.test(seg)) return true;
  if (OPAQUE.test(seg) && HAS_DIGIT.test(seg) && HAS_LETTER.test(seg)) return true;
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
    let s = String(name ?? '').replace(/\s+/g, ' ').trim();
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
