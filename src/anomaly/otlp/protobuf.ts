/**
 * Binary OTLP: a hand-written reader for the few fields of ExportTraceServiceRequest we need
 * (resource service.name, spans' ids, name, kind, times, a few attributes, status). Unknown fields
 * are skipped by wire type without recursion, so nesting depth is fixed and every step advances:
 * malformed input (truncated lengths, group/invalid wire types, field 0, over-long varints,
 * invalid UTF-8, a known field with the wrong wire type) is an OtlpDecodeError, never a hang.
 */
import { OtlpDecodeError, Rejections, WANTED, bytesToHex, validateSpan, type AttributeValue, type DecodedTraces, type SpanRecord } from './spans.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
export const WIRE_VARINT = 0;
const WIRE_I64 = 1;
export const WIRE_LEN = 2;
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
