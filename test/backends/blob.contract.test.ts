import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlobNotFound,
  BlobRangeNotSatisfiable,
  BlobTooLarge,
  InvalidBlobArgument,
  InvalidBlobKey,
  type BlobStore,
} from '../../src/platform/backends/blob/index.js';
import { blobCases } from '../support/backends.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** `total` pseudo-random bytes in 64 KiB chunks, generated as they are read; `digest` is filled once the last chunk left. */
function generated(total: number, seed = 1) {
  const hash = createHash('sha256');
  const out = { stream: undefined as unknown as Readable, digest: '', produced: 0 };
  let x = seed;
  out.stream = Readable.from(
    (function* () {
      while (out.produced < total) {
        const n = Math.min(64 * 1024, total - out.produced);
        const chunk = Buffer.allocUnsafe(n);
        for (let i = 0; i < n; i += 4) {
          x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
          chunk.writeUInt32LE(x, i);
        }
        hash.update(chunk);
        out.produced += n;
        if (out.produced === total) out.digest = hash.digest('hex');
        yield chunk;
      }
    })(),
  );
  return out;
}

/** Yields `good` bytes, then fails the way a dropped upload connection does. */
function failingAfter(good: number): Readable {
  return Readable.from(
    (async function* () {
      for (let sent = 0; sent < good; sent += MiB) yield Buffer.alloc(Math.min(MiB, good - sent), 7);
      throw new Error('client went away');
    })(),
  );
}

