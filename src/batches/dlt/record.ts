import { decodeArguments, type DltArgument } from './arguments.js';
import { serviceName, responseStatusText, type ControlInfo } from './control.js';
import {
  HTYP_MSBF,
  HTYP_UEH,
  HTYP_WEID,
  HTYP_WSID,
  HTYP_WTMS,
  MESSAGE_TYPE_NAMES,
  MSIN_VERB,
  MessageType,
  STANDARD_HEADER_SIZE,
  STORAGE_HEADER_SIZE,
  EXTENDED_HEADER_SIZE,
  readId,
  subtypeName,
} from './headers.js';
import { renderPayloadText } from './render.js';

export type DltLogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'verbose';
const LOG_LEVELS: (DltLogLevel | undefined)[] = [undefined, 'fatal', 'error', 'warn', 'info', 'debug', 'verbose'];

/**
 * One DLT v1 record. Header fields are decoded when the record is made; the payload stays a
 * slice of the input (no copy) and is decoded (`args`, `control`) or rendered (`text`) only when
 * asked, so a consumer that aggregates headers pays nothing for payloads.
 *
 * A record keeps the chunk it came from alive: `detach()` the ones you retain.
 */
export class DltRecord {
  /** Position of the record in the stream, counting accepted records from 0. */
  readonly index: number;
  /** Byte offset of its storage header in the stream. */
  readonly offset: number;
  /** Storage header to end of payload (shorter than declared when `truncated`). */
  readonly raw: Buffer;
  /** The stream ended inside this record's payload; `payload` holds what was there. */
  readonly truncated: boolean;

  /** Storage time (written by the logger): seconds since the epoch and microseconds. */
  readonly seconds: number;
  readonly microseconds: number;
  readonly storageEcu: string;

  readonly htyp: number;
  /** Protocol version bits of HTYP (1 for DLT v1; decoded with the v1 layout whatever they say). */
  readonly version: number;
  readonly bigEndian: boolean;
  /** Message counter (MCNT), 0..255 per sender. */
  readonly counter: number;
  /** LEN of the standard header: bytes from the standard header to the end of the payload. */
  readonly length: number;
  /** ECU id of the standard header if present, else of the storage header. */
  readonly ecu: string;
  readonly sessionId: number | undefined;
  /** Sender uptime in 0.1 ms units, if present. */
  readonly timestamp: number | undefined;

  readonly extended: boolean;
  readonly verbose: boolean;
  /** MSTP: 0 log, 1 app trace, 2 network trace, 3 control (4..7 reserved); undefined without extended header. */
  readonly messageType: number | undefined;
  /** MTIN: the log level, trace type, bus type or control kind, by message type. */
  readonly messageSubtype: number | undefined;
  /** Number of arguments (NOAR) of a verbose payload. */
  readonly noar: number;
  /** Application and context ids ('' without extended header). */
  readonly apid: string;
  readonly ctid: string;
  /** Offset of the payload in `raw`. */
  readonly payloadOffset: number;

  private argsCache: DltArgument[] | undefined;
  private textCache: string | undefined;

  constructor(index: number, offset: number, raw: Buffer, truncated: boolean) {
    this.index = index;
    this.offset = offset;
    this.raw = raw;
    this.truncated = truncated;
    this.seconds = raw.readUInt32LE(4);
    this.microseconds = raw.readInt32LE(8);
    this.storageEcu = readId(raw, 12);
    const htyp = raw[STORAGE_HEADER_SIZE];
    this.htyp = htyp;
    this.version = htyp >> 5;
    this.bigEndian = (htyp & HTYP_MSBF) !== 0;
    this.counter = raw[STORAGE_HEADER_SIZE + 1];
    this.length = raw.readUInt16BE(STORAGE_HEADER_SIZE + 2);
    let p = STORAGE_HEADER_SIZE + STANDARD_HEADER_SIZE;
    if (htyp & HTYP_WEID) {
      this.ecu = readId(raw, p);
      p += 4;
    } else this.ecu = this.storageEcu;
    if (htyp & HTYP_WSID) {
      this.sessionId = raw.readUInt32BE(p);
      p += 4;
    } else this.sessionId = undefined;
    if (htyp & HTYP_WTMS) {
      this.timestamp = raw.readUInt32BE(p);
      p += 4;
    } else this.timestamp = undefined;
    if (htyp & HTYP_UEH) {
      const msin = raw[p];
      this.extended = true;
      this.verbose = (msin & MSIN_VERB) !== 0;
      this.messageType = (msin >> 1) & 0x7;
      this.messageSubtype = (msin >> 4) & 0xf;
      this.noar = raw[p + 1];
      this.apid = readId(raw, p + 2);
      this.ctid = readId(raw, p + 6);
      p += EXTENDED_HEADER_SIZE;
    } else {
      this.extended = false;
      this.verbose = false;
      this.messageType = undefined;
      this.messageSubtype = undefined;
      this.noar = 0;
      this.apid = '';
      this.ctid = '';
    }
    this.payloadOffset = p;
  }

