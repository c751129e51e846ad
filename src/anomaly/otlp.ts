/**
 * OTLP/HTTP trace decoding (pure; zlib is used in-memory for gzip bodies).
 *
 * - Binary protobuf: a hand-written reader for the few fields of ExportTraceServiceRequest we need
 *   (resource service.name, spans' ids, name, kind, times, a few attributes, status). Unknown fields
 *   are skipped by wire type without recursion, so nesting depth is fixed and every step advances:
 *   malformed input (truncated lengths, group/invalid wire types, field 0, over-long varints,
 *   invalid UTF-8, a known field with the wrong wire type) is an OtlpDecodeError, never a hang.
 * - OTLP/JSON: lowerCamelCase keys (snake_case tolerated), trace/span ids as case-insensitive hex
 *   (base64 tolerated), 64-bit integers as decimal strings or numbers, enums as integers (names
 *   tolerated), unknown fields ignored.
 *
 * Spans that decode but are unusable (bad ids, end before start, no start time) are counted as
 * rejected and reported through partialSuccess, as the OTLP specification asks.
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { MAX_ENDPOINT_LENGTH, MAX_SERVICE_LENGTH, UNNAMED_ENDPOINT } from './normalize.js';
import type { TraceSummary } from './types.js';

export const SPAN_KIND = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

/** Attributes kept on SpanRecord (everything else is skipped while decoding). */
export const ENDPOINT_ATTRIBUTES: readonly string[] = [
  'http.route',
  'http.request.method',
  'http.method',
  'url.path',
  'url.full',
  'http.target',
  'http.url',
  'rpc.service',
  'rpc.method',
  'http.response.status_code',
  'http.status_code',
];
const WANTED = new Set(ENDPOINT_ATTRIBUTES);

export type AttributeValue = string | number | boolean;

export interface SpanRecord {
  /** 32 lower-case hex digits. */
  traceId: string;
  /** 16 lower-case hex digits. */
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  /** Resource attribute service.name ("unknown_service" when absent, as the SDKs do). */
  service: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** Only the keys in ENDPOINT_ATTRIBUTES. */
  attributes: Record<string, AttributeValue>;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
}

export interface DecodedTraces {
  spans: SpanRecord[];
  rejectedSpans: number;
  /** Human-readable reason for the rejected spans ('' when none). */
  errorMessage: string;
}

/** Undecodable or unacceptable request. statusCode: 400 bad data, 413 too large, 415 unsupported type or encoding. */
export class OtlpDecodeError extends Error {
  constructor(
    message: string,
    readonly statusCode: 400 | 413 | 415 = 400,
  ) {
    super(message);
    this.name = 'OtlpDecodeError';
  }
}

// ---------------------------------------------------------------- helpers

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function bytesToHex(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX[buf[i]];
  return s;
}

const isAllZero = (hex: string) => /^0*$/.test(hex);

class Rejections {
  count = 0;
  private reasons = new Map<string, number>();
  add(reason: string) {
    this.count++;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }
  message(): string {
    if (this.count === 0) return '';
    const parts = [...this.reasons].map(([r, n]) => `${n} ${r}`);
    return `${this.count} span${this.count === 1 ? '' : 's'} rejected: ${parts.join('; ')}`;
  }
}

function validateSpan(s: SpanRecord, rej: Rejections): boolean {
  if (s.traceId.length !== 32 || isAllZero(s.traceId)) return rej.add('with an invalid trace id (need 16 non-zero bytes)'), false;
  if (s.spanId.length !== 16 || isAllZero(s.spanId)) return rej.add('with an invalid span id (need 8 non-zero bytes)'), false;
  if (s.parentSpanId !== '' && s.parentSpanId.length !== 16) return rej.add('with an invalid parent span id'), false;
  if (s.startTimeUnixNano <= 0n) return rej.add('without a start time'), false;
  if (s.endTimeUnixNano < s.startTimeUnixNano) return rej.add('ending before they start'), false;
  // Permanent problems are rejected here, in partialSuccess: a 4xx/5xx would make exporters retry
  // (or drop) the whole batch.
  if (s.service.length > MAX_SERVICE_LENGTH) return rej.add(`whose service.name is longer than ${MAX_SERVICE_LENGTH} characters`), false;
  if (s.service.includes('\u0000')) return rej.add('whose service.name contains a NUL character'), false;
  // Only the start of a name can matter: the normaliser keeps 200 characters.
  if (s.name.length > MAX_ENDPOINT_LENGTH) s.name = s.name.slice(0, MAX_ENDPOINT_LENGTH);
  return true;
}

