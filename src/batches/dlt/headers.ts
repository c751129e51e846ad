/**
 * DLT v1 header layout (AUTOSAR / COVESA DLT): a 16-byte storage header written by the logger
 * (`DLT\x01`, seconds, microseconds, ECU id), the standard header (HTYP, MCNT, LEN big-endian),
 * optional standard-header extras (ECU id, session id, timestamp; always big-endian) and the
 * optional 10-byte extended header (MSIN, NOAR, APID, CTID).
 */

export const STORAGE_HEADER_SIZE = 16;
export const STANDARD_HEADER_SIZE = 4;
export const EXTENDED_HEADER_SIZE = 10;
/** LEN is 16 bits, so no record (storage header included) is larger than this. */
export const MAX_RECORD_SIZE = STORAGE_HEADER_SIZE + 0xffff;

export const STORAGE_MARKER = Buffer.from('DLT\x01', 'latin1');

// HTYP bits
export const HTYP_UEH = 0x01;
export const HTYP_MSBF = 0x02;
export const HTYP_WEID = 0x04;
export const HTYP_WSID = 0x08;
export const HTYP_WTMS = 0x10;

// MSIN bits
export const MSIN_VERB = 0x01;

export const MessageType = { log: 0, appTrace: 1, nwTrace: 2, control: 3 } as const;

/** Names dlt-convert prints for MSTP; 4..7 are reserved and print empty. */
export const MESSAGE_TYPE_NAMES = ['log', 'app_trace', 'nw_trace', 'control', '', '', '', ''];
const LOG_LEVEL_NAMES = ['', 'fatal', 'error', 'warn', 'info', 'debug', 'verbose'];
const TRACE_TYPE_NAMES = ['', 'variable', 'func_in', 'func_out', 'state', 'vfb'];
const NW_TRACE_TYPE_NAMES = ['', 'ipc', 'can', 'flexray', 'most', 'vfb'];
const CONTROL_TYPE_NAMES = ['', 'request', 'response', 'time'];
const SUBTYPE_NAMES = [LOG_LEVEL_NAMES, TRACE_TYPE_NAMES, NW_TRACE_TYPE_NAMES, CONTROL_TYPE_NAMES];

/** MTIN name for a MSTP, as dlt-convert prints it ('' when undefined or reserved). */
export function subtypeName(messageType: number, subtype: number): string {
  return SUBTYPE_NAMES[messageType]?.[subtype] ?? '';
}

/** Bytes of the standard-header extras announced by HTYP. */
export function extraSize(htyp: number): number {
  return (htyp & HTYP_WEID ? 4 : 0) + (htyp & HTYP_WSID ? 4 : 0) + (htyp & HTYP_WTMS ? 4 : 0);
}

/** Smallest LEN a record with this HTYP can declare: its own headers with an empty payload. */
export function minLength(htyp: number): number {
  return STANDARD_HEADER_SIZE + extraSize(htyp) + (htyp & HTYP_UEH ? EXTENDED_HEADER_SIZE : 0);
}

export function isMarkerAt(buf: Buffer, pos: number): boolean {
  return buf[pos] === 0x44 && buf[pos + 1] === 0x4c && buf[pos + 2] === 0x54 && buf[pos + 3] === 0x01;
}

const idCache = new Map<number, string>();

/**
 * A 4-byte id as text: the bytes before the first NUL (latin1). Ids repeat across millions of
 * records, so their strings are interned by value.
 */
export function readId(buf: Buffer, pos: number): string {
  const key = buf.readUInt32BE(pos);
  let s = idCache.get(key);
  if (s === undefined) {
    let end = pos;
    while (end < pos + 4 && buf[end] !== 0) end++;
    s = buf.toString('latin1', pos, end);
    if (idCache.size < 65536) idCache.set(key, s);
  }
  return s;
}