  /** The same record over its own copy of the bytes, so keeping it does not keep the input chunk. */
  detach(): DltRecord {
    return new DltRecord(this.index, this.offset, Buffer.from(this.raw), this.truncated);
  }

  /** Size the headers declare for storage header + message. */
  get declaredSize(): number {
    return STORAGE_HEADER_SIZE + this.length;
  }

  get payload(): Buffer {
    return this.raw.subarray(this.payloadOffset);
  }

  /** Storage time in epoch milliseconds. */
  get timeMs(): number {
    return this.seconds * 1000 + Math.trunc(this.microseconds / 1000);
  }

  /** `log`, `app_trace`, `nw_trace`, `control` ('' for reserved types; undefined without extended header). */
  get typeName(): string | undefined {
    return this.messageType === undefined ? undefined : MESSAGE_TYPE_NAMES[this.messageType];
  }

  /** Name of MTIN for the message type, e.g. `warn`, `func_in`, `can`, `response` ('' if undefined). */
  get subtypeName(): string | undefined {
    return this.messageType === undefined ? undefined : subtypeName(this.messageType, this.messageSubtype ?? 0);
  }

  /** Log level of a log message. */
  get level(): DltLogLevel | undefined {
    return this.messageType === MessageType.log ? LOG_LEVELS[this.messageSubtype ?? 0] : undefined;
  }

  get isControl(): boolean {
    return this.messageType === MessageType.control;
  }

  /** Typed arguments of a verbose payload ([] for non-verbose records). */
  get args(): DltArgument[] {
    if (this.argsCache === undefined) {
      this.argsCache = this.verbose ? decodeArguments(this.raw, this.payloadOffset, this.raw.length, this.noar, this.bigEndian) : [];
    }
    return this.argsCache;
  }

  /** Message id of a non-verbose payload (its first 4 bytes in the record's byte order). */
  get messageId(): number | undefined {
    if (this.verbose || this.raw.length - this.payloadOffset < 4) return undefined;
    return this.bigEndian ? this.raw.readUInt32BE(this.payloadOffset) : this.raw.readUInt32LE(this.payloadOffset);
  }

  /** Service, status and data of a non-verbose control message. */
  get control(): ControlInfo | undefined {
    if (!this.isControl || this.verbose) return undefined;
    const id = this.messageId;
    if (id === undefined) return undefined;
    let p = this.payloadOffset + 4;
    const info: ControlInfo = { serviceId: id, data: this.raw.subarray(p) };
    const name = serviceName(id);
    if (name !== undefined) info.service = name;
    if (this.messageSubtype === 2 && p < this.raw.length) {
      info.status = responseStatusText(this.raw[p]);
      p++;
      info.data = this.raw.subarray(p);
    }
    return info;
  }

  /**
   * The payload as dlt-convert -a prints it between the brackets (bytes decoded as UTF-8),
   * except that hex/bin-coded integers are printed right (see render.ts).
   */
  get text(): string {
    if (this.textCache === undefined) this.textCache = renderPayloadText(this);
    return this.textCache;
  }

  /** A plain object for JSON output: 64-bit integers as decimal strings, raw bytes as hex. */
  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = {
      index: this.index,
      offset: this.offset,
      time: new Date(this.timeMs).toISOString(),
      seconds: this.seconds,
      microseconds: this.microseconds,
      ecu: this.ecu,
      counter: this.counter,
    };
    if (this.sessionId !== undefined) o.sessionId = this.sessionId;
    if (this.timestamp !== undefined) o.timestamp = this.timestamp;
    if (this.extended) {
      o.apid = this.apid;
      o.ctid = this.ctid;
      o.type = this.typeName;
      o.subtype = this.subtypeName;
      o.verbose = this.verbose;
      o.noar = this.noar;
    }
    if (this.verbose) o.args = this.args.map(argToJson);
    else if (this.isControl) {
      const c = this.control;
      if (c) o.control = { ...c, data: c.data.toString('hex') };
    } else if (this.messageId !== undefined) {
      o.messageId = this.messageId;
      o.data = this.raw.subarray(this.payloadOffset + 4).toString('hex');
    }
    o.text = this.text;
    if (this.truncated) o.truncated = true;
    return o;
  }
}

function argToJson(a: DltArgument): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) {
    if (typeof v === 'bigint') o[k] = v.toString();
    else if (Buffer.isBuffer(v)) o[k] = v.toString('hex');
    else if (typeof v === 'number' && !Number.isFinite(v)) o[k] = String(v);
    else o[k] = v;
  }
  return o;
}
