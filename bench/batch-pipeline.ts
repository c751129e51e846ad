/**
 * Batch pipeline benchmark. End-to-end part in lib/batch-e2e.ts (1 GB in 100 files, two workers).
 * Decode part (`benchDltDecode`): our streaming DLT decoder +
 * dlt-convert-equal text rendering (`vigil dlt convert -a`'s code path) against Debian's
 * `dlt-convert -a` on the same ~200 MB file, in the same run, output to /dev/null.
 *
 *   npx tsx bench/batch-pipeline.ts
 *   VIGIL_BENCH_DLT_MB=50 npx tsx bench/batch-pipeline.ts          # smaller file
 *   node --import tsx --cpu-prof bench/batch-pipeline.ts --decode-child FILE ascii   # profile ours
 *
 * Each contender runs as its own process under /usr/bin/time: CPU time (user + sys, the figure
 * that stays meaningful on a loaded machine) and peak RSS of the whole process. Our process
 * also reports the CPU time of the decode itself ("decode cpu s"): running TypeScript through
 * tsx costs ~1 s of start-up CPU and ~100 MB RSS that a built `vigil` does not pay, shown in the
 * "start-up only" row (an empty file). dlt-convert's start-up is negligible, so its decode CPU is
 * its process CPU. "ours/peer" compares decode CPU throughput (> 1: we are faster).
 * Contenders alternate; each row is the best of its rounds.
 *
 * The file is generated: a pool of realistic records (verbose logs with strings and numbers,
 * non-verbose messages, control responses, raw data) repeated to the target size.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, openSync, closeSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRecord, type EncodeArg } from '../src/batches/dlt/index.js';
import { convertDltFile, type DltConvertMode } from '../src/cli/dlt.js';
import { isMain, report, round, type Row } from './lib/report.js';
import { benchBatchEndToEnd } from './lib/batch-e2e.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DLT_CONVERT = '/usr/bin/dlt-convert';
const TIME = '/usr/bin/time';

/** A pool of varied records, deterministic. */
function recordPool(): Buffer[] {
  const apps = ['DIAG', 'OTA', 'NAV', 'ECUM', 'COM'];
  const words = ['flash block', 'request download', 'transfer data', 'routine control', 'session change', 'seed received', 'timeout waiting for', 'CAN frame', 'voltage', 'temperature'];
  const pool: Buffer[] = [];
  let t = 1_000_000;
  for (let i = 0; i < 4096; i++) {
    t += 37 + (i % 91);
    const base = {
      seconds: 1_700_000_000 + (i >> 4),
      microseconds: (i * 7919) % 1_000_000,
      counter: i & 0xff,
      timestamp: t,
      sessionId: i % 3 === 0 ? 4242 : undefined,
    };
    const app = apps[i % apps.length];
    const kind = i % 20;
    if (kind < 12) {
      const args: EncodeArg[] = [{ type: 'string', value: `${words[i % words.length]} ${i} of ${app.toLowerCase()} sequence, status nominal` }];
      if (kind % 3 === 0) args.push({ type: 'int', bits: 32, value: i * 31 }, { type: 'int', signed: true, bits: 16, value: -(i % 500) });
      if (kind % 4 === 1) args.push({ type: 'float', bits: 64, value: i / 7 });
      pool.push(encodeRecord({ ...base, extended: { apid: app, ctid: 'MAIN', subtype: 1 + (i % 6) }, args }));
    } else if (kind < 15) {
      pool.push(encodeRecord({ ...base, extended: { apid: app, ctid: 'UDS', subtype: 4 }, args: [{ type: 'string', value: 'rx' }, { type: 'raw', value: Buffer.from([0x7f, 0x34, 0x70 + (i % 8), i & 0xff]) }, { type: 'int', bits: 8, value: i & 0xff, coding: 'hex' }] }));
    } else if (kind < 18) {
      const payload = Buffer.alloc(4 + 24);
      payload.writeUInt32LE(1000 + (i % 50));
      for (let j = 4; j < payload.length; j++) payload[j] = (i * j) & 0xff;
      pool.push(encodeRecord({ ...base, extended: { apid: app, ctid: 'NV', verbose: false, subtype: 4 }, payload }));
    } else if (kind < 19) {
      pool.push(encodeRecord({ ...base, extended: { apid: 'DA1', ctid: 'DC1', verbose: false, type: 3, subtype: 2, noar: 1 }, payload: Buffer.from([0x13, 0, 0, 0, 0, 5, 0, 0, 0, 0x76, 0x31, 0x2e, 0x30, 0]) }));
    } else {
      pool.push(encodeRecord({ ...base, extended: { apid: app, ctid: 'BIG', subtype: 5 }, args: [{ type: 'string', value: 'dump ' + 'x'.repeat(300 + (i % 700)) }] }));
    }
  }
  return pool;
}

/** Write a DLT file of about `bytes` bytes; returns its size and record count. */
export function generateDltFile(file: string, bytes: number): { size: number; records: number } {
  const pool = recordPool();
  const fd = openSync(file, 'w');
  let size = 0;
  let records = 0;
  try {
    while (size < bytes) {
      const block: Buffer[] = [];
      let blockSize = 0;
      for (let i = 0; i < pool.length && size + blockSize < bytes; i++) {
        block.push(pool[i]);
        blockSize += pool[i].length;
      }
      writeSync(fd, Buffer.concat(block));
      size += blockSize;
      records += block.length;
    }
  } finally {
    closeSync(fd);
  }
  return { size, records };
}

