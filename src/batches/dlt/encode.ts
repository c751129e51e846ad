/**
 * Building DLT v1 records: for tests, benchmarks and the demo generator. Header fields follow
 * the same layout the decoder reads (headers.ts); payload values are written in the record's
 * byte order.
 */
import { HTYP_MSBF, HTYP_UEH, HTYP_WEID, HTYP_WSID, HTYP_WTMS, MSIN_VERB, STORAGE_MARKER } from './headers.js';
import { SCOD_BIN, SCOD_HEX, SCOD_UTF8, TI_BOOL, TI_FLOA, TI_RAWD, TI_SINT, TI_STRG, TI_UINT } from './arguments.js';

export type EncodeArg =
  | { type: 'string'; value: string; utf8?: boolean }
  | { type: 'int'; signed?: boolean; bits: 8 | 16 | 32 | 64; value: number | bigint; coding?: 'hex' | 'bin' }
  | { type: 'bool'; value: boolean }
  | { type: 'float'; bits: 32 | 64; value: number }
  | { type: 'raw'; value: Buffer };

export type EncodeRecord = {
  seconds?: number;
  microseconds?: number;
  storageEcu?: string;
  /** ECU id in the standard header (WEID); null leaves it out. */
  ecu?: string | null;
  sessionId?: number;
  /** 0.1 ms units (WTMS); null leaves it out. */
  timestamp?: number | null;
  counter?: number;
  bigEndian?: boolean;
  /** Extended header; null leaves it out (then the payload is non-verbose). */
  extended?: { verbose?: boolean; type?: number; subtype?: number; apid?: string; ctid?: string; noar?: number } | null;
  /** Verbose arguments (sets noar) or a raw payload. */
  args?: EncodeArg[];
  payload?: Buffer;
};

const TYLE = { 8: 1, 16: 2, 32: 3, 64: 4 } as const;

function id4(s: string): Buffer {
  const b = Buffer.alloc(4);
  b.write(s.slice(0, 4), 'latin1');
  return b;
}

function u16(v: number, be: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (be) b.writeUInt16BE(v);
  else b.writeUInt16LE(v);
  return b;
}

function u32(v: number, be: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (be) b.writeUInt32BE(v >>> 0);
  else b.writeUInt32LE(v >>> 0);
  return b;
}

/** A verbose payload: type info + value per argument. */
export function encodeArgs(args: EncodeArg[], be = false): Buffer {
  const parts: Buffer[] = [];
  for (const a of args) {
    switch (a.type) {
      case 'string': {
        const v = Buffer.concat([Buffer.from(a.value, 'utf8'), Buffer.from([0])]);
        parts.push(u32(TI_STRG | (a.utf8 ? SCOD_UTF8 : 0), be), u16(v.length, be), v);
        break;
      }
      case 'bool':
        parts.push(u32(TI_BOOL | 1, be), Buffer.from([a.value ? 1 : 0]));
        break;
      case 'raw':
        parts.push(u32(TI_RAWD, be), u16(a.value.length, be), a.value);
        break;
      case 'float': {
        const b = Buffer.alloc(a.bits / 8);
        if (a.bits === 32) {
          if (be) b.writeFloatBE(a.value);
          else b.writeFloatLE(a.value);
        } else if (be) b.writeDoubleBE(a.value);
        else b.writeDoubleLE(a.value);
        parts.push(u32(TI_FLOA | TYLE[a.bits], be), b);
        break;
      }
      case 'int': {
        const ti = (a.signed ? TI_SINT : TI_UINT) | TYLE[a.bits] | (a.coding === 'hex' ? SCOD_HEX : a.coding === 'bin' ? SCOD_BIN : 0);
        const b = Buffer.alloc(a.bits / 8);
        const v = a.value;
        if (a.bits === 64) {
          // two's complement for negative values, so one unsigned write serves both
          const big = BigInt.asUintN(64, BigInt(v));
          if (be) b.writeBigUInt64BE(big);
          else b.writeBigUInt64LE(big);
        } else if (a.bits === 8) b[0] = Number(v) & 0xff;
        else if (a.bits === 16) {
          if (be) b.writeUInt16BE(Number(v) & 0xffff);
          else b.writeUInt16LE(Number(v) & 0xffff);
        } else if (be) b.writeUInt32BE(Number(v) >>> 0);
        else b.writeUInt32LE(Number(v) >>> 0);
        parts.push(u32(ti, be), b);
        break;
      }
    }
  }
  return Buffer.concat(parts);
}

/** One record: storage header, standard header, extras, extended header, payload. */
export function encodeRecord(r: EncodeRecord): Buffer {
  const be = r.bigEndian ?? false;
  const ext = r.extended === undefined ? { verbose: true } : r.extended;
  const payload = r.payload ?? encodeArgs(r.args ?? [], be);
  let htyp = 0x20; // version 1
  if (be) htyp |= HTYP_MSBF;
  const extras: Buffer[] = [];
  const ecu = r.ecu === undefined ? (r.storageEcu ?? 'ECU1') : r.ecu;
  if (ecu !== null) {
    htyp |= HTYP_WEID;
    extras.push(id4(ecu));
  }
  if (r.sessionId !== undefined) {
    htyp |= HTYP_WSID;
    extras.push(u32(r.sessionId, true));
  }
  const tmsp = r.timestamp === undefined ? 0 : r.timestamp;
  if (tmsp !== null) {
    htyp |= HTYP_WTMS;
    extras.push(u32(tmsp, true));
  }
  if (ext) {
    htyp |= HTYP_UEH;
    const verbose = ext.verbose ?? true;
    const msin = (verbose ? MSIN_VERB : 0) | ((ext.type ?? 0) << 1) | ((ext.subtype ?? 4) << 4);
    const noar = ext.noar ?? (verbose ? (r.args?.length ?? 0) : 0);
    extras.push(Buffer.from([msin, noar]), id4(ext.apid ?? 'APP1'), id4(ext.ctid ?? 'CTX1'));
  }
  const extra = Buffer.concat(extras);
  const len = 4 + extra.length + payload.length;
  if (len > 0xffff) throw new RangeError(`record of ${len} bytes exceeds DLT's 65535`);
  const storage = Buffer.alloc(16);
  STORAGE_MARKER.copy(storage, 0);
  storage.writeUInt32LE((r.seconds ?? 1_700_000_000) >>> 0, 4);
  storage.writeInt32LE(r.microseconds ?? 0, 8);
  id4(r.storageEcu ?? 'ECU1').copy(storage, 12);
  const std = Buffer.from([htyp, (r.counter ?? 0) & 0xff, len >> 8, len & 0xff]);
  return Buffer.concat([storage, std, extra, payload]);
}
