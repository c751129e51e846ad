/**
 * Number grammar shared by the exposition parser and the histogram helpers (pure, no I/O).
 *
 * Accepted "real numbers": `[+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?`.
 * Rejected: hex (`0x1p-3`), binary/octal prefixes, underscores, empty strings, and anything
 * JavaScript's `Number()` would otherwise accept beyond that grammar (whitespace, `Infinity`, ...).
 */

/**
 * Validate `s[start, end)` as a real number (see module doc) and return it, or NaN when the text is
 * not a real number. Special values (Inf/NaN) are NOT accepted here.
 */
export function parseRealNumberRange(s: string, start: number, end: number): number {
  let p = start;
  if (p >= end) return NaN;
  let c = s.charCodeAt(p);
  let neg = false;
  if (c === 43 /* + */ || c === 45 /* - */) {
    neg = c === 45;
    p++;
    if (p >= end) return NaN;
    c = s.charCodeAt(p);
  }
  const digitsStart = p;
  // Fast path: plain integer of at most 15 digits is exact in a double.
  let v = 0;
  while (p < end) {
    c = s.charCodeAt(p);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    p++;
  }
  let digits = p - digitsStart;
  if (p === end) {
    if (digits === 0) return NaN;
    if (digits <= 15) return neg ? -v : v;
    return Number(s.slice(start, end));
  }
  if (c === 46 /* . */) {
    p++;
    const fracStart = p;
    while (p < end) {
      c = s.charCodeAt(p);
      if (c < 48 || c > 57) break;
      p++;
    }
    digits += p - fracStart;
  }
  if (digits === 0) return NaN;
  if (p < end) {
    c = s.charCodeAt(p);
    if (c !== 101 /* e */ && c !== 69 /* E */) return NaN;
    p++;
    if (p < end) {
      c = s.charCodeAt(p);
      if (c === 43 || c === 45) p++;
    }
    const expStart = p;
    while (p < end) {
      c = s.charCodeAt(p);
      if (c < 48 || c > 57) break;
      p++;
    }
    if (p === expStart || p !== end) return NaN;
  }
  return Number(s.slice(start, end));
}

/** Result holder for {@link parseFloatRange}: `ok` is false when the text is not a number. */
export const numberScratch = { ok: true };

/**
 * Parse `s[start, end)` as a sample value: a real number, or (case-insensitively) `Inf`,
 * `+Inf`, `-Inf`, `Infinity` (with optional sign) or `NaN`.
 * Sets `numberScratch.ok` to false (and returns NaN) when the text is not a valid value,
 * because NaN itself is a legal value.
 */
export function parseFloatRange(s: string, start: number, end: number): number {
  const v = parseRealNumberRange(s, start, end);
  if (v === v) {
    numberScratch.ok = true;
    return v;
  }
  let p = start;
  const c = s.charCodeAt(p);
  let sign = 0;
  if (c === 43 || c === 45) {
    sign = c === 45 ? -1 : 1;
    p++;
  }
  const n = end - p;
  numberScratch.ok = true;
  if (n === 3) {
    const a = s.charCodeAt(p) | 32;
    const b = s.charCodeAt(p + 1) | 32;
    const d = s.charCodeAt(p + 2) | 32;
    if (a === 105 && b === 110 && d === 102) return sign < 0 ? -Infinity : Infinity; // inf
    if (sign === 0 && a === 110 && b === 97 && d === 110) return NaN; // nan
  } else if (n === 8 && s.slice(p, end).toLowerCase() === 'infinity') {
    return sign < 0 ? -Infinity : Infinity;
  }
  numberScratch.ok = false;
  return NaN;
}

/** Parse a whole string as a real number (no Inf/NaN); NaN when invalid. */
export function parseRealNumber(s: string): number {
  return parseRealNumberRange(s, 0, s.length);
}

/** Count Unicode code points of a string (surrogate pairs count once). */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}