// ---------------------------------------------------------------- protobuf

const utf8 = new TextDecoder('utf-8', { fatal: true });
const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

class PbReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OtlpDecodeError('protobuf: truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new OtlpDecodeError('protobuf: varint longer than 10 bytes');
  }

  /** Tag → [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    const wire = t % 8;
    if (field === 0) throw new OtlpDecodeError('protobuf: field number 0');
    if (wire === 3 || wire === 4) throw new OtlpDecodeError('protobuf: groups are not used by OTLP (is this really protobuf?)');
    if (wire > 5) throw new OtlpDecodeError(`protobuf: invalid wire type ${wire}`);
    return [field, wire];
  }

  /** A length-delimited field → [start, end) within buf. */
  len(): [number, number] {
    const n = this.varint();
    if (n > this.end - this.pos) throw new OtlpDecodeError('protobuf: length runs past the end of the message');
    const s = this.pos;
    this.pos += n;
    return [s, this.pos];
  }

  fixed64(): bigint {
    if (this.end - this.pos < 8) throw new OtlpDecodeError('protobuf: truncated fixed64');
    const b = this.buf;
    const p = this.pos;
    const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
    const hi = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
    this.pos += 8;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  double(): number {
    if (this.end - this.pos < 8) throw new OtlpDecodeError('protobuf: truncated double');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  string(): string {
    const [s, e] = this.len();
    try {
      return utf8.decode(this.buf.subarray(s, e));
    } catch {
      throw new OtlpDecodeError('protobuf: string field is not valid UTF-8');
    }
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        if (this.end - this.pos < 8) throw new OtlpDecodeError('protobuf: truncated fixed64');
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.len();
        return;
      case WIRE_I32:
        if (this.end - this.pos < 4) throw new OtlpDecodeError('protobuf: truncated fixed32');
        this.pos += 4;
        return;
      default:
        throw new OtlpDecodeError(`protobuf: invalid wire type ${wire}`);
    }
  }

  sub([s, e]: [number, number]): PbReader {
    return new PbReader(this.buf, s, e);
  }
}

function expectWire(field: string, got: number, want: number): void {
  if (got !== want) throw new OtlpDecodeError(`protobuf: ${field} has wire type ${got}, expected ${want}`);
}

/** AnyValue → a scalar (string, bool, int, double); arrays, kvlists and bytes → undefined. */
function pbAnyValue(r: PbReader): AttributeValue | undefined {
  let v: AttributeValue | undefined;
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) v = r.string();
    else if (f === 2 && w === WIRE_VARINT) v = r.varint() !== 0;
    else if (f === 3 && w === WIRE_VARINT) {
      const start = r.pos;
      r.varint();
      // int64 two's complement: re-read exactly as a BigInt to keep negatives right
      let x = 0n;
      let shift = 0n;
      for (let i = start; i < r.pos; i++) {
        x |= BigInt(r.buf[i] & 0x7f) << shift;
        shift += 7n;
      }
      v = Number(BigInt.asIntN(64, x));
    } else if (f === 4 && w === WIRE_I64) v = r.double();
    else r.skip(w);
  }
  return v;
}

/** KeyValue → [key, value] when the key is wanted (value decoded lazily, fields in any order). */
function pbKeyValue(r: PbReader, wanted: (k: string) => boolean): [string, AttributeValue] | undefined {
  let key: string | undefined;
  let valueRange: [number, number] | undefined;
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1) {
      expectWire('KeyValue.key', w, WIRE_LEN);
      key = r.string();
    } else if (f === 2) {
      expectWire('KeyValue.value', w, WIRE_LEN);
      valueRange = r.len();
    } else r.skip(w);
  }
  if (key === undefined || !wanted(key) || !valueRange) return undefined;
  const v = pbAnyValue(r.sub(valueRange));
  return v === undefined ? undefined : [key, v];
}

function pbResourceService(r: PbReader): string | undefined {
  let service: string | undefined;
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1) {
      expectWire('Resource.attributes', w, WIRE_LEN);
      const kv = pbKeyValue(r.sub(r.len()), (k) => k === 'service.name');
      if (kv && typeof kv[1] === 'string') service = kv[1];
    } else r.skip(w);
  }
  return service;
}

