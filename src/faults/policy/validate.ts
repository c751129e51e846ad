/**
 * Validation of one policy document (already parsed from YAML or JSON). Builds a fresh policy from
 * the known fields only, so nothing the user typed beyond the schema survives. Every refusal names
 * the JSON path of the bad value; a typo in a field name is refused, never ignored (a silently
 * dropped field is a fault that is silently not injected).
 */
import { RE2JS } from 're2js';
import { parseGoDuration } from './duration.js';
import { POLICY_LIMITS as L, PolicyValidationError } from './errors.js';
import type { FaultPolicy, FaultRule, FaultSpec, HeaderMatcher, StringMatcher } from './types.js';

type Obj = Record<string, unknown>;

const NAME = /^[A-Za-z0-9_-]{1,63}$/;
// RFC 9110 token: what a header name may be.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Headers the proxy owns: a policy setting them would corrupt the framing of the response.
const RESERVED_RESPONSE_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'trailer', 'te']);

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
const fail = (field: string, message: string): never => {
  throw new PolicyValidationError(field, message);
};

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function object(v: unknown, path: string, allowed: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null)) {
    fail(path || '(document)', `${path || 'the document'} must be an object, got ${typeName(v)}`);
  }
  const o = v as Obj;
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) fail(join(path, key), `unknown field "${key}"${path ? ` in ${path}` : ''} (expected one of: ${allowed.join(', ')})`);
  }
  return o;
}

function string(v: unknown, path: string, max: number): string {
  if (typeof v !== 'string') return fail(path, `${path} must be a string, got ${typeName(v)}`);
  if (v.length > max) fail(path, `${path} is longer than ${max} characters`);
  return v;
}

function number(v: unknown, path: string): number {
  // No coercion: "50" is a string, and a string where a number belongs is a mistake worth naming.
  if (typeof v !== 'number' || !Number.isFinite(v)) return fail(path, `${path} must be a finite number, got ${typeName(v)}`);
  return v;
}

function integer(v: unknown, path: string, min: number, max: number, unit = ''): number {
  const n = number(v, path);
  if (!Number.isInteger(n) || n < min || n > max) fail(path, `${path} must be an integer ${min}–${max}${unit}, got ${n}`);
  return n;
}

function compileRegex(pattern: string, path: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (e) {
    return fail(path, `${path} is not a valid RE2 regular expression: ${(e as Error).message}`);
  }
}

function stringMatcher(v: unknown, path: string): StringMatcher {
  const o = object(v, path, ['exact', 'prefix', 'regex']);
  const kinds = (['exact', 'prefix', 'regex'] as const).filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) fail(path, `${path} needs exactly one of exact, prefix, regex${kinds.length ? ` (got ${kinds.join(' and ')})` : ''}`);
  const kind = kinds[0];
  const value = string(o[kind], join(path, kind), L.maxPatternLength);
  if (kind === 'regex') compileRegex(value, join(path, kind));
  return { [kind]: value };
}

function headerMatcher(v: unknown, path: string): HeaderMatcher {
  const o = object(v, path, ['name', 'exact', 'prefix', 'regex']);
  if (o.name === undefined) fail(join(path, 'name'), `${join(path, 'name')} is required`);
  const name = string(o.name, join(path, 'name'), 256);
  if (!HEADER_NAME.test(name)) fail(join(path, 'name'), `${join(path, 'name')} is not a valid header name: "${name}"`);
  const { name: _n, ...rest } = o;
  return { name, ...stringMatcher(rest, path) };
}

function match(v: unknown, path: string): FaultRule['match'] {
  const o = object(v, path, ['method', 'path', 'headers']);
  const out: FaultRule['match'] = {};
  if (o.method !== undefined) out.method = stringMatcher(o.method, join(path, 'method'));
  if (o.path !== undefined) out.path = stringMatcher(o.path, join(path, 'path'));
  if (o.headers !== undefined) {
    const hp = join(path, 'headers');
    if (!Array.isArray(o.headers)) fail(hp, `${hp} must be a list of {name, exact|prefix|regex}, got ${typeName(o.headers)}`);
    const list = o.headers as unknown[];
    if (list.length > L.maxHeaderMatchers) fail(hp, `${hp} has ${list.length} entries; the limit is ${L.maxHeaderMatchers}`);
    out.headers = list.map((h, i) => headerMatcher(h, `${hp}[${i}]`));
  }
  if (!out.method && !out.path && !out.headers?.length) fail(path, `${path} needs at least one of method, path, headers (use path: {prefix: "/"} to match every request)`);
  return out;
}

