/** A POST /v1/traces body → decoded spans: media type, content encoding and size limits, then the decoder of its format. */
import { gunzipSync, inflateSync } from 'node:zlib';
import { decodeJsonTraces } from './json.js';
import { decodeProtobufTraces } from './protobuf.js';
import { OtlpDecodeError, type DecodedTraces } from './spans.js';

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
 * Content-Type. OtlpDecodeError says what is wrong: malformed data, too large, or an unsupported
 * media type or encoding.
 */
export function decodeOtlpTraces(req: OtlpRequest): DecodedTraces & { format: OtlpFormat } {
  const maxBytes = req.maxBytes ?? 20 * 1024 * 1024;
  const format = otlpFormatOf(req.contentType);
  if (!format) {
    throw new OtlpDecodeError(`unsupported Content-Type "${req.contentType ?? ''}"; use application/x-protobuf or application/json`, 'unsupported_media_type');
  }
  if (req.body.length > maxBytes) throw new OtlpDecodeError(`request body is larger than ${maxBytes} bytes`, 'too_large');
  const enc = (req.contentEncoding ?? '').trim().toLowerCase();
  let body = req.body;
  if (enc === 'gzip' || enc === 'x-gzip' || enc === 'deflate') {
    try {
      body = enc === 'deflate' ? inflateSync(req.body, { maxOutputLength: maxBytes }) : gunzipSync(req.body, { maxOutputLength: maxBytes });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        throw new OtlpDecodeError(`decompressed body is larger than ${maxBytes} bytes`, 'too_large');
      }
      throw new OtlpDecodeError(`body is not valid ${enc} data (${err.message})`);
    }
  } else if (enc !== '' && enc !== 'identity') {
    throw new OtlpDecodeError(`unsupported Content-Encoding "${enc}"; use gzip or none`, 'unsupported_media_type');
  }
  const decoded = format === 'protobuf' ? decodeProtobufTraces(body) : decodeJsonTraces(body);
  return { ...decoded, format };
}
