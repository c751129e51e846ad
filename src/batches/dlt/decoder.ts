/**
 * Streaming DLT v1 decoder: push Buffer chunks of any size, get records. Memory is bounded by
 * one record (≤ 65 551 bytes) plus the chunk being decoded, whatever the stream length.
 *
 * Framing. A record starts at a storage header `DLT\x01`; its standard header's LEN says where
 * it ends. A record is accepted when the next `DLT\x01` starts exactly where LEN says, or when
 * the stream ends there, or when no `DLT\x01` occurs inside the record at all (garbage follows
 * it). A LEN shorter than the record's own headers, or a LEN that runs over the start of the
 * next record, marks the header as corrupt: it is reported and decoding resumes at the next
 * `DLT\x01` (this is how dlt-viewer's indexer recovers; dlt-convert instead stops at a short LEN
 * and swallows the records a long LEN covers). Bytes outside records are reported as garbage.
 * A record cut by the end of the stream is still returned, flagged `truncated`, and reported.
 * One ambiguity remains: a record whose payload itself contains `DLT\x01` (a logged DLT frame)
 * and that is followed by garbage is taken for a corrupt header, and decoding resumes inside it.
 */
import { DltRecord } from './record.js';
import { MAX_RECORD_SIZE, STORAGE_HEADER_SIZE, STORAGE_MARKER, isMarkerAt, minLength } from './headers.js';

export type DltIssue =
  /** Bytes that belong to no record (before, between or after records). */
  | { kind: 'garbage'; offset: number; length: number }
  /** A storage header whose LEN cannot be right; the bytes are then scanned for the next record. */
  | { kind: 'bad-length'; offset: number; length: number; reason: string }
  /** The stream ended inside a record (`available` of `expected` bytes present). */
  | { kind: 'truncated'; offset: number; available: number; expected: number };

export type DltDecoderOptions = {
  onIssue?: (issue: DltIssue) => void;
};

const HEADER_PROBE = STORAGE_HEADER_SIZE + 4;

export class DltDecoder {
  /** Records accepted so far. */
  records = 0;
  garbageBytes = 0;
  issues = 0;
  /** Largest number of bytes ever held back between two pushes (the constant-memory bound). */
  maxRetainedBytes = 0;

  private readonly onIssue?: (issue: DltIssue) => void;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of pending data needed before scanning again is worthwhile. */
  private needBytes = 0;
  /** Stream offset of the first pending byte. */
  private base = 0;
  private garbageStart = -1;
  private garbageLength = 0;
  private ended = false;

  constructor(options: DltDecoderOptions = {}) {
    this.onIssue = options.onIssue;
  }

  /** Bytes currently held back (at most one record and a storage header). */
  get retainedBytes(): number {
    return this.pendingBytes;
  }