function abort(v: unknown, path: string): NonNullable<FaultSpec['abort']> {
  const o = object(v, path, ['httpStatus', 'body', 'headers']);
  if (o.httpStatus === undefined) fail(join(path, 'httpStatus'), `${join(path, 'httpStatus')} is required`);
  const out: NonNullable<FaultSpec['abort']> = { httpStatus: integer(o.httpStatus, join(path, 'httpStatus'), 200, 599) };
  if (o.body !== undefined) {
    const body = string(o.body, join(path, 'body'), L.maxAbortBodyBytes);
    if (Buffer.byteLength(body) > L.maxAbortBodyBytes) fail(join(path, 'body'), `${join(path, 'body')} is larger than ${L.maxAbortBodyBytes} bytes`);
    out.body = body;
  }
  if (o.headers !== undefined) {
    const hp = join(path, 'headers');
    const h = object(o.headers, hp, Object.keys(o.headers as Obj ?? {}));
    const entries = Object.entries(h);
    if (entries.length > L.maxAbortHeaders) fail(hp, `${hp} has ${entries.length} entries; the limit is ${L.maxAbortHeaders}`);
    const headers: Record<string, string> = {};
    for (const [name, value] of entries) {
      const fp = `${hp}.${name}`;
      if (!HEADER_NAME.test(name)) fail(fp, `${fp}: "${name}" is not a valid header name`);
      if (RESERVED_RESPONSE_HEADERS.has(name.toLowerCase())) fail(fp, `${fp}: the proxy sets ${name.toLowerCase()} itself`);
      const s = string(value, fp, 8192);
      // CR, LF or NUL in a value would split or corrupt the response head.
      if (/[\r\n\0]/.test(s)) fail(fp, `${fp} must not contain CR, LF or NUL`);
      headers[name.toLowerCase()] = s;
    }
    out.headers = headers;
  }
  return out;
}

function delay(v: unknown, path: string, warnings: string[]): NonNullable<FaultSpec['delay']> {
  const o = object(v, path, ['fixed_delay_ms', 'jitter_ms', 'fixed_delay']);
  let ms: number;
  if (o.fixed_delay !== undefined) {
    const lp = join(path, 'fixed_delay');
    if (o.fixed_delay_ms !== undefined) fail(lp, `${path} has both fixed_delay_ms and the legacy fixed_delay; keep fixed_delay_ms`);
    const text = string(o.fixed_delay, lp, 64);
    const parsed = parseGoDuration(text.trim());
    if (parsed === null) fail(lp, `${lp} must be a duration such as "1000ms" or "1s", got "${text}"`);
    ms = parsed as number;
    if (!Number.isInteger(ms) || ms <= 0 || ms > L.maxDelayMs) fail(lp, `${lp} must be a whole number of milliseconds, more than 0 and at most 1h, got "${text}"`);
    warnings.push(`${lp}: "${text}" is HFI's legacy format; converted to fixed_delay_ms: ${ms}`);
  } else {
    const fp = join(path, 'fixed_delay_ms');
    if (o.fixed_delay_ms === undefined) fail(fp, `${fp} is required (milliseconds, more than 0)`);
    ms = integer(o.fixed_delay_ms, fp, 1, L.maxDelayMs, ' ms (more than 0, at most 1h)');
  }
  const out: NonNullable<FaultSpec['delay']> = { fixed_delay_ms: ms };
  if (o.jitter_ms !== undefined) {
    const j = integer(o.jitter_ms, join(path, 'jitter_ms'), 0, L.maxDelayMs, ' ms');
    if (ms + j > L.maxDelayMs) fail(join(path, 'jitter_ms'), `${path}: fixed_delay_ms + jitter_ms must be at most 1h (${L.maxDelayMs} ms)`);
    if (j > 0) out.jitter_ms = j;
  }
  return out;
}

function fault(v: unknown, path: string, warnings: string[]): FaultSpec {
  const o = object(v, path, [
    'percentage',
    'abort',
    'delay',
    'reset',
    'response_rate_limit_kbps',
    'header_controlled',
    'start_delay_ms',
    'duration_seconds',
  ]);
  const pp = join(path, 'percentage');
  if (o.percentage === undefined) fail(pp, `${pp} is required (0–100)`);
  const percentage = number(o.percentage, pp);
  if (percentage < 0 || percentage > 100) fail(pp, `${pp} must be between 0 and 100, got ${percentage}`);
  const out: FaultSpec = { percentage };
  if (o.abort !== undefined) out.abort = abort(o.abort, join(path, 'abort'));
  if (o.delay !== undefined) out.delay = delay(o.delay, join(path, 'delay'), warnings);
  if (o.reset !== undefined) {
    if (typeof o.reset !== 'boolean') fail(join(path, 'reset'), `${join(path, 'reset')} must be true or false, got ${typeName(o.reset)}`);
    if (o.reset) out.reset = true;
  }
  if (o.response_rate_limit_kbps !== undefined) {
    const rp = join(path, 'response_rate_limit_kbps');
    const k = number(o.response_rate_limit_kbps, rp);
    if (k <= 0 || k > L.maxRateLimitKbps) fail(rp, `${rp} must be more than 0 and at most ${L.maxRateLimitKbps}, got ${k}`);
    out.response_rate_limit_kbps = k;
  }
  if (o.header_controlled !== undefined) {
    const hp = join(path, 'header_controlled');
    if (typeof o.header_controlled !== 'boolean') fail(hp, `${hp} must be true or false, got ${typeName(o.header_controlled)}`);
    if (o.header_controlled) out.header_controlled = true;
  }
  if (out.reset && out.abort) fail(join(path, 'reset'), `${path}: reset closes the connection without a response, so it cannot be combined with abort`);
  if (!out.abort && !out.delay && !out.reset && out.response_rate_limit_kbps === undefined && !out.header_controlled) {
    fail(path, `${path} needs an action: abort, delay, reset, response_rate_limit_kbps or header_controlled`);
  }
  timing(o, out, path);
  return out;
}