type Measured = { wallS: number; cpuS: number; maxRssMB: number; decodeCpuS: number };

/** Run a command under /usr/bin/time with stdout to /dev/null. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Measured {
  const devnull = openSync('/dev/null', 'w');
  try {
    const r = spawnSync(TIME, ['-f', 'VIGIL_TIME %e %U %S %M', cmd, ...args], { stdio: ['ignore', devnull, 'pipe'], env, cwd: path.resolve(here, '..'), maxBuffer: 1 << 26 });
    const err = r.stderr.toString();
    const m = /VIGIL_TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(err);
    if (r.status !== 0 || !m) throw new Error(`${cmd} failed (status ${r.status}): ${err.slice(-500)}`);
    const cpuS = Number(m[2]) + Number(m[3]);
    const child = /VIGIL_DECODE_CPU ([\d.]+)/.exec(err);
    return { wallS: Number(m[1]), cpuS, maxRssMB: Number(m[4]) / 1024, decodeCpuS: child ? Number(child[1]) : cpuS };
  } finally {
    closeSync(devnull);
  }
}

/** Child mode: the `vigil dlt convert` code path on FILE, output to /dev/null. */
async function decodeChild(file: string, mode: DltConvertMode): Promise<void> {
  const start = process.cpuUsage();
  const out = createWriteStream('/dev/null');
  await convertDltFile(file, out, { mode, filters: [] });
  await new Promise<void>((resolve) => out.end(resolve));
  const used = process.cpuUsage(start);
  process.stderr.write(`VIGIL_DECODE_CPU ${(used.user + used.system) / 1e6}\n`);
}

export async function benchDltDecode(targetMB = Number(process.env.VIGIL_BENCH_DLT_MB ?? 200), rounds = 2): Promise<Row[]> {
  if (!existsSync(TIME)) throw new Error(`${TIME} is needed to measure CPU time and peak RSS of both contenders`);
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-dlt-'));
  try {
    const file = path.join(dir, 'bench.dlt');
    const { records } = generateDltFile(file, targetMB * 1024 * 1024);
    const mb = statSync(file).size / (1024 * 1024);
    const self = fileURLToPath(import.meta.url);
    const empty = path.join(dir, 'empty.dlt');
    writeFileSync(empty, '');
    const contenders: { name: string; run: () => Measured }[] = [
      { name: 'start-up only (node + tsx, empty file)', run: () => timed(process.execPath, ['--import', 'tsx', self, '--decode-child', empty, 'ascii']) },
      { name: 'vigil dlt convert -a (decode + render)', run: () => timed(process.execPath, ['--import', 'tsx', self, '--decode-child', file, 'ascii']) },
      { name: 'vigil decode + headers only (-s)', run: () => timed(process.execPath, ['--import', 'tsx', self, '--decode-child', file, 'headers']) },
    ];
    if (existsSync(DLT_CONVERT)) {
      contenders.push({ name: 'dlt-convert -a (Debian dlt-tools)', run: () => timed(DLT_CONVERT, ['-a', file], { ...process.env, TZ: 'UTC' }) });
    } else console.warn(`[bench] ${DLT_CONVERT} not found (Debian dlt-tools): no peer row`);
    const best = new Map<string, Measured>();
    for (let r = 0; r < rounds; r++) {
      for (const c of contenders) {
        const m = c.run();
        const prev = best.get(c.name);
        if (!prev || m.decodeCpuS < prev.decodeCpuS) best.set(c.name, { ...m, maxRssMB: Math.max(m.maxRssMB, prev?.maxRssMB ?? 0) });
      }
    }
    const peer = best.get('dlt-convert -a (Debian dlt-tools)');
    const rows: Row[] = contenders.map((c) => {
      const m = best.get(c.name)!;
      const startup = c.name.startsWith('start-up');
      return {
        contender: c.name,
        'file MB': startup ? 0 : round(mb, 1),
        records: startup ? 0 : records,
        'MB/s (decode cpu)': startup ? '' : round(mb / m.decodeCpuS, 1),
        'decode cpu s': round(m.decodeCpuS, 2),
        'process cpu s': round(m.cpuS, 2),
        'wall s': round(m.wallS, 2),
        'peak RSS MB': round(m.maxRssMB, 0),
        'ours/peer': peer && !startup ? `${round(peer.decodeCpuS / m.decodeCpuS, 2)}×` : '',
      };
    });
    return report('batch-pipeline-dlt-decode', `DLT decode: ours vs dlt-convert -a on the same ${round(mb, 0)} MB file`, rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  await benchDltDecode();
  report('batch-pipeline-e2e', 'A 1 GB batch of 100 DLT files: upload, then complete → report with 2 workers (vs dlt-convert -a on the same files)', await benchBatchEndToEnd(generateDltFile));
}

if (isMain(import.meta.url)) {
  if (process.argv[2] === '--decode-child') await decodeChild(process.argv[3], (process.argv[4] ?? 'ascii') as DltConvertMode);
  else await run();
}
