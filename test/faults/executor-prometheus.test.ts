import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVOY_BUCKETS_MS, type Executor } from '../../src/faults/executor/index.js';
import { requireAll } from '../support/env.js';
import { runCommand } from '../support/run.js';
import { FakeClock, executorWith, policy, request, startUpstream, tempDir, type Upstream } from './executor-support.js';
import { waitFor } from '../support/wait.js';

const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';

function tool(file: string, pkg: string): boolean {
  if (existsSync(file)) return true;
  if (requireAll) throw new Error(`${file} missing (Debian package ${pkg}) but VIGIL_TEST_REQUIRE_ALL=1`);
  console.warn(`[skip] ${file} not installed (Debian package ${pkg})`);
  return false;
}

const HFI = ['wasmcustom_hfi_faults_aborts_total', 'wasmcustom_hfi_faults_delays_total', 'wasmcustom_hfi_faults_delay_duration_milliseconds'];

let up: Upstream;
let ex: Executor;
const clock = new FakeClock();

beforeAll(async () => {
  up = await startUpstream();
  ex = await executorWith(up.url, {
    clock,
    policies: [policy('abort-policy', { abort: { httpStatus: 503 } }, { path: { exact: '/' } }), policy('delay-policy', { delay: { fixed_delay_ms: 300 } }, { path: { exact: '/slow' } })],
  });
});

afterAll(async () => {
  await ex?.stop(1000);
  await up?.close();
});

async function scrape(p = '/stats/prometheus') {
  const a = await request(ex.adminUrl + p);
  expect(a.status).toBe(200);
  return a.body;
}

async function injectSome(aborts: number, delays: number) {
  for (let i = 0; i < aborts; i++) expect((await request(ex.url + '/')).status).toBe(503);
  for (let i = 0; i < delays; i++) {
    const held = request(ex.url + '/slow');
    await waitFor('the delay', async () => ex.metrics.activeFaults() === 1);
    clock.advance(300);
    expect((await held).status).toBe(200);
  }
}

describe('executor metrics', () => {
  it('exposes the three HFI series at zero before any fault, unlabelled, with Envoy\'s buckets', async () => {
    const text = await scrape();
    expect(text).toMatch(/^wasmcustom_hfi_faults_aborts_total 0$/m);
    expect(text).toMatch(/^wasmcustom_hfi_faults_delays_total 0$/m);
    expect(text).toMatch(/^# TYPE wasmcustom_hfi_faults_aborts_total counter$/m);
    expect(text).toMatch(/^# TYPE wasmcustom_hfi_faults_delay_duration_milliseconds histogram$/m);
    const bounds = [...text.matchAll(/^wasmcustom_hfi_faults_delay_duration_milliseconds_bucket\{le="([^"]+)"\} 0$/gm)].map((m) => m[1]);
    expect(bounds).toEqual([...ENVOY_BUCKETS_MS.map(String), '+Inf']);
    expect(bounds).toEqual(['0.5', '1', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '30000', '60000', '300000', '600000', '1800000', '3600000', '+Inf']);
    expect(await scrape('/metrics')).toContain('wasmcustom_hfi_faults_aborts_total 0');
  });

  it.runIf(tool(PROMTOOL, 'prometheus'))('passes `promtool check metrics` (the one lint is HFI\'s own unit, kept for its dashboards)', async () => {
    await injectSome(1, 1);
    const r = await runCommand(PROMTOOL, ['check', 'metrics'], { input: await scrape() });
    // exit 1 is a parse error; 3 means lint findings only, listed on stderr
    expect(r.status === 0 || r.status === 3).toBe(true);
    const findings = (r.stdout + r.stderr).split('\n').filter(Boolean);
    // HFI's histogram name (milliseconds) is kept exactly so its dashboards keep working; nothing else may lint.
    const unexpected = findings.filter((f) => !f.startsWith('wasmcustom_hfi_faults_delay_duration_milliseconds use base unit "seconds"'));
    expect(unexpected).toEqual([]);
  });

  it.runIf(tool(PROMETHEUS, 'prometheus'))('is scraped by a real Prometheus that reads the HFI counters back', async () => {
    const before = { aborts: await countOf('wasmcustom_hfi_faults_aborts_total'), delays: await countOf('wasmcustom_hfi_faults_delays_total') };
    await injectSome(3, 2);
    const want = { aborts: before.aborts + 3, delays: before.delays + 2 };
    const dir = tempDir();
    const admin = new URL(ex.adminUrl!);
    const config = path.join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: vigil-executor',
        '    metrics_path: /stats/prometheus',
        '    static_configs:',
        `      - targets: ['${admin.host}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const prom: ChildProcess = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    try {
      const query = async (q: string) => {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
          const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
          const v = body.data?.result?.[0]?.value[1];
          return v === undefined ? undefined : Number(v);
        } catch {
          return undefined; // not up yet
        }
      };
      await waitFor('Prometheus to scrape the abort counter', async () => (await query('wasmcustom_hfi_faults_aborts_total')) === want.aborts, 45_000);
      expect(await query('wasmcustom_hfi_faults_delays_total')).toBe(want.delays);
      expect(await query('wasmcustom_hfi_faults_delay_duration_milliseconds_count')).toBe(want.delays);
      expect(await query('wasmcustom_hfi_faults_delay_duration_milliseconds_bucket{le="500"}')).toBe(want.delays);
      expect(await query('wasmcustom_hfi_faults_delay_duration_milliseconds_bucket{le="250"}')).toBe(0);
      expect(await query('sum(vigil_faults_injected_total{policy="abort-policy",type="abort"})')).toBe(want.aborts);
    } finally {
      prom.kill('SIGKILL');
    }
  });

  it('names every HFI series exactly as HFI exports them', async () => {
    const text = await scrape();
    for (const name of HFI) expect(text).toContain(`# TYPE ${name} `);
  });
});

async function countOf(name: string): Promise<number> {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(await scrape());
  return m ? Number(m[1]) : NaN;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
