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
 * null; its field is a dotted path (`services.0.name`). Iterative, so hostile nesting cannot
 * overflow the stack. This runs on every request: values wait on parallel stacks and each walked
 * container is logged with its key and parent, so a path is spelled out only for a problem.
 */
export function hostileValue(root: unknown, maxDepth = MAX_DEPTH): ValueProblem | null {
  const values: unknown[] = [root];
  const keys: (string | number)[] = [''];
  const parents: number[] = [-1];
  const depths: number[] = [0];
  // Containers walked so far: the key each was reached by and its own container's index.
  const walkedKeys: (string | number)[] = [];
  const walkedParents: number[] = [];
  const pathOf = (key: string | number, parent: number): string => {
    if (parent < 0) return '';
    const segments = [String(key)];
    for (let i = parent; walkedParents[i] >= 0; i = walkedParents[i]) segments.push(String(walkedKeys[i]));
    let path = '';
    for (let i = segments.length - 1; i >= 0; i--) path = path ? `${path}.${segments[i]}` : segments[i];
    return path;
  };
  while (values.length) {
    const v = values.pop();
    const key = keys.pop()!;
    const parent = parents.pop()!;
    const depth = depths.pop()!;
    if (typeof v === 'string') {
      const p = stringProblem(v);
      if (p) return { field: pathOf(key, parent), message: p };
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { field: pathOf(key, parent), message: 'must be a finite number' };
    } else if (v && typeof v === 'object') {
      if (ArrayBuffer.isView(v)) continue; // raw bodies (OTLP protobuf) are decoded by their route
      // Streamed bodies (uploads) and other class instances are not parsed data: their routes read them.
      // (Parsed params and query strings are objects over a null-prototype prototype: walked.)
      const ctor = (Object.getPrototypeOf(v) as { constructor?: unknown } | null)?.constructor;
      if (!Array.isArray(v) && typeof ctor === 'function' && ctor !== Object) continue;
      if (depth >= maxDepth) return { field: pathOf(key, parent), message: `nests deeper than ${maxDepth} levels` };
      const self = walkedKeys.length;
      walkedKeys.push(key);
      walkedParents.push(parent);
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) {
          values.push(v[i]);
          keys.push(i);
          parents.push(self);
          depths.push(depth + 1);
        }
      } else {
        const names = Object.keys(v);
        for (let i = names.length - 1; i >= 0; i--) {
          const k = names[i];
          const p = stringProblem(k);
          if (p) {
            const at = pathOf(key, parent);
            return { field: at ? `${at}.${printable(k)}` : printable(k), message: `property name ${p}` };
          }
          values.push((v as Record<string, unknown>)[k]);
          keys.push(k);
          parents.push(self);
          depths.push(depth + 1);
        }
      }
    }
  }
  return null;
}
