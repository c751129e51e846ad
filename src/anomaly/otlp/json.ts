/**
 * OTLP/JSON: lowerCamelCase keys (snake_case tolerated), trace/span ids as case-insensitive hex
 * (base64 tolerated), 64-bit integers as decimal strings or numbers, enums as integers (names
 * tolerated), unknown fields ignored.
 */
import { OtlpDecodeError, Rejections, WANTED, validateSpan, type AttributeValue, type DecodedTraces, type SpanRecord } from './spans.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

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
