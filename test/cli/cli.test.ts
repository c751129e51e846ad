import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/env.js';

const bin = path.join(repoRoot, 'bin/vigil.js');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 30_000 });

describe('vigil CLI', () => {
  beforeAll(() => {
    if (!existsSync(path.join(repoRoot, 'dist/cli/main.js'))) {
      spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'inherit' });
    }
  });

  it('--version prints the package version', () => {
    const r = run(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('every command has --help with examples', () => {
    for (const cmd of [[], ['up'], ['server'], ['migrate'], ['token', 'create'], ['token', 'list'], ['token', 'revoke'], ['config', 'print']]) {
      const r = run([...cmd, '--help']);
      expect(r.status, cmd.join(' ')).toBe(0);
      expect(r.stdout, cmd.join(' ')).toContain('Examples:');
      expect(r.stdout, cmd.join(' ')).toContain('$ vigil');
    }
  });

  it('an unknown flag exits 2 naming it', () => {
    const r = run(['server', '--frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--frobnicate');
  });

  it('a bad value exits 2 naming the key, value and type', () => {
    const r = run(['config', 'print', '--port', 'eighty']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('server.port');
    expect(r.stderr).toContain('"eighty"');
    expect(r.stderr).toContain('integer');
    const e = run(['config', 'print'], { VIGIL_ANOMALY_FACTOR: 'big' });
    expect(e.status).toBe(2);
    expect(e.stderr).toContain('anomaly.factor');
    const role = run(['token', 'create', '--role', 'root']);
    expect(role.status).toBe(2);
    expect(role.stderr).toContain('root');
  });

  it('config print shows the effective config with secrets masked', () => {
    const r = run(['config', 'print', '--json', '--port', '9999'], { VIGIL_DATABASE_URL: 'postgres://vigil:hunter2@db/vigil', VIGIL_LOG_LEVEL: 'warn' });
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.server.port).toBe(9999);
    expect(c.log.level).toBe('warn');
    expect(r.stdout).not.toContain('hunter2');
  });

  it('token create | list | revoke against the configured database', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const env = { VIGIL_DATA_DIR: dir };
    const created = run(['token', 'create', '--role', 'agent', '--cluster', 'prod-eu', '--name', 'agent-eu', '--json'], env);
    expect(created.status, created.stderr).toBe(0);
    const tok = JSON.parse(created.stdout);
    expect(tok.token).toMatch(/^vgl_/);
    expect(tok.clusterId).toBe('prod-eu');
    const missing = run(['token', 'create', '--role', 'agent'], env);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--cluster');
    const list = run(['token', 'list'], env);
    expect(list.stdout).toContain(tok.id);
    expect(list.stdout).toContain('agent-eu');
    expect(list.stdout).not.toContain(tok.token);
    expect(run(['token', 'revoke', tok.id], env).status).toBe(0);
    expect(run(['token', 'list'], env).stdout).toMatch(new RegExp(`${tok.id}.*revoked`));
    expect(run(['token', 'revoke', tok.id], env).status).toBe(2);
  });

  it('migrate applies once, then reports up to date', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const first = run(['migrate', '--data-dir', dir]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('platform/001_tokens');
    expect(run(['migrate', '--data-dir', dir]).stdout).toContain('up to date');
  });

  it('server prints URL and admin token, serves /readyz, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    const child = spawn(process.execPath, [bin, 'server', '--port', '0', '--data-dir', dir, '--log-level', 'warn'], { env: { PATH: process.env.PATH } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
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
