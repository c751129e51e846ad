import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { openSql } from '../platform/backends/sql/db.js';
import { migrate } from '../platform/backends/sql/migrations.js';
import { createServer, migrationSets, type VigilServer } from '../platform/runtime.js';
import { parseDuration } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';
import { allModules } from '../modules.js';
import { VERSION } from '../platform/version.js';
import { UsageError, configFromOptions, examples, withConfigOptions } from './common.js';
import { startEmbedded } from './embedded.js';

export function registerServerCommands(program: Command): void {
  const up = withConfigOptions(
    program.command('up').description('Everything in one process on embedded backends, plus a demo fleet: a live dashboard in one command'),
  )
    .option('--no-demo', 'do not start the demo fleet and embedded agent')
    .option('--no-workers', 'do not run queue consumers in this process (run `vigil worker` instead)')
    .action(async (opts) => {
      const config = configFromOptions(opts, workersOverride(opts));
      await runServer(config, { demo: opts.demo !== false, rememberToken: true });
    });
  examples(up, ['vigil up', 'vigil up --port 9000 --no-demo', 'vigil up --data-dir /tmp/vigil-demo']);

  const server = withConfigOptions(program.command('server').description('HTTP API, web UI and background jobs (one leader runs jobs across replicas)'))
    .option('--no-workers', 'do not run queue consumers in this process (run `vigil worker` instead)')
    .action(async (opts) => {
      await runServer(configFromOptions(opts, workersOverride(opts)), { demo: false, rememberToken: false });
    });
  examples(server, [
    'vigil server --host 0.0.0.0 --database-url postgres://vigil@db/vigil --redis-url redis://cache:6379',
    'VIGIL_ADMIN_TOKEN=$(cat /run/secrets/admin) vigil server -c /etc/vigil/vigil.yaml',
  ]);

  const mig = withConfigOptions(program.command('migrate').description('Apply pending database migrations and exit')).action(async (opts) => {
    const config = configFromOptions(opts);
    const sql = await openSql({ url: config.database.url, dataDir: config.dataDir });
    try {
      const applied = await migrate(sql, migrationSets(allModules(config)));
      process.stdout.write(applied.length ? `applied ${applied.length} migration(s):\n${applied.map((a) => `  ${a}`).join('\n')}\n` : 'database is up to date\n');
    } finally {
      await sql.close();
    }
  });
  examples(mig, ['vigil migrate', 'vigil migrate --database-url postgres://vigil@db/vigil']);
}

/**
 * A failed listen, said so a newcomer can act: a port in use suggests --port. A `vigil server` that
 * has just created the database's admin token prints it here, since no later start can.
 */
export function listenError(err: unknown, config: VigilConfig, unprintedToken: string | undefined): Error {
  const e = err as NodeJS.ErrnoException;
  const where = `${config.server.host}:${config.server.port}`;
  let message =
    e?.code === 'EADDRINUSE'
      ? `port ${config.server.port} is already in use (${where}); is Vigil already running? Stop it, or start on another port with --port <port> (e.g. --port ${config.server.port + 1})`
      : e?.code === 'EACCES'
        ? `not allowed to listen on ${where}; pick a port above 1023 with --port <port>`
        : `cannot listen on ${where}: ${e?.message ?? String(err)}`;
  if (unprintedToken) message += `\nThe admin token created for this database (shown only now): ${unprintedToken}`;
  return new UsageError(message);
}

/** --no-workers; without it the config (worker.inProcess) decides. */
const workersOverride = (opts: { workers?: boolean }) => (opts.workers === false ? { 'worker.inProcess': false } : {});

async function runServer(config: VigilConfig, opts: { demo: boolean; rememberToken: boolean }): Promise<void> {
  mkdirSync(config.dataDir, { recursive: true });
  const server: VigilServer = await createServer(config, allModules(config));

  let adminToken = server.createdAdminToken;
  const tokenFile = path.join(config.dataDir, 'admin-token');
  if (opts.rememberToken) {
    // `vigil up` is a local demo: keep the admin token next to the database so every start can show it
    // and client commands find it, written before listening so a start that fails still leaves it there.
    const known = adminToken ?? config.auth.adminToken;
    if (known) writeFileSync(tokenFile, known + '\n', { mode: 0o600 });
    else if (existsSync(tokenFile)) adminToken = readFileSync(tokenFile, 'utf8').trim();
  }
  let url: string;
  try {
    url = await server.listen();
  } catch (err) {
    await server.stop().catch(() => undefined);
    throw listenError(err, config, opts.rememberToken ? undefined : adminToken);
  }
  const log = server.ctx.log;

  const embedded = opts.demo ? await startEmbedded(server, url) : undefined;

  const lines = [
    '',
    `  Vigil ${VERSION} is running at ${url}`,
    adminToken
      ? `  Admin token: ${adminToken}`
      : config.auth.adminToken
        ? '  Admin token: the one given in configuration (VIGIL_ADMIN_TOKEN / auth.adminToken)'
        : '  Admin token: shown at first start; create another with `vigil token create --role admin`',
    `  API docs:    ${url}/api/docs`,
    ...(embedded?.banner ?? []),
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, parseDuration(config.server.shutdownTimeout));
    force.unref();
    await embedded?.stop();
    await server.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
