import { Command, Option } from 'commander';
import { loadConfig, ConfigError } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';

/** Thrown for a usage error: the process exits 2 with the message. */
export class UsageError extends Error {}

/** Flags every command that reads configuration accepts, mapped to their config keys. */
const CONFIG_FLAGS: { flag: string; key: string; help: string }[] = [
  { flag: '--host <host>', key: 'server.host', help: 'interface to bind (server.host)' },
  { flag: '--port <port>', key: 'server.port', help: 'HTTP port (server.port)' },
  { flag: '--data-dir <dir>', key: 'dataDir', help: 'local state directory (dataDir)' },
  { flag: '--database-url <url>', key: 'database.url', help: 'sqlite:<file> or postgres://… (database.url)' },
  { flag: '--redis-url <url>', key: 'redis.url', help: 'redis://… for the KV store (redis.url)' },
  { flag: '--nats-url <url>', key: 'nats.url', help: 'nats://… for the event bus (nats.url)' },
  { flag: '--blob-url <url>', key: 'blob.url', help: 'file:///dir or s3://bucket/prefix?endpoint=… for uploaded files (blob.url)' },
  { flag: '--log-level <level>', key: 'log.level', help: 'fatal|error|warn|info|debug|trace|silent (log.level)' },
];

export function withConfigOptions(cmd: Command): Command {
  cmd.option('-c, --config <file>', 'YAML config file (also VIGIL_CONFIG)');
  for (const f of CONFIG_FLAGS) cmd.option(f.flag, f.help);
  cmd.option('--set <key=value>', 'set any config key, e.g. --set anomaly.timeZone=Europe/Berlin (repeatable)', collect, []);
  return cmd;
}

/**
 * The config flags a client of a running server uses: a config file, the data directory (where
 * `vigil up` keeps the admin token) and --set (e.g. anomaly.tempo.* for a backfill). Server flags
 * (ports, database, KV, bus URLs) would only mislead: the server has its own.
 */
export function withClientConfigOptions(cmd: Command): Command {
  cmd.option('-c, --config <file>', 'YAML config file (also VIGIL_CONFIG)');
  cmd.option('--data-dir <dir>', 'local state directory, where `vigil up` keeps the admin token (dataDir)');
  cmd.option('--set <key=value>', 'set any config key, e.g. --set anomaly.tempo.url=http://tempo:3200 (repeatable)', collect, []);
  return cmd;
}

function collect(v: string, prev: string[]) {
  return [...prev, v];
}

const camel = (flag: string) =>
  flag
    .replace(/^--/, '')
    .split(' ')[0]
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Effective config from file, env and this command's flags (flags win). */
export function configFromOptions(opts: Record<string, unknown>, overrides: Record<string, unknown> = {}): VigilConfig {
  const flags: Record<string, unknown> = { ...overrides };
  for (const f of CONFIG_FLAGS) {
    const v = opts[camel(f.flag)];
    if (v !== undefined) flags[f.key] = v;
  }
  for (const kv of (opts.set as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new ConfigError(`--set expects key=value, got "${kv}"`, 'set');
    flags[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return loadConfig({ file: opts.config as string | undefined, flags });
}

export function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

export const roleOption = () => new Option('--role <role>', 'admin | agent | viewer | executor').choices(['admin', 'agent', 'viewer', 'executor']).makeOptionMandatory();
