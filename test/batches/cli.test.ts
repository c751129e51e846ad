/** `vigil batch …` against a running server: upload a directory and an archive, follow it, read the report. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Command } from 'commander';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CRITICAL, collectFiles, io, registerBatchCommands } from '../../src/cli/batch.js';
import { UsageError } from '../../src/cli/common.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('vigil batch', () => {
  let t: TestServer;
  let out = '';
  let err = '';
  let dir: string;

  beforeAll(async () => {
    t = await startTestServer();
    io.isTTY = () => false;
    io.out = (s) => void (out += s);
    io.err = (s) => void (err += s);
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-batch-cli-'));
    mkdirSync(path.join(dir, 'logs', 'ecu'), { recursive: true });
    writeFileSync(path.join(dir, 'logs', 'ecu', 'tcu.log'), 'ts=2026-03-04T12:00:02Z level=error app=ota msg="UDS rx 7F 36 72"\n');
    writeFileSync(path.join(dir, 'logs', 'ivi.log.gz'), gzipSync('2026-03-04T12:00:00Z INFO navigation ready\n'));
    writeFileSync(path.join(dir, 'logs', '.hidden'), 'ignored');
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(() => {
    out = '';
    err = '';
    process.exitCode = undefined;
  });

  const run = async (...args: string[]) => {
    const program = new Command('vigil').exitOverride();
    registerBatchCommands(program);
    for (const c of program.commands.flatMap((x) => [x, ...x.commands])) c.exitOverride().configureOutput({ writeErr: (s) => void (err += s), writeOut: (s) => void (out += s) });
    await program.parseAsync(['node', 'vigil', 'batch', ...args, '--server', t.url, '--token', t.adminToken]);
  };

  it('walks directories, skipping hidden files', async () => {
    expect((await collectFiles([path.join(dir, 'logs')])).map((f) => f.name)).toEqual(['ecu/tcu.log', 'ivi.log.gz']);
  });

  it('upload follows the batch to its report and exits with the critical-finding code', async () => {
    await run('upload', '--vehicle-id', 'car-17', '--vin', 'WVW1', '--label', 'campaign=c9', path.join(dir, 'logs'));
    expect(err).toMatch(/uploading 2 files/);
    expect(out).toMatch(/vehicle car-17 {2}VIN WVW1/);
    expect(out).toMatch(/2 files \(0 failed\), 2 records, 1 errors, 0 fatal/);
    expect(out).toMatch(/critical\s+1\s+Programming failure while flashing .* ecu\/tcu\.log#0/);
    expect(process.exitCode).toBe(EXIT_CRITICAL);
    const id = /batch ([0-9a-f-]{36})/.exec(out)![1]!;

    out = '';
    await run('list', '--vehicle-id', 'car-17', '--json');
    expect(JSON.parse(out).batches.map((b: { batch_id: string; status: string }) => [b.batch_id, b.status])).toEqual([[id, 'completed']]);

    out = '';
    await run('show', id);
    expect(out).toMatch(/ecu\/tcu\.log\s+text\s+parsed/);
    expect(out).toMatch(/ivi\.log\.gz\s+text\+gzip\s+parsed/);

    out = '';
    await run('report', id, '--json');
    expect(JSON.parse(out).findings.map((f: { rule: string }) => f.rule)).toEqual(['ota.programming-failure']);

    out = '';
    await run('retry', id);
    expect(out).toBe('Batch re-diagnosis started\n');
    out = '';
    await run('watch', id);
    expect(out).toMatch(/Programming failure while flashing/);
  });

  it('refuses bad arguments with a usage error', async () => {
    await expect(run('show', 'not-a-uuid')).rejects.toThrow(UsageError);
    await expect(run('upload', '--vehicle-id', 'v', '--vin', 'x', path.join(dir, 'missing'))).rejects.toThrow(/no such file/);
    await expect(run('upload', '--vehicle-id', 'v', '--vin', 'x', '--parallel', '0', dir)).rejects.toThrow(/--parallel/);
  });
});
