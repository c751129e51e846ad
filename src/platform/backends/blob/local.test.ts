import { mkdirSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from './local.js';
import { BlobTooLarge } from './types.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
}

describe('LocalBlobStore on disk', () => {
  const dirs: string[] = [];
  const fresh = () => dirs[dirs.push(mkdtempSync(path.join(tmpdir(), 'vigil-blob-unit-'))) - 1];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('keeps "a" and "a/b" apart and prunes directories a delete empties', async () => {
    const root = fresh();
    const blob = await LocalBlobStore.open(root);
    await blob.put('a', Readable.from([Buffer.from('file a')]));
    await blob.put('a/b', Readable.from([Buffer.from('file a/b')]));
    expect(filesUnder(root).sort()).toEqual(['a.dir/b.obj', 'a.obj']);
    expect(await blob.delete('a/b')).toBe(true);
    expect(readdirSync(root)).toEqual(['a.obj']);
  });

  it('removes uploads a crash left behind once they are stale, and keeps fresh ones', async () => {
    const root = fresh();
    mkdirSync(path.join(root, 'a.dir'), { recursive: true });
    const stale = path.join(root, 'a.dir', '.x.0123456789ab.tmp');
    const live = path.join(root, '.y.ba9876543210.tmp');
    writeFileSync(stale, 'partial');
    writeFileSync(live, 'in progress');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);
    const blob = await LocalBlobStore.open(root);
    await blob.close();
    expect(filesUnder(root)).toEqual(['.y.ba9876543210.tmp']);
  });

  it('writes the body to disk while it streams in, not after holding it whole', async () => {
    const root = fresh();
    const blob = await LocalBlobStore.open(root);
    let onDiskAt16MiB = -1;
    const source = Readable.from(
      (async function* () {
        for (let i = 0; i < 24; i++) {
          if (i === 16) {
            const tmp = readdirSync(path.join(root, 'big.dir')).find((n) => n.endsWith('.tmp'))!;
            onDiskAt16MiB = statSync(path.join(root, 'big.dir', tmp)).size;
          }
          yield Buffer.alloc(1024 * 1024, i);
        }
      })(),
    );
    expect(await blob.put('big/file', source)).toMatchObject({ size: 24 * 1024 * 1024 });
    // All but the write batch still being gathered (1 MiB) and what the stream buffers (16 KiB) is on disk.
    expect(onDiskAt16MiB).toBeGreaterThanOrEqual(14 * 1024 * 1024);
  });

  it('leaves no temp file behind when a put fails', async () => {
    const root = fresh();
    const blob = await LocalBlobStore.open(root);
    await expect(blob.put('x/too-big', Readable.from([Buffer.alloc(2048)]), { maxBytes: 1024 })).rejects.toBeInstanceOf(BlobTooLarge);
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(100);
        throw new Error('boom');
      })(),
    );
    await expect(blob.put('x/broken', failing)).rejects.toThrow('boom');
    expect(filesUnder(root)).toEqual([]);
  });
});
