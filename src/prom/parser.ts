/**
 * Streaming Prometheus text (0.0.4) and OpenMetrics 1.0 text parser (pure: no I/O).
 *
 * Written for the agent's hot path: the input string is walked once by char code, no regular
 * expressions, no per-line `split`. Two entry points:
 *
 * - {@link parseExposition}: visitor API. Samples are delivered family by family; a family is
 *   handed to the visitor only once it is complete and valid, so in lenient mode a bad family is
 *   dropped as a whole (never half-delivered). While a family is being read only offsets and
 *   numbers are buffered; label strings are built when it is delivered (young garbage only), and
 *   not at all when `onFamily` returns `false` (cheap "keep the families we need" filter).
 * - {@link parseToFamilies}: convenience API building plain objects.
 *
 * Labels ({@link Labels}) are a flat array of alternating names and values, in exposition order:
 * `a{x="1",y="2"}` gives `['x', '1', 'y', '2']`. The metric name is not part of it. Arrays are
 * fresh per sample (the visitor may keep them) but must be treated as read-only. A name or value
 * equal to the previous sample's at the same position is the same string instance (fast `===`,
 * fewer allocations).
 *
 * Timestamps are delivered in epoch milliseconds: Prometheus text carries integer ms; OpenMetrics
 * carries seconds (possibly fractional), which are multiplied by 1000 and rounded to an integer.
 *
 * Errors: {@link ParseError} carries a 1-based line and a 1-based column (UTF-16 code units from
 * the start of the line). In strict mode (`lenient: false`) the first error is thrown. In lenient
 * mode (the default, for scraping) the family containing the error is skipped and counted, and
 * parsing resumes at the next line; document-level problems (missing `# EOF`, text after it, blank
 * lines in OpenMetrics) are recorded in `errors` but skip nothing.
 *
 * Validation levels: syntax and metadata structure are always checked. The OpenMetrics 1.0
 * semantic rules (counter values non-negative, histogram buckets ordered with a `+Inf` bucket
 * matching `_count`, `_sum`/`_count` pairing, summary quantile range, stateset/info values,
 * exemplar placement and size, contiguous metric groups, non-decreasing timestamps, clashing
 * family names, unit suffix) are checked when `validate` is true, which defaults to strict
 * OpenMetrics parsing. Real exporters violate some of them (e.g. the Go client writes `_sum` on
 * histograms with negative buckets), so lenient scraping does not drop such families unless asked.
 *
 * Family boundaries: a `# HELP`/`# TYPE`/`# UNIT` line for another name, or a sample whose name
 * is not the family name plus a suffix its type allows, starts a new family. Without metadata
 * each run of one sample name is its own `unknown` family. In lenient Prometheus text a family
 * may come back later (or repeat its metadata after samples); the visitor then sees it twice and
 * {@link parseToFamilies} merges it.
 *
 * Progress guarantee: every loop iteration consumes at least one character, and no token spans
 * a newline; after an error the parser resumes after the next `\n`. Work is linear in the input:
 * searches for quotes, backslashes and line ends only move forward, and duplicate-label checks
 * switch from pairwise hash compares to a Set past 32 labels.
 */
import { codePointLength, numberScratch, parseFloatRange, parseRealNumber, parseRealNumberRange } from './number.js';

export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  /** OpenMetrics `unknown`; Prometheus `untyped` and families without `# TYPE` map here too. */
  | 'unknown';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** Alternating label names and values in exposition order: `['x', '1', 'y', '2']`. Read-only. */
export type Labels = readonly string[];

export interface FamilyInfo {
  /** Family name as declared (OpenMetrics: `a` for samples `a_total`; Prometheus: usually the sample name). */
  readonly name: string;
  readonly type: MetricType;
  /** HELP text with escapes resolved; '' when absent. */
  readonly help: string;
  /** UNIT (OpenMetrics only); '' when absent. */
  readonly unit: string;
}

export interface Exemplar {
  readonly labels: Labels;
  readonly value: number;
  /** Epoch milliseconds (OpenMetrics seconds × 1000, rounded), when present. */
  readonly timestampMs?: number;
}

export interface ExpositionVisitor {
  /**
   * Called once per delivered family, before its samples (also for families without samples).
   * Return `false` to skip the family: its samples are then not materialised at all (cheap filter).
   */
  onFamily?(name: string, type: MetricType, help: string, unit: string, family: FamilyInfo): boolean | void;
  /** Called for every sample of a delivered family, in exposition order. */
  onSample(
    name: string,
    labels: Labels,
    value: number,
    timestampMs: number | undefined,
    family: FamilyInfo,
    exemplar: Exemplar | undefined,
  ): void;
}

export interface ParseOptions {
  /** 'auto' (default): from `contentType` when it names a format, else OpenMetrics iff the text ends with `# EOF`. */
  format?: 'prometheus' | 'openmetrics' | 'auto';
  /** The `Content-Type` response header, used when `format` is 'auto'. */
  contentType?: string | null;
  /** Default true: skip and count bad families. false: throw the first {@link ParseError}. */
  lenient?: boolean;
  /** Apply the OpenMetrics 1.0 semantic rules (see module doc). Default: `!lenient`. Ignored for Prometheus text. */
  validate?: boolean;
}

export interface ParseSummary {
  format: ExpositionFormat;
  /** Families delivered to the visitor (including those it declined with `onFamily` → false). */
  families: number;
  /** Samples delivered to the visitor. */
  samples: number;
  /** Lenient mode: one error per skipped family plus document-level errors. Strict mode: always empty. */
  errors: ParseError[];
  /** Families dropped because of an error (lenient mode). */
  skippedFamilies: number;
}

export class ParseError extends Error {
  /** The problem without the position suffix. */
  readonly reason: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column in UTF-16 code units. */
  readonly column: number;
  /** Name of the family the error was attributed to, when known. */
  family: string | undefined;
  constructor(reason: string, line: number, column: number, family?: string) {
    super(`${reason} at line ${line}, column ${column}`);
    this.name = 'ParseError';
    this.reason = reason;
    this.line = line;
    this.column = column;
    this.family = family;
  }
}

/** Exposition format named by a `Content-Type` header, or undefined when it names neither. */
export function formatFromContentType(contentType: string | null | undefined): ExpositionFormat | undefined {
  if (!contentType) return undefined;
  const ct = contentType.toLowerCase();
  const semi = ct.indexOf(';');
  const media = (semi < 0 ? ct : ct.slice(0, semi)).trim();
  if (media === 'application/openmetrics-text') return 'openmetrics';
  if (media === 'text/plain') return 'prometheus';
  return undefined;
}

/** Resolve 'auto': content type first, else OpenMetrics iff the last non-blank line is `# EOF`. */
export function detectFormat(text: string, contentType?: string | null): ExpositionFormat {
  const byHeader = formatFromContentType(contentType);
  if (byHeader) return byHeader;
  let e = text.length;
  while (e > 0) {
    const c = text.charCodeAt(e - 1);
    if (c === NL || c === CR || c === SP || c === TAB) e--;
    else break;
  }
  if (e >= 5 && text.startsWith('# EOF', e - 5) && (e === 5 || text.charCodeAt(e - 6) === NL)) return 'openmetrics';
  return 'prometheus';
}

/** Value of label `name`, or undefined. */
export function getLabel(labels: Labels, name: string): string | undefined {
  for (let i = 0; i < labels.length; i += 2) if (labels[i] === name) return labels[i + 1];
  return undefined;
}

