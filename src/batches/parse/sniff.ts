/**
 * What an uploaded file is, from its first bytes (never its name alone: vehicles name files freely).
 */

export type FileFormat = 'dlt' | 'gzip' | 'zip' | 'tar' | 'text' | 'unknown';

/** Bytes needed to tell every format apart (tar's magic sits at offset 257). */
export const SNIFF_BYTES = 512;

export function sniffFormat(head: Uint8Array): FileFormat {
  if (head.length >= 4 && head[0] === 0x44 && head[1] === 0x4c && head[2] === 0x54 && head[3] === 0x01) return 'dlt';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05) && (head[3] === 0x04 || head[3] === 0x06)) return 'zip';
  if (head.length >= 262 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar') return 'tar';
  if (looksLikeText(head)) return 'text';
  return 'unknown';
}

/**
 * UTF-8 text without NULs and with few control characters. A multi-byte sequence cut at the end of
 * the sniffed bytes is not held against it.
 */
function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return true;
  let control = 0;
  let i = 0;
  while (i < head.length) {
    const b = head[i]!;
    if (b === 0) return false;
    if (b < 0x80) {
      if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x1b) control++;
      i++;
      continue;
    }
    const len = b >= 0xf0 && b < 0xf8 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 0;
    if (len === 0) return false;
    for (let k = 1; k < len; k++) {
      if (i + k >= head.length) return control * 20 <= head.length;
      if ((head[i + k]! & 0xc0) !== 0x80) return false;
    }
    i += len;
  }
  return control * 20 <= head.length;
}
