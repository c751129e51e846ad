import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/env.js';
import { runCommand } from '../support/run.js';
import { request, startUpstream, tempDir, type Upstream } from './executor-support.js';
import { waitFor } from '../support/wait.js';

const main = path.join(repoRoot, 'src/cli/main.ts');
const argv = (args: string[]) => ['--import', 'tsx', main, ...args];
const vigil = (args: string[]) => spawn(process.execPath, argv(args), { cwd: repoRoot, env: { PATH: process.env.PATH } });
/** `vigil executor` with a mistake in its flags: it must exit at once, so it is run to the end. */
const refused = (flags: string[]) =>
  runCommand(process.execPath, argv(['executor', ...flags, '--upstream', up.url, '--service', 'a', '--namespace', 'b']), { cwd: repoRoot, env: { PATH: process.env.PATH }, timeoutMs: 90_000 });

let up: Upstream;
beforeAll(async () => {
  up = await startUpstream();
});
afterAll(async () => {
  await up?.close();
});

describe('vigil executor (command)', () => {
  it('proxies, then drains and exits 0 on SIGTERM', async () => {
    const child = vigil(['executor', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--upstream', up.url, '--service', 'frontend', '--namespace', 'demo', '--state-file', path.join(tempDir(), 's.json'), '--log-level', 'warn']);
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const m = await waitFor('the executor to listen', () => /proxy (http:\/\/\S+) -> \S+, admin (http:\/\/\S+)/.exec(out), 90_000);
      expect((await request(m[1] + '/via-cli')).status).toBe(200);
      expect(up.seen.map((s) => s.url)).toContain('/via-cli');
      expect(JSON.parse((await request(m[2] + '/readyz')).body)).toMatchObject({ status: 'ready' });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);

  it('refuses a malformed --listen with exit code 2 and a message naming the flag', async () => {
    const r = await refused(['--listen', 'nonsense']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--listen nonsense');
  }, 120_000);

  it('refuses a --workers that is neither a positive integer nor auto, naming the flag', async () => {
    const r = await refused(['--workers', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--workers 0: expected a positive integer or auto');
  }, 120_000);

  it('accepts --control-plane-addr as HFI\'s spelling of --server (and validates it the same way)', async () => {
    const bad = await refused(['--control-plane-addr', 'ftp://x']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('ftp://x: expected an http(s) URL');
  }, 120_000);
});