/** Labels as a plain object (safe for any label name, including `__proto__`). */
export function labelsToObject(labels: Labels): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < labels.length; i += 2) {
    const k = labels[i];
    if (k === '__proto__') Object.defineProperty(o, k, { value: labels[i + 1], enumerable: true, writable: true, configurable: true });
    else o[k] = labels[i + 1];
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Character classes

const NL = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const HASH = 35;
const QUOTE = 34;
const BSLASH = 92;
const LBRACE = 123;
const RBRACE = 125;
const COMMA = 44;
const EQ = 61;

const F_NAME_START = 1; // metric name first char [a-zA-Z_:]
const F_NAME = 2; // metric name char [a-zA-Z0-9_:]
const F_LABEL_START = 4; // label name first char [a-zA-Z_]
const F_LABEL = 8; // label name char [a-zA-Z0-9_]
const F_TOKEN_END = 16; // ends a value / timestamp token: SP TAB NL CR
const CT = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const alpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  const digit = c >= 48 && c <= 57;
  if (alpha || c === 95 || c === 58) CT[c] |= F_NAME_START | F_NAME;
  if (digit) CT[c] |= F_NAME | F_LABEL;
  if (alpha || c === 95) CT[c] |= F_LABEL_START | F_LABEL;
}
CT[SP] |= F_TOKEN_END;
CT[TAB] |= F_TOKEN_END;
CT[NL] |= F_TOKEN_END;
CT[CR] |= F_TOKEN_END;

// Sample name suffix kinds (relative to the family name).
const K_NONE = -1;
const K_EXACT = 0;
const K_TOTAL = 1;
const K_CREATED = 2;
const K_BUCKET = 3;
const K_COUNT = 4;
const K_SUM = 5;
const K_GCOUNT = 6;
const K_GSUM = 7;
const K_INFO = 8;
const SUFFIX_TEXT = ['', '_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info'];

function suffixKind(sample: string, fam: string): number {
  const fl = fam.length;
  const sl = sample.length;
  if (sl === fl) return sample === fam ? K_EXACT : K_NONE;
  const rest = sl - fl;
  if (rest < 4 || rest > 8 || sample.charCodeAt(fl) !== 95 || !sample.startsWith(fam)) return K_NONE;
  switch (rest) {
    case 4:
      return sample.endsWith('_sum') ? K_SUM : K_NONE;
    case 5:
      return sample.endsWith('_info') ? K_INFO : sample.endsWith('_gsum') ? K_GSUM : K_NONE;
    case 6:
      return sample.endsWith('_total') ? K_TOTAL : sample.endsWith('_count') ? K_COUNT : K_NONE;
    case 7:
      return sample.endsWith('_bucket') ? K_BUCKET : sample.endsWith('_gcount') ? K_GCOUNT : K_NONE;
    default:
      return sample.endsWith('_created') ? K_CREATED : K_NONE;
  }
}

const bit = (k: number): number => 1 << k;
/** Allowed sample suffixes per family type. */
function suffixMask(type: MetricType, om: boolean): number {
  switch (type) {
    case 'counter':
      return om ? bit(K_TOTAL) | bit(K_CREATED) : bit(K_EXACT) | bit(K_TOTAL) | bit(K_CREATED);
    case 'histogram':
      return bit(K_BUCKET) | bit(K_COUNT) | bit(K_SUM) | bit(K_CREATED);
    case 'gaugehistogram':
      return bit(K_BUCKET) | bit(K_GCOUNT) | bit(K_GSUM);
    case 'summary':
      return bit(K_EXACT) | bit(K_COUNT) | bit(K_SUM) | bit(K_CREATED);
    case 'info':
      return bit(K_INFO);
    default:
      return bit(K_EXACT); // gauge, stateset, unknown
  }
}

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
const PROM_TYPES: Record<string, MetricType> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'unknown',
};

const EMPTY_LABELS: Labels = Object.freeze([]) as Labels;
/** Label sets wider than this switch duplicate detection from pairwise compares to a Set. */
const MAX_LINEAR_LABELS = 32;

/** One parse run; all state lives in fields so the hot loop stays monomorphic. */
class Parser {
  readonly text: string;
  readonly len: number;
  readonly om: boolean;
  readonly lenient: boolean;
  readonly validate: boolean;
  readonly visitor: ExpositionVisitor;

  pos = 0;
  line = 0;
  lineStart = 0;
  eofSeen = false;

  errors: ParseError[] = [];
  skipped = 0;
  famCount = 0;
  sampleCount = 0;

  // Current family.
  fActive = false;
  fName = '';
  fType: MetricType = 'unknown';
  fHelp = '';
  fUnit = '';
  fHasHelp = false;
  fHasType = false;
  fHasUnit = false;
  fBad = false;
  fSamples = 0; // sample lines attributed to the family (delivered or not)
  fMask = 0;
  fLastLine = 0;
  lastName = ''; // last sample name resolved into the current family
  lastKind = K_NONE;
  fNames: string[] = []; // distinct sample names seen in the current family (reused strings, max 8)
  fKinds: number[] = [];
  // Label-name ranges of the label set being scanned (duplicate detection without allocation).
  lnStart = new Int32Array(16);
  lnEnd = new Int32Array(16);
  lnHash = new Int32Array(16);
  lineEnd = 0; // index of the '\n' ending the current sample line (or the text length)
  // Backslash caches: nextBs is the first backslash at or after bsFrom (len when none), so any
  // range [x, nextBs) with x >= bsFrom has no escapes. mNextBs/mBsFrom serve materializeLabels
  // during the scan, eNextBs/eBsFrom during delivery (which goes back over the family's text);
  // positions only ascend within each, so every cache scans each character at most once.
  nextBs = -1;
  bsFrom = 0;
  mNextBs = -1;
  mBsFrom = 0;
  eNextBs = -1;
  eBsFrom = 0;
  emitting = false;
  wideSet: Set<string> | undefined = undefined;
  prevLabels: Labels = EMPTY_LABELS; // labels of the previous sample (string reuse)
  prevClean = 0; // bit i (i < 31): prevLabels[i] came from the escape-free fast path

  // Buffered samples of the current family. Labels are kept as offsets into the text (the '{'
  // of the label set, -1 for none) and materialised only when the family is delivered, so the
  // strings of a large family never outlive the young generation.
  bNames: string[] = [];
  bLabelPos = new Int32Array(64);
  bVals = new Float64Array(64);
  bTs = new Float64Array(64); // NaN = no timestamp
  // Exemplars, also as offsets: the '{' of the exemplar labels (-1: none), value, ms (NaN: none).
  bExPos = new Int32Array(0);
  bExVal = new Float64Array(0);
  bExTs = new Float64Array(0);
  bLen = 0;
  bHasEx = false;

  // Set by scanLabels when the label set started with a quoted metric name.
  qName: string | undefined = undefined;
  // Scratch set by the sample line parser.
  tsSec = NaN;
  exPos = -1; // exemplar of the current line: '{' offset, or -1
  exVal = 0;
  exTs = NaN;
  exLabels: Labels = EMPTY_LABELS; // materialised only in validate mode

  // OpenMetrics validation state.
  seen = new Map<string, MetricType>();
  groupKeys = new Set<string>();
  gLabels: Labels | undefined = undefined;
  gExcl = '';
  gKey = '';
  sName = '';
  sLabels: Labels = EMPTY_LABELS;
  sHasTs = false;
  sTs = 0;
  hActive = false;
  hTs = NaN;
  hLastLe = -Infinity;
  hBuckets = 0;
  hLastVal = 0;
  hInf = false;
  hInfVal = 0;
  hCount = NaN;
  hHasCount = false;
  hSum = false;
  hGsum = false;
  hNegGsum = false;
  hNegBucket = false;

  constructor(text: string, visitor: ExpositionVisitor, om: boolean, lenient: boolean, validate: boolean) {
    this.text = text;
    this.len = text.length;
    this.visitor = visitor;
    this.om = om;
    this.lenient = lenient;
    this.validate = validate && om;
  }

  // -------------------------------------------------------------------------------------------
  // Errors

  err(p: number, reason: string): never {
    throw new ParseError(reason, this.line, p - this.lineStart + 1);
  }

