import { constants } from 'node:fs';
import { access, mkdir, open, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { byteCompare, checkRange, listLimit, validateContentType, validateKey, validateMaxBytes, validatePrefix } from './keys.js';
import { meter } from './meter.js';
import { BlobNotFound, BlobRangeNotSatisfiable, type BlobInfo, type BlobStore, type PutOptions, type RangeOptions } from './types.js';

/*
 * On-disk layout. Key segments map to names with a suffix: `.obj` for the object, `.dir` for a
 * directory on its path. The suffixes keep files and directories in separate namespaces, so "a" and
 * "a/b" can both exist, as on S3. Each object file starts with a fixed-size JSON header (size, sha256,
 * content type) followed by the bytes: data and metadata then land in one atomic rename.
 * Uploads go to `.<segment>.<random>.tmp` beside their target; those names never end in a suffix.
 */
const OBJ = '.obj';
const DIR = '.dir';
const HEADER_BYTES = 512;
const MAGIC = 'vigil-blob/1\n';
/** Coalesce small source chunks into writes of about this size. */
const WRITE_BATCH = 1 << 20;

interface Header {
  size: number;
  sha256: string;
  contentType?: string;
}

const isMissing = (err: unknown) => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

export class LocalBlobStore implements BlobStore {
  readonly kind = 'local' as const;

  /** Removal of uploads a crash left behind, started by open(); close() waits for it. */
  private sweeping: Promise<void> = Promise.resolve();

  private constructor(readonly root: string) {}

  static async open(root: string, opts: { staleUploadMs?: number } = {}): Promise<LocalBlobStore> {
    const abs = path.resolve(root);
    await mkdir(abs, { recursive: true });
    const store = new LocalBlobStore(abs);
    await store.ping();
    // Old enough that no live upload can own it: uploads keep writing, which keeps their mtime fresh.
    const cutoff = Date.now() - (opts.staleUploadMs ?? 3_600_000);
    store.sweeping = store.sweepStaleUploads(abs, cutoff).catch(() => undefined);
    return store;
  }

  private async sweepStaleUploads(dir: string, cutoffMs: number): Promise<void> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(dir, n);
      if (n.endsWith(DIR)) await this.sweepStaleUploads(p, cutoffMs);
      else if (n.endsWith('.tmp')) {
        const st = await stat(p).catch(() => undefined);
        if (st && st.mtimeMs < cutoffMs) await unlink(p).catch(() => undefined);
      }
    }
  }

  private dirOf(segments: string[]): string {
    return path.join(this.root, ...segments.map((s) => s + DIR));
  }

  private fileOf(key: string): string {
    const segments = validateKey(key);
    return path.join(this.dirOf(segments.slice(0, -1)), segments[segments.length - 1] + OBJ);
  }

  async put(key: string, body: NodeJS.ReadableStream | Readable, opts: PutOptions = {}): Promise<{ size: number; sha256: string }> {
    const segments = validateKey(key);
    validateContentType(opts.contentType);
    validateMaxBytes(opts.maxBytes);
    const dir = this.dirOf(segments.slice(0, -1));
    const name = segments[segments.length - 1];
    const target = path.join(dir, name + OBJ);
    const tmp = path.join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    const metered = meter(key, body, opts.maxBytes);

    const fh = await this.createTemp(dir, tmp);
    try {
      let pos = HEADER_BYTES;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (pendingBytes === 0) return;
        await fh.writev(pending, pos);
        pos += pendingBytes;
        pending = [];
        pendingBytes = 0;
      };
      for await (const chunk of metered.chunks) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_BATCH) await flush();
      }
      await flush();
      const result = metered.result();
      await fh.write(encodeHeader({ ...result, contentType: opts.contentType }), 0, HEADER_BYTES, 0);
      // A 2xx must survive a crash: file contents first, then the rename in its directory.
      await fh.sync();
      await fh.close();
      await rename(tmp, target);
      await fsyncDir(dir);
      return result;
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /** Opens the temp file, creating (and syncing) missing parent directories; retries when a concurrent delete pruned them. */
  private async createTemp(dir: string, tmp: string): Promise<FileHandle> {
    for (let attempt = 0; ; attempt++) {
      const created = await mkdir(dir, { recursive: true });
      if (created) {
        // Make each new directory entry durable, from the deepest existing ancestor down.
        let d = path.dirname(created);
        await fsyncDir(d);
        for (const part of path.relative(d, dir).split(path.sep)) {
          d = path.join(d, part);
          await fsyncDir(d);
        }
      }
      try {
        return await open(tmp, 'wx', 0o644);
      } catch (err) {
        if (!isMissing(err) || attempt >= 3) throw err;
      }
    }
  }

  async get(key: string, opts?: RangeOptions): Promise<Readable> {
    const file = this.fileOf(key);
    const range = checkRange(opts);
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if (isMissing(err)) throw new BlobNotFound(key);
      throw err;
    }
    try {
      // The open handle keeps reading this version even if a put replaces the file meanwhile.
      const header = await readHeader(fh, file);
      let start = 0;
      let end = header.size - 1;
      if (range) {
        if (range.start >= header.size) throw new BlobRangeNotSatisfiable(key, header.size);
        start = range.start;
        end = Math.min(range.end ?? end, end);
      }
      if (end < start) {
        await fh.close();
        return Readable.from([]);
      }
      return fh.createReadStream({ start: HEADER_BYTES + start, end: HEADER_BYTES + end, autoClose: true });
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  async head(key: string): Promise<BlobInfo | null> {
    const file = this.fileOf(key);
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    try {
      const header = await readHeader(fh, file);
      const st = await fh.stat();
      return { key, size: header.size, sha256: header.sha256, contentType: header.contentType, lastModified: Math.floor(st.mtimeMs) };
    } finally {
      await fh.close();
    }
  }

  async delete(key: string): Promise<boolean> {
    const file = this.fileOf(key);
    try {
      await unlink(file);
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
    await fsyncDir(path.dirname(file));
    await this.pruneEmpty(path.dirname(file));
    return true;
  }

  /** Removes directories left empty, up to the root; a concurrent put re-creates what it needs. */
  private async pruneEmpty(dir: string): Promise<void> {
    for (let d = dir; d.length > this.root.length && d.startsWith(this.root); d = path.dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return;
      }
    }
  }

  async list(prefix: string, opts: { limit?: number; after?: string } = {}): Promise<BlobInfo[]> {
    validatePrefix(prefix);
    const limit = listLimit(opts.limit);
    const out: BlobInfo[] = [];
    for await (const info of this.walk(prefix, opts.after)) {
      out.push(info);
      if (out.length >= limit) break;
    }
    return out;
  }

  async deletePrefix(prefix: string): Promise<number> {
    validatePrefix(prefix);
    const keys: string[] = [];
    for await (const info of this.walk(prefix, undefined)) keys.push(info.key);
    let n = 0;
    for (const key of keys) if (await this.delete(key)) n++;
    return n;
  }

  /** Objects under prefix in byte order of their keys, skipping subtrees wholly at or before `after`. */
  private async *walk(prefix: string, after: string | undefined): AsyncGenerator<BlobInfo> {
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash + 1);
    const start = this.dirOf(dirKey === '' ? [] : dirKey.slice(0, -1).split('/'));
    yield* this.walkDir(start, dirKey, prefix.slice(slash + 1), after);
  }

  private async *walkDir(dir: string, keyPrefix: string, nameStart: string, after: string | undefined): AsyncGenerator<BlobInfo> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    const entries: { sortKey: string; key: string; path: string; dir: boolean }[] = [];
    for (const n of names) {
      const isDir = n.endsWith(DIR);
      if (!isDir && !n.endsWith(OBJ)) continue; // temp files
      const seg = n.slice(0, -(isDir ? DIR.length : OBJ.length));
      if (!seg.startsWith(nameStart)) continue;
      const key = keyPrefix + seg + (isDir ? '/' : '');
      // A directory sorts as "seg/", so "a" < "a/x" < "a0" holds for the full keys too.
      entries.push({ sortKey: key, key, path: path.join(dir, n), dir: isDir });
    }
    entries.sort((a, b) => byteCompare(a.sortKey, b.sortKey));
    for (const e of entries) {
      if (e.dir) {
        if (after !== undefined && byteCompare(after, e.key) > 0 && !after.startsWith(e.key)) continue;
        yield* this.walkDir(e.path, e.key, '', after);
      } else {
        if (after !== undefined && byteCompare(e.key, after) <= 0) continue;
        const info = await this.info(e.key, e.path);
        if (info) yield info;
      }
    }
  }

  private async info(key: string, file: string): Promise<BlobInfo | null> {
    try {
      const st = await stat(file);
      return { key, size: st.size - HEADER_BYTES, lastModified: Math.floor(st.mtimeMs) };
    } catch (err) {
      if (isMissing(err)) return null; // deleted while listing
      throw err;
    }
  }

  async ping(): Promise<void> {
    await access(this.root, constants.R_OK | constants.W_OK | constants.X_OK);
  }

  async close(): Promise<void> {
    await this.sweeping;
  }
}

function encodeHeader(h: Header): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES, 0x20);
  const text = MAGIC + JSON.stringify(h) + '\n';
  // contentType is bounded to 200 characters, so the header always fits.
  buf.write(text, 0, 'utf8');
  return buf;
}

async function readHeader(fh: FileHandle, file: string): Promise<Header> {
  const buf = Buffer.alloc(HEADER_BYTES);
  const { bytesRead } = await fh.read(buf, 0, HEADER_BYTES, 0);
  const text = buf.subarray(0, bytesRead).toString('utf8');
  if (bytesRead < HEADER_BYTES || !text.startsWith(MAGIC)) throw new Error(`${file} is not a Vigil blob (bad header)`);
  const header = JSON.parse(text.slice(MAGIC.length, text.indexOf('\n', MAGIC.length))) as Header;
  return header;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
