/**
 * OTLP/HTTP trace decoding (pure; zlib is used in-memory for gzip bodies): one decoder per wire
 * format (protobuf.ts, json.ts) behind one request decoder (request.ts), the receiver's answers
 * (responses.ts) and spans → trace summaries (summaries.ts).
 *
 * Spans that decode but are unusable (bad ids, end before start, no start time) are counted as
 * rejected and reported through partialSuccess, as the OTLP specification asks.
 */
export { SPAN_KIND, ENDPOINT_ATTRIBUTES, OtlpDecodeError, type AttributeValue, type DecodedTraces, type OtlpDecodeErrorKind, type SpanRecord } from './spans.js';
export { decodeProtobufTraces } from './protobuf.js';
export { decodeJsonTraces } from './json.js';
export { decodeOtlpTraces, otlpFormatOf, type OtlpFormat, type OtlpRequest } from './request.js';
export { exportResponseJson, exportResponseProtobuf, statusJson, statusProtobuf } from './responses.js';
export { endpointOf, nanosToMs, summarize, type SummarizeOptions } from './summaries.js';