  /** Attribute an error to the current family (or an anonymous one); rethrow in strict mode. */
  handleError(e: ParseError): void {
    if (!this.lenient) {
      if (this.fActive && this.fName !== '' && e.family === undefined) e.family = this.fName;
      throw e;
    }
    if (!this.fActive) {
      // Garbage outside any family: an anonymous bad family absorbs it until the next valid family.
      this.startFamily('');
      this.fBad = true;
      this.fMask = 0;
      this.errors.push(e);
      this.skipped++;
      return;
    }
    if (!this.fBad) {
      this.fBad = true;
      if (e.family === undefined && this.fName !== '') e.family = this.fName;
      this.errors.push(e);
      this.skipped++;
    }
  }

  /** Errors about the document rather than one family. */
  docError(e: ParseError): void {
    if (!this.lenient) throw e;
    this.errors.push(e);
  }

  // -------------------------------------------------------------------------------------------
  // Driver

  run(): void {
    const t = this.text;
    const len = this.len;
    while (this.pos < len) {
      const start = this.pos;
      this.line++;
      this.lineStart = start;
      try {
        if (this.eofSeen) {
          this.docError(new ParseError('text after # EOF', this.line, 1));
          this.pos = len;
          break;
        }
        const c = t.charCodeAt(start);
        if (c === HASH) {
          if (this.om) this.omHashLine();
          else this.promHashLine(start);
        } else if (c === NL) {
          if (this.om) this.docError(new ParseError('blank lines are not allowed in OpenMetrics', this.line, 1));
          this.pos = start + 1;
        } else if (!this.om && (c === SP || c === TAB || c === CR)) {
          let p = start + 1;
          let c2 = t.charCodeAt(p);
          while (c2 === SP || c2 === TAB || c2 === CR) c2 = t.charCodeAt(++p);
          if (p >= len || c2 === NL) this.pos = p + 1;
          else if (t.charCodeAt(p) === HASH) this.promHashLine(p);
          else this.sampleLine(p);
        } else {
          this.sampleLine(start);
        }
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        this.handleError(e);
        this.pos = this.nextLine(start);
      }
      if (this.pos <= start) this.pos = this.nextLine(start); // never stall
    }
    this.endFamily();
    if (this.om && !this.eofSeen) {
      // Position: just after the last character (the start of the line after a final newline).
      const afterNl = this.len === 0 || this.text.charCodeAt(this.len - 1) === NL;
      const line = afterNl ? this.line + 1 : this.line;
      const col = afterNl ? 1 : this.len - this.lineStart + 1;
      this.docError(new ParseError('missing # EOF at end of OpenMetrics exposition', line, col));
    }
  }

  nextLine(p: number): number {
    const i = this.text.indexOf('\n', p);
    return i < 0 ? this.len : i + 1;
  }

  // -------------------------------------------------------------------------------------------
  // Families

  startFamily(name: string): void {
    this.fActive = true;
    this.fName = name;
    this.fType = 'unknown';
    this.fHelp = '';
    this.fUnit = '';
    this.fHasHelp = false;
    this.fHasType = false;
    this.fHasUnit = false;
    this.fBad = false;
    this.fSamples = 0;
    this.fMask = suffixMask('unknown', this.om);
    this.fLastLine = this.line;
    this.lastName = '';
    this.lastKind = K_NONE;
    this.fNames.length = 0;
    this.fKinds.length = 0;
    this.bLen = 0;
    this.bHasEx = false;
    if (this.validate) {
      this.groupKeys.clear();
      this.gLabels = undefined;
      this.gKey = '';
      this.sName = '';
      this.hActive = false;
      if (name !== '' && this.seen.has(name)) {
        this.err(this.lineStart, `metric family "${name}" appears more than once; families must be contiguous`);
      }
    }
  }

  endFamily(): void {
    if (!this.fActive) return;
    if (this.validate && this.fName !== '') {
      if (!this.fBad) {
        try {
          this.finishHistogramGroup(this.fLastLine);
          this.familyEndChecks();
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          this.handleError(e);
        }
      }
      this.seen.set(this.fName, this.fType);
    }
    if (!this.fBad) this.emit();
    this.bLen = 0;
    this.fActive = false;
  }

  emit(): void {
    const v = this.visitor;
    const info: FamilyInfo = { name: this.fName, type: this.fType, help: this.fHelp, unit: this.fUnit };
    this.famCount++;
    if (v.onFamily !== undefined && v.onFamily(info.name, info.type, info.help, info.unit, info) === false) return;
    const n = this.bLen;
    const names = this.bNames;
    const labelPos = this.bLabelPos;
    const vals = this.bVals;
    const ts = this.bTs;
    const hasEx = this.bHasEx;
    this.prevLabels = EMPTY_LABELS;
    this.prevClean = 0;
    const savedPos = this.pos;
    this.emitting = true;
    try {
      for (let i = 0; i < n; i++) {
        const lp = labelPos[i];
        const labels = lp < 0 ? EMPTY_LABELS : this.materializeLabels(lp);
        const t = ts[i];
        v.onSample(names[i], labels, vals[i], t === t ? t : undefined, info, hasEx ? this.exemplarAt(i) : undefined);
      }
    } finally {
      this.emitting = false;
      this.pos = savedPos;
    }
    this.sampleCount += n;
  }

  /** Build the exemplar of buffered sample i (during delivery), or undefined. */
  exemplarAt(i: number): Exemplar | undefined {
    const pos = this.bExPos[i];
    if (pos < 0) return undefined;
    // Keep the sample-label reuse cache intact around the exemplar's labels.
    const prevLabels = this.prevLabels;
    const prevClean = this.prevClean;
    this.prevLabels = EMPTY_LABELS;
    const labels = this.materializeLabels(pos);
    this.prevLabels = prevLabels;
    this.prevClean = prevClean;
    const t = this.bExTs[i];
    return t === t ? { labels, value: this.bExVal[i], timestampMs: t } : { labels, value: this.bExVal[i] };
  }

  push(name: string, labelPos: number, value: number, tsMs: number, exPos: number): void {
    const i = this.bLen;
    if (i === this.bVals.length) {
      const nv = new Float64Array(i * 2);
      nv.set(this.bVals);
      this.bVals = nv;
      const nt = new Float64Array(i * 2);
      nt.set(this.bTs);
      this.bTs = nt;
      const np = new Int32Array(i * 2);
      np.set(this.bLabelPos);
      this.bLabelPos = np;
    }
    this.bNames[i] = name;
    this.bLabelPos[i] = labelPos;
    this.bVals[i] = value;
    this.bTs[i] = tsMs;
    if (exPos >= 0 || this.bHasEx) {
      if (this.bExPos.length <= i) {
        const cap = Math.max(64, this.bVals.length);
        const np = new Int32Array(cap).fill(-1);
        np.set(this.bExPos);
        this.bExPos = np;
        const nv = new Float64Array(cap);
        nv.set(this.bExVal);
        this.bExVal = nv;
        const nt = new Float64Array(cap);
        nt.set(this.bExTs);
        this.bExTs = nt;
      }
      if (!this.bHasEx) {
        this.bHasEx = true;
        this.bExPos.fill(-1, 0, i);
      }
      this.bExPos[i] = exPos;
      if (exPos >= 0) {
        this.bExVal[i] = this.exVal;
        this.bExTs[i] = this.exTs;
      }
    }
    this.bLen = i + 1;
  }

