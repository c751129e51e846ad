/**
 * Building blocks of the OpenAPI fuzz suite (no I/O): a seeded PRNG, a sampler that makes a value
 * for a JSON schema, the field paths of a request, and the mutations a hostile client sends.
 *
 * A request body is kept as a value plus "raw" substitutions, so that mutations JSON.stringify cannot
 * express (1e400, 2^64 written out, 5000 levels of nesting) still reach the server as text.
 */
import { seededRandom } from '../../src/simulate/random.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = Record<string, unknown>;

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export const prng = seededRandom;

export const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

/** A plausible valid value for a JSON schema (the first enum value, the minimum, required properties). */
export function sample(schema: Schema | undefined, depth = 0): Json {
  if (!schema || depth > 8) return 'x';
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0] as Json;
  if (schema.default !== undefined) return schema.default as Json;
  for (const k of ['anyOf', 'oneOf'] as const) if (Array.isArray(schema[k])) return sample((schema[k] as Schema[])[0], depth + 1);
  const type = Array.isArray(schema.type) ? (schema.type as string[]).find((t) => t !== 'null') : (schema.type as string | undefined);
  switch (type) {
    case 'integer':
    case 'number': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : 1;
      return type === 'integer' ? Math.ceil(min) : min;
    }
    case 'boolean':
      return true;
    case 'array':
      return [sample(schema.items as Schema, depth + 1)];
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const out: { [k: string]: Json } = {};
      for (const [k, v] of Object.entries(props)) out[k] = sample(v, depth + 1);
      return out;
    }
    default: {
      const min = typeof schema.minLength === 'number' ? schema.minLength : 1;
      return 'x'.repeat(Math.max(1, min));
    }
  }
}

/** A path into a JSON value: keys and array indexes. */
export type Path = (string | number)[];

/** Every path inside a value (objects and arrays too), the root excluded. */
export function paths(v: Json, at: Path = [], out: Path[] = [], limit = 400): Path[] {
  if (out.length >= limit) return out;
  if (Array.isArray(v)) {
    v.slice(0, 2).forEach((x, i) => {
      out.push([...at, i]);
      paths(x, [...at, i], out, limit);
    });
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push([...at, k]);
      paths(x, [...at, k], out, limit);
    }
  }
  return out;
}

export function getAt(v: Json, p: Path): Json | undefined {
  let cur: Json | undefined = v;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, Json>)[k];
  }
  return cur;
}

export function setAt(v: Json, p: Path, x: Json): Json {
  if (!p.length) return x;
  const copy = structuredClone(v) as Record<string | number, Json>;
  let cur = copy;
  for (const k of p.slice(0, -1)) cur = cur[k] as Record<string | number, Json>;
  cur[p[p.length - 1]] = x;
  return copy as Json;
}

/** `services.0.name`: how the server names a field (Ajv paths; handlers' `a[0].b` normalised). */
export const dotted = (p: Path) => p.join('.');
export const normaliseField = (f: string) => f.replace(/\[(\d+)\]/g, '.$1').replace(/^(body|querystring|params)\./, '');

/** A mutated value: JSON, or raw text spliced into the body in its place. */
export type Mutant = { kind: string; value: Json } | { kind: string; raw: string };

const TEN_MB = 10_000_000;

/** Mutations of a body value. `big` includes the 10 MB string (costly: the caller rations it). */
export function bodyMutations(current: Json | undefined, big: boolean): Mutant[] {
  const out: Mutant[] = [
    { kind: 'infinity', raw: '1e400' },
    { kind: '-infinity', raw: '-1e400' },
    { kind: 'huge', raw: '1e308' },
    { kind: '2^64', raw: '18446744073709551616' },
    { kind: '2^53+1', raw: '9007199254740993' },
    { kind: 'negative', value: -1 },
    { kind: 'fraction', value: 0.5 },
    { kind: 'number as string', value: '12' },
    { kind: '"Infinity"', value: 'Infinity' },
    { kind: '"NaN"', value: 'NaN' },
    { kind: 'true', value: true },
    { kind: 'null', value: null },
    { kind: 'number', value: 123 },
    { kind: 'empty string', value: '' },
    { kind: 'NUL', value: 'a\u0000b' },
    { kind: 'lone surrogate', value: 'a\ud800b' },
    { kind: 'lone low surrogate', value: '\udc00' },
    { kind: 'long string', value: 'L'.repeat(70_000) },
    { kind: 'array', value: [] },
    { kind: 'object', value: {} },
    { kind: 'deep nesting', raw: '['.repeat(5000) + ']'.repeat(5000) },
    { kind: 'deep objects', raw: '{"a":'.repeat(200) + '1' + '}'.repeat(200) },
  ];
  if (current && typeof current === 'object' && !Array.isArray(current)) out.push({ kind: 'extra property', value: { ...current, __fuzz_extra: 1 } });
  if (Array.isArray(current) && current.length) out.push({ kind: 'many items', value: Array.from({ length: 20_000 }, () => current[0]) });
  if (big) out.push({ kind: '10 MB string', value: 'B'.repeat(TEN_MB) });
  return out;
}

/** Mutations of a query or path parameter (URL-encoded text). */
export const paramMutations: readonly { kind: string; text: string }[] = [
  { kind: 'infinity', text: 'Infinity' },
  { kind: '1e400', text: '1e400' },
  { kind: '1e20', text: '1e20' },
  { kind: '2^64', text: '18446744073709551616' },
  { kind: '2^53+1', text: '9007199254740993' },
  { kind: 'negative', text: '-1' },
  { kind: 'NaN', text: 'NaN' },
  { kind: 'fraction', text: '0.5' },
  { kind: 'empty', text: '' },
  { kind: 'NUL', text: '%00' },
  { kind: 'NUL inside', text: 'a%00b' },
  { kind: 'lone surrogate (CESU)', text: '%ED%A0%80' },
  { kind: 'invalid UTF-8', text: '%FF%FE' },
  { kind: 'bad escape', text: '%E0%A4%A' },
  { kind: 'long', text: 'L'.repeat(8_000) },
  { kind: 'brackets', text: '[]' },
  { kind: 'repeated', text: 'a&__repeat__=b' },
];

/** JSON text of a body where `raw` replaces the value at `at`. */
export function bodyText(base: Json, at: Path, m: Mutant): string {
  if ('value' in m) return JSON.stringify(setAt(base, at, m.value));
  const marker = '__fuzz_raw_marker__';
  return JSON.stringify(setAt(base, at, marker)).replace(JSON.stringify(marker), m.raw);
}

/** The schema of the value at a path inside a body schema, when the schema says (no anyOf/oneOf). */
export function schemaAt(schema: Schema | undefined, p: Path): Schema | undefined {
  let cur = schema;
  for (const k of p) {
    if (!cur) return undefined;
    if (typeof k === 'number') cur = cur.items as Schema | undefined;
    else {
      const props = cur.properties as Record<string, Schema> | undefined;
      cur = props?.[k] ?? (typeof cur.additionalProperties === 'object' ? (cur.additionalProperties as Schema) : undefined);
    }
  }
  return cur;
}

/** JSON Schema type of a value. */
export function jsonType(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Whether a schema's declared type admits a value's type (undefined: the schema does not say). */
export function typeAllows(schema: Schema | undefined, v: Json): boolean | undefined {
  if (!schema || schema.type === undefined) return undefined;
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  const t = jsonType(v);
  if (types.includes(t)) return true;
  if (t === 'integer' && types.includes('number')) return true;
  if (t === 'null' && schema.nullable === true) return true;
  return false;
}