function pbBytesHex(r: PbReader, field: string): string {
  const [s, e] = r.len();
  if (e - s > 64) throw new OtlpDecodeError(`protobuf: ${field} is ${e - s} bytes long`);
  return bytesToHex(r.buf, s, e);
}

function pbSpan(r: PbReader, service: string): SpanRecord {
  const span: SpanRecord = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    service,
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {},
    statusCode: 0,
  };
  while (r.more()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1:
        expectWire('Span.trace_id', w, WIRE_LEN);
        span.traceId = pbBytesHex(r, 'trace_id');
        break;
      case 2:
        expectWire('Span.span_id', w, WIRE_LEN);
        span.spanId = pbBytesHex(r, 'span_id');
        break;
      case 4:
        expectWire('Span.parent_span_id', w, WIRE_LEN);
        span.parentSpanId = pbBytesHex(r, 'parent_span_id');
        break;
      case 5:
        expectWire('Span.name', w, WIRE_LEN);
        span.name = r.string();
        break;
      case 6:
        expectWire('Span.kind', w, WIRE_VARINT);
        span.kind = r.varint();
        break;
      case 7:
        expectWire('Span.start_time_unix_nano', w, WIRE_I64);
        span.startTimeUnixNano = r.fixed64();
        break;
      case 8:
        expectWire('Span.end_time_unix_nano', w, WIRE_I64);
        span.endTimeUnixNano = r.fixed64();
        break;
      case 9: {
        expectWire('Span.attributes', w, WIRE_LEN);
        const kv = pbKeyValue(r.sub(r.len()), (k) => WANTED.has(k));
        if (kv) span.attributes[kv[0]] = kv[1];
        break;
      }
      case 15: {
        expectWire('Span.status', w, WIRE_LEN);
        const sr = r.sub(r.len());
        while (sr.more()) {
          const [sf, sw] = sr.tag();
          if (sf === 3 && sw === WIRE_VARINT) span.statusCode = sr.varint();
          else sr.skip(sw);
        }
        break;
      }
      default:
        r.skip(w);
    }
  }
  return span;
}

/** Decode a binary ExportTraceServiceRequest. */
export function decodeProtobufTraces(body: Uint8Array): DecodedTraces {
  const spans: SpanRecord[] = [];
  const rej = new Rejections();
  const top = new PbReader(body, 0, body.length);
  while (top.more()) {
    const [f, w] = top.tag();
    if (f !== 1) {
      top.skip(w);
      continue;
    }
    expectWire('ExportTraceServiceRequest.resource_spans', w, WIRE_LEN);
    const rs = top.sub(top.len());
    let resource: [number, number] | undefined;
    const scopes: [number, number][] = [];
    while (rs.more()) {
      const [rf, rw] = rs.tag();
      if (rf === 1) {
        expectWire('ResourceSpans.resource', rw, WIRE_LEN);
        resource = rs.len();
      } else if (rf === 2) {
        expectWire('ResourceSpans.scope_spans', rw, WIRE_LEN);
        scopes.push(rs.len());
      } else rs.skip(rw);
    }
    const service = (resource && pbResourceService(rs.sub(resource))) || 'unknown_service';
    for (const sc of scopes) {
      const ss = rs.sub(sc);
      while (ss.more()) {
        const [sf, sw] = ss.tag();
        if (sf === 2) {
          expectWire('ScopeSpans.spans', sw, WIRE_LEN);
          const span = pbSpan(ss.sub(ss.len()), service);
          if (validateSpan(span, rej)) spans.push(span);
        } else ss.skip(sw);
      }
    }
  }
  return { spans, rejectedSpans: rej.count, errorMessage: rej.message() };
}

// ---------------------------------------------------------------- JSON

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** field by its lowerCamelCase name, or its original snake_case name. */
function field(o: Obj, camel: string, snake?: string): unknown {
  const v = o[camel];
  if (v !== undefined) return v;
  return snake === undefined ? undefined : o[snake];
}

function list(o: Obj, where: string, camel: string, snake?: string): unknown[] {
  const v = field(o, camel, snake);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpDecodeError(`OTLP/JSON: ${where}.${camel} must be an array`);
  return v;
}

