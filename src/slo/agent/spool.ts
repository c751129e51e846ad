/**
 * On-disk queue of snapshots not yet acknowledged by the server, and the persisted sequence number.
 *
 * Every snapshot is written here first (gzipped JSON, one file per seq, written to a temp file and
 * renamed) and removed only when the server acknowledged it, so neither a server outage nor an agent
 * crash loses data. The spool is bounded: when a new snapshot would exceed `maxBytes`, the oldest are
 * dropped and counted. The next seq lives in `next-seq` and is persisted before a seq is used, so a
 * restarted agent never reuses one. Without a directory (or when it cannot be written) the spool
 * keeps snapshots in memory with the same bound.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

const FILE_RE = /^snap-(\d{1,20})\.json\.gz$/;
const SEQ_FILE = 'next-seq';

interface Entry {
  seq: number;
  bytes: number;
  /** Kept only in memory mode. */
  body?: Buffer;
}

export interface SpoolOptions {
  /** Directory; '' keeps snapshots in memory only (lost on restart). */
  dir: string;
  maxBytes: number;
  log?: Logger;
  /** First seq when no state exists (default: epoch seconds, so a wiped directory still yields fresh seqs). */
  initialSeq?: () => number;
}

export class Spool {
  private entries: Entry[] = [];
  private totalBytes = 0;
  private next = 0;
  private dir: string;
  /** Snapshots dropped because the spool was full (since this process started). */
  dropped = 0;
  private readonly maxBytes: number;
  private readonly log?: Logger;

  constructor(opts: SpoolOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes;
    this.log = opts.log;
    const initial = opts.initialSeq ?? (() => Math.floor(Date.now() / 1000));
    if (this.dir) {
      try {
        mkdirSync(this.dir, { recursive: true });
        this.load(initial);
        return;
      } catch (err) {
        this.log?.error({ err, dir: this.dir }, 'spool directory unusable; keeping snapshots in memory');
        this.dir = '';
      }
    }
    this.next = initial();
  }

  get depth(): number {
    return this.entries.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Whether snapshots survive a restart. */
  get persistent(): boolean {
    return this.dir !== '';
  }

  /** The seq the next snapshot will get (not reserved). */
  peekSeq(): number {
    return this.next;
  }

  /** Reserve a seq: the next one is persisted before this one is returned. */
  nextSeq(): number {
    const seq = this.next;
    this.next = seq + 1;
    if (this.dir) {
      try {
        this.writeAtomic(SEQ_FILE, Buffer.from(String(this.next) + '\n'));
      } catch (err) {
        this.log?.error({ err }, 'could not persist the next snapshot seq');
      }
    }
    return seq;
  }

  /** Add a snapshot body; returns how many old snapshots were dropped to make room. */
  push(seq: number, body: Buffer): number {
    let dropped = 0;
    while (this.entries.length > 0 && this.totalBytes + body.length > this.maxBytes) {
      const old = this.entries.shift()!;
      this.totalBytes -= old.bytes;
      this.removeFile(old.seq);
      dropped++;
    }
    if (dropped > 0) {
      this.dropped += dropped;
      this.log?.warn({ dropped, totalDropped: this.dropped, maxBytes: this.maxBytes }, 'snapshot spool full: dropped the oldest snapshots');
    }
    const entry: Entry = { seq, bytes: body.length };
    if (this.dir) {
      try {
        this.writeAtomic(fileName(seq), body);
      } catch (err) {
        this.log?.error({ err, seq }, 'could not write snapshot to the spool; keeping it in memory');
        entry.body = body;
      }
    } else {
      entry.body = body;
    }
    // Keep seq order even if a caller pushes out of order.
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1].seq > seq) i--;
    this.entries.splice(i, 0, entry);
    this.totalBytes += body.length;
    return dropped;
  }

  /** The oldest unacknowledged snapshot. */
  peek(): { seq: number; body: Buffer } | undefined {
    while (this.entries.length > 0) {
      const e = this.entries[0];
      if (e.body) return { seq: e.seq, body: e.body };
      try {
        return { seq: e.seq, body: readFileSync(path.join(this.dir, fileName(e.seq))) };
      } catch (err) {
        this.log?.error({ err, seq: e.seq }, 'spooled snapshot unreadable; skipping it');
        this.entries.shift();
        this.totalBytes -= e.bytes;
        this.dropped++;
      }
    }
    return undefined;
  }

  /** Seqs waiting, oldest first. */
  seqs(): number[] {
    return this.entries.map((e) => e.seq);
  }

  /** Remove an acknowledged snapshot. */
  ack(seq: number): void {
    const i = this.entries.findIndex((e) => e.seq === seq);
    if (i < 0) return;
    const [e] = this.entries.splice(i, 1);
    this.totalBytes -= e.bytes;
    if (!e.body) this.removeFile(seq);
  }

  private load(initial: () => number): void {
    let persisted = NaN;
    try {
      persisted = Number(readFileSync(path.join(this.dir, SEQ_FILE), 'utf8').trim());
    } catch {
      // no state yet
    }
    for (const f of readdirSync(this.dir)) {
      const m = FILE_RE.exec(f);
      if (!m) {
        if (f.endsWith('.tmp')) this.tryUnlink(f);
        continue;
      }
      const seq = Number(m[1]);
      const bytes = statSync(path.join(this.dir, f)).size;
      this.entries.push({ seq, bytes });
      this.totalBytes += bytes;
    }
    this.entries.sort((a, b) => a.seq - b.seq);
    const afterSpooled = this.entries.length > 0 ? this.entries[this.entries.length - 1].seq + 1 : 0;
    this.next = Number.isSafeInteger(persisted) && persisted >= 0 ? Math.max(persisted, afterSpooled) : Math.max(initial(), afterSpooled);
    if (this.entries.length > 0) this.log?.info({ depth: this.entries.length, bytes: this.totalBytes }, 'resuming spooled snapshots');
  }

  private writeAtomic(name: string, data: Buffer): void {
    const tmp = path.join(this.dir, `${name}.${process.pid}.tmp`);
    writeFileSync(tmp, data);
    renameSync(tmp, path.join(this.dir, name));
  }

  private removeFile(seq: number): void {
    if (this.dir) this.tryUnlink(fileName(seq));
  }

  private tryUnlink(name: string): void {
    try {
      unlinkSync(path.join(this.dir, name));
    } catch {
      // already gone
    }
  }
}

function fileName(seq: number): string {
  return `snap-${String(seq).padStart(20, '0')}.json.gz`;
}