for (const c of blobCases()) {
  describe(`blob port contract: ${c.name}`, () => {
    let blob: BlobStore;
    beforeAll(async () => {
      blob = await c.open();
    }, 30_000);
    afterAll(async () => {
      await blob?.close();
      await c.cleanup();
    });

    it('streams a 20 MiB body in and out with its sha256 and size', async () => {
      const src = generated(20 * MiB);
      const put = await blob.put('big/one.bin', src.stream, { contentType: 'application/octet-stream' });
      expect(src.produced).toBe(20 * MiB);
      expect(put).toEqual({ size: 20 * MiB, sha256: src.digest });
      const head = await blob.head('big/one.bin');
      expect(head).toMatchObject({ key: 'big/one.bin', size: 20 * MiB, sha256: src.digest, contentType: 'application/octet-stream' });
      expect(head!.lastModified).toBeGreaterThan(Date.parse('2020-01-01'));
      expect(sha(await readAll(await blob.get('big/one.bin')))).toBe(src.digest);
    }, 60_000);

    it('serves inclusive byte ranges, clamps an end past the last byte and refuses a start past it', async () => {
      const body = Buffer.from('0123456789abcdefghij');
      await blob.put('r/small.txt', Readable.from([body]));
      expect((await readAll(await blob.get('r/small.txt', { start: 0, end: 0 }))).toString()).toBe('0');
      expect((await readAll(await blob.get('r/small.txt', { start: 5, end: 9 }))).toString()).toBe('56789');
      expect((await readAll(await blob.get('r/small.txt', { start: 15 }))).toString()).toBe('fghij');
      expect((await readAll(await blob.get('r/small.txt', { end: 2 }))).toString()).toBe('012');
      expect((await readAll(await blob.get('r/small.txt', { start: 18, end: 1000 }))).toString()).toBe('ij');
      await expect(blob.get('r/small.txt', { start: 20 })).rejects.toBeInstanceOf(BlobRangeNotSatisfiable);
      await expect(blob.get('r/small.txt', { start: 5, end: 4 })).rejects.toBeInstanceOf(InvalidBlobArgument);
      await expect(blob.get('r/small.txt', { start: -1 })).rejects.toBeInstanceOf(InvalidBlobArgument);
      await expect(blob.get('r/small.txt', { start: 0.5 })).rejects.toBeInstanceOf(InvalidBlobArgument);
    });

    it('a range inside a multipart-sized object spans part boundaries', async () => {
      const body = randomBytes(9 * MiB + 123);
      await blob.put('r/parts.bin', Readable.from([body.subarray(0, 4 * MiB), body.subarray(4 * MiB)]));
      const start = 8 * MiB - 10;
      const got = await readAll(await blob.get('r/parts.bin', { start, end: start + 99 }));
      expect(got.equals(body.subarray(start, start + 100))).toBe(true);
      expect((await blob.head('r/parts.bin'))!.sha256).toBe(sha(body));
    }, 60_000);

    it('an empty body is an object of size 0', async () => {
      const put = await blob.put('empty', Readable.from([]));
      expect(put).toEqual({ size: 0, sha256: sha(Buffer.alloc(0)) });
      expect((await readAll(await blob.get('empty'))).length).toBe(0);
      expect(await blob.head('empty')).toMatchObject({ size: 0 });
    });

    it('head, get and delete of a missing key', async () => {
      expect(await blob.head('nope/missing')).toBeNull();
      await expect(blob.get('nope/missing')).rejects.toBeInstanceOf(BlobNotFound);
      expect(await blob.delete('nope/missing')).toBe(false);
    });

    it('a put replaces the object whole and delete removes it', async () => {
      await blob.put('d/k', Readable.from([Buffer.from('first version, longer')]));
      await blob.put('d/k', Readable.from([Buffer.from('second')]));
      expect((await readAll(await blob.get('d/k'))).toString()).toBe('second');
      expect(await blob.head('d/k')).toMatchObject({ size: 6, sha256: sha(Buffer.from('second')) });
      expect(await blob.delete('d/k')).toBe(true);
      expect(await blob.head('d/k')).toBeNull();
      expect(await blob.delete('d/k')).toBe(false);
    });

    it('lists by prefix in byte order, paginates with limit and after, and deletes by prefix', async () => {
      const keys = ['l/a', 'l/a/x', 'l/a-c', 'l/b/1', 'l/b/2', 'l/b/3', 'l/c', 'l/é', 'm/outside'];
      for (const k of keys) await blob.put(k, Readable.from([Buffer.from(k)]));
      const all = await blob.list('l/');
      // '-' (0x2d) < '/' (0x2f) < letters < 'é' (0xc3 0xa9 in UTF-8)
      expect(all.map((i) => i.key)).toEqual(['l/a', 'l/a-c', 'l/a/x', 'l/b/1', 'l/b/2', 'l/b/3', 'l/c', 'l/é']);
      expect(all[0]).toMatchObject({ key: 'l/a', size: 3 });
      expect((await blob.list('l/b')).map((i) => i.key)).toEqual(['l/b/1', 'l/b/2', 'l/b/3']);
      expect((await blob.list('l/a/')).map((i) => i.key)).toEqual(['l/a/x']);
      expect(await blob.list('zzz/')).toEqual([]);

      const pages: string[][] = [];
      let after: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await blob.list('l/', { limit: 3, after });
        if (page.length === 0) break;
        pages.push(page.map((p) => p.key));
        after = page[page.length - 1].key;
      }
      expect(pages).toEqual([
        ['l/a', 'l/a-c', 'l/a/x'],
        ['l/b/1', 'l/b/2', 'l/b/3'],
        ['l/c', 'l/é'],
      ]);
      expect((await blob.list('l/', { after: 'l/b/' })).map((i) => i.key)).toEqual(['l/b/1', 'l/b/2', 'l/b/3', 'l/c', 'l/é']);
      await expect(blob.list('l/', { limit: 0 })).rejects.toBeInstanceOf(InvalidBlobArgument);

      expect(await blob.deletePrefix('l/b/')).toBe(3);
      expect((await blob.list('l/')).map((i) => i.key)).toEqual(['l/a', 'l/a-c', 'l/a/x', 'l/c', 'l/é']);
      expect(await blob.deletePrefix('l/')).toBe(5);
      expect(await blob.list('l/')).toEqual([]);
      expect((await blob.list('m/')).map((i) => i.key)).toEqual(['m/outside']);
      expect(await blob.deletePrefix('l/')).toBe(0);
    });

    it('deletePrefix removes more than one delete batch (1000 keys)', async () => {
      const n = 1005;
      for (let i = 0; i < n; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => blob.put(`many/${String(i + j).padStart(4, '0')}`, Readable.from([Buffer.from('x')]))));
      }
      expect((await blob.list('many/')).length).toBe(1000);
      expect((await blob.list('many/', { after: 'many/0999' })).map((i) => i.key)).toEqual(['many/1000', 'many/1001', 'many/1002', 'many/1003', 'many/1004']);
      expect(await blob.deletePrefix('many/')).toBe(n);
      expect(await blob.list('many/')).toEqual([]);
    }, 120_000);

    it('refuses bad keys with an error naming the key', async () => {
      const bad = ['../x', 'a/../b', 'a/./b', '/abs', 'a\\b', 'a\u0000b', 'tab\there', '', 'a//b', 'dir/', 'k'.repeat(1025), `a/${'s'.repeat(201)}`];
      for (const key of bad) {
        await expect(blob.put(key, Readable.from([Buffer.from('x')])), key).rejects.toBeInstanceOf(InvalidBlobKey);
        await expect(blob.get(key), key).rejects.toBeInstanceOf(InvalidBlobKey);
        await expect(blob.head(key), key).rejects.toBeInstanceOf(InvalidBlobKey);
        await expect(blob.delete(key), key).rejects.toBeInstanceOf(InvalidBlobKey);
      }
      await expect(blob.put('../etc/passwd', Readable.from([Buffer.from('x')]))).rejects.toThrow('"../etc/passwd"');
      await expect(blob.list('../')).rejects.toBeInstanceOf(InvalidBlobKey);
      await expect(blob.deletePrefix('/')).rejects.toBeInstanceOf(InvalidBlobKey);
      expect(await blob.list('')).not.toContainEqual(expect.objectContaining({ key: expect.stringContaining('..') }));
    });

    it('enforces maxBytes and leaves nothing visible, for a small and a multipart-sized body', async () => {
      await expect(blob.put('lim/small', Readable.from([Buffer.alloc(600)]), { maxBytes: 500 })).rejects.toBeInstanceOf(BlobTooLarge);
      const big = generated(20 * MiB);
      await expect(blob.put('lim/big', big.stream, { maxBytes: 10 * MiB })).rejects.toBeInstanceOf(BlobTooLarge);
      // stopped reading soon after the limit instead of draining the whole body
      expect(big.produced).toBeLessThan(20 * MiB);
      expect(await blob.head('lim/small')).toBeNull();
      expect(await blob.head('lim/big')).toBeNull();
      expect(await blob.list('lim/')).toEqual([]);
      expect(await blob.put('lim/exact', Readable.from([Buffer.alloc(500)]), { maxBytes: 500 })).toMatchObject({ size: 500 });
      await expect(blob.put('lim/neg', Readable.from([]), { maxBytes: -1 })).rejects.toBeInstanceOf(InvalidBlobArgument);
    }, 60_000);

    it('a body that fails midway leaves the previous version intact and no new object', async () => {
      await blob.put('fail/kept', Readable.from([Buffer.from('good old version')]));
      await expect(blob.put('fail/kept', failingAfter(100))).rejects.toThrow('client went away');
      await expect(blob.put('fail/kept', failingAfter(12 * MiB))).rejects.toThrow('client went away');
      await expect(blob.put('fail/new', failingAfter(12 * MiB))).rejects.toThrow('client went away');
      expect((await readAll(await blob.get('fail/kept'))).toString()).toBe('good old version');
      expect(await blob.head('fail/new')).toBeNull();
      expect((await blob.list('fail/')).map((i) => i.key)).toEqual(['fail/kept']);
    }, 60_000);

    it('concurrent puts of one key leave one whole object with its own sha256', async () => {
      const bodies = ['A', 'B', 'C'].map((ch) => Buffer.alloc(3 * MiB, ch));
      const slowly = (b: Buffer) => Readable.from((function* () { for (let i = 0; i < b.length; i += 256 * 1024) yield b.subarray(i, i + 256 * 1024); })());
      await Promise.all(bodies.map((b) => blob.put('race/k', slowly(b))));
      const got = await readAll(await blob.get('race/k'));
      const winner = bodies.find((b) => b.equals(got));
      expect(winner, 'content is exactly one of the bodies').toBeDefined();
      expect((await blob.head('race/k'))!.sha256).toBe(sha(winner!));
      expect((await blob.list('race/')).map((i) => i.key)).toEqual(['race/k']);
    }, 60_000);

    it('ping answers while the store is reachable', async () => {
      await expect(blob.ping()).resolves.toBeUndefined();
    });
  });
}
