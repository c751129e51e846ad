/** What the OTLP receiver answers: ExportTraceServiceResponse (partial success) and google.rpc.Status, as JSON or binary protobuf. */
import { WIRE_LEN, WIRE_VARINT } from './protobuf.js';

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
