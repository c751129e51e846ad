/**
 * The Prometheus text format (0.0.4): `#` comments, `# HELP`/`# TYPE` metadata, blank lines,
 * runs of blanks and tabs between tokens, CRLF, and integer millisecond timestamps.
 *
 * In lenient mode a family may come back later (or repeat its metadata after its samples); the
 * visitor then sees it twice and `parseToFamilies` merges it.
 */
import { numberScratch, parseFloatRange } from '../number.js';
import * as chars from './chars.js';
import type { ExpositionReader, LineFormat } from './reader.js';
import { suffixMask } from './suffixes.js';
import type { MetricType } from './types.js';

// Module-local copies: see chars.ts.
const { CR, CT, F_LABEL, F_TOKEN_END, HASH, NL, RBRACE, SP, TAB } = chars;

const TEXT_TYPES: Record<string, MetricType> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'unknown',
};

export const textFormat: LineFormat = {
  line(r: ExpositionReader, start: number): void {
    const t = r.text;
    const len = r.len;
    const c = t.charCodeAt(start);
    if (c === HASH) {
      hashLine(r, start);
    } else if (c === NL) {
      r.pos = start + 1;
    } else if (c === SP || c === TAB || c === CR) {
      let p = start + 1;
      let c2 = t.charCodeAt(p);
      while (c2 === SP || c2 === TAB || c2 === CR) c2 = t.charCodeAt(++p);
      if (p >= len || c2 === NL) r.pos = p + 1;
      else if (t.charCodeAt(p) === HASH) hashLine(r, p);
      else sampleLine(r, p);
    } else {
      sampleLine(r, start);
    }
  },
  end(): void {},
};

/** A `#` line: HELP or TYPE metadata, anything else is a comment. */
function hashLine(r: ExpositionReader, hashPos: number): void {
  const t = r.text;
  const len = r.len;
  let p = hashPos + 1;
  while (p < len && (t.charCodeAt(p) === SP || t.charCodeAt(p) === TAB)) p++;
  let which = 0;
  if (t.startsWith('HELP', p)) which = 1;
  else if (t.startsWith('TYPE', p)) which = 2;
  const kw = p;
  if (which !== 0) {
    p += 4;
    const c = t.charCodeAt(p);
    if (c !== SP && c !== TAB) which = 0; // e.g. "# HELPER": a comment
  }
  if (which === 0) {
    r.pos = r.nextLine(hashPos);
    return;
  }
  while (p < len && (t.charCodeAt(p) === SP || t.charCodeAt(p) === TAB)) p++;
  const name = r.readMetaName(p);
  p = r.pos;
  if (!r.metaFamily(name, kw)) {
    r.pos = r.nextLine(p);
    return;
  }
  if (which === 1) {
    const c = t.charCodeAt(p);
    if (p < len && c !== NL && c !== SP && c !== TAB && c !== CR) r.err(p, 'expected whitespace after the metric name in HELP');
    while (p < len && (t.charCodeAt(p) === SP || t.charCodeAt(p) === TAB)) p++;
    if (r.fHasHelp) r.err(kw, `duplicate HELP for "${name}"`);
    r.fHelp = r.readHelp(p, false);
    r.fHasHelp = true;
    return;
  }
  const c = t.charCodeAt(p);
  if (c !== SP && c !== TAB) r.err(p, 'expected whitespace and a metric type');
  while (p < len && (t.charCodeAt(p) === SP || t.charCodeAt(p) === TAB)) p++;
  const s = p;
  while (p < len) {
    const c2 = t.charCodeAt(p);
    if (c2 >= 128 || (CT[c2] & F_LABEL) === 0) break;
    p++;
  }
  const word = t.slice(s, p);
  while (p < len && (t.charCodeAt(p) === SP || t.charCodeAt(p) === TAB || t.charCodeAt(p) === CR)) p++;
  if (p < len && t.charCodeAt(p) !== NL) r.err(p, 'unexpected text after metric type');
  r.pos = p < len ? p + 1 : len;
  const type = Object.prototype.hasOwnProperty.call(TEXT_TYPES, word) ? TEXT_TYPES[word] : undefined;
  if (type === undefined) r.err(s, `unknown metric type "${word}"`);
  if (r.fHasType) r.err(kw, `duplicate TYPE for "${name}"`);
  r.fType = type;
  r.fHasType = true;
  r.fMask = suffixMask(type, false);
}

/** Sample line from start: value after blanks, optional integer millisecond timestamp. */
function sampleLine(r: ExpositionReader, start: number): void {
  let p = r.sampleHead(start);
  if (p < 0) return;
  const t = r.text;
  const len = r.len;
  let c = t.charCodeAt(p);
  if (c === SP || c === TAB) {
    do p++;
    while (p < len && ((c = t.charCodeAt(p)) === SP || c === TAB));
  } else if (p >= len || c === NL || c === CR) {
    r.err(p, 'missing value');
  } else if (t.charCodeAt(p - 1) !== RBRACE) {
    r.err(p, 'expected whitespace before the value');
  }
  // The value token is scanned inline in each format (not in a shared method): one call less
  // per sample on the hottest path.
  const vs = p;
  while (p < len) {
    c = t.charCodeAt(p);
    if (c < 128 && (CT[c] & F_TOKEN_END) !== 0) break;
    p++;
  }
  const value = parseFloatRange(t, vs, p);
  if (!numberScratch.ok) r.err(vs, vs === p ? 'missing value' : `invalid value "${t.slice(vs, p)}"`);
  let tsMs = NaN;
  if (p < len && (c = t.charCodeAt(p)) !== NL) {
    while (p < len && ((c = t.charCodeAt(p)) === SP || c === TAB || c === CR)) p++;
    if (p < len && c !== NL) {
      if (c === HASH) r.err(p, 'exemplars and trailing comments are only allowed in OpenMetrics');
      const s = p;
      const neg = c === 45;
      if (c === 45 || c === 43) p++;
      let v = 0;
      const ds = p;
      while (p < len && (c = t.charCodeAt(p)) >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        p++;
      }
      if (p === ds || (p < len && (c >= 128 || (CT[c] & F_TOKEN_END) === 0))) {
        let e = p;
        while (e < len && !((c = t.charCodeAt(e)) < 128 && (CT[c] & F_TOKEN_END) !== 0)) e++;
        r.err(s, `invalid timestamp "${t.slice(s, e)}" (integer milliseconds expected)`);
      }
      if (p - ds > 15) v = Number(t.slice(ds, p));
      tsMs = neg && v !== 0 ? -v : v;
      while (p < len && ((c = t.charCodeAt(p)) === SP || c === TAB || c === CR)) p++;
      if (p < len && c !== NL) r.err(p, 'unexpected text after timestamp');
    }
  }
  r.endSample(value, tsMs, start, p);
}
