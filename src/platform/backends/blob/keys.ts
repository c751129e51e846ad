import { InvalidBlobArgument, InvalidBlobKey, type RangeOptions } from './types.js';

/** S3's own limit on a full key; the local store inherits it so both accept the same keys. */
export const MAX_KEY_BYTES = 1024;
/** Leaves room for the local store's suffixes and temp names inside a 255-byte file name. */
export const MAX_SEGMENT_BYTES = 200;
export const MAX_LIST_LIMIT = 1000;

// Control characters (NUL included) and backslashes: they break file systems, logs and some S3 peers.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

function checkPath(key: string, what: 'key' | 'prefix'): string[] {
  if (typeof key !== 'string') throw new InvalidBlobKey(String(key), `${what} must be a string`);
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new InvalidBlobKey(key, `longer than ${MAX_KEY_BYTES} bytes`);
  if (FORBIDDEN.test(key)) throw new InvalidBlobKey(key, 'control characters and backslashes are not allowed');
  if (key.startsWith('/')) throw new InvalidBlobKey(key, 'absolute paths are not allowed');
  const segments = key.split('/');
  for (const [i, s] of segments.entries()) {
    if (s === '..' || s === '.') throw new InvalidBlobKey(key, `"${s}" segments are not allowed`);
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES) throw new InvalidBlobKey(key, `a segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
    // A prefix may end with '/', or be empty; a key may not, nor hold empty segments.
    if (s === '' && !(what === 'prefix' && i === segments.length - 1)) throw new InvalidBlobKey(key, 'empty path segments are not allowed');
  }
  return segments;
}

/** The segments of a valid key; throws InvalidBlobKey naming the key otherwise. */
export function validateKey(key: string): string[] {
  if (key === '') throw new InvalidBlobKey(key, 'empty');
  return checkPath(key, 'key');
}

export function validatePrefix(prefix: string): void {
  if (prefix !== '') checkPath(prefix, 'prefix');
}

export function validateContentType(contentType: string | undefined): void {
  if (contentType !== undefined && !/^[\x20-\x7e]{1,200}$/.test(contentType)) {
    throw new InvalidBlobArgument('contentType', 'contentType must be 1 to 200 printable ASCII characters');
  }
}

export function validateMaxBytes(maxBytes: number | undefined): void {
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw new InvalidBlobArgument('maxBytes', 'maxBytes must be a non-negative integer');
  }
}

export function listLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidBlobArgument('limit', 'limit must be a positive integer');
  return Math.min(limit, MAX_LIST_LIMIT);
}

/** A validated inclusive range, or undefined for the whole object. */
export function checkRange(opts: RangeOptions | undefined): { start: number; end?: number } | undefined {
  if (!opts || (opts.start === undefined && opts.end === undefined)) return undefined;
  const start = opts.start ?? 0;
  const { end } = opts;
  if (!Number.isSafeInteger(start) || start < 0) throw new InvalidBlobArgument('start', 'start must be a non-negative integer');
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) throw new InvalidBlobArgument('end', 'end must be an integer not below start');
  return { start, end };
}

/** UTF-8 byte order, the order S3 lists keys in (JS string order is UTF-16 and differs above U+FFFF). */
export const byteCompare = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
