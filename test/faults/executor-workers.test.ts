/** `vigil executor --workers N`: one primary, N proxy processes on one port, counts summed exactly. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/env.js';
import { FakeControlPlane, policy, request, startUpstream, tempDir, type Upstream } from './executor-support.js';
import { waitFor } from '../support/wait.js';

const main = path.join(repoRoot, 'src/cli/main.ts');
const WORKERS = 2;

let up: Upstream;
let cp: FakeControlPlane;
let child: ChildProcessWithoutNullStreams;
let exited: Promise<number | null>;
let proxyUrl: string;
let adminUrl: string;

const abortAll = policy('abort-policy', { abort: { httpStatus: 503 } }, { path: { prefix: '/abort' } });
const delayOne = policy('delay-policy', { delay: { fixed_delay_ms: 2 } }, { path: { prefix: '/slow' } });
const holdLong = policy('hold-policy', { delay: { fixed_delay_ms: 1500 } }, { path: { prefix: '/hold' } });

async function scrape(): Promise<string> {
  const a = await request(adminUrl + '/metrics');
  expect(a.status).toBe(200);
  return a.body;
}

const value = (text: string, series: string) => {
  const hit = text.split('\n').find((l) => l.startsWith(series + ' '));
  return hit === undefined ? undefined : Number(hit.slice(series.length + 1));
};

const readyz = async () => JSON.parse((await request(adminUrl + '/readyz')).body) as { status: string; workers: { wanted: number; running: number; pids: number[] } };

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  up = await startUpstream();
  cp = await new FakeControlPlane([abortAll, delayOne, holdLong]).start();
  const args = ['--workers', String(WORKERS), '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--upstream', up.url, '--service', 'frontend', '--namespace', 'demo'];
  args.push('--server', cp.url, '--report-interval', '1', '--state-file', path.join(tempDir(), 's.json'), '--log-level', 'warn');
  child = spawn(process.execPath, ['--import', 'tsx', main, 'executor', ...args], { cwd: repoRoot, env: { PATH: process.env.PATH } });
  child.stdin.end();
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  // Three processes compiling TypeScript at start-up: slow on a busy machine.
  const listening = () => {
    if (child.exitCode !== null) throw new Error(`the executor exited with ${child.exitCode}`);
    return /proxy (http:\/\/\S+) -> \S+, admin (http:\/\/\S+), 2 workers/.exec(out);
  };
  const m = await waitFor('the executor to listen', listening, 150_000).catch((e: Error) => {
    throw new Error(`${e.message}; its stderr: ${err.slice(-2000)}`);
  });
  proxyUrl = m[1];
  adminUrl = m[2];
  await waitFor('the policies from the control plane', async () => (await request(proxyUrl + '/abort')).status === 503, 20_000);
}, 180_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  await cp?.stop();
  await up?.close();
});

describe('vigil executor --workers 2', () => {
  it('runs the workers it was asked for and serves through all of them', async () => {
    const r = await readyz();
    expect(r.status).toBe('ready');
    expect(r.workers.wanted).toBe(WORKERS);
    expect(r.workers.running).toBe(WORKERS);
    expect(new Set(r.workers.pids).size).toBe(WORKERS);
    expect((await request(proxyUrl + '/plain')).status).toBe(200);
  });

  it('exports exactly the faults the workers injected, summed', async () => {
    const before = await scrape();
    const aborts0 = value(before, 'wasmcustom_hfi_faults_aborts_total') ?? NaN;
    const delays0 = value(before, 'wasmcustom_hfi_faults_delays_total') ?? NaN;
    const injected0 = value(before, 'vigil_faults_injected_total{policy="abort-policy",rule="0",type="abort"}') ?? 0;
    // Each request on its own connection, so the primary hands them out to every worker in turn.
    const aborts = await Promise.all(Array.from({ length: 40 }, () => request(proxyUrl + '/abort')));
    const delays = await Promise.all(Array.from({ length: 14 }, () => request(proxyUrl + '/slow')));
    expect(aborts.map((a) => a.status)).toEqual(new Array(40).fill(503));
    expect(delays.map((a) => a.status)).toEqual(new Array(14).fill(200));
    const after = await scrape();
    expect(value(after, 'wasmcustom_hfi_faults_aborts_total')).toBe(aborts0 + 40);
    expect(value(after, 'wasmcustom_hfi_faults_delays_total')).toBe(delays0 + 14);
    expect(value(after, 'wasmcustom_hfi_faults_delay_duration_milliseconds_count')).toBe(delays0 + 14);
    expect(value(after, 'wasmcustom_hfi_faults_delay_duration_milliseconds_bucket{le="5"}')).toBe(delays0 + 14);
    expect(value(after, 'vigil_faults_injected_total{policy="abort-policy",rule="0",type="abort"}')).toBe(injected0 + 40);
    expect(value(after, 'vigil_faults_injected_total{policy="delay-policy",rule="0",type="delay"}')).toBe(delays0 + 14);
  });

  it('relays a policy update from the one control-plane stream to every worker', async () => {
    expect(cp.open).toBe(1);
    cp.push([abortAll, delayOne, holdLong, policy('teapot', { abort: { httpStatus: 418 } }, { path: { prefix: '/tea' } })]);
    await waitFor('the update to reach a worker', async () => (await request(proxyUrl + '/tea')).status === 418);
    const answers = await Promise.all(Array.from({ length: 12 }, () => request(proxyUrl + '/tea')));
    expect(answers.map((a) => a.status)).toEqual(new Array(12).fill(418));
  });

  it("holds a policy's max_active_faults for all workers together, and frees the slot when the held client leaves", async () => {
    const capped = policy('capped', { delay: { fixed_delay_ms: 600_000 } }, { path: { prefix: '/capped' } });
    (capped.spec as Record<string, unknown>).max_active_faults = 1;
    const teapot = policy('teapot', { abort: { httpStatus: 418 } }, { path: { prefix: '/tea' } });
    cp.push([abortAll, delayOne, holdLong, teapot, capped]);
    await waitFor('the capped policy to reach the workers', async () => {
      const answers = await Promise.all(Array.from({ length: 4 }, () => request(proxyUrl + '/tea')));
      return answers.every((a) => a.status === 418);
    });
    const overflow0 = value(await scrape(), 'vigil_faults_overflow_total') ?? 0;
    // One request takes the policy's only slot (held for ten minutes) ...
    const held = http.get(proxyUrl + '/capped/held', { agent: false });
    held.on('error', () => {});
    await waitFor('the first request to be held', async () => value(await scrape(), 'vigil_faults_active') === 1);
    // ... so every other one, whichever worker its connection lands on, passes untouched.
    const others = await Promise.all(Array.from({ length: 6 }, () => request(proxyUrl + '/capped/other')));
    expect(others.map((a) => a.status)).toEqual(new Array(6).fill(200));
    expect(value(await scrape(), 'vigil_faults_overflow_total')).toBe(overflow0 + 6);
    // The held client hangs up: its slot is free again.
    held.destroy();
    await waitFor('the slot to be given back', async () => value(await scrape(), 'vigil_faults_active') === 0);
    const again = http.get(proxyUrl + '/capped/again', { agent: false });
    again.on('error', () => {});
    await waitFor('a new request to take the slot', async () => value(await scrape(), 'vigil_faults_active') === 1);
    again.destroy();
    await waitFor('the slot to be given back again', async () => value(await scrape(), 'vigil_faults_active') === 0);
    cp.push([abortAll, delayOne, holdLong]);
  });

  it('starts another worker when one dies, and keeps serving', async () => {
    const { pids } = (await readyz()).workers;
    process.kill(pids[0], 'SIGKILL');
    const r = await waitFor('a replacement worker', async () => {
      const now = await readyz();
      return now.workers.running === WORKERS && !now.workers.pids.includes(pids[0]) ? now : undefined;
    },60_000);
    expect(r.workers.pids).toContain(pids[1]);
    const answers = await Promise.all(Array.from({ length: 8 }, () => request(proxyUrl + '/plain')));
    expect(answers.map((a) => a.status)).toEqual(new Array(8).fill(200));
  }, 90_000);

  it('on SIGTERM lets a held request finish, stops its workers, reports the final counts and exits 0', async () => {
    const { pids } = (await readyz()).workers;
    const aborts = value(await scrape(), 'wasmcustom_hfi_faults_aborts_total');
    const held = request(proxyUrl + '/hold');
    await waitFor('the request to be held', async () => value(await scrape(), 'vigil_faults_active') === 1);
    child.kill('SIGTERM');
    expect((await held).status).toBe(200);
    expect(await exited).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    const last = cp.reports.at(-1) as { counters: { policy: string; type: string; count: number }[] };
    const reported = last.counters.filter((c) => c.type === 'abort').reduce((s, c) => s + c.count, 0);
    expect(reported).toBe(aborts);
  }, 60_000);
});
