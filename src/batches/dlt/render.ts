/**
 * Text rendering equal to Debian's `dlt-convert -a` (dlt-tools 2.18.8) line for line, written
 * straight into a byte buffer: payload strings are copied as bytes, never decoded.
 *
 * It reproduces dlt-convert's payload rules, including its 10 024-byte text buffer (a payload
 * that does not fit prints as far as dlt-convert gets, often `[]`; a raw value that does not fit
 * is skipped), a failed argument ending the text where dlt-convert stops, empty strings being
 * errors, and the storage time printed in UTC (run dlt-convert with TZ=UTC to compare). A
 * truncated last record prints what its bytes say; dlt-convert prints whatever its payload
 * buffer held before (on the fixtures both give `[]`).
 *
 * dlt-convert prints hex- and bin-coded integers wrongly in three ways: it reads them
 * little-endian even in big-endian records (0x1234 prints as 0x3412), it prints nothing and
 * consumes nothing for bin 32/64/128 and hex 128 (so the following arguments are misread), and
 * it reads a VARI name as the value. The `-a` rendering (`strict`) reproduces that, so it stays
 * equal to dlt-convert; the payload text meant for people (`DltRecord.text`, `corrected`)
 * prints these integers right: in the record's byte order, at every width, VARI skipped.
 */
import { SCOD_ASCII, SCOD_BIN, SCOD_HEX, SCOD_MASK, SCOD_UTF8, TI_BOOL, TI_FIXP, TI_FLOA, TI_RAWD, TI_SINT, TI_STRG, TI_TRAI, TI_UINT, TI_VARI, TYLE_MASK } from './arguments.js';
import { classicServiceName, responseStatusText } from './control.js';
import { formatG } from './format-g.js';
import { HTYP_UEH, HTYP_WEID, HTYP_WTMS, MESSAGE_TYPE_NAMES, STORAGE_HEADER_SIZE, extraSize, subtypeName } from './headers.js';
import type { DltRecord } from './record.js';

/** dlt-convert's text buffer (DLT_CONVERT_TEXTBUFSIZE): the payload text, NUL included, fits in it. */
export const DLT_CONVERT_TEXT_SIZE = 10024;
/** Upper bound of one rendered line: header, brackets and payload text. */
const MAX_LINE = DLT_CONVERT_TEXT_SIZE + 256;