  /** Family for a metadata line naming `name`. Returns false when the line must be skipped. */
  metaFamily(name: string, p: number): boolean {
    if (this.fActive && this.fName === name) {
      if (this.fBad) return false;
      if (this.fSamples > 0) {
        if (this.om || !this.lenient) this.err(p, `metadata for "${name}" after its samples`);
        // Prometheus, lenient: a repeated block for the same name starts a new family.
        this.endFamily();
        this.startFamily(name);
      }
      return true;
    }
    this.endFamily();
    this.startFamily(name);
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Comment / metadata lines

  omHashLine(): void {
    const t = this.text;
    const len = this.len;
    let p = this.lineStart + 1;
    if (t.charCodeAt(p) !== SP) this.err(p, 'expected "# HELP", "# TYPE", "# UNIT" or "# EOF" (comments are not allowed in OpenMetrics)');
    p++;
    const kw = p;
    if (t.startsWith('EOF', kw) && (kw + 3 === len || t.charCodeAt(kw + 3) === NL)) {
      this.endFamily();
      this.eofSeen = true;
      this.pos = kw + 3 === len ? len : kw + 4;
      return;
    }
    let which = 0;
    if (t.startsWith('HELP', kw)) which = 1;
    else if (t.startsWith('TYPE', kw)) which = 2;
    else if (t.startsWith('UNIT', kw)) which = 3;
    else this.err(kw, 'expected "# HELP", "# TYPE", "# UNIT" or "# EOF" (comments are not allowed in OpenMetrics)');
    p = kw + 4;
    if (t.charCodeAt(p) !== SP) this.err(p, 'expected a space and a metric name');
    p++;
    const name = this.readMetaName(p);
    p = this.pos;
    if (!this.metaFamily(name, kw)) {
      this.pos = this.nextLine(p);
      return;
    }
    if (which === 1) {
      if (t.charCodeAt(p) !== SP) this.err(p, 'expected a space after the metric name in HELP');
      if (this.fHasHelp) this.err(kw, `duplicate HELP for "${name}"`);
      this.fHelp = this.readHelp(p + 1, true);
      this.fHasHelp = true;
      return;
    }
    if (t.charCodeAt(p) !== SP) this.err(p, which === 2 ? 'expected a space and a metric type' : 'expected a space and a unit');
    p++;
    const s = p;
    while (p < len) {
      const c = t.charCodeAt(p);
      if (c === NL) break;
      if (c >= 128 || (CT[c] & F_NAME) === 0) this.err(p, which === 2 ? 'invalid metric type' : 'invalid character in unit');
      p++;
    }
    const word = t.slice(s, p);
    this.pos = p < len ? p + 1 : len;
    if (which === 2) {
      const type = OM_TYPES[word];
      if (type === undefined || !Object.prototype.hasOwnProperty.call(OM_TYPES, word)) this.err(s, `unknown metric type "${word}"`);
      if (this.fHasType) this.err(kw, `duplicate TYPE for "${name}"`);
      this.fType = type;
      this.fHasType = true;
      this.fMask = suffixMask(type, true);
      if (this.validate) this.checkUnitType(kw);
    } else {
      if (this.fHasUnit) this.err(kw, `duplicate UNIT for "${name}"`);
      this.fUnit = word;
      this.fHasUnit = true;
      if (this.validate) {
        if (word !== '' && !(name.length > word.length + 1 && name.endsWith(word) && name.charCodeAt(name.length - word.length - 1) === 95)) {
          this.err(s, `metric name "${name}" must end with "_${word}" to carry unit "${word}"`);
        }
        this.checkUnitType(kw);
      }
    }
  }

  checkUnitType(p: number): void {
    if (this.fUnit !== '' && (this.fType === 'info' || this.fType === 'stateset')) {
      this.err(p, `${this.fType} metrics cannot have a unit`);
    }
  }

  promHashLine(hashPos: number): void {
    const t = this.text;
    const len = this.len;
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
      this.pos = this.nextLine(hashPos);
      return;
    }
    while (p < len && (t.charCodeAt(p) === SP || t.charCodeAt(p) === TAB)) p++;
    const name = this.readMetaName(p);
    p = this.pos;
    if (!this.metaFamily(name, kw)) {
      this.pos = this.nextLine(p);
      return;
    }
    if (which === 1) {
      const c = t.charCodeAt(p);
      if (p < len && c !== NL && c !== SP && c !== TAB && c !== CR) this.err(p, 'expected whitespace after the metric name in HELP');
      while (p < len && (t.charCodeAt(p) === SP || t.charCodeAt(p) === TAB)) p++;
      if (this.fHasHelp) this.err(kw, `duplicate HELP for "${name}"`);
      this.fHelp = this.readHelp(p, false);
      this.fHasHelp = true;
      return;
    }
    const c = t.charCodeAt(p);
    if (c !== SP && c !== TAB) this.err(p, 'expected whitespace and a metric type');
    while (p < len && (t.charCodeAt(p) === SP || t.charCodeAt(p) === TAB)) p++;
    const s = p;
    while (p < len) {
      const c2 = t.charCodeAt(p);
      if (c2 >= 128 || (CT[c2] & F_LABEL) === 0) break;
      p++;
    }
    const word = t.slice(s, p);
    while (p < len && (t.charCodeAt(p) === SP || t.charCodeAt(p) === TAB || t.charCodeAt(p) === CR)) p++;
    if (p < len && t.charCodeAt(p) !== NL) this.err(p, 'unexpected text after metric type');
    this.pos = p < len ? p + 1 : len;
    const type = Object.prototype.hasOwnProperty.call(PROM_TYPES, word) ? PROM_TYPES[word] : undefined;
    if (type === undefined) this.err(s, `unknown metric type "${word}"`);
    if (this.fHasType) this.err(kw, `duplicate TYPE for "${name}"`);
    this.fType = type;
    this.fHasType = true;
    this.fMask = suffixMask(type, false);
  }

  /** Metric name in a metadata line: bare or quoted. Sets this.pos after it. */
  readMetaName(p: number): string {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (c === QUOTE) {
      this.pos = p;
      const name = this.readQuoted();
      if (name === '') this.err(p, 'empty metric name');
      return name;
    }
    if (c >= 128 || (CT[c] & F_NAME_START) === 0) this.err(p, 'expected a metric name');
    const s = p;
    p++;
    while (p < this.len) {
      const d = t.charCodeAt(p);
      if (d >= 128 || (CT[d] & F_NAME) === 0) break;
      p++;
    }
    this.pos = p;
    return t.slice(s, p);
  }

  /** HELP text from p to end of line with escapes resolved; consumes the newline. */
  readHelp(p: number, om: boolean): string {
    const t = this.text;
    const len = this.len;
    let e = t.indexOf('\n', p);
    if (e < 0) e = len;
    this.pos = e < len ? e + 1 : len;
    let end = e;
    if (!om && end > p && t.charCodeAt(end - 1) === CR) end--;
    const bs = t.indexOf('\\', p);
    if (bs < 0 || bs >= end) return t.slice(p, end);
    let out = '';
    let seg = p;
    for (let i = bs; i < end; i++) {
      if (t.charCodeAt(i) !== BSLASH || i + 1 >= end) continue;
      const n = t.charCodeAt(i + 1);
      let rep: string | undefined;
      if (n === BSLASH) rep = '\\';
      else if (n === 110 /* n */) rep = '\n';
      else if (om && n === QUOTE) rep = '"';
      if (rep !== undefined) {
        out += t.slice(seg, i) + rep;
        i++;
        seg = i + 1;
      }
    }
    return out + t.slice(seg, end);
  }

  // -------------------------------------------------------------------------------------------
  // Sample lines

  /** Resolve the family of a sample name; returns the suffix kind. */
  resolveSample(name: string): number {
    if (this.fActive) {
      if (name === this.lastName) return this.lastKind;
      const names = this.fNames;
      for (let i = 0; i < names.length; i++) {
        if (names[i] === name) {
          this.lastName = name;
          return (this.lastKind = this.fKinds[i]);
        }
      }
      const k = suffixKind(name, this.fName);
      if (k !== K_NONE && (this.fMask & (1 << k)) !== 0) {
        this.lastName = name;
        this.lastKind = k;
        if (names.length < 8) {
          names.push(name);
          this.fKinds.push(k);
        }
        return k;
      }
    }
    this.endFamily();
    this.startFamily(name);
    this.lastName = name;
    this.lastKind = K_EXACT;
    this.fNames.push(name);
    this.fKinds.push(K_EXACT);
    return K_EXACT;
  }

