/** What the OTLP decoders produce: span records, the rejection of unusable spans, the decode error. */
import { MAX_ENDPOINT_LENGTH, MAX_SERVICE_LENGTH } from '../normalize.js';
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
export const WANTED = new Set(ENDPOINT_ATTRIBUTES);

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

/** What is wrong with a request the receiver cannot decode (the HTTP layer picks the status code). */
export type OtlpDecodeErrorKind =
  /** Bad data: not protobuf/JSON, truncated, invalid UTF-8, not valid gzip … */
  | 'malformed'
  /** The body, or what it decompresses to, is over the size limit. */
  | 'too_large'
  /** A Content-Type or Content-Encoding the receiver does not speak. */
  | 'unsupported_media_type';

/** Undecodable or unacceptable request. */
export class OtlpDecodeError extends Error {
  constructor(
    message: string,
    readonly kind: OtlpDecodeErrorKind = 'malformed',
  ) {
    super(message);
    this.name = 'OtlpDecodeError';
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function bytesToHex(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX[buf[i]];
  return s;
}

export const isAllZero = (hex: string) => /^0*$/.test(hex);

export class Rejections {
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

export function validateSpan(s: SpanRecord, rej: Rejections): boolean {
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
