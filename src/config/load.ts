import { readFileSync, existsSync } from 'node:fs';
import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import YAML from 'yaml';
import { ConfigSchema, type VigilConfig } from './schema.js';

/** A configuration problem; the CLI turns it into exit code 2. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** YAML file path (or VIGIL_CONFIG). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Dotted key → raw value, from command-line flags. Highest precedence. */
  flags?: Record<string, unknown>;
}

/** Environment aliases kept for compatibility with the documented short names. */
const ENV_ALIASES: Record<string, string> = {
  VIGIL_ADMIN_TOKEN: 'auth.adminToken',
  VIGIL_DATABASE_URL: 'database.url',
  VIGIL_REDIS_URL: 'redis.url',
  VIGIL_NATS_URL: 'nats.url',
  VIGIL_DATA_DIR: 'dataDir',
};

interface Leaf {
  key: string;
  schema: TSchema;
}

/** Every leaf key of the schema (objects are walked, records/arrays are leaves). */
export function schemaLeaves(schema: TSchema = ConfigSchema, prefix = ''): Leaf[] {
  if (schema[Kind] === 'Object') {
    const out: Leaf[] = [];
    for (const [k, s] of Object.entries(schema.properties as Record<string, TSchema>)) {
      out.push(...schemaLeaves(s, prefix ? `${prefix}.${k}` : k));
    }
    return out;
  }
  return [{ key: prefix, schema }];
}

export function envNameOf(key: string): string {
  return 'VIGIL_' + key.split('.').map((seg) => seg.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

function typeName(schema: TSchema): string {
  const kind = schema[Kind] as string;
  if (kind === 'Union') return (schema.anyOf as TSchema[]).map((s) => JSON.stringify(s.const)).join(' | ');
  if (kind === 'Array') return `list of ${typeName(schema.items as TSchema)}`;
  if (kind === 'Record') return 'map';
  if (kind === 'String' && schema.pattern?.includes('ms|s|m|h|d')) return 'duration';
  return kind.toLowerCase();
}

/** Turn a raw string (env or flag) into the schema's type; leave it unchanged when it cannot be, so validation names it. */
function coerce(raw: unknown, schema: TSchema): unknown {
  if (typeof raw !== 'string') return raw;
  const kind = schema[Kind];
  if (kind === 'Integer' || kind === 'Number') {
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
  }
  if (kind === 'Boolean') {
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    return raw;
  }
  if (kind === 'Array' || kind === 'Record' || kind === 'Object') {
    try {
      return JSON.parse(raw);
    } catch {
      if (kind === 'Array' && (schema.items as TSchema)[Kind] === 'String') return raw.split(',').map((s) => s.trim()).filter(Boolean);
      return raw;
    }
  }
  return raw;
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(over)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object' && !Array.isArray(base[k])) {
      deepMerge(base[k] as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      base[k] = v;
    }
  }
  return base;
}

/**
 * Effective configuration: defaults < YAML file < VIGIL_* env < flags.
 * Throws ConfigError naming the key, the value and the expected type.
 */
export function loadConfig(opts: LoadOptions = {}): VigilConfig {
  const env = opts.env ?? process.env;
  const leaves = new Map(schemaLeaves().map((l) => [l.key, l.schema]));
  const merged: Record<string, unknown> = {};

  const file = opts.file ?? env.VIGIL_CONFIG;
  if (file) {
    if (!existsSync(file)) throw new ConfigError(`config file ${file} does not exist`, 'config');
    let parsed: unknown;
    try {
      parsed = YAML.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`, 'config');
    }
    if (parsed != null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new ConfigError(`config file ${file} must hold a mapping at the top level`, 'config');
    }
    deepMerge(merged, (parsed ?? {}) as Record<string, unknown>);
  }

  const fromEnv: Record<string, unknown> = {};
  for (const [key, schema] of leaves) {
    const v = env[envNameOf(key)];
    if (v !== undefined) setPath(fromEnv, key, coerce(v, schema));
  }
  for (const [name, key] of Object.entries(ENV_ALIASES)) {
    const v = env[name];
    if (v !== undefined && env[envNameOf(key)] === undefined) setPath(fromEnv, key, coerce(v, leaves.get(key)!));
  }
  deepMerge(merged, fromEnv);

  for (const [key, raw] of Object.entries(opts.flags ?? {})) {
    if (raw === undefined) continue;
    const schema = leaves.get(key);
    if (!schema) throw new ConfigError(`unknown configuration key "${key}"`, key);
    setPath(merged, key, coerce(raw, schema));
  }

  const withDefaults = Value.Default(ConfigSchema, Value.Clone(merged));
  const first = Value.Errors(ConfigSchema, withDefaults).First();
  if (first) {
    const key = first.path.replace(/^\//, '').replaceAll('/', '.');
    if (first.message === 'Unexpected property') {
      throw new ConfigError(`unknown configuration key "${key}"`, key);
    }
    const leaf = leaves.get(key) ?? first.schema;
    throw new ConfigError(
      `invalid value for "${key}": ${JSON.stringify(first.value)} (expected ${typeName(leaf)}${first.schema.pattern ? ` matching ${first.schema.pattern}` : ''}: ${first.message})`,
      key,
    );
  }
  return withDefaults as VigilConfig;
}

/** The config with every `secret` value masked, for `vigil config print`. */
export function maskSecrets(config: VigilConfig): VigilConfig {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const { key, schema } of schemaLeaves()) {
    if (!schema.secret) continue;
    const parts = key.split('.');
    let node: Record<string, unknown> | undefined = copy;
    for (const p of parts.slice(0, -1)) node = node?.[p] as Record<string, unknown> | undefined;
    const last = parts[parts.length - 1];
    if (node && typeof node[last] === 'string' && node[last] !== '') node[last] = maskValue(node[last] as string);
  }
  return copy as unknown as VigilConfig;
}

function maskValue(v: string): string {
  // Keep URL shape (scheme and host) readable but hide credentials.
  try {
    const u = new URL(v);
    if (u.password) u.password = '****';
    if (u.username && !u.password) u.username = '****';
    // Webhook URLs (Slack-style) carry their secret in the path or query: only scheme and host stay readable.
    if (u.protocol.startsWith('http') && (u.pathname !== '/' || u.search)) {
      u.pathname = '/****';
      u.search = '';
    }
    return u.protocol.startsWith('http') || u.password || u.username ? u.toString() : v;
  } catch {
    return '****';
  }
}

/** "15s" → 15000. Only the forms the schema pattern allows. */
export function parseDuration(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new ConfigError(`invalid duration "${text}"`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return n * unit;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export function anonymousReadAllowed(config: VigilConfig): boolean {
  return config.auth.anonymousRead ?? isLoopback(config.server.host);
}