  /** Bare metric name at start (already known to start with a name char); sets this.pos after it. */
  readSampleName(start: number): string {
    const t = this.text;
    const len = this.len;
    let p = start + 1;
    while (p < len) {
      const c = t.charCodeAt(p);
      if (c >= 128 || (CT[c] & F_NAME) === 0) break;
      p++;
    }
    this.pos = p;
    const n = p - start;
    // Reuse the string of a sample name already seen in this family (no allocation).
    const last = this.lastName;
    if (last.length === n && t.startsWith(last, start)) return last;
    const names = this.fNames;
    for (let i = 0; i < names.length; i++) {
      const s = names[i];
      if (s.length === n && t.startsWith(s, start)) return s;
    }
    return t.slice(start, p);
  }

  sampleLine(start: number): void {
    const t = this.text;
    const len = this.len;
    const om = this.om;
    let p = start;
    const nl = t.indexOf('\n', start);
    this.lineEnd = nl < 0 ? len : nl;
    let name: string;
    let labels: Labels;
    let kind: number;
    const c0 = t.charCodeAt(p);
    let labelPos = -1;
    const mat = this.validate;
    if (c0 < 128 && (CT[c0] & F_NAME_START) !== 0) {
      name = this.readSampleName(start);
      p = this.pos;
      kind = this.resolveSample(name);
      if (this.fBad) {
        this.fSamples++;
        this.pos = this.nextLine(p);
        return;
      }
      if (t.charCodeAt(p) === LBRACE) {
        labelPos = p;
        this.pos = p;
        this.scanLabels(false);
        const end = this.pos;
        labels = mat ? this.materializeLabels(p) : EMPTY_LABELS;
        p = end;
      } else {
        labels = EMPTY_LABELS;
      }
    } else if (c0 === LBRACE) {
      labelPos = p;
      this.pos = p;
      this.qName = undefined;
      this.scanLabels(true);
      const end = this.pos;
      labels = mat ? this.materializeLabels(p) : EMPTY_LABELS;
      p = end;
      const q = this.qName;
      if (q === undefined) this.err(start + 1, 'expected a metric name');
      name = q;
      kind = this.resolveSample(name);
      if (this.fBad) {
        this.fSamples++;
        this.pos = this.nextLine(p);
        return;
      }
    } else {
      // Garbage inside a family already being skipped: skip silently (no exception per line).
      if (this.fActive && this.fBad) {
        this.pos = this.nextLine(p);
        return;
      }
      this.err(p, 'expected a metric name');
    }
    this.fSamples++;
    this.fLastLine = this.line;

    // Value.
    let c = t.charCodeAt(p);
    if (om) {
      if (c !== SP) this.err(p, p >= len || c === NL ? 'missing value' : 'expected a space before the value');
      p++;
    } else {
      if (c === SP || c === TAB) {
        do p++;
        while (p < len && ((c = t.charCodeAt(p)) === SP || c === TAB));
      } else if (p >= len || c === NL || c === CR) {
        this.err(p, 'missing value');
      } else if (t.charCodeAt(p - 1) !== RBRACE) {
        this.err(p, 'expected whitespace before the value');
      }
    }
    const vs = p;
    while (p < len) {
      c = t.charCodeAt(p);
      if (c < 128 && (CT[c] & F_TOKEN_END) !== 0) break;
      p++;
    }
    const value = parseFloatRange(t, vs, p);
    if (!numberScratch.ok) this.err(vs, vs === p ? 'missing value' : `invalid value "${t.slice(vs, p)}"`);

    // Timestamp and exemplar.
    let tsMs = NaN;
    this.tsSec = NaN;
    this.exPos = -1;
    if (p < len && (c = t.charCodeAt(p)) !== NL) {
      if (om) {
        if (c !== SP) this.err(p, 'unexpected character after value');
        p++;
        if (t.charCodeAt(p) !== HASH) {
          p = this.readOmTimestamp(p);
          tsMs = this.tsMsFromSec(this.tsSec);
          if (p < len && (c = t.charCodeAt(p)) !== NL) {
            if (c !== SP || t.charCodeAt(p + 1) !== HASH) this.err(p, 'unexpected text after timestamp');
            p++;
          }
        }
        if (p < len && t.charCodeAt(p) === HASH) p = this.readExemplar(p);
      } else {
        while (p < len && ((c = t.charCodeAt(p)) === SP || c === TAB || c === CR)) p++;
        if (p < len && c !== NL) {
          if (c === HASH) this.err(p, 'exemplars and trailing comments are only allowed in OpenMetrics');
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
            this.err(s, `invalid timestamp "${t.slice(s, e)}" (integer milliseconds expected)`);
          }
          if (p - ds > 15) v = Number(t.slice(ds, p));
          tsMs = neg && v !== 0 ? -v : v;
          this.tsSec = tsMs / 1000;
          while (p < len && ((c = t.charCodeAt(p)) === SP || c === TAB || c === CR)) p++;
          if (p < len && c !== NL) this.err(p, 'unexpected text after timestamp');
        }
      }
    }
    this.pos = p < len ? p + 1 : len;