/** A growable byte buffer that rendered lines are appended to. */
export class TextSink {
  buf: Buffer;
  pos = 0;
  constructor(capacity = 1 << 20) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, MAX_LINE * 2));
  }
  /** Bytes rendered so far, handed over: the sink starts a fresh buffer (the caller may keep this one). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    return out;
  }
  /** Bytes rendered so far, valid only until the next write (for synchronous consumers). */
  peek(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
  reset(): void {
    this.pos = 0;
  }
  get length(): number {
    return this.pos;
  }
  /** True when another line might not fit: time to take() and write out. */
  get full(): boolean {
    return this.buf.length - this.pos < MAX_LINE;
  }
  reserve(n: number): void {
    if (this.buf.length - this.pos >= n) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  ascii(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }
  uint(n: number): void {
    if (n < 10) this.buf[this.pos++] = 48 + n;
    else this.ascii(String(n));
  }
}

const HEX = Buffer.from(Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join(''), 'latin1');

// ---- header ------------------------------------------------------------------------------

let dateSeconds = -1;
const dateBytes = Buffer.alloc(19);

function writeDate(s: TextSink, seconds: number): void {
  if (seconds !== dateSeconds) {
    const d = new Date(seconds * 1000);
    const txt =
      `${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())} ` +
      `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    dateBytes.write(txt, 'latin1');
    dateSeconds = seconds;
  }
  dateBytes.copy(s.buf, s.pos);
  s.pos += 19;
}

const p2 = (n: number) => (n < 10 ? '0' : '') + n;

/** An id as dlt_print_id prints it: bytes before the first NUL, padded with '-' to 4. */
function writeId(s: TextSink, raw: Buffer, at: number): void {
  const b = s.buf;
  let p = s.pos;
  let i = 0;
  for (; i < 4 && raw[at + i] !== 0; i++) b[p++] = raw[at + i];
  for (; i < 4; i++) b[p++] = 0x2d;
  s.pos = p;
}

function writeFixedDigits(s: TextSink, n: number, width: number): void {
  const b = s.buf;
  for (let i = width - 1; i >= 0; i--) {
    b[s.pos + i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  s.pos += width;
}

/** The header part of a dlt-convert line (dlt_message_header), without index or payload. */
export function renderHeader(s: TextSink, r: DltRecord): void {
  s.reserve(128);
  const raw = r.raw;
  const htyp = r.htyp;
  writeDate(s, r.seconds);
  s.buf[s.pos++] = 0x2e; // '.'
  const us = r.microseconds;
  if (us >= 0 && us < 1_000_000) writeFixedDigits(s, us, 6);
  else s.ascii(us < 0 ? '-' + String(-us).padStart(6, '0') : String(us));
  s.buf[s.pos++] = 0x20;
  if (htyp & HTYP_WTMS) {
    // %10u: right-aligned, space-padded
    let t = r.timestamp ?? 0;
    const b = s.buf;
    let i = s.pos + 9;
    do {
      b[i--] = 48 + (t % 10);
      t = Math.floor(t / 10);
    } while (t > 0);
    while (i >= s.pos) b[i--] = 0x20;
    s.pos += 10;
    s.buf[s.pos++] = 0x20;
  } else s.ascii('---------- ');
  writeFixedDigits(s, r.counter, 3);
  s.buf[s.pos++] = 0x20;
  writeId(s, raw, htyp & HTYP_WEID ? STORAGE_HEADER_SIZE + 4 : 12);
  s.buf[s.pos++] = 0x20;
  if (htyp & HTYP_UEH) {
    const ext = STORAGE_HEADER_SIZE + 4 + extraSize(htyp);
    if (raw[ext + 2] !== 0) writeId(s, raw, ext + 2);
    else s.ascii('----');
    s.buf[s.pos++] = 0x20;
    if (raw[ext + 6] !== 0) writeId(s, raw, ext + 6);
    else s.ascii('----');
    s.buf[s.pos++] = 0x20;
    const mstp = r.messageType ?? 0;
    s.ascii(MESSAGE_TYPE_NAMES[mstp]);
    s.buf[s.pos++] = 0x20;
    s.ascii(subtypeName(mstp, r.messageSubtype ?? 0));
    s.buf[s.pos++] = 0x20;
    s.buf[s.pos++] = r.verbose ? 0x56 : 0x4e; // V / N
    s.buf[s.pos++] = 0x20;
    s.uint(r.noar);
  } else s.ascii('---- ---- --- --- N -');
}

/** `N <header> [<payload>]\n`, a line of `dlt-convert -a`; `n` is the printed message number. */
export function renderAsciiLine(s: TextSink, r: DltRecord, n = r.index): void {
  s.reserve(MAX_LINE);
  s.uint(n);
  s.buf[s.pos++] = 0x20;
  renderHeader(s, r);
  s.buf[s.pos++] = 0x20;
  s.buf[s.pos++] = 0x5b; // [
  renderPayload(s, r);
  s.buf[s.pos++] = 0x5d; // ]
  s.buf[s.pos++] = 0x0a;
}

/** `N <header> \n`, a line of `dlt-convert -s`. */
export function renderHeaderLine(s: TextSink, r: DltRecord, n = r.index): void {
  s.reserve(256);
  s.uint(n);
  s.buf[s.pos++] = 0x20;
  renderHeader(s, r);
  s.buf[s.pos++] = 0x20;
  s.buf[s.pos++] = 0x0a;
}

// ---- payload -----------------------------------------------------------------------------

/**
 * State of one payload being printed: `p`/`dl` walk the payload as dlt-convert's ptr/datalength
 * do; `lim` is where dlt-convert's text buffer ends. One instance is reused (rendering is synchronous).
 */
class PayloadPrinter {
  raw!: Buffer;
  be = false;
  p = 0;
  dl = 0;
  s!: TextSink;
  lim = 0;
  /** Print hex/bin-coded integers right instead of as dlt-convert does. */
  corrected = false;

  room(): number {
    return this.lim - this.s.pos;
  }

  /** snprintf semantics: at most room-1 characters. */
  put(str: string): void {
    const n = Math.min(str.length, this.room() - 1);
    const b = this.s.buf;
    let q = this.s.pos;
    for (let i = 0; i < n; i++) b[q++] = str.charCodeAt(i);
    this.s.pos = q;
  }

  /** dlt_print_hex_string_delim: all of it or nothing (false) when the text buffer is short. */
  hex(at: number, size: number, delim: number): boolean {
    if (size < 0 || this.room() < size * 3) return false;
    const b = this.s.buf;
    const raw = this.raw;
    let q = this.s.pos;
    for (let i = 0; i < size; i++) {
      if (i > 0) b[q++] = delim;
      const h = raw[at + i] * 2;
      b[q++] = HEX[h];
      b[q++] = HEX[h + 1];
    }
    this.s.pos = q;
    return true;
  }

  u16(): number {
    const v = this.be ? this.raw.readUInt16BE(this.p) : this.raw.readUInt16LE(this.p);
    this.p += 2;
    this.dl -= 2;
    return v;
  }

  /** DLT_MSG_READ_STRING + %s: the bytes before the first NUL, CR and LF as spaces. */
  string(len: number): boolean {
    if (len <= 0 || this.room() < len || this.dl < len) return false;
    const raw = this.raw;
    const b = this.s.buf;
    const from = this.p;
    const to = from + len;
    let q = this.s.pos;
    if (len <= 64) {
      // short strings (most log text): one pass copies, stops at NUL and cleans
      for (let i = from; i < to; i++) {
        const c = raw[i];
        if (c === 0) break;
        b[q++] = c === 10 || c === 13 ? 0x20 : c;
      }
    } else {
      let end = raw.indexOf(0, from);
      if (end < 0 || end > to) end = to;
      raw.copy(b, q, from, end);
      // search only the copied bytes (the sink's buffer runs on far beyond them)
      const copied = b.subarray(q, q + (end - from));
      for (let c = copied.indexOf(10); c >= 0; c = copied.indexOf(10, c + 1)) copied[c] = 0x20;
      for (let c = copied.indexOf(13); c >= 0; c = copied.indexOf(13, c + 1)) copied[c] = 0x20;
      q += end - from;
    }
    this.s.pos = q;
    this.p = to;
    this.dl -= len;
    return true;
  }

  /** Skip a VARI name (and unit when `withUnit`); false when the payload is too short. */
  skipVari(withUnit: boolean): boolean {
    if (this.dl < 2) return false;
    const l2 = this.u16();
    let l3 = 0;
    if (withUnit) {
      if (this.dl < 2) return false;
      l3 = this.u16();
    }
    if (this.dl < l2) return false;
    this.p += l2;
    this.dl -= l2;
    if (this.dl < l3) return false;
    this.p += l3;
    this.dl -= l3;
    return true;
  }

  /** dlt_message_argument_print for one argument; false where dlt-convert returns an error. */
  argument(ti: number): boolean {
    const scod = ti & SCOD_MASK;
    const tyle = ti & TYLE_MASK;
    if (ti & TI_STRG && (scod === SCOD_ASCII || scod === SCOD_UTF8)) {
      if (this.dl < 2) return false;
      const len = this.u16();
      if (ti & TI_VARI) {
        if (this.dl < 2) return false;
        const l2 = this.u16();
        if (this.dl < l2) return false;
        this.p += l2;
        this.dl -= l2;
      }
      return this.string(len);
    }
    if (ti & TI_BOOL) {
      if (ti & TI_VARI && !this.skipVari(false)) return false;
      if (this.dl < 1) return false;
      this.put(String(this.raw[this.p]));
      this.p++;
      this.dl--;
      return true;
    }
    if (ti & TI_UINT && (scod === SCOD_BIN || scod === SCOD_HEX)) return this.coded(ti, tyle, scod === SCOD_HEX);
    if (ti & (TI_SINT | TI_UINT)) {
      if (ti & TI_VARI && !this.skipVari(true)) return false;
      if (ti & TI_FIXP) {
        if (this.dl < 4) return false;
        this.p += 4;
        this.dl -= 4;
        const off = tyle >= 1 && tyle <= 3 ? 4 : tyle === 4 ? 8 : tyle === 5 ? 16 : -1;
        if (off < 0 || this.dl < off) return false;
        this.p += off;
        this.dl -= off;
      }
      return this.integer(tyle, (ti & TI_SINT) !== 0);
    }
    if (ti & TI_FLOA) {
      if (ti & TI_VARI && !this.skipVari(true)) return false;
      return this.float(tyle);
    }
    if (ti & TI_RAWD) {
      if (this.dl < 2) return false;
      const len = this.u16();
      if (ti & TI_VARI && !this.skipVari(false)) return false;
      if (this.dl < len) return false;
      // dlt-convert 2.18.8 skips a raw value too long for its text buffer and goes on
      this.hex(this.p, len, 0x27); // '
      this.p += len;
      this.dl -= len;
      return true;
    }
    if (ti & TI_TRAI) {
      if (this.dl < 2) return false;
      return this.string(this.u16());
    }
    return false;
  }

  integer(tyle: number, signed: boolean): boolean {
    const { raw, p, be } = this;
    let text: string;
    switch (tyle) {
      case 1:
        if (this.dl < 1) return false;
        text = String(signed ? raw.readInt8(p) : raw[p]);
        break;
      case 2:
        if (this.dl < 2) return false;
        text = String(signed ? (be ? raw.readInt16BE(p) : raw.readInt16LE(p)) : be ? raw.readUInt16BE(p) : raw.readUInt16LE(p));
        break;
      case 3:
        if (this.dl < 4) return false;
        text = String(signed ? (be ? raw.readInt32BE(p) : raw.readInt32LE(p)) : be ? raw.readUInt32BE(p) : raw.readUInt32LE(p));
        break;
      case 4:
        if (this.dl < 8) return false;
        text = String(signed ? (be ? raw.readBigInt64BE(p) : raw.readBigInt64LE(p)) : be ? raw.readBigUInt64BE(p) : raw.readBigUInt64LE(p));
        break;
      case 5:
        // dlt-convert prints the 16 bytes in payload order whatever the byte order
        if (this.dl < 16) return false;
        this.hex(p, 16, 0x20);
        this.p += 16;
        this.dl -= 16;
        return true;
      default:
        return false;
    }
    const size = tyle === 1 ? 1 : tyle === 2 ? 2 : tyle === 3 ? 4 : 8;
    this.put(text);
    this.p += size;
    this.dl -= size;
    return true;
  }

  float(tyle: number): boolean {
    const { raw, p, be } = this;
    switch (tyle) {
      case 1:
      case 2:
      case 5: {
        const size = tyle === 1 ? 1 : tyle === 2 ? 2 : 16;
        if (this.dl < size) return false;
        this.hex(p, size, 0x20);
        this.p += size;
        this.dl -= size;
        return true;
      }
      case 3: {
        if (this.dl < 4) return false;
        const v = be ? raw.readFloatBE(p) : raw.readFloatLE(p);
        this.put(formatG(v, (raw[be ? p : p + 3] & 0x80) !== 0));
        this.p += 4;
        this.dl -= 4;
        return true;
      }
      case 4: {
        if (this.dl < 8) return false;
        const v = be ? raw.readDoubleBE(p) : raw.readDoubleLE(p);
        this.put(formatG(v, (raw[be ? p : p + 7] & 0x80) !== 0));
        this.p += 8;
        this.dl -= 8;
        return true;
      }
      default:
        return false;
    }
  }

  /** Hex- or bin-coded unsigned integer: as dlt-convert prints it, or `corrected` (see the top of this file). */
  coded(ti: number, tyle: number, hex: boolean): boolean {
    const known = this.corrected ? tyle >= 1 && tyle <= 5 : hex ? tyle >= 1 && tyle <= 4 : tyle === 1 || tyle === 2;
    // dlt-convert prints nothing and consumes nothing for widths it does not handle
    if (!known) return true;
    const size = 1 << (tyle - 1);
    if (this.corrected && ti & TI_VARI && !this.skipVari(true)) return false;
    if (this.dl < size) return false;
    const be = this.corrected && this.be;
    // most significant byte first
    const bytes: number[] = [];
    for (let i = 0; i < size; i++) bytes.push(this.raw[be ? this.p + i : this.p + size - 1 - i]);
    let text = hex ? '0x' : '0b';
    if (hex) for (const b of bytes) text += HEX.toString('latin1', b * 2, b * 2 + 2);
    else
      text += bytes
        .map((b) => b.toString(2).padStart(8, '0'))
        .join('')
        .replace(/(.{4})(?=.)/g, '$1 ');
    this.put(text);
    this.p += size;
    this.dl -= size;
    return true;
  }
}

const printer = new PayloadPrinter();

export type PayloadStyle = 'strict' | 'corrected';

/**
 * The payload text of a record as dlt_message_payload(DLT_OUTPUT_ASCII) makes it (`strict`), or
 * with hex/bin-coded integers printed right (`corrected`).
 */
export function renderPayload(s: TextSink, r: DltRecord, style: PayloadStyle = 'strict'): void {
  s.reserve(DLT_CONVERT_TEXT_SIZE + 8);
  const pr = printer;
  pr.corrected = style === 'corrected';
  pr.s = s;
  pr.raw = r.raw;
  pr.be = r.bigEndian;
  pr.p = r.payloadOffset;
  pr.dl = r.raw.length - r.payloadOffset;
  pr.lim = s.pos + DLT_CONVERT_TEXT_SIZE;
  if (!r.verbose) {
    nonVerbose(pr, r);
    return;
  }
  for (let num = 0; num < r.noar; num++) {
    if (num !== 0) pr.put(' ');
    if (pr.dl < 4) return;
    const ti = pr.be ? pr.raw.readUInt32BE(pr.p) : pr.raw.readUInt32LE(pr.p);
    pr.p += 4;
    pr.dl -= 4;
    if (!pr.argument(ti)) return;
  }
}

function nonVerbose(pr: PayloadPrinter, r: DltRecord): void {
  let id = 0;
  if (pr.dl >= 4) {
    id = pr.be ? pr.raw.readUInt32BE(pr.p) : pr.raw.readUInt32LE(pr.p);
    pr.p += 4;
    pr.dl -= 4;
  } else pr.dl = -1;
  // dlt-convert's size check, in its unsigned 32-bit arithmetic
  if (DLT_CONVERT_TEXT_SIZE < (Math.imul(pr.dl, 3) + 20) >>> 0) return;
  const control = r.messageType === 3;
  if (control) {
    const name = classicServiceName(id);
    if (name !== undefined) pr.put(name);
    else if (r.messageSubtype !== 3) pr.put(`service(${id})`);
    if (pr.dl > 0) pr.put(', ');
    if (r.messageSubtype === 2 && pr.dl > 0) {
      pr.put(responseStatusText(pr.raw[pr.p]));
      pr.p++;
      pr.dl--;
      if (pr.dl >= 1) pr.put(', ');
    }
  } else pr.put(`${id}, `);
  pr.hex(pr.p, pr.dl, 0x20);
}

const scratch = new TextSink(1 << 16);

/** The payload text as a string (UTF-8 decoded), for viewers and JSON; `corrected` unless asked otherwise. */
export function renderPayloadText(r: DltRecord, style: PayloadStyle = 'corrected'): string {
  scratch.reset();
  renderPayload(scratch, r, style);
  return scratch.peek().toString('utf8');
}
