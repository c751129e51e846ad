/**
 * Batches under faults: a duplicated parse job, an upload cut off midway, oversized and hostile
 * uploads, and a `vigil worker` killed with SIGKILL while it parses (PostgreSQL + NATS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARSE_QUEUE } from '../../src/batches/deps.js';
import { encodeRecord } from '../../src/batches/dlt/index.js';
import { engineUrl, repoRoot } from '../support/env.js';
import { deleteStreams, uniqueId } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitForBatchEvent, waitForBatchStatus } from '../support/batches.js';

async function call(t: TestServer, method: string, p: string, body?: unknown, type = 'application/json') {
  const res = await fetch(`${t.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${t.adminToken}`, ...(body !== undefined ? { 'content-type': type } : {}) },
    body: body === undefined ? undefined : type === 'application/json' ? JSON.stringify(body) : (body as BodyInit),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const waitStatus = (t: TestServer, id: string, status: string, deadlineMs = 60_000) => waitForBatchStatus(t.url, t.adminToken, id, status, deadlineMs);

describe('batches under faults (sqlite, in-process bus, local blobs)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ flags: { 'batches.maxFileBytes': 64 * 1024 } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('counts a file once when its parse job is delivered twice', async () => {
    const id = (await call(t, 'POST', '/api/v1/batches', { vehicle_id: 'dup', vin: 'DUP' })).body.batch_id as string;
    const f = (await call(t, 'POST', `/api/v1/batches/${id}/files?name=a.log`, 'level=error msg="x"\n', 'application/octet-stream')).body;
    await call(t, 'POST', `/api/v1/batches/${id}/files?name=b.log`, 'level=info msg="y"\n', 'application/octet-stream');
    await call(t, 'POST', `/api/v1/batches/${id}/complete`);
    await waitStatus(t, id, 'completed');
    // The same job again under fresh message ids, as a redelivery after a lost ack would bring it.
    for (let i = 0; i < 3; i++) await t.server.ctx.bus.publish(PARSE_QUEUE, { batch_id: id, file_id: f.file_id, generation: 0 }, { msgId: uniqueId('again') });
    const detail = await call(t, 'GET', `/api/v1/batches/${id}`);
    expect(detail.body).toMatchObject({ status: 'completed', total_files: 2, processed_files: 2, failed_files: 0 });
  });

  it('keeps nothing of an upload cut off midway, and takes the retry', async () => {
    const id = (await call(t, 'POST', '/api/v1/batches', { vehicle_id: 'cut', vin: 'CUT' })).body.batch_id as string;
    const url = new URL(`${t.url}/api/v1/batches/${id}/files?name=big.log`);
    await new Promise<void>((resolve) => {
      const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/octet-stream', 'content-length': '50000' } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(20_000, 0x61));
      // The client dies after 20 000 of 50 000 bytes.
      setImmediate(() => {
        req.destroy();
        resolve();
      });
    });
    const detail = await call(t, 'GET', `/api/v1/batches/${id}`);
    expect(detail.body.files).toEqual([]);
    const again = await call(t, 'POST', `/api/v1/batches/${id}/files?name=big.log`, 'a\n'.repeat(100), 'application/octet-stream');
    expect(again.status).toBe(201);
    expect((await call(t, 'GET', `/api/v1/batches/${id}`)).body.files).toHaveLength(1);
  });

  it('answers 413 for an oversized upload and stores nothing; hostile names are only labels', async () => {
    const id = (await call(t, 'POST', '/api/v1/batches', { vehicle_id: 'big', vin: 'BIG' })).body.batch_id as string;
    const big = await call(t, 'POST', `/api/v1/batches/${id}/files?name=huge.log`, 'x'.repeat(65 * 1024), 'application/octet-stream');
    expect(big.status).toBe(413);
    expect(big.body.field).toBe('file');
    expect((await call(t, 'GET', `/api/v1/batches/${id}`)).body.files).toEqual([]);
    const evil = await call(t, 'POST', `/api/v1/batches/${id}/files?name=${encodeURIComponent('../../../etc/passwd')}`, 'root:x:0:0\n', 'application/octet-stream');
    expect(evil.status).toBe(201);
    const nrc = encodeRecord({ ecu: 'ECU1', extended: { verbose: true, type: 0, subtype: 2, apid: 'APP', ctid: 'CTX' }, args: [{ type: 'string', value: 'UDS rx 7F 34 72' }] });
    const cut = Buffer.concat([nrc, nrc.subarray(0, nrc.length - 5)]);
    await call(t, 'POST', `/api/v1/batches/${id}/files?name=cut.dlt`, new Uint8Array(cut), 'application/octet-stream');
    await call(t, 'POST', `/api/v1/batches/${id}/files?name=garbage.bin`, Buffer.from([0, 0xff, 1, 0xfe, 0, 0, 7]), 'application/octet-stream');
    await call(t, 'POST', `/api/v1/batches/${id}/complete`);
    const done = await waitStatus(t, id, 'completed');
    expect(done).toMatchObject({ total_files: 3, processed_files: 2, failed_files: 1 });
    const report = (await call(t, 'GET', `/api/v1/batches/${id}/report`)).body as { files: { name: string; status: string; error: string | null; records: number }[]; findings: { rule: string }[] };
    expect(report.files.map((f) => [f.name, f.status, f.error])).toEqual([
      ['../../../etc/passwd', 'parsed', null],
      ['cut.dlt', 'parsed', null],
      ['garbage.bin', 'failed', 'unrecognised format'],
    ]);
    // a DLT file whose last record is cut keeps every record, the cut one included
    expect(report.files.find((f) => f.name === 'cut.dlt')!.records).toBe(2);
    expect(report.findings.map((f) => f.rule)).toContain('ota.programming-failure');
  });
});

const pg = engineUrl('POSTGRES');
const nats = engineUrl('NATS');

describe.skipIf(!pg || !nats)('a vigil worker killed with SIGKILL mid-file (postgres + nats)', () => {
  let t: TestServer;
  const workers: ChildProcess[] = [];
  const schema = uniqueId('w');
  const prefix = uniqueId('k').replace(/_/g, '-');
  const flags = { 'nats.url': nats, 'nats.prefix': prefix, 'worker.inProcess': false, 'batches.parseAckWait': '3s', 'batches.stallAfter': '1h' };

  const startWorker = (n: number) => {
    const child = spawn(
      process.execPath,
      [
        '--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), 'worker', '--port', '0', '--concurrency', '1',
        '--database-url', `${pg}${pg!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
        '--nats-url', nats!, '--log-level', 'warn', '--data-dir', t.config.dataDir,
        '--set', `nats.prefix=${prefix}`, '--set', 'batches.parseAckWait=3s', '--set', `blob.url=file://${path.join(t.config.dataDir, 'blobs')}`,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, VIGIL_WORKER_NAME: `w${n}` } },
    );
    workers.push(child);
    return child;
  };

  beforeAll(async () => {
    t = await startTestServer({ pgUrl: pg, pgSchema: schema, flags: { ...flags, 'blob.url': '' } });
  });
  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await t?.stop();
    await deleteStreams(nats!, prefix);
  });

  it('parses the file again on another worker and counts it once', async () => {
    const id = (await call(t, 'POST', '/api/v1/batches', { vehicle_id: 'kill', vin: 'KILL' })).body.batch_id as string;
    // Large enough that parsing takes a while: ~400 000 records.
    const rec = encodeRecord({ ecu: 'ECU1', extended: { verbose: true, type: 0, subtype: 4, apid: 'APP', ctid: 'CTX' }, args: [{ type: 'string', value: 'heartbeat' }, { type: 'int', bits: 32, value: 7 }] });
    const big = Buffer.concat(Array.from({ length: 400_000 }, () => rec));
    expect((await call(t, 'POST', `/api/v1/batches/${id}/files?name=big.dlt`, new Uint8Array(big), 'application/octet-stream')).status).toBe(201);
    await call(t, 'POST', `/api/v1/batches/${id}/files?name=small.log`, 'level=error msg="UDS rx 7F 36 72"\n', 'application/octet-stream');
    const first = startWorker(1);
    await call(t, 'POST', `/api/v1/batches/${id}/complete`);
    await waitForBatchEvent(t.url, t.adminToken, id, 'big.dlt parsing on the first worker', (event, data) => event === 'file' && data.name === 'big.dlt' && data.status === 'parsing');
    first.kill('SIGKILL');
    startWorker(2);
    const done = await waitStatus(t, id, 'completed', 120_000);
    expect(done).toMatchObject({ total_files: 2, processed_files: 2, failed_files: 0 });
    const report = (await call(t, 'GET', `/api/v1/batches/${id}/report`)).body as { summary: { records: number } };
    expect(report.summary.records).toBe(400_000 + 1);
  });
});