/** Hex (case-insensitive) or, tolerated, base64 id → lower-case hex; null when neither. */
function jsonId(v: unknown, bytes: number): string | null {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v !== 'string') return null;
  if (v.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase();
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(v) && v.length === Math.ceil(bytes / 3) * 4) {
    const b = Buffer.from(v, 'base64');
    if (b.length === bytes) return b.toString('hex');
  }
  return null;
}

function jsonUint64(v: unknown): bigint | null {
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  if (v === undefined || v === null) return 0n;
  return null;
}

const KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function jsonEnum(v: unknown, names: Record<string, number>): number | null {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && v in names) return names[v];
  return null;
}

function jsonAnyValue(v: unknown): AttributeValue | undefined {
  if (!isObj(v)) return undefined;
  const s = field(v, 'stringValue', 'string_value');
  if (typeof s === 'string') return s;
  const b = field(v, 'boolValue', 'bool_value');
  if (typeof b === 'boolean') return b;
  const i = field(v, 'intValue', 'int_value');
  if (typeof i === 'number' && Number.isFinite(i)) return Math.trunc(i);
  if (typeof i === 'string' && /^-?\d{1,20}$/.test(i)) return Number(i);
  const d = field(v, 'doubleValue', 'double_value');
  if (typeof d === 'number') return d;
  if (typeof d === 'string' && /^(NaN|-?Infinity|-?\d+(\.\d+)?([eE][+-]?\d+)?)$/.test(d)) return Number(d);
  return undefined;
}

function jsonAttributes(arr: unknown, wanted: (k: string) => boolean, into: Record<string, AttributeValue>): void {
  if (!Array.isArray(arr)) return;
  for (const kv of arr) {
    if (!isObj(kv) || typeof kv.key !== 'string' || !wanted(kv.key)) continue;
    const v = jsonAnyValue(kv.value);
    if (v !== undefined) into[kv.key] = v;
  }
}

function jsonSpan(o: unknown, service: string, rej: Rejections): SpanRecord | null {
  if (!isObj(o)) return rej.add('that are not objects'), null;
  const traceId = jsonId(field(o, 'traceId', 'trace_id'), 16);
  const spanId = jsonId(field(o, 'spanId', 'span_id'), 8);
  const parentSpanId = jsonId(field(o, 'parentSpanId', 'parent_span_id'), 8);
  if (traceId === null || traceId === '') return rej.add('with an invalid trace id (need 32 hex digits)'), null;
  if (spanId === null || spanId === '') return rej.add('with an invalid span id (need 16 hex digits)'), null;
  if (parentSpanId === null) return rej.add('with an invalid parent span id'), null;
  const start = jsonUint64(field(o, 'startTimeUnixNano', 'start_time_unix_nano'));
  const end = jsonUint64(field(o, 'endTimeUnixNano', 'end_time_unix_nano'));
  if (start === null || end === null) return rej.add('with times that are not 64-bit unsigned integers'), null;
  const kind = jsonEnum(o.kind, KIND_NAMES);
  if (kind === null) return rej.add('with an invalid kind'), null;
  const name = o.name ?? '';
  if (typeof name !== 'string') return rej.add('with a name that is not a string'), null;
  let statusCode = 0;
  if (isObj(o.status)) {
    const c = jsonEnum(o.status.code, STATUS_NAMES);
    if (c === null) return rej.add('with an invalid status code'), null;
    statusCode = c;
  }
  const attributes: Record<string, AttributeValue> = {};
  jsonAttributes(o.attributes, (k) => WANTED.has(k), attributes);
  const span: SpanRecord = {
    traceId,
    spanId,
    parentSpanId,
    service,
    name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes,
    statusCode,
  };
  return validateSpan(span, rej) ? span : null;
}

