/**
 * End-to-end batch benchmark: a batch of ~1 GB in 100 DLT files, uploaded over HTTP to a server
 * that runs no consumers, parsed and diagnosed by two `vigil worker` processes (PostgreSQL +
 * NATS JetStream + a local blob directory), measured from complete to the completed report.
 * Peer in the same run: Debian `dlt-convert -a` converting the same 100 files one after another
 * (text only: no aggregation, no diagnosis). Also: peak RSS per worker, and database reads for
 * 100 concurrent readers of the fresh report.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRecord } from '../../src/batches/dlt/index.js';
import { loadConfig } from '../../src/config/load.js';
import { allModules } from '../../src/modules.js';
import { createServer } from '../../src/platform/runtime.js';
import { round, type Row } from './report.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function vmHwmMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function waitHttp(url: string, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error(`${url} did not answer within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function benchBatchEndToEnd(
  generate: (file: string, bytes: number) => unknown,
  opts: { files?: number; totalMB?: number; workers?: number } = {},
): Promise<Row[]> {
  const files = opts.files ?? Number(process.env.VIGIL_BENCH_BATCH_FILES ?? 100);
  const totalMB = opts.totalMB ?? Number(process.env.VIGIL_BENCH_BATCH_MB ?? 1024);
  const workers = opts.workers ?? 2;
  const pg = process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const nats = process.env.VIGIL_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-batch-'));
  const schema = `bench_${Date.now().toString(36)}`;
  const prefix = `bench-${Date.now().toString(36)}`;
  const children: ChildProcess[] = [];
  try {
    // One generated file, made distinct per copy by a leading record (the server stores equal content once).
    const base = path.join(dir, 'base.dlt');
    generate(base, Math.round((totalMB * 1024 * 1024) / files));
    const body = readFileSync(base);
    const paths: string[] = [];
    for (let i = 0; i < files; i++) {
      const head = encodeRecord({ seconds: 1_780_000_000 + i, ecu: 'BNCH', extended: { verbose: true, type: 0, subtype: 4, apid: 'BNCH', ctid: 'FILE' }, args: [{ type: 'string', value: `file ${i}` }] });
      const p = path.join(dir, `f${String(i).padStart(3, '0')}.dlt`);
      writeFileSync(p, Buffer.concat([head, body]));
      paths.push(p);
    }
    rmSync(base);
    const bytes = paths.reduce((a, p) => a + statSync(p).size, 0);

    const blobUrl = `file://${path.join(dir, 'blobs')}`;
    const flags = { 'server.port': 0, dataDir: path.join(dir, 'server'), 'log.level': 'warn', 'database.url': pg, 'nats.url': nats, 'nats.prefix': prefix, 'blob.url': blobUrl, 'worker.inProcess': false, 'auth.adminToken': 'bench-admin-token-0123456789', 'batches.demo': false };
    const config = loadConfig({ env: {}, flags });
    const server = await createServer(config, allModules(config), { pgSchema: schema });
    const url = await server.listen();
    const auth = { authorization: 'Bearer bench-admin-token-0123456789' };

    const pgWithSchema = `${pg}${pg.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    for (let w = 0; w < workers; w++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), 'worker', '--port', String(18090 + w), '--concurrency', '1', '--database-url', pgWithSchema, '--nats-url', nats, '--log-level', 'warn', '--data-dir', path.join(dir, `w${w}`), '--set', `blob.url=${blobUrl}`, '--set', `nats.prefix=${prefix}`],
        { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      children.push(child);
    }
    for (let w = 0; w < workers; w++) await waitHttp(`http://127.0.0.1:${18090 + w}/healthz`, 60_000);

    const created = (await (await fetch(`${url}/api/v1/batches`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ vehicle_id: 'bench', vin: 'BENCH' }) })).json()) as { batch_id: string };
    const id = created.batch_id;
    const up0 = performance.now();
    const queue = [...paths];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) {
          const res = await fetch(`${url}/api/v1/batches/${id}/files?name=${path.basename(p)}`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/octet-stream' },
            body: createReadStream(p) as unknown as BodyInit,
            duplex: 'half',
          } as RequestInit);
          if (res.status !== 201) throw new Error(`upload ${p}: ${res.status} ${await res.text()}`);
        }
      }),
    );
    const uploadS = (performance.now() - up0) / 1000;

    const t0 = performance.now();
    await fetch(`${url}/api/v1/batches/${id}/complete`, { method: 'POST', headers: auth });
    for (;;) {
      const p = (await (await fetch(`${url}/api/v1/batches/${id}/progress`, { headers: auth })).json()) as { status: string };
      if (p.status === 'completed' || p.status === 'failed') break;
      if (performance.now() - t0 > 15 * 60_000) throw new Error('batch did not complete within 15 minutes');
      await new Promise((r) => setTimeout(r, 250));
    }
    const processS = (performance.now() - t0) / 1000;
    const rss = children.map((c) => vmHwmMb(c.pid!));

    const readsBefore = await dbReads(url);
    await Promise.all(Array.from({ length: 100 }, () => fetch(`${url}/api/v1/batches/${id}/report`, { headers: auth }).then((r) => r.arrayBuffer())));
    const reads = (await dbReads(url)) - readsBefore;

    for (const c of children) c.kill('SIGTERM');
    await server.stop();

    const peer0 = performance.now();
    for (const p of paths) spawnSync('/usr/bin/dlt-convert', ['-a', p], { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, TZ: 'UTC' } });
    const peerS = (performance.now() - peer0) / 1000;
    const mb = bytes / 1024 / 1024;
    return [
      { contender: `vigil: ${workers} workers, complete → report`, files, MB: round(mb, 0), seconds: round(processS, 1), 'MB/s': round(mb / processS, 1), 'peak RSS/worker MB': round(Math.max(...rss), 0), 'vs peer': round(peerS / processS, 2) },
      { contender: 'vigil: upload (HTTP → blob store)', files, MB: round(mb, 0), seconds: round(uploadS, 1), 'MB/s': round(mb / uploadS, 1), 'peak RSS/worker MB': '', 'vs peer': '' },
      { contender: 'dlt-convert -a, one file after another', files, MB: round(mb, 0), seconds: round(peerS, 1), 'MB/s': round(mb / peerS, 1), 'peak RSS/worker MB': '', 'vs peer': 1 },
      { contender: `100 concurrent report reads → database reads`, files: '', MB: '', seconds: '', 'MB/s': '', 'peak RSS/worker MB': '', 'vs peer': reads },
    ];
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function dbReads(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^vigil_batch_report_reads_total\{source="database"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}