    if (this.validate) this.validateSample(name, kind, labels, value, start);
    this.push(name, labelPos, value, tsMs, this.exPos);
  }

  tsMsFromSec(sec: number): number {
    const ms = Math.round(sec * 1000);
    return ms === 0 ? 0 : ms; // no -0
  }

  /** OpenMetrics timestamp (seconds, real number) at p; sets this.tsSec; returns the end. */
  readOmTimestamp(p: number): number {
    const t = this.text;
    const len = this.len;
    const s = p;
    while (p < len) {
      const c = t.charCodeAt(p);
      if (c < 128 && (CT[c] & F_TOKEN_END) !== 0) break;
      p++;
    }
    const v = parseRealNumberRange(t, s, p);
    if (v !== v) this.err(s, s === p ? 'missing timestamp' : `invalid timestamp "${t.slice(s, p)}"`);
    this.tsSec = v;
    return p;
  }

  /** Exemplar at p (the '#'); sets this.exPos/exVal/exTs; returns the end (at NL or end). */
  readExemplar(p: number): number {
    const t = this.text;
    const len = this.len;
    if (!this.om) this.err(p, 'exemplars are only allowed in OpenMetrics');
    p++;
    if (t.charCodeAt(p) !== SP) this.err(p, 'expected a space after "#" before the exemplar');
    p++;
    if (t.charCodeAt(p) !== LBRACE) this.err(p, 'expected "{" to open the exemplar labels');
    const open = p;
    this.pos = p;
    this.scanLabels(false);
    p = this.pos;
    if (this.validate) {
      const prevLabels = this.prevLabels;
      const prevClean = this.prevClean;
      this.exLabels = this.materializeLabels(open);
      this.prevLabels = prevLabels;
      this.prevClean = prevClean;
    }
    if (t.charCodeAt(p) !== SP) this.err(p, 'expected a space before the exemplar value');
    p++;
    const vs = p;
    let c: number;
    while (p < len) {
      c = t.charCodeAt(p);
      if (c < 128 && (CT[c] & F_TOKEN_END) !== 0) break;
      p++;
    }
    const value = parseFloatRange(t, vs, p);
    if (!numberScratch.ok) this.err(vs, vs === p ? 'missing exemplar value' : `invalid exemplar value "${t.slice(vs, p)}"`);
    let ts = NaN;
    if (p < len && (c = t.charCodeAt(p)) !== NL) {
      if (c !== SP) this.err(p, 'unexpected character after exemplar value');
      const saved = this.tsSec;
      p = this.readOmTimestamp(p + 1);
      ts = this.tsMsFromSec(this.tsSec);
      this.tsSec = saved;
      if (p < len && t.charCodeAt(p) !== NL) this.err(p, 'unexpected text after exemplar timestamp');
    }
    this.exPos = open;
    this.exVal = value;
    this.exTs = ts;
    return p;
  }

  /**
   * Validate the label set at this.pos (the '{') without allocating; leaves this.pos after the '}'.
   * When allowName, a leading quoted string followed by ',' or '}' is the metric name (this.qName).
   */
  scanLabels(allowName: boolean): void {
    const t = this.text;
    const len = this.len;
    const open = this.pos;
    let p = open + 1;
    let c = t.charCodeAt(p);
    while (c === SP || c === TAB) c = t.charCodeAt(++p);
    if (c === RBRACE) {
      this.pos = p + 1;
      return;
    }
    let nLabels = 0;
    let quotedNames = false;
    let first = true;
    for (;;) {
      const ns = p;
      if (c === QUOTE) {
        this.pos = p;
        const q = this.readQuoted();
        p = this.pos;
        c = t.charCodeAt(p);
        while (c === SP || c === TAB) c = t.charCodeAt(++p);
        if (first && allowName && (c === COMMA || c === RBRACE)) {
          if (q === '') this.err(ns, 'empty metric name');
          this.qName = q;
          first = false;
          if (c === RBRACE) {
            p++;
            break;
          }
          c = t.charCodeAt(++p);
          while (c === SP || c === TAB) c = t.charCodeAt(++p);
          if (c === RBRACE) {
            if (this.om) this.err(p, 'trailing comma in label set');
            p++;
            break;
          }
          continue;
        }
        if (q === '') this.err(ns, 'empty label name');
        quotedNames = true;
      } else if (c < 128 && (CT[c] & F_LABEL_START) !== 0) {
        let e = p + 1;
        let h = c;
        while (e < len) {
          const d = t.charCodeAt(e);
          if (d >= 128 || (CT[d] & F_LABEL) === 0) break;
          h = (h * 31 + d) | 0;
          e++;
        }
        const nl = e - p;
        // Duplicate check without allocation: compare name hashes, then text ranges. Past
        // MAX_LINEAR_LABELS names a Set takes over so absurdly wide label sets stay linear.
        if (nLabels >= MAX_LINEAR_LABELS) {
          let set = this.wideSet;
          if (nLabels === MAX_LINEAR_LABELS || set === undefined) {
            set = this.wideSet = new Set<string>();
            for (let i = 0; i < nLabels; i++) set.add(t.slice(this.lnStart[i], this.lnEnd[i]));
          }
          const key = t.slice(p, e);
          if (set.has(key)) this.err(ns, `duplicate label "${key}"`);
          set.add(key);
        }
        const hs = this.lnHash;
        const linear = nLabels < MAX_LINEAR_LABELS ? nLabels : 0;
        for (let i = 0; i < linear; i++) {
          if (hs[i] !== h) continue;
          const os = this.lnStart[i];
          if (this.lnEnd[i] - os !== nl) continue;
          let j = 0;
          while (j < nl && t.charCodeAt(os + j) === t.charCodeAt(p + j)) j++;
          if (j === nl) this.err(ns, `duplicate label "${t.slice(p, e)}"`);
        }
        if (nLabels < MAX_LINEAR_LABELS) {
          if (nLabels === hs.length) this.growLabelScratch();
          this.lnHash[nLabels] = h;
          this.lnStart[nLabels] = p;
          this.lnEnd[nLabels] = e;
        }
        nLabels++;
        p = e;
        c = t.charCodeAt(p);
      } else {
        this.err(p, p >= len || c === NL ? 'unterminated label set' : 'expected a label name');
      }
      first = false;
      while (c === SP || c === TAB) c = t.charCodeAt(++p);
      if (c !== EQ) this.err(p, `expected "=" after label name ${t.slice(ns, p).trim()}`);
      c = t.charCodeAt(++p);
      while (c === SP || c === TAB) c = t.charCodeAt(++p);
      if (c !== QUOTE) this.err(p, `expected '"' to open the value of label ${t.slice(ns, t.indexOf('=', ns)).trim()}`);
      // Label value. Fast path: the next '"' comes before the next backslash and the line end
      // (both positions are cached and only move forward, so this stays linear overall).
      let q = t.indexOf('"', p + 1);
      if (this.nextBs <= p || p < this.bsFrom) {
        const b = t.indexOf('\\', p + 1);
        this.nextBs = b < 0 ? len : b;
        this.bsFrom = p;
      }
      if (q < 0 || q > this.lineEnd || this.nextBs < q) {
        q = p + 1;
        for (;;) {
          if (q >= len) this.err(p, 'unterminated quoted string');
          const d = t.charCodeAt(q);
          if (d === QUOTE) break;
          if (d === NL) this.err(p, 'unterminated quoted string');
          if (d === BSLASH) {
            if (q + 1 >= len || t.charCodeAt(q + 1) === NL) this.err(p, 'unterminated quoted string');
            q += 2;
          } else q++;
        }
      }
      p = q + 1;
      c = t.charCodeAt(p);
      while (c === SP || c === TAB) c = t.charCodeAt(++p);
      if (c === COMMA) {
        c = t.charCodeAt(++p);
        while (c === SP || c === TAB) c = t.charCodeAt(++p);
        if (c === RBRACE) {
          if (this.om) this.err(p, 'trailing comma in label set');
          p++;
          break;
        }
        continue;
      }
      if (c === RBRACE) {
        p++;
        break;
      }
      this.err(p, p >= len || c === NL ? 'unterminated label set' : 'expected "," or "}" after a label');
    }
    if (quotedNames) {
      // Rare: duplicate check on the decoded names.
      const end = p;
      const labels = this.materializeLabels(open);
      const names = new Set<string>();
      for (let i = 0; i < labels.length; i += 2) {
        if (names.has(labels[i])) this.err(open, `duplicate label "${labels[i]}"`);
        names.add(labels[i]);
      }
      p = end;
    }
    this.pos = p;
  }

  /**
   * Build the labels of an already validated label set starting at `open` (the '{').
   * A name or value equal to the previous sample's at the same position reuses that string (no
   * allocation, no second scan). Only strings that came from the escape-free fast path are reused
   * (tracked in prevClean, first 15 labels), so a raw-text match is always an exact match.
   */
  materializeLabels(open: number): Labels {
    const t = this.text;
    let p = open + 1;
    let c = t.charCodeAt(p);
    while (c === SP || c === TAB) c = t.charCodeAt(++p);
    if (c === RBRACE) return EMPTY_LABELS;
    const out: string[] = [];
    const prev = this.prevLabels;
    const prevClean = this.prevClean;
    let clean = 0;
    for (;;) {
      let lname: string;
      const li = out.length;
      const bitN = li < 31 ? 1 << li : 0;
      if (c === QUOTE) {
        this.pos = p;
        lname = this.readQuoted();
        p = this.pos;
        c = t.charCodeAt(p);
        while (c === SP || c === TAB) c = t.charCodeAt(++p);
        if (c !== EQ) {
          // The quoted metric name: skip it.
          if (c === RBRACE) break;
          c = t.charCodeAt(++p);
          while (c === SP || c === TAB) c = t.charCodeAt(++p);
          if (c === RBRACE) break;
          continue;
        }
      } else {
        const cand = li < prev.length ? prev[li] : undefined;
        let e: number;
        if (cand !== undefined && (prevClean & bitN) !== 0 && ((e = p + cand.length), (c = t.charCodeAt(e)) >= 128 || (CT[c] & F_LABEL) === 0) && t.startsWith(cand, p)) {
          lname = cand;
        } else {
          e = p + 1;
          for (;;) {
            c = t.charCodeAt(e);
            if (c >= 128 || (CT[c] & F_LABEL) === 0) break;
            e++;
          }
          lname = t.slice(p, e);
        }
        clean |= bitN;
        p = e;
        while (c === SP || c === TAB) c = t.charCodeAt(++p);
      }
      // c is '='
      c = t.charCodeAt(++p);
      while (c === SP || c === TAB) c = t.charCodeAt(++p);
      // c is '"'
      const vs = p + 1;
      const bitV = li + 1 < 31 ? 1 << (li + 1) : 0;
      const cand = li + 1 < prev.length ? prev[li + 1] : undefined;
      let value: string;
      if (cand !== undefined && (prevClean & bitV) !== 0 && t.charCodeAt(vs + cand.length) === QUOTE && t.startsWith(cand, vs)) {
        value = cand;
        clean |= bitV;
        p = vs + cand.length + 1;
      } else {
        // The closing quote, unless a backslash comes first (the text is already validated).
        const q = t.indexOf('"', vs);
        // Separate caches for the scan pass and the delivery pass: each only moves forward.
        let nextBs = this.emitting ? this.eNextBs : this.mNextBs;
        if (nextBs < vs || vs < (this.emitting ? this.eBsFrom : this.mBsFrom)) {
          const b = t.indexOf('\\', vs);
          nextBs = b < 0 ? this.len : b;
          if (this.emitting) {
            this.eNextBs = nextBs;
            this.eBsFrom = vs;
          } else {
            this.mNextBs = nextBs;
            this.mBsFrom = vs;
          }
        }
        if (q < nextBs) {
          value = t.slice(vs, q);
          clean |= bitV;
          p = q + 1;
        } else {
          this.pos = p;
          value = this.readQuoted();
          p = this.pos;
        }
      }
      out.push(lname, value);
      c = t.charCodeAt(p);
      while (c === SP || c === TAB) c = t.charCodeAt(++p);
      if (c === RBRACE) break;
      // c is ','
      c = t.charCodeAt(++p);
      while (c === SP || c === TAB) c = t.charCodeAt(++p);
      if (c === RBRACE) break;
    }
    this.prevLabels = out;
    this.prevClean = clean;
    return out;
  }

  growLabelScratch(): void {
    const n = this.lnHash.length * 2;
    const a = new Int32Array(n);
    a.set(this.lnStart);
    this.lnStart = a;
    const b = new Int32Array(n);
    b.set(this.lnEnd);
    this.lnEnd = b;
    const h = new Int32Array(n);
    h.set(this.lnHash);
    this.lnHash = h;
  }

  /** Quoted string at this.pos (the opening '"'); resolves \\ \" \n; leaves this.pos after the closing quote. */
  readQuoted(): string {
    const t = this.text;
    const len = this.len;
    const open = this.pos;
    let p = open + 1;
    let seg = p;
    let out = '';
    while (p < len) {
      const c = t.charCodeAt(p);
      if (c === QUOTE) {
        this.pos = p + 1;
        return seg === open + 1 ? t.slice(seg, p) : out + t.slice(seg, p);
      }
      if (c === NL) break;
      if (c === BSLASH) {
        if (p + 1 >= len) break;
        const n = t.charCodeAt(p + 1);
        if (n === BSLASH || n === QUOTE || n === 110 /* n */) {
          out += t.slice(seg, p) + (n === 110 ? '\n' : n === QUOTE ? '"' : '\\');
          p += 2;
          seg = p;
          continue;
        }
        if (n === NL) break;
        p += 2; // unknown escape: kept literally
        continue;
      }
      p++;
    }
    this.err(open, 'unterminated quoted string');
  }

  // -------------------------------------------------------------------------------------------
  // OpenMetrics semantic validation

  validateSample(name: string, kind: number, labels: Labels, value: number, start: number): void {
    const type = this.fType;
    let excl = '';
    switch (type) {
      case 'counter':
        if (kind === K_TOTAL && !(value >= 0)) this.err(start, 'counter value must be a non-negative number');
        break;
      case 'histogram':
      case 'gaugehistogram':
        if (kind === K_BUCKET) {
          excl = 'le';
          if (!(value >= 0)) this.err(start, 'bucket count must be a non-negative number');
        } else if (kind === K_COUNT || kind === K_GCOUNT) {
          if (!(value >= 0)) this.err(start, 'count must be a non-negative number');
        } else if (kind === K_SUM) {
          if (!(value >= 0)) this.err(start, 'histogram _sum must be a non-negative number');
        } else if (kind === K_GSUM) {
          if (value !== value) this.err(start, '_gsum must not be NaN');
        }
        break;
      case 'summary':
        if (kind === K_EXACT) {
          excl = 'quantile';
          const q = getLabel(labels, 'quantile');
          if (q === undefined) this.err(start, 'summary quantile sample without a "quantile" label');
          const qv = parseRealNumber(q);
          if (!(qv >= 0 && qv <= 1)) this.err(start, `invalid quantile "${q}" (must be a number in [0, 1])`);
          if (value < 0) this.err(start, 'summary quantile value must not be negative');
        } else if (kind === K_COUNT || kind === K_SUM) {
          if (!(value >= 0)) this.err(start, `summary ${SUFFIX_TEXT[kind]} must be a non-negative number`);
        }
        break;
      case 'info':
        if (value !== 1) this.err(start, 'info value must be 1');
        break;
      case 'stateset':
        if (getLabel(labels, this.fName) === undefined) this.err(start, `stateset sample without a "${this.fName}" label`);
        if (value !== 0 && value !== 1) this.err(start, 'stateset value must be 0 or 1');
        break;
      default:
        break;
    }
    if (this.exPos >= 0) {
      const exLabels = this.exLabels;
      const allowed =
        (type === 'counter' && kind === K_TOTAL) || ((type === 'histogram' || type === 'gaugehistogram') && kind === K_BUCKET);
      if (!allowed) this.err(start, 'exemplars are only allowed on counter _total and histogram _bucket samples');
      let n = 0;
      for (let i = 0; i < exLabels.length; i++) n += codePointLength(exLabels[i]);
      if (n > 128) this.err(start, `exemplar labels are ${n} characters long (max 128)`);
    }

    // Metric groups must be contiguous.
    const hist = type === 'histogram' || type === 'gaugehistogram';
    const gl = this.gLabels;
    if (gl === undefined || !sameLabelsExcept(gl, this.gExcl, labels, excl)) {
      const key = groupKey(labels, excl);
      if (key !== this.gKey || gl === undefined) {
        if (this.groupKeys.has(key)) this.err(start, 'samples of the same metric must be contiguous');
        if (hist) this.finishHistogramGroup(this.line);
        this.groupKeys.add(key);
        this.gKey = key;
      }
      this.gLabels = labels;
      this.gExcl = excl;
    }

    // Repeated samples of one series: all with or all without timestamps, never going back.
    const hasTs = this.tsSec === this.tsSec;
    if (name === this.sName && sameLabelsExcept(labels, '', this.sLabels, '')) {
      if (hasTs !== this.sHasTs) this.err(start, 'a series must not mix samples with and without timestamps');
      if (!hasTs) this.err(start, 'duplicate sample for the same series');
      if (this.tsSec < this.sTs) this.err(start, 'timestamps of a series must not decrease');
    }
    this.sName = name;
    this.sLabels = labels;
    this.sHasTs = hasTs;
    this.sTs = this.tsSec;

    if (hist) {
      const ts = this.tsSec;
      if (this.hActive && !(ts === this.hTs || (ts !== ts && this.hTs !== this.hTs))) this.finishHistogramGroup(this.line);
      if (!this.hActive) {
        this.hActive = true;
        this.hTs = ts;
        this.hBuckets = 0;
        this.hLastLe = -Infinity;
        this.hLastVal = 0;
        this.hInf = false;
        this.hInfVal = 0;
        this.hHasCount = false;
        this.hCount = NaN;
        this.hSum = false;
        this.hGsum = false;
        this.hNegGsum = false;
        this.hNegBucket = false;
      }
      if (kind === K_BUCKET) {
        const les = getLabel(labels, 'le');
        if (les === undefined) this.err(start, 'histogram bucket without an "le" label');
        const le = les === '+Inf' ? Infinity : parseRealNumber(les);
        if (le !== le) this.err(start, `invalid le "${les}"`);
        if (this.hBuckets > 0 && le <= this.hLastLe) this.err(start, 'histogram buckets must be in increasing "le" order');
        if (value < this.hLastVal) this.err(start, 'histogram bucket counts must not decrease');
        this.hBuckets++;
        this.hLastLe = le;
        this.hLastVal = value;
        if (le < 0) this.hNegBucket = true;
        if (le === Infinity) {
          this.hInf = true;
          this.hInfVal = value;
        }
      } else if (kind === K_COUNT || kind === K_GCOUNT) {
        this.hHasCount = true;
        this.hCount = value;
      } else if (kind === K_SUM) {
        this.hSum = true;
      } else if (kind === K_GSUM) {
        this.hGsum = true;
        if (value < 0) this.hNegGsum = true;
      }
    }
  }

  finishHistogramGroup(line: number): void {
    if (!this.hActive) return;
    this.hActive = false;
    const fail = (reason: string): never => {
      throw new ParseError(reason, line, 1);
    };
    const count = this.fType === 'gaugehistogram' ? '_gcount' : '_count';
    const sum = this.fType === 'gaugehistogram' ? '_gsum' : '_sum';
    if (!this.hInf) fail(`histogram "${this.fName}" has no +Inf bucket`);
    if (this.hHasCount && this.hCount !== this.hInfVal) fail(`histogram "${this.fName}" ${count} does not match its +Inf bucket`);
    if ((this.hSum || this.hGsum) && !this.hHasCount) fail(`histogram "${this.fName}" has ${sum} without ${count}`);
    if (this.hHasCount && !(this.hSum || this.hGsum)) fail(`histogram "${this.fName}" has ${count} without ${sum}`);
    if (this.hNegBucket && this.hSum) fail(`histogram "${this.fName}" has negative buckets and must not have _sum`);
    if (!this.hNegBucket && this.hNegGsum) fail(`gauge histogram "${this.fName}" has a negative _gsum but no negative buckets`);
  }

  /** Name clashes between this family's sample names and other families. */
  familyEndChecks(): void {
    const name = this.fName;
    const seen = this.seen;
    const mask = suffixMask(this.fType, true);
    for (let k = K_TOTAL; k <= K_INFO; k++) {
      if ((mask & (1 << k)) !== 0 && seen.has(name + SUFFIX_TEXT[k])) {
        throw new ParseError(`family "${name}" clashes with family "${name + SUFFIX_TEXT[k]}"`, this.fLastLine, 1);
      }
    }
    for (let k = K_TOTAL; k <= K_INFO; k++) {
      const suf = SUFFIX_TEXT[k];
      if (name.length > suf.length && name.endsWith(suf)) {
        const base = name.slice(0, name.length - suf.length);
        const bt = seen.get(base);
        if (bt !== undefined && (suffixMask(bt, true) & (1 << k)) !== 0) {
          throw new ParseError(`family "${name}" clashes with samples of family "${base}"`, this.fLastLine, 1);
        }
      }
    }
  }
}