/** Decode an OTLP/JSON ExportTraceServiceRequest (text, UTF-8 bytes, or an already parsed value). */
export function decodeJsonTraces(input: string | Uint8Array | unknown): DecodedTraces {
  let doc: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    let text: string;
    try {
      text = typeof input === 'string' ? input : utf8.decode(input);
    } catch {
      throw new OtlpDecodeError('OTLP/JSON: body is not valid UTF-8');
    }
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new OtlpDecodeError(`OTLP/JSON: body is not valid JSON (${(e as Error).message})`);
    }
  }
  if (!isObj(doc)) throw new OtlpDecodeError('OTLP/JSON: body must be a JSON object with resourceSpans');
  const spans: SpanRecord[] = [];
  const rej = new Rejections();
  const resourceSpans = list(doc, 'request', 'resourceSpans', 'resource_spans');
  resourceSpans.forEach((rs, i) => {
    if (!isObj(rs)) throw new OtlpDecodeError(`OTLP/JSON: resourceSpans[${i}] must be an object`);
    let service = 'unknown_service';
    const res = rs.resource;
    if (isObj(res)) {
      const attrs: Record<string, AttributeValue> = {};
      jsonAttributes(res.attributes, (k) => k === 'service.name', attrs);
      if (typeof attrs['service.name'] === 'string') service = attrs['service.name'];
    }
    const scopes = [
      ...list(rs, `resourceSpans[${i}]`, 'scopeSpans', 'scope_spans'),
      ...list(rs, `resourceSpans[${i}]`, 'instrumentationLibrarySpans', 'instrumentation_library_spans'),
    ];
    scopes.forEach((ss, j) => {
      if (!isObj(ss)) throw new OtlpDecodeError(`OTLP/JSON: resourceSpans[${i}].scopeSpans[${j}] must be an object`);
      for (const sp of list(ss, `resourceSpans[${i}].scopeSpans[${j}]`, 'spans')) {
        const span = jsonSpan(sp, service, rej);
        if (span) spans.push(span);
      }
    });
  });
  return { spans, rejectedSpans: rej.count, errorMessage: rej.message() };
}

// ---------------------------------------------------------------- HTTP body

export type OtlpFormat = 'protobuf' | 'json';

export interface OtlpRequest {
  body: Uint8Array;
  contentType?: string;
  contentEncoding?: string;
  /** Limit before and after decompression (default 20 MiB, the spec's recommendation). */
  maxBytes?: number;
}

/** 'protobuf' | 'json' from a Content-Type header, or null when unsupported. */
export function otlpFormatOf(contentType: string | undefined): OtlpFormat | null {
  const mt = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mt === 'application/x-protobuf' || mt === 'application/protobuf') return 'protobuf';
  if (mt === 'application/json') return 'json';
  return null;
}

/**
 * Decode a POST /v1/traces body: gzip (or deflate) per Content-Encoding, then protobuf or JSON per
 * Content-Type. OtlpDecodeError carries the status to answer: 400 bad data, 413 too large,
 * 415 unsupported media type or encoding.
 */
export function decodeOtlpTraces(req: OtlpRequest): DecodedTraces & { format: OtlpFormat } {
  const maxBytes = req.maxBytes ?? 20 * 1024 * 1024;
  const format = otlpFormatOf(req.contentType);
  if (!format) {
    throw new OtlpDecodeError(`unsupported Content-Type "${req.contentType ?? ''}"; use application/x-protobuf or application/json`, 415);
  }
  if (req.body.length > maxBytes) throw new OtlpDecodeError(`request body is larger than ${maxBytes} bytes`, 413);
  const enc = (req.contentEncoding ?? '').trim().toLowerCase();
  let body = req.body;
  if (enc === 'gzip' || enc === 'x-gzip' || enc === 'deflate') {
    try {
      body = enc === 'deflate' ? inflateSync(req.body, { maxOutputLength: maxBytes }) : gunzipSync(req.body, { maxOutputLength: maxBytes });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        throw new OtlpDecodeError(`decompressed body is larger than ${maxBytes} bytes`, 413);
      }
      throw new OtlpDecodeError(`body is not valid ${enc} data (${err.message})`);
    }
  } else if (enc !== '' && enc !== 'identity') {
    throw new OtlpDecodeError(`unsupported Content-Encoding "${enc}"; use gzip or none`, 415);
  }
  const decoded = format === 'protobuf' ? decodeProtobufTraces(body) : decodeJsonTraces(body);
  return { ...decoded, format };
}

// ---------------------------------------------------------------- responses

/**
 * ExportTraceServiceResponse as OTLP/JSON: `{}` on full success; with rejected spans (or a warning)
 * `{ partialSuccess: { rejectedSpans, errorMessage } }` (int64 as a decimal string, per proto3 JSON).
 */
export function exportResponseJson(rejectedSpans = 0, errorMessage = ''): Record<string, unknown> {
  if (rejectedSpans === 0 && errorMessage === '') return {};
  const ps: Record<string, unknown> = { rejectedSpans: String(rejectedSpans) };
  if (errorMessage) ps.errorMessage = errorMessage;
  return { partialSuccess: ps };
}

