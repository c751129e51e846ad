/**
 * Verbose payload arguments: each is a 32-bit type info (in the record's byte order) followed by
 * its value. This module decodes them to typed values as the DLT specification defines them;
 * render.ts prints them the way dlt-convert does, quirks included.
 */

export const TYLE_MASK = 0x0f;
export const TI_BOOL = 0x10;
export const TI_SINT = 0x20;
export const TI_UINT = 0x40;
export const TI_FLOA = 0x80;
export const TI_ARAY = 0x100;
export const TI_STRG = 0x200;
export const TI_RAWD = 0x400;
export const TI_VARI = 0x800;
export const TI_FIXP = 0x1000;
export const TI_TRAI = 0x2000;
export const TI_STRU = 0x4000;
export const SCOD_MASK = 0x38000;
export const SCOD_ASCII = 0x0;
export const SCOD_UTF8 = 0x8000;
export const SCOD_HEX = 0x10000;
export const SCOD_BIN = 0x18000;

/** TYLE code → width in bits (0 where undefined). */
export const TYLE_BITS = [0, 8, 16, 32, 64, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

type Named = { name?: string };
type Measured = Named & { unit?: string };

export type DltArgument =
  | ({ type: 'bool'; value: boolean; raw: number } & Named)
  /** 64-bit values are bigint so they stay exact; narrower ones are numbers. */
  | ({
      type: 'int';
      signed: boolean;
      bits: 8 | 16 | 32 | 64;
      value: number | bigint;
      coding?: 'hex' | 'bin';
      /** Fixed point (FIXP): physical value = value × quantisation + offset. */
      quantisation?: number;
      offset?: number | bigint;
    } & Measured)
  /** 128-bit integers and floats have no JS number; they carry their bytes as hex (in payload order). */
  | ({ type: 'int128'; signed: boolean; hex: string } & Measured)
  | ({ type: 'float'; bits: 16 | 32 | 64; value: number } & Measured)
  | ({ type: 'float128'; hex: string } & Measured)
  | ({ type: 'string'; value: string; encoding: 'ascii' | 'utf8' } & Named)
  | ({ type: 'raw'; value: Buffer } & Named)
  | { type: 'trace'; value: string }
  /** Decoding stopped here: the payload does not hold what the type info announces, or the type is unsupported (arrays, structs). */
  | { type: 'invalid'; offset: number; typeInfo?: number; reason: string };

class Short extends Error {}

/** Cursor over one payload, reading in the record's byte order. */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
    readonly be: boolean,
  ) {}
  need(n: number): void {
    if (this.pos + n > this.end) throw new Short();
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }
  u16(): number {
    this.need(2);
    const v = this.be ? this.buf.readUInt16BE(this.pos) : this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.be ? this.buf.readUInt32BE(this.pos) : this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  int(bits: number, signed: boolean): number | bigint {
    const { buf, be } = this;
    this.need(bits / 8);
    const p = this.pos;
    this.pos += bits / 8;
    switch (bits) {
      case 8:
        return signed ? buf.readInt8(p) : buf[p];
      case 16:
        return signed ? (be ? buf.readInt16BE(p) : buf.readInt16LE(p)) : be ? buf.readUInt16BE(p) : buf.readUInt16LE(p);
      case 32:
        return signed ? (be ? buf.readInt32BE(p) : buf.readInt32LE(p)) : be ? buf.readUInt32BE(p) : buf.readUInt32LE(p);
      default:
        return signed ? (be ? buf.readBigInt64BE(p) : buf.readBigInt64LE(p)) : be ? buf.readBigUInt64BE(p) : buf.readBigUInt64LE(p);
    }
  }
  float(bits: 16 | 32 | 64): number {
    const { buf, be } = this;
    this.need(bits / 8);
    const p = this.pos;
    this.pos += bits / 8;
    if (bits === 16) return halfToNumber(be ? buf.readUInt16BE(p) : buf.readUInt16LE(p));
    if (bits === 32) return be ? buf.readFloatBE(p) : buf.readFloatLE(p);
    return be ? buf.readDoubleBE(p) : buf.readDoubleLE(p);
  }
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Text of a string value: the bytes before the first NUL. */
function cString(b: Buffer, encoding: 'latin1' | 'utf8'): string {
  const nul = b.indexOf(0);
  return b.toString(encoding, 0, nul < 0 ? b.length : nul);
}

/**
 * Decode `noar` verbose arguments of a payload. Never throws: a payload that ends early, or a
 * type this decoder does not support, ends the list with an `invalid` entry.
 */
export function decodeArguments(buf: Buffer, start: number, end: number, noar: number, bigEndian: boolean): DltArgument[] {
  const r = new Reader(buf, start, end, bigEndian);
  const out: DltArgument[] = [];
  for (let i = 0; i < noar; i++) {
    const at = r.pos;
    let ti: number | undefined;
    try {
      ti = r.u32();
      const arg = decodeOne(r, ti);
      if (typeof arg === 'string') {
        out.push({ type: 'invalid', offset: at - start, typeInfo: ti, reason: arg });
        return out;
      }
      out.push(arg);
    } catch (err) {
      if (!(err instanceof Short)) throw err;
      out.push({ type: 'invalid', offset: at - start, typeInfo: ti, reason: 'payload ends inside the argument' });
      return out;
    }
  }
  return out;
}

function decodeOne(r: Reader, ti: number): DltArgument | string {
  const bits = TYLE_BITS[ti & TYLE_MASK];
  const vari = (ti & TI_VARI) !== 0;
  const scod = ti & SCOD_MASK;
  if (ti & (TI_ARAY | TI_STRU)) return 'arrays and structs are not supported';
  if (ti & TI_STRG) {
    const len = r.u16();
    const name = vari ? cString(r.bytes(r.u16()), 'utf8') : undefined;
    const encoding = scod === SCOD_UTF8 ? 'utf8' : 'ascii';
    // Loggers commonly put UTF-8 in ASCII-coded strings; decoding both as UTF-8 loses nothing for real ASCII.
    const value = cString(r.bytes(len), 'utf8');
    return withName({ type: 'string', value, encoding }, name);
  }
  if (ti & TI_BOOL) {
    const name = vari ? cString(r.bytes(r.u16()), 'utf8') : undefined;
    const raw = r.u8();
    return withName({ type: 'bool', value: raw !== 0, raw }, name);
  }
  if (ti & (TI_SINT | TI_UINT)) {
    if (!bits) return `integer of undefined width (TYLE ${ti & TYLE_MASK})`;
    const signed = (ti & TI_SINT) !== 0;
    let name: string | undefined;
    let unit: string | undefined;
    if (vari) {
      const nl = r.u16();
      const ul = r.u16();
      name = cString(r.bytes(nl), 'utf8');
      unit = cString(r.bytes(ul), 'utf8');
    }
    let quantisation: number | undefined;
    let offset: number | bigint | undefined;
    if (ti & TI_FIXP) {
      quantisation = r.float(32);
      // A 128-bit offset has no exact JS number; it is skipped and left undefined.
      if (bits === 128) r.bytes(16);
      else offset = r.int(bits === 64 ? 64 : 32, true);
    }
    if (bits === 128) return withUnit({ type: 'int128', signed, hex: r.bytes(16).toString('hex') }, name, unit);
    const arg: DltArgument = { type: 'int', signed, bits: bits as 8 | 16 | 32 | 64, value: r.int(bits, signed) };
    if (scod === SCOD_HEX) arg.coding = 'hex';
    else if (scod === SCOD_BIN) arg.coding = 'bin';
    if (quantisation !== undefined) {
      arg.quantisation = quantisation;
      arg.offset = offset;
    }
    return withUnit(arg, name, unit);
  }
  if (ti & TI_FLOA) {
    if (!bits || bits === 8) return `float of unsupported width (TYLE ${ti & TYLE_MASK})`;
    let name: string | undefined;
    let unit: string | undefined;
    if (vari) {
      const nl = r.u16();
      const ul = r.u16();
      name = cString(r.bytes(nl), 'utf8');
      unit = cString(r.bytes(ul), 'utf8');
    }
    if (bits === 128) return withUnit({ type: 'float128', hex: r.bytes(16).toString('hex') }, name, unit);
    return withUnit({ type: 'float', bits: bits as 16 | 32 | 64, value: r.float(bits as 16 | 32 | 64) }, name, unit);
  }
  if (ti & TI_RAWD) {
    const len = r.u16();
    const name = vari ? cString(r.bytes(r.u16()), 'utf8') : undefined;
    return withName({ type: 'raw', value: r.bytes(len) }, name);
  }
  if (ti & TI_TRAI) {
    const len = r.u16();
    return { type: 'trace', value: cString(r.bytes(len), 'utf8') };
  }
  return `unknown type info 0x${ti.toString(16)}`;
}

// libdlt sends VARI with empty names and units; those carry nothing and are left out.
function withName(arg: DltArgument & Named, name: string | undefined): DltArgument {
  if (name) arg.name = name;
  return arg;
}

function withUnit(arg: DltArgument & Measured, name: string | undefined, unit: string | undefined): DltArgument {
  if (name) arg.name = name;
  if (unit) arg.unit = unit;
  return arg;
}
