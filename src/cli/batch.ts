/**
 * `vigil batch upload|list|show|report|watch|retry|rules`: clients of the batches API.
 * `upload` walks directories, streams files in parallel with a progress bar, completes the batch,
 * follows its events to the report and prints the report's summary.
 */
import { createReadStream, type Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { BatchReport } from '../batches/report.js';
import type { BatchDetailT, BatchSummaryT, ProgressT } from '../batches/schemas.js';
import { DEFAULT_RULES_YAML } from '../batches/diagnose/default-rules.js';
import { UsageError, examples } from './common.js';
import { apiClient, table, withClientOptions, type ApiClient, type ClientOpts } from './client.js';

/** Where output goes (tests replace it). */
export const io = {
  out: (s: string) => void process.stdout.write(s),
  err: (s: string) => void process.stderr.write(s),
  isTTY: () => !!process.stderr.isTTY,
};

/** Exit codes of `upload` and `watch`: 0 completed with no critical finding, 3 completed with one, 1 failed. */
export const EXIT_CRITICAL = 3;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const batchId = (v: string) => {
  if (!UUID.test(v)) throw new UsageError(`batch id must be a UUID, got "${v}"`);
  return v.toLowerCase();
};

interface UploadOpts extends ClientOpts {
  vehicleId: string;
  vin: string;
  label?: string[];
  parallel: string;
  wait: boolean;
}

/** Files under the given paths (directories walked, hidden entries skipped), sorted per directory. */
export async function collectFiles(paths: string[]): Promise<{ path: string; name: string; size: number }[]> {
  const out: { path: string; name: string; size: number }[] = [];
  const walk = async (p: string, rel: string) => {
    let s: Stats;
    try {
      s = await stat(p);
    } catch {
      throw new UsageError(`no such file or directory: ${p}`);
    }
    if (s.isDirectory()) {
      const entries = (await readdir(p)).filter((e) => !e.startsWith('.')).sort();
      for (const e of entries) await walk(path.join(p, e), rel ? `${rel}/${e}` : e);
    } else if (s.isFile()) out.push({ path: p, name: rel || path.basename(p), size: s.size });
  };
  for (const p of paths) await walk(p, '');
  return out;
}

async function followToEnd(api: ApiClient, id: string, onProgress: (p: { processed: number; failed: number; total: number; status: string }) => void): Promise<string> {
  const ac = new AbortController();
  let status = 'unknown';
  try {
    for await (const ev of api.events(`/api/v1/batches/${id}/events`, ac.signal)) {
      if (ev.event === 'progress') {
        const p = JSON.parse(ev.data) as { total_files: number; processed_files: number; failed_files: number; status: string };
        onProgress({ processed: p.processed_files, failed: p.failed_files, total: p.total_files, status: p.status });
      } else if (ev.event === 'status') {
        status = (JSON.parse(ev.data) as { status: string }).status;
        if (status === 'completed' || status === 'failed') break;
      }
    }
  } finally {
    ac.abort();
  }
  return status;
}

function printReport(r: BatchReport): void {
  const s = r.summary;
  io.out(`batch ${r.batch.batch_id}  vehicle ${r.batch.vehicle_id}  VIN ${r.batch.vin}\n`);
  io.out(`${s.files} files (${s.failed_files} failed), ${s.records} records, ${s.errors} errors, ${s.fatals} fatal\n`);
  io.out(`${s.headline}\n\n`);
  if (r.findings.length) {
    io.out(table(['SEVERITY', 'COUNT', 'FINDING', 'FIRST EVIDENCE'], r.findings.map((f) => [f.severity, String(f.count), f.title, f.evidence[0] ? `${f.evidence[0].file}#${f.evidence[0].index}` : ''])));
    io.out('\n');
  }
  const failed = r.files.filter((f) => f.status === 'failed');
  if (failed.length) io.out(`${table(['FAILED FILE', 'REASON'], failed.map((f) => [f.name, f.error ?? '']))}\n`);
  if (r.llm.status === 'ok') io.out(`Summary (${r.llm.model}):\n${r.llm.text}\n`);
  else if (r.llm.status === 'failed') io.out(`LLM summary unavailable: ${r.llm.reason}\n`);
}

const exitFor = (status: string, r?: BatchReport) => (status === 'failed' ? 1 : r && r.findings.some((f) => f.severity === 'critical') ? EXIT_CRITICAL : 0);

export function registerBatchCommands(program: Command): void {
  const batch = program.command('batch').description('Log batches: upload vehicle logs (DLT, text, archives), follow their diagnosis, read reports');

  const upload = withClientOptions(batch.command('upload').description('Create a batch, upload files and directories, complete it and follow it to its report'))
    .argument('<paths...>', 'files or directories (archives are expanded by the server)')
    .requiredOption('--vehicle-id <id>', 'vehicle (or device) identifier')
    .requiredOption('--vin <vin>', 'vehicle identification number')
    .option('--label <key=value>', 'label the batch (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--parallel <n>', 'uploads at once', '4')
    .option('--no-wait', 'return after completing the upload instead of following it to the report')
    .action(async (paths: string[], opts: UploadOpts) => {
      const parallel = Number(opts.parallel);
      if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new UsageError(`--parallel must be an integer 1–64, got "${opts.parallel}"`);
      const labels: Record<string, string> = {};
      for (const l of opts.label ?? []) {
        const i = l.indexOf('=');
        if (i <= 0) throw new UsageError(`--label expects key=value, got "${l}"`);
        labels[l.slice(0, i)] = l.slice(i + 1);
      }
      const files = await collectFiles(paths);
      if (files.length === 0) throw new UsageError('no files found under the given paths');
      const { api } = apiClient(opts);
      const created = await api.call<{ batch_id: string }>('POST', '/api/v1/batches', { vehicle_id: opts.vehicleId, vin: opts.vin, ...(Object.keys(labels).length ? { labels } : {}) });
      const id = created.body.batch_id;
      io.err(`batch ${id}: uploading ${files.length} file${files.length === 1 ? '' : 's'}\n`);
      const totalBytes = files.reduce((a, f) => a + f.size, 0);
      const bar = io.isTTY() && !opts.json ? new cliProgress.SingleBar({ format: 'upload   [{bar}] {percentage}% | {value}/{total} bytes | {files}', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
      bar?.start(totalBytes, 0, { files: `0/${files.length} files` });
      let sent = 0;
      let done = 0;
      const queue = [...files];
      const worker = async () => {
        for (let f = queue.shift(); f; f = queue.shift()) {
          const counter = new Transform({
            transform(chunk: Buffer, _e, cb) {
              sent += chunk.length;
              bar?.update(sent);
              cb(null, chunk);
            },
          });
          const body = createReadStream(f.path).pipe(counter);
          await api.upload(`/api/v1/batches/${id}/files?name=${encodeURIComponent(f.name)}`, body, f.size);
          done++;
          bar?.update(sent, { files: `${done}/${files.length} files` });
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(parallel, files.length) }, worker));
      } finally {
        bar?.stop();
      }
      await api.call('POST', `/api/v1/batches/${id}/complete`);
      if (!opts.wait) {
        io.out(opts.json ? JSON.stringify({ batch_id: id, status: 'scattering' }) + '\n' : `${id}\n`);
        return;
      }
      const status = await follow(api, id, !!opts.json);
      process.exitCode = await finish(api, id, status, !!opts.json);
    });
  examples(upload, [
    'vigil batch upload --vehicle-id car-17 --vin WVWZZZ1JZXW000001 ./logs/',
    'vigil batch upload --vehicle-id car-17 --vin WVWZZZ1JZXW000001 trace.dlt syslog.gz bundle.tar.gz --json',
  ]);

  withClientOptions(batch.command('list').description('Batches, newest first'))
    .option('--vehicle-id <id>', 'only this vehicle')
    .option('--vin <vin>', 'only this VIN')
    .option('--status <status>', 'only this status')
    .option('--limit <n>', 'at most this many', '20')
    .action(async (opts: ClientOpts & { vehicleId?: string; vin?: string; status?: string; limit: string }) => {
      const { api } = apiClient(opts);
      const q = new URLSearchParams({ limit: opts.limit });
      if (opts.vehicleId) q.set('vehicle_id', opts.vehicleId);
      if (opts.vin) q.set('vin', opts.vin);
      if (opts.status) q.set('status', opts.status);
      const res = await api.call<{ batches: BatchSummaryT[] }>('GET', `/api/v1/batches?${q}`);
      if (opts.json) return io.out(JSON.stringify(res.body) + '\n');
      io.out(
        table(
          ['BATCH', 'VEHICLE', 'VIN', 'STATUS', 'FILES', 'PROGRESS', 'CREATED'],
          res.body.batches.map((b) => [b.batch_id, b.vehicle_id, b.vin, b.status, `${b.processed_files + b.failed_files}/${b.total_files}`, `${b.progress_percent}%`, new Date(b.created_at).toISOString()]),
        ),
      );
    });

  withClientOptions(batch.command('show').description('A batch and its files'))
    .argument('<batch-id>')
    .action(async (id: string, opts: ClientOpts) => {
      const { api } = apiClient(opts);
      const res = await api.call<BatchDetailT>('GET', `/api/v1/batches/${batchId(id)}`);
      if (res.status === 404) throw new UsageError(`no batch ${id}`);
      const b = res.body;
      if (opts.json) return io.out(JSON.stringify(b) + '\n');
      io.out(`batch ${b.batch_id}  vehicle ${b.vehicle_id}  VIN ${b.vin}  ${b.status} ${b.progress_percent}%${b.error ? `  (${b.error})` : ''}\n\n`);
      io.out(table(['FILE', 'FORMAT', 'STATUS', 'SIZE', 'RECORDS', 'ERRORS', 'REASON'], b.files.map((f) => [f.name, f.format ?? '', f.status, String(f.size), String(f.records), String(f.errors), f.error ?? ''])));
    });

  withClientOptions(batch.command('report').description("A completed batch's diagnosis report"))
    .argument('<batch-id>')
    .action(async (id: string, opts: ClientOpts) => {
      const { api } = apiClient(opts);
      const res = await api.call<BatchReport>('GET', `/api/v1/batches/${batchId(id)}/report`).catch((err) => {
        if ((err as { status?: number }).status === 409) throw new UsageError((err as Error).message);
        throw err;
      });
      if (res.status === 404) throw new UsageError(`no batch ${id}`);
      if (opts.json) return io.out(JSON.stringify(res.body) + '\n');
      printReport(res.body);
    });

  withClientOptions(batch.command('watch').description('Follow a batch live until it completes or fails, then print its report'))
    .argument('<batch-id>')
    .action(async (id: string, opts: ClientOpts) => {
      const { api } = apiClient(opts);
      const status = await follow(api, batchId(id), !!opts.json);
      process.exitCode = await finish(api, batchId(id), status, !!opts.json);
    });

  withClientOptions(batch.command('retry').description('Parse the failed files of a failed batch again, or re-diagnose a completed one'))
    .argument('<batch-id>')
    .action(async (id: string, opts: ClientOpts) => {
      const { api } = apiClient(opts);
      const res = await api.call<{ message: string; status: string }>('POST', `/api/v1/batches/${batchId(id)}/retry`);
      if (res.status === 404) throw new UsageError(`no batch ${id}`);
      io.out(opts.json ? JSON.stringify(res.body) + '\n' : `${res.body.message}\n`);
    });

  batch
    .command('rules')
    .description('Print the shipped diagnosis rules (a diagnosis.rulesFile adds to or overrides them by id)')
    .action(() => io.out(DEFAULT_RULES_YAML));
}

async function follow(api: ApiClient, id: string, json: boolean): Promise<string> {
  const bar = io.isTTY() && !json ? new cliProgress.SingleBar({ format: 'process  [{bar}] {value}/{total} files | {status}', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
  const start = await api.call<ProgressT>('GET', `/api/v1/batches/${id}/progress`);
  if (start.status === 404) throw new UsageError(`no batch ${id}`);
  if (start.body.status === 'completed' || start.body.status === 'failed') return start.body.status;
  bar?.start(Math.max(1, start.body.total_files), 0, { status: start.body.status });
  try {
    return await followToEnd(api, id, (p) => {
      bar?.setTotal(Math.max(1, p.total));
      bar?.update(p.processed + p.failed, { status: p.status });
    });
  } finally {
    bar?.stop();
  }
}

async function finish(api: ApiClient, id: string, status: string, json: boolean): Promise<number> {
  if (status !== 'completed') {
    const p = await api.call<ProgressT & { error?: string }>('GET', `/api/v1/batches/${id}`);
    io.out(json ? JSON.stringify(p.body) + '\n' : `batch ${id} ${status}${(p.body as { error?: string }).error ? `: ${(p.body as { error?: string }).error}` : ''}\n`);
    return exitFor(status);
  }
  const r = await api.call<BatchReport>('GET', `/api/v1/batches/${id}/report`);
  if (json) io.out(JSON.stringify(r.body) + '\n');
  else printReport(r.body);
  return exitFor(status, r.body);
}