function pushVarint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function pushString(out: number[], fieldNo: number, s: string): void {
  const b = new TextEncoder().encode(s);
  pushVarint(out, (fieldNo << 3) | WIRE_LEN);
  pushVarint(out, b.length);
  for (const x of b) out.push(x);
}

/** ExportTraceServiceResponse as binary protobuf (empty message on full success). */
export function exportResponseProtobuf(rejectedSpans = 0, errorMessage = ''): Uint8Array {
  if (rejectedSpans === 0 && errorMessage === '') return new Uint8Array(0);
  const ps: number[] = [];
  if (rejectedSpans) {
    pushVarint(ps, (1 << 3) | WIRE_VARINT);
    pushVarint(ps, rejectedSpans);
  }
  if (errorMessage) pushString(ps, 2, errorMessage);
  const out: number[] = [];
  pushVarint(out, (1 << 3) | WIRE_LEN);
  pushVarint(out, ps.length);
  return Uint8Array.from([...out, ...ps]);
}

/** google.rpc.Status for 4xx/5xx answers (code 3 = INVALID_ARGUMENT), as JSON. */
export function statusJson(message: string, code = 3): { code: number; message: string } {
  return { code, message };
}

/** google.rpc.Status as binary protobuf (code = field 1, message = field 2). */
export function statusProtobuf(message: string, code = 3): Uint8Array {
  const out: number[] = [];
  if (code) {
    pushVarint(out, (1 << 3) | WIRE_VARINT);
    pushVarint(out, code);
  }
  pushString(out, 2, message);
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------- summaries

const BARE_METHOD = /^(?:HTTP\s+)?(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|TRACE|CONNECT|_OTHER)$/i;

function pathOf(attrs: Record<string, AttributeValue>): string | undefined {
  const direct = attrs['url.path'] ?? attrs['http.target'];
  if (typeof direct === 'string' && direct !== '') return direct.split(/[?#]/)[0];
  const full = attrs['url.full'] ?? attrs['http.url'];
  if (typeof full === 'string') {
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(full);
    if (m) return m[1] || '/';
  }
  return undefined;
}

/**
 * The endpoint of a span: its name, as Tempo's rootTraceName would show it, except that a bare
 * HTTP method name ("GET", "HTTP GET", "HTTP") or an empty name is completed with http.route, or
 * failing that the URL path (normalised later), so that all GETs of a service do not share a baseline.
 */
export function endpointOf(span: Pick<SpanRecord, 'name' | 'attributes'>): string {
  const name = span.name.trim();
  const bare = BARE_METHOD.exec(name);
  if (name !== '' && name !== 'HTTP' && !bare) return name;
  const a = span.attributes;
  const m = a['http.request.method'] ?? a['http.method'] ?? bare?.[1];
  const method = typeof m === 'string' ? m.toUpperCase() : undefined;
  const route = typeof a['http.route'] === 'string' && a['http.route'] !== '' ? (a['http.route'] as string) : pathOf(a);
  if (route) return method ? `${method} ${route}` : route;
  if (typeof a['rpc.service'] === 'string' && typeof a['rpc.method'] === 'string') return `${a['rpc.service']}/${a['rpc.method']}`;
  return name || UNNAMED_ENDPOINT;
}

export interface SummarizeOptions {
  /** Also emit a span-level summary for every non-root SERVER span (default false). */
  serverSpans?: boolean;
}

/** Nanoseconds since the epoch → milliseconds (microsecond precision kept). */
export const nanosToMs = (ns: bigint): number => Number(ns / 1000n) / 1000;

/**
 * Root spans (no parent) → trace summaries; with serverSpans, each non-root SERVER span → a
 * span-level summary (spanId set, so it is de-duplicated per span, not per trace).
 */
export function summarize(spans: readonly SpanRecord[], opts: SummarizeOptions = {}): TraceSummary[] {
  const out: TraceSummary[] = [];
  for (const s of spans) {
    const root = s.parentSpanId === '';
    if (!root && !(opts.serverSpans && s.kind === SPAN_KIND.SERVER)) continue;
    const summary: TraceSummary = {
      traceId: s.traceId,
      service: s.service,
      endpoint: endpointOf(s),
      startMs: nanosToMs(s.startTimeUnixNano),
      durationMs: nanosToMs(s.endTimeUnixNano - s.startTimeUnixNano),
    };
    if (!root) summary.spanId = s.spanId;
    out.push(summary);
  }
  return out;
}
