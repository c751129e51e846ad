/**
 * OpenMetrics 1.0 text: `# HELP`/`# TYPE`/`# UNIT` and a final `# EOF` (no other comments, no
 * blank lines), exactly one space between tokens, timestamps in seconds (possibly fractional;
 * delivered as milliseconds, rounded), and exemplars after `# `.
 *
 * The semantic rules of the specification live in `openmetrics-rules.ts`; this file is syntax.
 */
import { numberScratch, parseFloatRange, parseRealNumberRange } from '../number.js';
import * as chars from './chars.js';
import type { ExpositionReader, LineFormat } from './reader.js';
import { suffixMask } from './suffixes.js';
import { ParseError, type MetricType } from './types.js';

// Module-local copies: see chars.ts.
const { CT, F_NAME, F_TOKEN_END, HASH, LBRACE, NL, SP } = chars;

const OM_TYPES: Record<string, MetricType> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  gaugehistogram: 'gaugehistogram',
  summary: 'summary',
  info: 'info',
  stateset: 'stateset',
  unknown: 'unknown',
};

export const openMetricsFormat: LineFormat = {
  line(r: ExpositionReader, start: number): void {
    if (r.eofSeen) {
      r.docError(new ParseError('text after # EOF', r.line, 1));
      r.pos = r.len;
      return;
    }
    const c = r.text.charCodeAt(start);
    if (c === HASH) {
      hashLine(r);
    } else if (c === NL) {
      r.docError(new ParseError('blank lines are not allowed in OpenMetrics', r.line, 1));
      r.pos = start + 1;
    } else {
      sampleLine(r, start);
    }
  },
  end(r: ExpositionReader): void {
    if (r.eofSeen) return;
    // Position: just after the last character (the start of the line after a final newline).
    const afterNl = r.len === 0 || r.text.charCodeAt(r.len - 1) === NL;
    const line = afterNl ? r.line + 1 : r.line;
    const col = afterNl ? 1 : r.len - r.lineStart + 1;
    r.docError(new ParseError('missing # EOF at end of OpenMetrics exposition', line, col));
  },
};

/** A `#` line: HELP, TYPE, UNIT or EOF. */
function hashLine(r: ExpositionReader): void {
  const t = r.text;
  const len = r.len;
  let p = r.lineStart + 1;
  if (t.charCodeAt(p) !== SP) r.err(p, 'expected "# HELP", "# TYPE", "# UNIT" or "# EOF" (comments are not allowed in OpenMetrics)');
  p++;
  const kw = p;
  if (t.startsWith('EOF', kw) && (kw + 3 === len || t.charCodeAt(kw + 3) === NL)) {
    r.endFamily();
    r.eofSeen = true;
    r.pos = kw + 3 === len ? len : kw + 4;
    return;
  }
  let which = 0;
  if (t.startsWith('HELP', kw)) which = 1;
  else if (t.startsWith('TYPE', kw)) which = 2;
  else if (t.startsWith('UNIT', kw)) which = 3;
  else r.err(kw, 'expected "# HELP", "# TYPE", "# UNIT" or "# EOF" (comments are not allowed in OpenMetrics)');
  p = kw + 4;
  if (t.charCodeAt(p) !== SP) r.err(p, 'expected a space and a metric name');
  p++;
  const name = r.readMetaName(p);
  p = r.pos;
  if (!r.metaFamily(name, kw)) {
    r.pos = r.nextLine(p);
    return;
  }
  if (which === 1) {
    if (t.charCodeAt(p) !== SP) r.err(p, 'expected a space after the metric name in HELP');
    if (r.fHasHelp) r.err(kw, `duplicate HELP for "${name}"`);
    r.fHelp = r.readHelp(p + 1, true);
    r.fHasHelp = true;
    return;
  }
  if (t.charCodeAt(p) !== SP) r.err(p, which === 2 ? 'expected a space and a metric type' : 'expected a space and a unit');
  p++;
  const s = p;
  while (p < len) {
    const c = t.charCodeAt(p);
    if (c === NL) break;
    if (c >= 128 || (CT[c] & F_NAME) === 0) r.err(p, which === 2 ? 'invalid metric type' : 'invalid character in unit');
    p++;
  }
  const word = t.slice(s, p);
  r.pos = p < len ? p + 1 : len;
  if (which === 2) {
    const type = OM_TYPES[word];
    if (type === undefined || !Object.prototype.hasOwnProperty.call(OM_TYPES, word)) r.err(s, `unknown metric type "${word}"`);
    if (r.fHasType) r.err(kw, `duplicate TYPE for "${name}"`);
    r.fType = type;
    r.fHasType = true;
    r.fMask = suffixMask(type, true);
    if (r.rules !== undefined) r.rules.checkUnitType(kw);
  } else {
    if (r.fHasUnit) r.err(kw, `duplicate UNIT for "${name}"`);
    r.fUnit = word;
    r.fHasUnit = true;
    if (r.rules !== undefined) {
      r.rules.checkUnitSuffix(name, word, s);
      r.rules.checkUnitType(kw);
    }
  }
}

