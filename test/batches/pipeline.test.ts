/**
 * A batch end to end through the HTTP API on both backend sets: SQLite + embedded KV + in-process
 * bus + local blobs, and PostgreSQL + Redis + NATS JetStream + S3 (s3rver on loopback).
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarOf } from '../support/archives.js';
import { waitForBatchStatus } from '../support/batches.js';
import { engineUrl } from '../support/env.js';
import { startLocalS3, type LocalS3 } from '../support/s3rver.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { deleteStreams, uniqueId } from '../support/backends.js';

interface Backend {
  name: string;
  flags?: () => Promise<Record<string, unknown>>;
  pgUrl?: string;
}

const pg = engineUrl('POSTGRES');
const redis = engineUrl('REDIS');
const nats = engineUrl('NATS');
let s3: LocalS3 | undefined;
const natsPrefix = uniqueId('b').replace(/_/g, '-');

const backends: Backend[] = [
  { name: 'sqlite + embedded kv + in-process bus + local blobs' },
  {
    name: 'postgres + redis + nats + s3',
    pgUrl: pg,
    flags: pg && redis && nats ? async () => ({ 'redis.url': redis, 'nats.url': nats, 'nats.prefix': natsPrefix, 'blob.url': (s3 ??= await startLocalS3()).url(uniqueId('b')) }) : undefined,
  },
];

afterAll(async () => {
  await s3?.close();
  if (nats) await deleteStreams(nats, natsPrefix);
});

const ERROR_LOG = [
  'ts=2026-03-04T12:00:00Z level=info app=ota msg="RequestDownload accepted"',
  'ts=2026-03-04T12:00:02Z level=error app=ota msg="UDS rx 7F 36 72"',
  'ts=2026-03-04T12:00:03Z level=warn app=ota msg="DTC P0301 status 0x2F"',
].join('\n');
const OK_LOG = Array.from({ length: 50 }, (_, i) => `2026-03-04T12:0${Math.floor(i / 10)}:${String((i % 10) * 5).padStart(2, '0')}Z INFO heartbeat ${i}`).join('\n');


for (const backend of backends) {
  const skip = backend.name.startsWith('postgres') && !backend.flags;
  describe.skipIf(skip)(`batches end to end: ${backend.name}`, () => {
    let t: TestServer;
    const auth = () => ({ authorization: `Bearer ${t.adminToken}` });
    const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${t.url}${path}`, {
        method,
        headers: { ...auth(), ...(body !== undefined && !(body instanceof Buffer) && !(body instanceof FormData) ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : body instanceof Buffer || body instanceof FormData ? (body as BodyInit) : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    const upload = (id: string, name: string, data: Buffer) => api('POST', `/api/v1/batches/${id}/files?name=${encodeURIComponent(name)}`, data, { 'content-type': 'application/octet-stream' });
    const waitFor = (id: string, status: string) => waitForBatchStatus(t.url, t.adminToken, id, status, 45_000);

    beforeAll(async () => {
      t = await startTestServer({ pgUrl: backend.pgUrl, flags: await backend.flags?.() });
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('parses every file, counts duplicates and failures once, and reports the planted failures', async () => {
      const created = await api('POST', '/api/v1/batches', { vehicle_id: 'V-001', vin: 'WVWZZZ1JZXW000001', labels: { campaign: 'c-42' } });
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('pending');
      const id = created.body.batch_id as string;

      const form = new FormData();
      form.append('file', new Blob([ERROR_LOG]), 'tcu.log');
      const a = await api('POST', `/api/v1/batches/${id}/files`, form);
      expect(a.status).toBe(201);
      expect(a.body).toMatchObject({ name: 'tcu.log', size: Buffer.byteLength(ERROR_LOG), duplicate: false });
      const again = await upload(id, 'tcu-copy.log', Buffer.from(ERROR_LOG));
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ file_id: a.body.file_id, duplicate: true });
      expect((await upload(id, 'ivi.log.gz', gzipSync(OK_LOG))).status).toBe(201);
      expect((await upload(id, 'junk.bin', Buffer.from([0, 1, 2, 3, 0xfe, 0xff, 0, 9]))).status).toBe(201);
      expect((await upload(id, 'bundle.tar', await tarOf({ 'gw/a.log': 'Mar  4 12:01:00 gw flashd: ECU reset type: hard\n', 'gw/b.log': 'OTA campaign c-42 state -> INSTALL_FAILED\n' }))).status).toBe(201);

      const before = await api('GET', `/api/v1/batches/${id}/progress`);
      expect(before.body).toMatchObject({ status: 'pending', total_files: 4, processed_files: 0, progress_percent: 0 });

      expect((await api('POST', `/api/v1/batches/${id}/complete`)).body).toEqual({ message: 'Batch completed,processing started' });
      const done = await waitFor(id, 'completed');
      // 4 uploads + 2 archive members; the archive and 4 readable files parsed, the binary failed
      expect(done).toMatchObject({ total_files: 6, processed_files: 5, failed_files: 1, progress_percent: 100 });

      const late = await upload(id, 'late.log', Buffer.from('x\n'));
      expect(late.status).toBe(409);
      expect(late.body.field).toBe('status');

      const report = await api('GET', `/api/v1/batches/${id}/report`);
      expect(report.status).toBe(200);
      const r = report.body as { findings: { rule: string; evidence: { file: string; index: number }[] }[]; files: { name: string; status: string; error: string | null }[]; nrcs: { nrc: string }[]; dtcs: { code: string; confirmed: boolean }[]; summary: { records: number } };
      expect(r.findings.map((f) => f.rule).sort()).toEqual(['dtc.confirmed', 'ota.campaign-failed', 'ota.programming-failure']);
      expect(r.findings.find((f) => f.rule === 'ota.programming-failure')!.evidence[0]).toMatchObject({ file: 'tcu.log', index: 1 });
      expect(r.files.find((f) => f.name === 'junk.bin')).toMatchObject({ status: 'failed', error: 'unrecognised format' });
      expect(r.files.map((f) => f.name).sort()).toEqual(['bundle.tar', 'bundle.tar/gw/a.log', 'bundle.tar/gw/b.log', 'ivi.log.gz', 'junk.bin', 'tcu.log']);
      expect(r.nrcs).toMatchObject([{ nrc: '0x72' }]);
      expect(r.dtcs).toMatchObject([{ code: 'P0301', confirmed: true }]);
      expect(r.summary.records).toBe(3 + 50 + 1 + 1);

      const detail = await api('GET', `/api/v1/batches/${id}`);
      expect((detail.body.files as unknown[]).length).toBe(6);

      // the log viewer: one file's error records, then a jump to a record index
      const files = detail.body.files as { file_id: string; name: string }[];
      const tcu = files.find((f) => f.name === 'tcu.log')!;
      const errors = await api('GET', `/api/v1/batches/${id}/files/${tcu.file_id}/records?level=error`);
      expect(errors.body).toMatchObject({ records: [{ index: 1, level: 'error', app: 'ota', payload: 'UDS rx 7F 36 72' }], next_offset: null });
      const jump = await api('GET', `/api/v1/batches/${id}/files/${tcu.file_id}/records?from_index=2&limit=1`);
      expect((jump.body.records as { index: number }[]).map((x) => x.index)).toEqual([2]);
      const badRe = await api('GET', `/api/v1/batches/${id}/files/${tcu.file_id}/records?regex=${encodeURIComponent('(a')}`);
      expect(badRe.status).toBe(400);
      expect(badRe.body.field).toBe('regex');

      // the event log, and a resume after the third event
      const events = await readSse(`${t.url}/api/v1/batches/${id}/events`, auth(), (evs) => evs.some((e) => e.event === 'status' && e.data.includes('completed')));
      expect(events.map((e) => e.event)).toContain('report');
      expect(events.filter((e) => e.event === 'file').length).toBeGreaterThanOrEqual(6);
      const resumed = await readSse(`${t.url}/api/v1/batches/${id}/events`, { ...auth(), 'last-event-id': String(events[2]!.id) }, (evs) => evs.length >= events.length - 3);
      expect(resumed.map((e) => e.id)).toEqual(events.slice(3).map((e) => e.id));
    });

    it('answers 100 concurrent readers of an uncached report with one database read', async () => {
      const id = (await api('POST', '/api/v1/batches', { vehicle_id: 'V-002', vin: 'VIN2' })).body.batch_id as string;
      await upload(id, 'a.log', Buffer.from(ERROR_LOG));
      await api('POST', `/api/v1/batches/${id}/complete`);
      await waitFor(id, 'completed');
      const readsBefore = await dbReads(t.url);
      const answers = await Promise.all(Array.from({ length: 100 }, () => api('GET', `/api/v1/batches/${id}/report`)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect((await dbReads(t.url)) - readsBefore).toBe(1);
    });

    it('refuses to complete an empty batch, naming why, and validates bodies without coercion', async () => {
      const id = (await api('POST', '/api/v1/batches', { vehicle_id: 'V-003', vin: 'VIN3' })).body.batch_id as string;
      const empty = await api('POST', `/api/v1/batches/${id}/complete`);
      expect(empty.status).toBe(409);
      expect(String(empty.body.message)).toMatch(/no files/);
      const missing = await api('POST', '/api/v1/batches', { vin: 'X' });
      expect(missing.status).toBe(400);
      expect(missing.body.field).toBe('vehicle_id');
      const wrongType = await api('POST', '/api/v1/batches', { vehicle_id: 123, vin: 'X' });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body.field).toBe('vehicle_id');
      expect((await api('GET', '/api/v1/batches/not-a-uuid/progress')).status).toBe(400);
      expect((await api('GET', '/api/v1/batches/00000000-0000-4000-8000-000000000000/progress')).status).toBe(404);
    });

    it('lists batches newest first with a cursor and filters', async () => {
      const first = await api('GET', '/api/v1/batches?limit=2');
      expect((first.body.batches as unknown[]).length).toBe(2);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      const second = await api('GET', `/api/v1/batches?limit=2&cursor=${first.body.next_cursor as string}`);
      const ids = [...(first.body.batches as { batch_id: string }[]), ...(second.body.batches as { batch_id: string }[])].map((b) => b.batch_id);
      expect(new Set(ids).size).toBe(ids.length);
      const byVehicle = await api('GET', '/api/v1/batches?vehicle_id=V-002');
      expect((byVehicle.body.batches as { vehicle_id: string }[]).map((b) => b.vehicle_id)).toEqual(['V-002']);
      expect((await api('GET', '/api/v1/batches?cursor=garbage')).status).toBe(400);
    });
  });
}

async function dbReads(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^vigil_batch_report_reads_total\{source="database"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

interface SseEvent {
  id?: number;
  event: string;
  data: string;
}

/** Read an SSE stream until `enough` says so (bounded by a deadline), then hang up. */
async function readSse(url: string, headers: Record<string, string>, enough: (evs: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 20_000);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { headers, signal: ac.signal });
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString();
      let sep: number;
      while ((sep = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, sep);
        buf = buf.slice(sep + 2);
        const ev: SseEvent = { event: 'message', data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) ev.id = Number(line.slice(4));
          else if (line.startsWith('event: ')) ev.event = line.slice(7);
          else if (line.startsWith('data: ')) ev.data += line.slice(6);
        }
        if (ev.id !== undefined) events.push(ev);
      }
      if (enough(events)) break;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}
