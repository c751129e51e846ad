/**
 * Members of .tar, .tar.gz and .zip uploads. Each member is streamed into the blob store as a file
 * of its own (the caller decides the key), with caps on member count and on the bytes expanded, so
 * a zip bomb fails as a clear per-file error instead of filling a disk.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import yauzl from 'yauzl';

export interface ArchiveLimits {
  maxMembers: number;
  /** Bytes expanded over all members. */
  maxExpandedBytes: number;
}

/** A problem with the archive that retrying cannot fix: the file fails with this reason. */
export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

/** Called once per regular file member, in archive order; must consume `body`. */
export type MemberSink = (name: string, body: Readable, index: number) => Promise<void>;

/** A display name that cannot climb out of anywhere: no absolute paths, no `..`, no backslashes. */
export function safeMemberName(name: string): string {
  const parts = name.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.' && p !== '..');
  const joined = [...parts.join('/')].filter((c) => c.charCodeAt(0) >= 0x20).join('');
  return (joined || 'unnamed').slice(0, 512);
}

/** Counts expanded bytes across members and fails the stream past the cap. */
class ExpansionMeter {
  expanded = 0;
  constructor(private readonly limits: ArchiveLimits) {}
  meter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.expanded += chunk.length;
        if (this.expanded > this.limits.maxExpandedBytes) cb(new ArchiveError(`archive expands to more than ${this.limits.maxExpandedBytes} bytes`));
        else cb(null, chunk);
      },
    });
  }
}

export async function readTar(source: Readable, limits: ArchiveLimits, sink: MemberSink): Promise<number> {
  const extract = tar.extract();
  const meter = new ExpansionMeter(limits);
  let index = 0;
  const done = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      if (h.type !== 'file' && h.type !== 'contiguous-file') {
        entry.resume();
        continue;
      }
      if (index >= limits.maxMembers) {
        entry.resume();
        throw new ArchiveError(`archive has more than ${limits.maxMembers} files`);
      }
      const body = entry.pipe(meter.meter());
      entry.on('error', (e) => body.destroy(e));
      await sink(safeMemberName(h.name), body, index++);
    }
  })();
  await Promise.all([pipeline(source, extract).catch((err) => Promise.reject(asArchiveError(err, 'tar'))), done]);
  return index;
}

/**
 * zip needs its central directory at the end, so the upload is spooled to a temporary file first
 * (bounded by the upload's own size limit), then read member by member.
 */
export async function readZip(source: Readable, limits: ArchiveLimits, sink: MemberSink): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vigil-zip-'));
  const file = path.join(dir, 'upload.zip');
  try {
    await pipeline(source, createWriteStream(file, { mode: 0o600 }));
    const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true }, (err, z) => (err ? reject(asArchiveError(err, 'zip')) : resolve(z!))),
    );
    try {
      return await new Promise<number>((resolve, reject) => {
        const meter = new ExpansionMeter(limits);
        let index = 0;
        zip.on('error', (err) => reject(asArchiveError(err, 'zip')));
        zip.on('end', () => resolve(index));
        zip.on('entry', (entry: yauzl.Entry) => {
          if (entry.fileName.endsWith('/')) return zip.readEntry();
          if (index >= limits.maxMembers) return reject(new ArchiveError(`archive has more than ${limits.maxMembers} files`));
          if (meter.expanded + entry.uncompressedSize > limits.maxExpandedBytes) return reject(new ArchiveError(`archive expands to more than ${limits.maxExpandedBytes} bytes`));
          zip.openReadStream(entry, (err, stream) => {
            if (err || !stream) return reject(asArchiveError(err ?? new Error('no stream'), 'zip'));
            const body = new PassThrough();
            stream.on('error', (e) => body.destroy(asArchiveError(e, 'zip')));
            stream.pipe(meter.meter()).on('error', (e) => body.destroy(e)).pipe(body);
            sink(safeMemberName(entry.fileName), body, index++).then(
              () => zip.readEntry(),
              (e) => reject(e),
            );
          });
        });
        zip.readEntry();
      });
    } finally {
      zip.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function asArchiveError(err: unknown, kind: string): Error {
  if (err instanceof ArchiveError) return err;
  const e = err as Error;
  // I/O failures of the blob store are not the archive's fault: let the job retry them.
  if ((e as { code?: string }).code === 'unavailable') return e;
  return new ArchiveError(`not a readable ${kind} archive: ${e.message}`);
}