function sameLabelsExcept(a: Labels, ea: string, b: Labels, eb: string): boolean {
  let i = 0;
  let j = 0;
  const al = a.length;
  const bl = b.length;
  for (;;) {
    if (i < al && ea !== '' && a[i] === ea) i += 2;
    if (j < bl && eb !== '' && b[j] === eb) j += 2;
    if (i >= al || j >= bl) return i >= al && j >= bl;
    if (a[i] !== b[j] || a[i + 1] !== b[j + 1]) return false;
    i += 2;
    j += 2;
  }
}

/** Order-independent, unambiguous key of a label set without the label `excl`. */
function groupKey(labels: Labels, excl: string): string {
  let sorted = true;
  let prev = '';
  for (let i = 0; i < labels.length; i += 2) {
    const k = labels[i];
    if (k === excl) continue;
    if (k < prev) {
      sorted = false;
      break;
    }
    prev = k;
  }
  let idx: number[] | undefined;
  if (!sorted) {
    idx = [];
    for (let i = 0; i < labels.length; i += 2) if (labels[i] !== excl) idx.push(i);
    idx.sort((x, y) => (labels[x] < labels[y] ? -1 : labels[x] > labels[y] ? 1 : 0));
  }
  let key = '';
  const n = idx === undefined ? labels.length : idx.length * 2;
  for (let j = 0; j < n; j += 2) {
    const i = idx === undefined ? j : idx[j / 2];
    const k = labels[i];
    if (idx === undefined && k === excl) continue;
    const v = labels[i + 1];
    key += k.length + ':' + k + v.length + ':' + v;
  }
  return key;
}