/** start_delay_ms / duration_seconds, at rule or spec level. 0 means "none" and is omitted, as HFI stores it. */
function timing(o: Obj, out: { start_delay_ms?: number; duration_seconds?: number }, path: string): void {
  if (o.start_delay_ms !== undefined) {
    const s = integer(o.start_delay_ms, join(path, 'start_delay_ms'), 0, L.maxDelayMs, ' ms');
    if (s > 0) out.start_delay_ms = s;
  }
  if (o.duration_seconds !== undefined) {
    const d = integer(o.duration_seconds, join(path, 'duration_seconds'), 0, L.maxDurationSeconds, ' s');
    if (d > 0) out.duration_seconds = d;
  }
}

function selector(v: unknown, path: string): NonNullable<FaultPolicy['spec']['selector']> {
  const o = object(v, path, ['service', 'namespace']);
  const out: NonNullable<FaultPolicy['spec']['selector']> = {};
  if (o.service !== undefined && o.service !== null) out.service = string(o.service, join(path, 'service'), L.maxSelectorLength);
  if (o.namespace !== undefined && o.namespace !== null) out.namespace = string(o.namespace, join(path, 'namespace'), L.maxSelectorLength);
  return out;
}

function rule(v: unknown, path: string, warnings: string[]): FaultRule {
  const o = object(v, path, ['match', 'fault']);
  if (o.match === undefined) fail(join(path, 'match'), `${join(path, 'match')} is required`);
  if (o.fault === undefined) fail(join(path, 'fault'), `${join(path, 'fault')} is required`);
  return { match: match(o.match, join(path, 'match')), fault: fault(o.fault, join(path, 'fault'), warnings) };
}

/** Validate one policy (an API body or one document of a file). Throws PolicyValidationError. */
export function validatePolicy(input: unknown): { policy: FaultPolicy; warnings: string[] } {
  const warnings: string[] = [];
  const root = object(input, '', ['metadata', 'spec']);
  if (root.metadata === undefined) fail('metadata.name', 'metadata.name is required');
  const meta = object(root.metadata, 'metadata', ['name', 'version', 'applied_at']);
  if (meta.name === undefined || meta.name === '') fail('metadata.name', 'metadata.name is required');
  const name = string(meta.name, 'metadata.name', 256);
  if (!NAME.test(name)) fail('metadata.name', `metadata.name must be 1–63 characters of A–Z, a–z, 0–9, "_" and "-", got "${name.length > 80 ? `${name.slice(0, 80)}…` : name}"`);
  const metadata: FaultPolicy['metadata'] = { name };
  // version and applied_at are the server's; accepted so that `get -o yaml` output can be applied back.
  if (meta.version !== undefined) metadata.version = string(meta.version, 'metadata.version', 64);
  if (meta.applied_at !== undefined) metadata.applied_at = integer(meta.applied_at, 'metadata.applied_at', 0, Number.MAX_SAFE_INTEGER);

  if (root.spec === undefined) fail('spec.rules', 'spec.rules is required (at least one rule)');
  const spec = object(root.spec, 'spec', ['selector', 'rules', 'max_active_faults', 'start_delay_ms', 'duration_seconds']);
  if (spec.rules === undefined) fail('spec.rules', 'spec.rules is required (at least one rule)');
  if (!Array.isArray(spec.rules)) fail('spec.rules', `spec.rules must be a list, got ${typeName(spec.rules)}`);
  const rules = spec.rules as unknown[];
  if (rules.length === 0) fail('spec.rules', 'spec.rules needs at least one rule');
  if (rules.length > L.maxRules) fail('spec.rules', `spec.rules has ${rules.length} rules; the limit is ${L.maxRules} per policy`);
  const out: FaultPolicy['spec'] = { rules: rules.map((r, i) => rule(r, `spec.rules[${i}]`, warnings)) };
  if (spec.selector !== undefined && spec.selector !== null) out.selector = selector(spec.selector, 'spec.selector');
  if (spec.max_active_faults !== undefined) out.max_active_faults = integer(spec.max_active_faults, 'spec.max_active_faults', 1, 1_000_000);
  timing(spec, out, 'spec');
  // Property order as HFI writes it: selector first, then rules.
  const ordered: FaultPolicy['spec'] = out.selector ? { selector: out.selector, ...out } : out;
  return { policy: { metadata, spec: ordered }, warnings };
}
