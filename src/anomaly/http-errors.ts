/** The anomaly module's domain errors → HTTP status codes (the only place that knows both). */
import type { OtlpDecodeErrorKind } from './otlp/index.js';

const OTLP_DECODE_STATUS: Record<OtlpDecodeErrorKind, 400 | 413 | 415> = {
  malformed: 400,
  too_large: 413,
  unsupported_media_type: 415,
};

/** The status a POST /v1/traces answers when its body cannot be decoded. */
export function otlpDecodeStatus(err: { kind: OtlpDecodeErrorKind }): 400 | 413 | 415 {
  return OTLP_DECODE_STATUS[err.kind];
}