/** Sample line from start: one space, value, then optional timestamp and exemplar. */
function sampleLine(r: ExpositionReader, start: number): void {
  let p = r.sampleHead(start);
  if (p < 0) return;
  const t = r.text;
  const len = r.len;
  let c = t.charCodeAt(p);
  if (c !== SP) r.err(p, p >= len || c === NL ? 'missing value' : 'expected a space before the value');
  p++;
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
    if (c !== SP) r.err(p, 'unexpected character after value');
    p++;
    if (t.charCodeAt(p) !== HASH) {
      p = readTimestamp(r, p);
      tsMs = msFromSec(r.tsSec);
      if (p < len && (c = t.charCodeAt(p)) !== NL) {
        if (c !== SP || t.charCodeAt(p + 1) !== HASH) r.err(p, 'unexpected text after timestamp');
        p++;
      }
    }
    if (p < len && t.charCodeAt(p) === HASH) p = readExemplar(r, p);
  }
  r.endSample(value, tsMs, start, p);
}

function msFromSec(sec: number): number {
  const ms = Math.round(sec * 1000);
  return ms === 0 ? 0 : ms; // no -0
}

/** Timestamp (seconds, real number) at p; sets r.tsSec; returns the end. */
function readTimestamp(r: ExpositionReader, p: number): number {
  const t = r.text;
  const len = r.len;
  const s = p;
  while (p < len) {
    const c = t.charCodeAt(p);
    if (c < 128 && (CT[c] & F_TOKEN_END) !== 0) break;
    p++;
  }
  const v = parseRealNumberRange(t, s, p);
  if (v !== v) r.err(s, s === p ? 'missing timestamp' : `invalid timestamp "${t.slice(s, p)}"`);
  r.tsSec = v;
  return p;
}

/** Exemplar at p (the '#'); sets r.exPos/exVal/exTs; returns the end (at NL or end). */
function readExemplar(r: ExpositionReader, p: number): number {
  const t = r.text;
  const len = r.len;
  p++;
  if (t.charCodeAt(p) !== SP) r.err(p, 'expected a space after "#" before the exemplar');
  p++;
  if (t.charCodeAt(p) !== LBRACE) r.err(p, 'expected "{" to open the exemplar labels');
  const open = p;
  r.pos = p;
  r.scanLabels(false);
  p = r.pos;
  if (r.rules !== undefined) {
    const prevLabels = r.prevLabels;
    const prevClean = r.prevClean;
    r.exLabels = r.materializeLabels(open);
    r.prevLabels = prevLabels;
    r.prevClean = prevClean;
  }
  if (t.charCodeAt(p) !== SP) r.err(p, 'expected a space before the exemplar value');
  p++;
  const vs = p;
  let c: number;
  while (p < len) {
    c = t.charCodeAt(p);
    if (c < 128 && (CT[c] & F_TOKEN_END) !== 0) break;
    p++;
  }
  const value = parseFloatRange(t, vs, p);
  if (!numberScratch.ok) r.err(vs, vs === p ? 'missing exemplar value' : `invalid exemplar value "${t.slice(vs, p)}"`);
  let ts = NaN;
  if (p < len && (c = t.charCodeAt(p)) !== NL) {
    if (c !== SP) r.err(p, 'unexpected character after exemplar value');
    const saved = r.tsSec;
    p = readTimestamp(r, p + 1);
    ts = msFromSec(r.tsSec);
    r.tsSec = saved;
    if (p < len && t.charCodeAt(p) !== NL) r.err(p, 'unexpected text after exemplar timestamp');
  }
  r.exPos = open;
  r.exVal = value;
  r.exTs = ts;
  return p;
}
