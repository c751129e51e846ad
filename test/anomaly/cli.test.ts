/** `vigil anomaly check|baseline|backfill|list` against a running server and a fake Tempo. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { io, registerAnomalyCommands } from '../../src/cli/anomaly.js';
import { UsageError } from '../../src/cli/common.js';
import { postJson, scriptedServer, startAnomalyServer, summaries, traceId, WED_14_TAIPEI, type AnomalyTestServer } from './helpers.js';

describe('vigil anomaly', () => {
  let t: AnomalyTestServer;
  let tempo: Awaited<ReturnType<typeof scriptedServer>>;
  let tempoTraces: { traceID: string; rootServiceName: string; rootTraceName: string; startTimeUnixNano: string; durationMs: number }[] = [];
  let tempoDown = false;
  let out = '';
  let err = '';

  beforeAll(async () => {
    t = await startAnomalyServer();
    await t.call('/api/v1/anomaly/summaries', postJson({ summaries: summaries(60, (i) => 100 + i) }));
    await t.svc.runBaselineJob();
    tempo = await scriptedServer((req) => {
      if (tempoDown) return { status: 400, body: 'bad query' };
      const u = new URL(req.url, 'http://x');
      const s = Number(u.searchParams.get('start')) * 1e9;
      const e = Number(u.searchParams.get('end')) * 1e9;
      const limit = Number(u.searchParams.get('limit'));
      return { status: 200, body: { traces: tempoTraces.filter((x) => Number(x.startTimeUnixNano) >= s && Number(x.startTimeUnixNano) < e).slice(0, limit) } };
    });
    io.isTTY = () => false;
    io.out = (s) => void (out += s);
    io.err = (s) => void (err += s);
  });
  afterAll(async () => {
    await t?.stop();
    await tempo?.close();
  });
  beforeEach(() => {
    out = '';
    err = '';
    io.now = () => Date.now();
  });

  const runWith = async (auth: string[], ...args: string[]) => {
    const program = new Command('vigil').exitOverride();
    registerAnomalyCommands(program);
    for (const c of program.commands.flatMap((x) => [x, ...x.commands])) c.exitOverride().configureOutput({ writeErr: (s) => void (err += s), writeOut: (s) => void (out += s) });
    await program.parseAsync(['node', 'vigil', 'anomaly', ...args, '--server', t.url, ...auth]);
  };
  const run = (...args: string[]) => runWith(['--token', t.tokens.admin], ...args);

  it('uses VIGIL_ADMIN_TOKEN when neither --token nor VIGIL_TOKEN is given', async () => {
    const saved = { admin: process.env.VIGIL_ADMIN_TOKEN, token: process.env.VIGIL_TOKEN };
    delete process.env.VIGIL_TOKEN;
    process.env.VIGIL_ADMIN_TOKEN = t.tokens.admin;
    try {
      await runWith(['--data-dir', mkdtempSync(path.join(tmpdir(), 'vigil-cli-'))], 'check', '--service', 'checkout', '--endpoint', 'POST /checkout', '--duration-ms', '120', '--hour', '14', '--day-type', 'weekday', '--json');
      expect(JSON.parse(out)).toMatchObject({ isAnomaly: false, threshold: 312 });
    } finally {
      if (saved.admin === undefined) delete process.env.VIGIL_ADMIN_TOKEN;
      else process.env.VIGIL_ADMIN_TOKEN = saved.admin;
      if (saved.token !== undefined) process.env.VIGIL_TOKEN = saved.token;
    }
  });

  it('says what a verdict rests on, and "cannot determine" has its own exit code (4)', async () => {
    try {
      await run('check', '--service', 'checkout', '--endpoint', 'POST /checkout', '--duration-ms', '120', '--hour', '14', '--day-type', 'weekday');
      expect(out).toMatch(/\nbased on 60 traces, baseline updated \d+ s ago\n/);
      expect(process.exitCode ?? 0).toBe(0);
      await run('check', '--service', 'ghost', '--endpoint', 'GET /', '--duration-ms', '1');
      expect(process.exitCode).toBe(4);
      process.exitCode = 0;
      await run('check', '--service', 'checkout', '--endpoint', 'POST /checkout', '--duration-ms', '5000', '--hour', '14', '--day-type', 'weekday', '--fail-on-anomaly');
      expect(process.exitCode).toBe(3);
    } finally {
      process.exitCode = 0;
    }
  });

  it('check prints the verdict and its explanation; --json gives the API answer', async () => {
    await run('check', '--service', 'checkout', '--endpoint', 'POST /checkout', '--duration-ms', '400', '--at', String(WED_14_TAIPEI + 60_000));
    expect(out).toMatch(/^ANOMALY: checkout POST \/checkout 400 ms at weekday 14:00 Asia\/Taipei, threshold 312 ms \(exact baseline\)\nbased on 60 traces, baseline updated \d+ s ago\n400 ms is above 312 ms/);
    out = '';
    await run('check', '--service', 'checkout', '--endpoint', 'POST /checkout', '--duration-ms', '120', '--hour', '14', '--day-type', 'weekday', '--json');
    expect(JSON.parse(out)).toMatchObject({ isAnomaly: false, threshold: 312 });
    out = '';
    await run('check', '--service', 'ghost', '--endpoint', 'GET /', '--duration-ms', '1');
    expect(out).toMatch(/^CANNOT DETERMINE/);
  });

  it('check reports the field the server rejected, and bad arguments as usage errors', async () => {
    await expect(run('check', '--service', 'checkout', '--endpoint', 'x', '--duration-ms', '5', '--hour', '30')).rejects.toBeInstanceOf(UsageError);
    await expect(run('check', '--service', 'checkout', '--endpoint', 'x', '--duration-ms', '5', '--hour', '3', '--day-type', 'holiday')).rejects.toThrow(/400 .*field dayType/);
    await expect(run('check', '--service', 'checkout', '--endpoint', 'x', '--duration-ms', '-5')).rejects.toBeInstanceOf(UsageError);
  });

  it('baseline shows one bucket or a table of all of them', async () => {
    await run('baseline', '--service', 'checkout', '--endpoint', 'POST /checkout', '--hour', '14', '--day-type', 'weekday');
    expect(out).toMatch(/checkout POST \/checkout, weekday hour 14 \(Asia\/Taipei\): p50 130 ms, p95 156 ms, MAD 15 ms from 60 traces/);
    out = '';
    await run('baseline', '--service', 'checkout');
    expect(out.split('\n')[1]).toMatch(/^ENDPOINT\s+DAY TYPE\s+HOUR\s+SAMPLES/);
    expect(out).toMatch(/POST \/checkout\s+weekday\s+14\s+60\s+130\s+156\s+15/);
    await expect(run('baseline', '--service', 'checkout', '--endpoint', 'POST /checkout', '--hour', '3', '--day-type', 'weekend')).rejects.toThrow(/no baseline learned/);
  });

  it('backfill searches Tempo slice by slice, reports progress and learns without flagging', async () => {
    const now = Date.parse('2024-01-10T00:00:00Z');
    io.now = () => now;
    const nowSec = now / 1000;
    tempoTraces = Array.from({ length: 30 }, (_, i) => ({
      traceID: traceId().slice(0, 16),
      rootServiceName: 'cart',
      rootTraceName: 'GET /cart',
      startTimeUnixNano: String(BigInt(nowSec - 6 * 3600 + i * 600) * 1_000_000_000n),
      durationMs: i === 7 ? 9000 : 50 + i,
    }));
    await run('backfill', '--since', '6h', '--tempo-url', tempo.url);
    const slices = err.split('\n').filter((l) => l.startsWith('slice '));
    expect(slices).toHaveLength(6);
    expect(slices[0]).toMatch(/^slice 1\/6 2024-01-09T18:00:00Z – 2024-01-09T19:00:00Z: 6 traces$/);
    expect(out).toMatch(/backfilled 30 traces in 6 slices: 30 new, 0 already known, 0 unusable/);
    await t.svc.runBaselineJob();
    const avail = (await (await t.call('/v1/available?service=cart')).json()) as { keys: { sampleCount: number }[] };
    expect(avail.keys.reduce((n, k) => n + k.sampleCount, 0)).toBe(30);
    expect(((await (await t.call('/api/v1/anomalies?service=cart')).json()) as { anomalies: unknown[] }).anomalies).toHaveLength(0);
    out = '';
    err = '';
    await run('backfill', '--since', '6h', '--tempo-url', tempo.url, '--json');
    expect(JSON.parse(out)).toMatchObject({ slices: 6, traces: 30, ingested: 0, duplicates: 30 });
  });

  it('backfill stops at a failing slice and says how to resume', async () => {
    const now = Date.parse('2024-01-10T00:00:00Z');
    io.now = () => now;
    tempoDown = true;
    try {
      await expect(run('backfill', '--since', '2h', '--tempo-url', tempo.url)).rejects.toThrow(
        /Tempo search failed for 2024-01-09T22:00:00Z – 2024-01-09T23:00:00Z: .*400.*resume with: vigil anomaly backfill --since 2024-01-09T22:00:00Z --until 2024-01-10T00:00:00Z/,
      );
    } finally {
      tempoDown = false;
    }
    await expect(run('backfill', '--since', '2h')).rejects.toThrow(/no Tempo URL/);
  });

  it('list shows detected anomalies; the token defaults to the one `vigil up` keeps', async () => {
    await t.call('/api/v1/anomaly/summaries', postJson({ summaries: [{ traceId: traceId(), service: 'checkout', endpoint: 'POST /checkout', startMs: WED_14_TAIPEI + 9000, durationMs: 7000 }] }));
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
    writeFileSync(path.join(dataDir, 'admin-token'), t.tokens.admin + '\n');
    const program = new Command('vigil').exitOverride();
    registerAnomalyCommands(program);
    await program.parseAsync(['node', 'vigil', 'anomaly', 'list', '--server', t.url, '--data-dir', dataDir, '--service', 'checkout']);
    // times in the server's zone, named (not UTC without a name)
    expect(out).toMatch(/DETECTED \(Asia\/Taipei\)\s+SERVICE\s+ENDPOINT\s+MS\s+THRESHOLD\s+TRACE/);
    expect(out).toMatch(/\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+checkout/);
    expect(out).toMatch(/checkout\s+POST \/checkout\s+7000\s+312/);
  });
});
