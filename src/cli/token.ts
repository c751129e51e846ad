import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { TokenService } from '../platform/auth/tokens.js';
import type { Role } from '../platform/auth/roles.js';
import { describeSqlUrl, openSql } from '../platform/backends/sql/db.js';
import { migrate } from '../platform/backends/sql/migrations.js';
import { migrationSets } from '../platform/runtime.js';
import { allModules } from '../modules.js';
import { UsageError, configFromOptions, examples, roleOption, withConfigOptions } from './common.js';

/**
 * The SQLite file a token command would open, when it does not exist yet: run from another
 * directory, the default `./.vigil/vigil.db` is a new empty database whose tokens the running server
 * never sees, so that is refused unless asked for.
 */
function missingSqliteFile(url: string, dataDir: string): string | null {
  const { kind, target } = describeSqlUrl(url);
  if (kind !== 'sqlite') return null;
  const file = path.resolve(target || path.join(dataDir, 'vigil.db'));
  return existsSync(file) ? null : file;
}

async function withTokens<T>(opts: Record<string, unknown>, fn: (t: TokenService) => Promise<T>): Promise<T> {
  const config = configFromOptions(opts);
  const missing = missingSqliteFile(config.database.url, config.dataDir);
  if (missing && !opts.createDatabase) {
    throw new UsageError(
      `no database at ${missing}: a token created there would not be known to your server. ` +
        'Run this where you ran `vigil up`, or point at the server\'s database (--data-dir, --database-url, -c); ' +
        'pass --create-database to create a new one.',
    );
  }
  const sql = await openSql({ url: config.database.url, dataDir: config.dataDir });
  try {
    await migrate(sql, migrationSets(allModules(config)));
    return await fn(new TokenService(sql));
  } finally {
    await sql.close();
  }
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('Manage API tokens (works on the configured database directly)');

  const create = withConfigOptions(token.command('create').description('Create a token; it is printed once'))
    .addOption(roleOption())
    .option('--name <name>', 'what the token is for', 'cli')
    .option('--cluster <id>', 'cluster an agent token is bound to (required for --role agent)')
    .option('--json', 'print JSON')
    .option('--create-database', 'create the database if it does not exist (otherwise that is an error)')
    .action(async (opts) => {
      if (opts.role === 'agent' && !opts.cluster) throw new UsageError('--cluster is required for --role agent');
      if (opts.role !== 'agent' && opts.cluster) throw new UsageError('--cluster applies only to --role agent');
      const { token: secret, info } = await withTokens(opts, (t) => t.create({ name: opts.name, role: opts.role as Role, clusterId: opts.cluster }));
      if (opts.json) process.stdout.write(JSON.stringify({ token: secret, ...info }) + '\n');
      else process.stdout.write(`${secret}\n(id ${info.id}, role ${info.role}${info.clusterId ? `, cluster ${info.clusterId}` : ''}; store it now, it is not shown again)\n`);
    });
  examples(create, ['vigil token create --role viewer --name grafana', 'vigil token create --role agent --cluster prod-eu --name agent-prod-eu']);

  const list = withConfigOptions(token.command('list').description('List tokens (never their secrets)'))
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const tokens = await withTokens(opts, (t) => t.list());
      if (opts.json) return void process.stdout.write(JSON.stringify(tokens, null, 2) + '\n');
      const rows = tokens.map((t) => [t.id, t.role, t.clusterId ?? '-', t.revokedAt ? 'revoked' : 'active', new Date(t.createdAt).toISOString(), t.name]);
      const head = ['ID', 'ROLE', 'CLUSTER', 'STATE', 'CREATED', 'NAME'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
    });
  examples(list, ['vigil token list', 'vigil token list --json --database-url postgres://vigil@db/vigil']);

  const revoke = withConfigOptions(token.command('revoke').description('Revoke a token by id').argument('<id>', 'token id from `vigil token list`'))
    .action(async (id: string, opts) => {
      const ok = await withTokens(opts, (t) => t.revoke(id));
      if (!ok) throw new UsageError(`no active token with id ${id}`);
      process.stdout.write(`revoked ${id}\n`);
    });
  examples(revoke, ['vigil token revoke 3f9a1c0b2d4e']);
}
