import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/env.js';
import { runCommand } from '../support/run.js';

// The CLI runs from its sources (tsx), never from a dist/ that may be older than the code under test.
const tsx = pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;
const entry = path.join(repoRoot, 'src/cli/main.ts');
const argvOf = (args: string[]) => ['--import', tsx, entry, ...args];
const run = (args: string[], env: Record<string, string> = {}) =>
  runCommand(process.execPath, argvOf(args), { env: { PATH: process.env.PATH, ...env }, timeoutMs: 120_000 });

/** A loopback port something else is listening on. */
async function busyPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { port: (srv.address() as AddressInfo).port, close: () => new Promise((resolve) => srv.close(() => resolve())) };
}

describe('vigil CLI', { timeout: 300_000 }, () => {

  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('every command has --help with examples', async () => {
    for (const cmd of [[], ['up'], ['server'], ['migrate'], ['token', 'create'], ['token', 'list'], ['token', 'revoke'], ['config', 'print']]) {
      const r = await run([...cmd, '--help']);
      expect(r.status, cmd.join(' ')).toBe(0);
      expect(r.stdout, cmd.join(' ')).toContain('Examples:');
      expect(r.stdout, cmd.join(' ')).toContain('$ vigil');
    }
  });

  it('an unknown flag exits 2 naming it', async () => {
    const r = await run(['server', '--frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--frobnicate');
  });

  it('a bad value exits 2 naming the key, value and type', async () => {
    const r = await run(['config', 'print', '--port', 'eighty']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('server.port');
    expect(r.stderr).toContain('"eighty"');
    expect(r.stderr).toContain('integer');
    const e = await run(['config', 'print'], { VIGIL_ANOMALY_FACTOR: 'big' });
    expect(e.status).toBe(2);
    expect(e.stderr).toContain('anomaly.factor');
    const role = await run(['token', 'create', '--role', 'root']);
    expect(role.status).toBe(2);
    expect(role.stderr).toContain('root');
  });

  it('config print shows the effective config with secrets masked', async () => {
    const r = await run(['config', 'print', '--json', '--port', '9999'], { VIGIL_DATABASE_URL: 'postgres://vigil:hunter2@db/vigil', VIGIL_LOG_LEVEL: 'warn' });
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.server.port).toBe(9999);
    expect(c.log.level).toBe('warn');
    expect(r.stdout).not.toContain('hunter2');
    // unset auth.anonymousRead is printed as what is in force: on for loopback, off otherwise
    expect(c.auth.anonymousRead).toBe(true);
    expect(JSON.parse((await run(['config', 'print', '--json', '--host', '0.0.0.0'])).stdout).auth.anonymousRead).toBe(false);
  });

  it('token create refuses to create a new empty database unless asked to', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const refused = await run(['token', 'create', '--role', 'viewer'], { VIGIL_DATA_DIR: dir });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`no database at ${path.join(dir, 'vigil.db')}`);
    expect(refused.stderr).toContain('--create-database');
    expect(existsSync(path.join(dir, 'vigil.db'))).toBe(false);
    expect((await run(['token', 'list'], { VIGIL_DATA_DIR: dir })).status).toBe(2);
    const created = await run(['token', 'create', '--role', 'viewer', '--create-database'], { VIGIL_DATA_DIR: dir });
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^vgl_/);
  });

  it('a server whose port is in use says to use --port and prints the admin token it created', async () => {
    const busy = await busyPort();
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
      const r = await run(['server', '--host', '127.0.0.1', '--port', String(busy.port), '--data-dir', dir, '--log-level', 'silent']);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`port ${busy.port} is already in use`);
      expect(r.stderr).toContain('--port <port>');
      const token = /admin token created for this database \(shown only now\): (vgl_\S+)/.exec(r.stderr)?.[1];
      expect(token).toBeDefined();

      // `up` keeps the token where the next start and the client commands find it
      const upDir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
      const up = await run(['up', '--no-demo', '--host', '127.0.0.1', '--port', String(busy.port), '--data-dir', upDir, '--log-level', 'silent']);
      expect(up.status).toBe(2);
      expect(up.stderr).toContain('--port <port>');
      expect(readFileSync(path.join(upDir, 'admin-token'), 'utf8')).toMatch(/^vgl_\S+\n$/);
    } finally {
      await busy.close();
    }
  });

  it('up writes the admin token file when the token comes from configuration', async () => {
    const busy = await busyPort();
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
      await run(['up', '--no-demo', '--host', '127.0.0.1', '--port', String(busy.port), '--data-dir', dir, '--log-level', 'silent'], { VIGIL_ADMIN_TOKEN: 'vgl_from_config_0123456789abcdef' });
      expect(readFileSync(path.join(dir, 'admin-token'), 'utf8')).toBe('vgl_from_config_0123456789abcdef\n');
    } finally {
      await busy.close();
    }
  });

  it('client commands list the flags they use, not the server\'s', async () => {
    const r = await run(['anomaly', 'check', '--help']);
    expect(r.status).toBe(0);
    for (const flag of ['--server', '--token', '--data-dir', '--set', '--config']) expect(r.stdout).toContain(flag);
    for (const flag of ['--host', '--port', '--database-url', '--redis-url', '--nats-url', '--blob-url', '--log-level']) expect(r.stdout).not.toContain(flag);
    expect(r.stdout).toContain('Exit codes: 0 normal, 1 error, 2 usage, 3 anomalous (with --fail-on-anomaly), 4 cannot determine.');
  });

  it('token create | list | revoke against the configured database', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const env = { VIGIL_DATA_DIR: dir };
    const created = await run(['token', 'create', '--role', 'agent', '--cluster', 'prod-eu', '--name', 'agent-eu', '--json', '--create-database'], env);
    expect(created.status, created.stderr).toBe(0);
    const tok = JSON.parse(created.stdout);
    expect(tok.token).toMatch(/^vgl_/);
    expect(tok.clusterId).toBe('prod-eu');
    const missing = await run(['token', 'create', '--role', 'agent'], env);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--cluster');
    const list = await run(['token', 'list'], env);
    expect(list.stdout).toContain(tok.id);
    expect(list.stdout).toContain('agent-eu');
    expect(list.stdout).not.toContain(tok.token);
    expect((await run(['token', 'revoke', tok.id], env)).status).toBe(0);
    expect((await run(['token', 'list'], env)).stdout).toMatch(new RegExp(`${tok.id}.*revoked`));
    expect((await run(['token', 'revoke', tok.id], env)).status).toBe(2);
  });

  it('migrate applies once, then reports up to date', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const first = await run(['migrate', '--data-dir', dir]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('platform/001_tokens');
    expect((await run(['migrate', '--data-dir', dir])).stdout).toContain('up to date');
  });

  it('server prints URL and admin token, serves /readyz, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const child = spawn(process.execPath, argvOf(['server', '--port', '0', '--data-dir', dir, '--log-level', 'warn']), { env: { PATH: process.env.PATH } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 120_000);
      child.stdout.on('data', () => {
        const m = /running at (http:\/\/\S+)/.exec(out);
        if (m && /Admin token: vgl_/.test(out)) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
    });
    const ready = await fetch(url + '/readyz');
    expect(ready.status).toBe(200);
    const token = /Admin token: (\S+)/.exec(out)![1];
    const jobs = await fetch(url + '/api/v1/tokens', { headers: { authorization: `Bearer ${token}` } });
    expect(jobs.status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});