function resolveOptions(text: string, opts: ParseOptions | undefined): { om: boolean; lenient: boolean; validate: boolean; format: ExpositionFormat } {
  const fmt = opts?.format ?? 'auto';
  const format: ExpositionFormat = fmt === 'auto' ? detectFormat(text, opts?.contentType) : fmt;
  const lenient = opts?.lenient ?? true;
  const validate = opts?.validate ?? !lenient;
  return { om: format === 'openmetrics', lenient, validate, format };
}

/**
 * Parse an exposition and stream it into `visitor`, family by family.
 * Strict mode (`lenient: false`) throws the first {@link ParseError}; lenient mode never throws a
 * ParseError and reports skipped families in the summary.
 */
export function parseExposition(text: string, visitor: ExpositionVisitor, opts?: ParseOptions): ParseSummary {
  const o = resolveOptions(text, opts);
  const p = new Parser(text, visitor, o.om, o.lenient, o.validate);
  p.run();
  return { format: o.format, families: p.famCount, samples: p.sampleCount, errors: p.errors, skippedFamilies: p.skipped };
}

export interface Sample {
  /** Sample name as exposed (`a_total`, `x_bucket`, ...). */
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
  exemplar?: { labels: Record<string, string>; value: number; timestampMs?: number };
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  unit: string;
  samples: Sample[];
}

export interface ParsedExposition {
  format: ExpositionFormat;
  families: MetricFamily[];
  errors: ParseError[];
  skippedFamilies: number;
}

/**
 * Convenience API: parse into plain objects. Families that appear more than once (allowed only
 * in lenient Prometheus text) are merged into the first occurrence when their types agree.
 * Throws like {@link parseExposition} in strict mode.
 */
export function parseToFamilies(text: string, opts?: ParseOptions): ParsedExposition {
  const families: MetricFamily[] = [];
  const byName = new Map<string, MetricFamily>();
  let cur: MetricFamily | undefined;
  const summary = parseExposition(
    text,
    {
      onFamily(name, type, help, unit) {
        const existing = byName.get(name);
        if (existing !== undefined && existing.type === type) {
          if (existing.help === '') existing.help = help;
          if (existing.unit === '') existing.unit = unit;
          cur = existing;
          return;
        }
        cur = { name, type, help, unit, samples: [] };
        families.push(cur);
        if (existing === undefined) byName.set(name, cur);
      },
      onSample(name, labels, value, timestampMs, _family, exemplar) {
        // One object shape for every sample (absent fields are undefined) keeps V8 monomorphic.
        const s: Sample = {
          name,
          labels: labelsToObject(labels),
          value,
          timestampMs,
          exemplar: exemplar === undefined ? undefined : { labels: labelsToObject(exemplar.labels), value: exemplar.value, timestampMs: exemplar.timestampMs },
        };
        (cur as MetricFamily).samples.push(s);
      },
    },
    opts,
  );
  return { format: summary.format, families, errors: summary.errors, skippedFamilies: summary.skippedFamilies };
}