  /** Decode a chunk; returns the records it completed. The chunk is not copied unless it ends inside a record. */
  push(chunk: Buffer): DltRecord[] {
    if (this.ended) throw new Error('DltDecoder: push after end');
    if (chunk.length === 0) return [];
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.needBytes) {
      this.noteRetained();
      return [];
    }
    return this.run(false);
  }

  /** The stream ended: returns the last records, a truncated one included, and reports what is left. */
  end(): DltRecord[] {
    if (this.ended) return [];
    this.ended = true;
    const out = this.pendingBytes > 0 ? this.run(true) : [];
    this.flushGarbage();
    return out;
  }

  private noteRetained(): void {
    if (this.pendingBytes > this.maxRetainedBytes) this.maxRetainedBytes = this.pendingBytes;
  }

  private run(final: boolean): DltRecord[] {
    const buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    const out: DltRecord[] = [];
    const n = buf.length;
    let p = 0;
    let need = 0;
    for (;;) {
      if (n - p < 4) {
        if (final) {
          this.garbage(p, n - p);
          p = n;
        } else need = 4;
        break;
      }
      if (!isMarkerAt(buf, p)) {
        const m = buf.indexOf(STORAGE_MARKER, p);
        // keep 3 bytes back: they may be the start of a marker split across chunks
        const stop = m >= 0 ? m : final ? n : Math.max(p, n - 3);
        this.garbage(p, stop - p);
        p = stop;
        if (m < 0) {
          need = 4;
          break;
        }
        continue;
      }
      if (n - p < HEADER_PROBE) {
        if (!final) {
          need = HEADER_PROBE;
          break;
        }
        this.flushGarbage();
        this.report({ kind: 'truncated', offset: this.base + p, available: n - p, expected: HEADER_PROBE });
        p = n;
        break;
      }
      const htyp = buf[p + STORAGE_HEADER_SIZE];
      const len = buf.readUInt16BE(p + STORAGE_HEADER_SIZE + 2);
      const headers = minLength(htyp);
      if (len < headers) {
        this.badLength(p, len, `LEN ${len} is shorter than the record's headers (${headers})`);
        this.garbage(p, 1);
        p += 1;
        continue;
      }
      const end = p + STORAGE_HEADER_SIZE + len;
      if (end + 4 <= n || (final && end <= n)) {
        if (end + 4 <= n && isMarkerAt(buf, end)) {
          p = this.accept(buf, p, end, false, out);
          continue;
        }
        const inner = buf.indexOf(STORAGE_MARKER, p + 4);
        if (inner < 0 || inner >= end) {
          p = this.accept(buf, p, end, false, out);
          continue;
        }
        this.badLength(p, len, `LEN ${len} runs over the next storage header`);
        this.garbage(p, 1);
        p += 1;
        continue;
      }
      if (!final) {
        need = end + 4 - p;
        break;
      }
      // the stream ends inside this record
      const inner = buf.indexOf(STORAGE_MARKER, p + 4);
      if (inner >= 0) {
        this.badLength(p, len, `LEN ${len} runs over the next storage header`);
        this.garbage(p, 1);
        p += 1;
        continue;
      }
      this.flushGarbage();
      this.report({ kind: 'truncated', offset: this.base + p, available: n - p, expected: end - p });
      if (n - p >= STORAGE_HEADER_SIZE + headers) this.accept(buf, p, n, true, out);
      p = n;
      break;
    }
    this.base += p;
    if (p >= n) {
      this.pending = [];
      this.pendingBytes = 0;
    } else {
      const rest = buf.subarray(p);
      this.pending = [rest];
      this.pendingBytes = rest.length;
    }
    this.needBytes = need;
    this.noteRetained();
    if (this.pendingBytes > MAX_RECORD_SIZE + 4) throw new Error('DltDecoder: retained more than one record (bug)');
    return out;
  }

  private accept(buf: Buffer, p: number, end: number, truncated: boolean, out: DltRecord[]): number {
    this.flushGarbage();
    out.push(new DltRecord(this.records++, this.base + p, buf.subarray(p, end), truncated));
    return end;
  }

  private garbage(p: number, length: number): void {
    if (length <= 0) return;
    const offset = this.base + p;
    if (this.garbageStart >= 0 && this.garbageStart + this.garbageLength === offset) this.garbageLength += length;
    else {
      this.flushGarbage();
      this.garbageStart = offset;
      this.garbageLength = length;
    }
  }

  private flushGarbage(): void {
    if (this.garbageStart < 0) return;
    this.garbageBytes += this.garbageLength;
    this.report({ kind: 'garbage', offset: this.garbageStart, length: this.garbageLength });
    this.garbageStart = -1;
    this.garbageLength = 0;
  }

  private badLength(p: number, len: number, reason: string): void {
    this.flushGarbage();
    this.report({ kind: 'bad-length', offset: this.base + p, length: len, reason });
  }

  private report(issue: DltIssue): void {
    this.issues++;
    this.onIssue?.(issue);
  }
}

/** Decode a whole stream (e.g. a file read stream), yielding records as they complete. */
export async function* decodeDltStream(source: AsyncIterable<Buffer | string>, options: DltDecoderOptions = {}): AsyncGenerator<DltRecord> {
  const dec = new DltDecoder(options);
  for await (const chunk of source) {
    const recs = dec.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    for (const r of recs) yield r;
  }
  for (const r of dec.end()) yield r;
}

/** Decode a complete buffer (tests, small files). */
export function decodeDltBuffer(data: Buffer, options: DltDecoderOptions = {}): DltRecord[] {
  const dec = new DltDecoder(options);
  return [...dec.push(data), ...dec.end()];
}
