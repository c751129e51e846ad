/**
 * Blob store throughput: put and get of one 256 MiB file through the blob port, on the local
 * directory and on S3 (s3rver on loopback, in its own process), beside peers measured in the same run:
 *  - a plain fs copy of the same file (read stream → write stream → fsync; read stream drained for get);
 *  - for S3, the same SDK without the port (lib-storage `Upload` of the file, `GetObject` drained), so
 *    the port's own cost (sha256 on the way, metadata copy after a multipart upload) shows.
 *
 *   npx tsx bench/blob.ts            (BLOB_BENCH_MIB=64 for a quicker run)
 *
 * Each contender runs ROUNDS times, interleaved; a row is the best round (wall time: the work is I/O
 * and hashing across threads and processes). MiB/s = file size / seconds. Ratios: ours / peer.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { LocalBlobStore, type BlobStore } from '../src/platform/backends/blob/index.js';
import { S3BlobStore } from '../src/platform/backends/blob/s3.js';
import { startLocalS3 } from '../test/support/s3rver.js';
import { isMain, report, round, type Row } from './lib/report.js';

const MIB = 1024 * 1024;
const SIZE_MIB = Number(process.env.BLOB_BENCH_MIB ?? 256);
const ROUNDS = Number(process.env.BLOB_BENCH_ROUNDS ?? 2);

const drain = () =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** A file of SIZE_MIB: one random MiB repeated (incompressible enough, cheap to make). */
async function makeSource(dir: string): Promise<string> {
  const file = path.join(dir, 'source.bin');
  const block = randomBytes(MIB);
  const fh = await open(file, 'w');
  for (let i = 0; i < SIZE_MIB; i++) await fh.write(block, 0, MIB, i * MIB);
  await fh.sync();
  await fh.close();
  return file;
}

async function fsCopy(src: string, dst: string): Promise<void> {
  await pipeline(createReadStream(src), createWriteStream(dst));
  const fh = await open(dst, 'r+');
  await fh.sync();
  await fh.close();
}

export async function run(): Promise<Row[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vigil-bench-blob-'));
  const s3server = await startLocalS3('vigil-bench');
  const stores: BlobStore[] = [];
  try {
    const src = await makeSource(dir);
    const local = await LocalBlobStore.open(path.join(dir, 'blobs'));
    const s3 = await S3BlobStore.open(s3server.url('bench'), {});
    stores.push(local, s3);
    const raw = new S3Client({
      region: 'us-east-1',
      endpoint: s3server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });

    const contenders: Record<string, { put: () => Promise<unknown>; get: () => Promise<unknown> }> = {
      'plain fs copy': {
        put: () => fsCopy(src, path.join(dir, 'copy.bin')),
        get: () => pipeline(createReadStream(path.join(dir, 'copy.bin')), drain()),
      },
      'blob port: local': {
        put: () => local.put('bench/file.bin', createReadStream(src)),
        get: async () => pipeline(await local.get('bench/file.bin'), drain()),
      },
      'S3 SDK alone (s3rver)': {
        put: () =>
          new Upload({
            client: raw,
            params: { Bucket: s3server.bucket, Key: 'raw/file.bin', Body: createReadStream(src) },
            partSize: 8 * MIB,
            queueSize: 4,
          }).done(),
        get: async () => {
          const res = await raw.send(new GetObjectCommand({ Bucket: s3server.bucket, Key: 'raw/file.bin' }));
          await pipeline(res.Body as NodeJS.ReadableStream, drain());
        },
      },
      'blob port: s3 (s3rver)': {
        put: () => s3.put('file.bin', createReadStream(src)),
        get: async () => pipeline(await s3.get('file.bin'), drain()),
      },
    };

    const best: Record<string, { put: number; get: number }> = {};
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, c] of Object.entries(contenders)) {
        const put = await timed(c.put);
        const get = await timed(c.get);
        const b = (best[name] ??= { put: Infinity, get: Infinity });
        b.put = Math.min(b.put, put);
        b.get = Math.min(b.get, get);
      }
    }
    raw.destroy();

    const mibps = (s: number) => SIZE_MIB / s;
    const fs = best['plain fs copy'];
    const sdk = best['S3 SDK alone (s3rver)'];
    const rows: Row[] = Object.entries(best).map(([name, b]) => ({
      contender: name,
      'put MiB/s': round(mibps(b.put)),
      'get MiB/s': round(mibps(b.get)),
      'put / fs copy': `${round(fs.put / b.put, 2)}×`,
      'get / fs read': `${round(fs.get / b.get, 2)}×`,
      'put / SDK alone': name.includes('s3') ? `${round(sdk.put / b.put, 2)}×` : '',
      'get / SDK alone': name.includes('s3') ? `${round(sdk.get / b.get, 2)}×` : '',
    }));
    return report('blob', `Blob store, one ${SIZE_MIB} MiB file, best of ${ROUNDS} rounds (wall time)`, rows);
  } finally {
    for (const s of stores) await s.close();
    await s3server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) await run();
