/**
 * Request validation shared by every route, on top of each route's JSON schema:
 *
 * - Bodies are validated WITHOUT type coercion (`"12"`, `"Infinity"`, `true`, `null` are not numbers,
 *   `123` is not a string); query strings and path parameters are text on the wire, so their numeric
 *   and boolean strings are still coerced.
 * - Every `integer` in a schema is bounded to the safe-integer range and every `number` to the
 *   finite range: 2^53+1 would be silently rounded, 1e308 stored as REAL on SQLite and overflow a
 *   PostgreSQL bigint, and a coerced `"Infinity"` would poison every sum it joins.
 * - No string anywhere in a body, query string or path (keys included) may hold a NUL character
 *   (PostgreSQL text cannot store one) or a lone UTF-16 surrogate (not encodable as UTF-8); no number
 *   in a body may be non-finite (`1e400` parses to Infinity); bodies nest at most MAX_DEPTH levels.
 *   This runs for every route, also those whose handlers validate by hand.
 */
import { AjvCompiler } from '@fastify/ajv-compiler';

/** Deepest nesting of arrays and objects accepted in a body. */
export const MAX_DEPTH = 64;

/** A problem with one request value, as the HTTP layer reports it. */
export interface ValueProblem {
  field: string;
  message: string;
}

type Schema = Record<string, unknown>;
type Validate = ((data: unknown) => boolean) & { errors?: unknown };
type RouteDef = { schema: unknown; method: string; url: string; httpPart?: string };
type Compile = (route: RouteDef) => Validate;
type Factory = (externalSchemas: Record<string, unknown>, options?: { customOptions?: Record<string, unknown>; plugins?: unknown[] }) => Compile;

const SAFE = Number.MAX_SAFE_INTEGER;

/** A copy of a JSON schema with safe-integer and finite bounds on every integer and number it declares. */
export function boundNumbers(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(boundNumbers);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema as Schema)) {
    // Keyword values that are themselves data, not schemas.
    out[k] = k === 'enum' || k === 'const' || k === 'default' || k === 'examples' || k === 'example' || k === 'required' ? v : boundNumbers(v);
  }
  const types = Array.isArray(out.type) ? (out.type as unknown[]) : [out.type];
  const limit = types.includes('integer') ? SAFE : types.includes('number') ? Number.MAX_VALUE : null;
  if (limit !== null) {
    if (out.maximum === undefined && out.exclusiveMaximum === undefined) out.maximum = limit;
    if (out.minimum === undefined && out.exclusiveMinimum === undefined) out.minimum = -limit;
  }
  return out;
}

/**
 * The validator factory for Fastify's `schemaController.compilersFactory.buildValidator`: one Ajv
 * without coercion for bodies, one with coercion for query strings, params and headers.
 */
export function buildValidatorFactory(): Factory {
  const pool = AjvCompiler() as unknown as Factory;
  return (externalSchemas, options = {}) => {
    const base = options.customOptions ?? {};
    const strict = pool(externalSchemas, { ...options, customOptions: { ...base, coerceTypes: false } });
    const lenient = pool(externalSchemas, { ...options, customOptions: { ...base, coerceTypes: 'array' } });
    return (route) => {
      const r = { ...route, schema: boundNumbers(route.schema) };
      return route.httpPart === 'body' ? strict(r) : finiteAfterCoercion(lenient(r));
    };
  };
}

/**
 * Ajv coerces "1e400" and "Infinity" to Infinity and then lets it pass `integer` with a `maximum`;
 * coerced values are checked once more after validation.
 */
function finiteAfterCoercion(validate: Validate): Validate {
  const wrapped = ((data: unknown) => {
    if (!validate(data)) {
      wrapped.errors = validate.errors;
      return false;
    }
    const p = hostileValue(data);
    wrapped.errors = p ? [{ keyword: 'finite', instancePath: p.field ? `/${p.field.replaceAll('.', '/')}` : '', schemaPath: '#', params: {}, message: p.message }] : null;
    return !p;
  }) as Validate;
  return wrapped;
}

/** Why a string cannot be stored, or null: a NUL character or a lone surrogate. */
export function stringProblem(s: string): string | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return 'must not contain a NUL character (\\u0000)';
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      else return 'must not contain a lone UTF-16 surrogate (not valid Unicode)';
    } else if (c >= 0xdc00 && c <= 0xdfff) return 'must not contain a lone UTF-16 surrogate (not valid Unicode)';
  }
  return null;
}

/** A name with NUL and surrogates replaced by U+FFFD (for messages). */
function printable(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c === 0 || (c >= 0xd800 && c <= 0xdfff) ? '\ufffd' : s[i];
  }
  return out;
}

/**
 * The first value in a parsed request part that no route can accept (see the module comment), or
 * null; its field is a dotted path (`services.0.name`). This runs on every request, so it walks
 * without allocating and spells a path out only for a problem. It recurses, but never deeper than
 * `maxDepth` containers (it stops there with a problem), so hostile nesting cannot overflow the stack.
 */
export function hostileValue(root: unknown, maxDepth = MAX_DEPTH): ValueProblem | null {
  return problemIn(root, 0, maxDepth);
}

/** The problem in `v`, its field relative to `v` ('' for `v` itself). */
function problemIn(v: unknown, depth: number, maxDepth: number): ValueProblem | null {
  if (typeof v === 'string') {
    const p = stringProblem(v);
    return p ? { field: '', message: p } : null;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? null : { field: '', message: 'must be a finite number' };
  if (!v || typeof v !== 'object' || ArrayBuffer.isView(v)) return null; // raw bodies (OTLP protobuf) are decoded by their route
  const isArray = Array.isArray(v);
  if (!isArray) {
    // Streamed bodies (uploads) and other class instances are not parsed data: their routes read them.
    // (Parsed params and query strings are objects over a null-prototype prototype: walked.)
    const ctor = (Object.getPrototypeOf(v) as { constructor?: unknown } | null)?.constructor;
    if (typeof ctor === 'function' && ctor !== Object) return null;
  }
  if (depth >= maxDepth) return { field: '', message: `nests deeper than ${maxDepth} levels` };
  if (isArray) {
    for (let i = 0; i < v.length; i++) {
      const p = problemIn(v[i], depth + 1, maxDepth);
      if (p) return within(String(i), p);
    }
    return null;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    const named = stringProblem(k);
    if (named) return { field: printable(k), message: `property name ${named}` };
    const p = problemIn(o[k], depth + 1, maxDepth);
    if (p) return within(k, p);
  }
  return null;
}

const within = (key: string, p: ValueProblem): ValueProblem => ({ field: p.field ? `${key}.${p.field}` : key, message: p.message });
