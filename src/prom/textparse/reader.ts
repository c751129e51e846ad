/**
 * The format-independent half of parsing: the line loop, error recovery, and family assembly —
 * which family each sample belongs to, buffering a family until it is complete and valid, and
 * delivering it to the visitor. Each text format plugs in as a {@link LineFormat}.
 *
 * Family boundaries: a metadata line for another name, or a sample whose name is not the family
 * name plus a suffix its type allows, starts a new family. Without metadata each run of one
 * sample name is its own `unknown` family.
 *
 * While a family is being read only offsets and numbers are buffered; label strings are built
 * when it is delivered (young garbage only), and not at all when `onFamily` returns `false`.
 *
 * Progress guarantee: every loop iteration consumes at least one character, and no token spans
 * a newline; after an error the reader resumes after the next `\n`.
 */
import * as chars from './chars.js';
import { EMPTY_LABELS as EMPTY } from './labels.js';
import { Lexer } from './lexer.js';
import type { OpenMetricsRules } from './openmetrics-rules.js';
import * as suffixes from './suffixes.js';
import { ParseError, type Exemplar, type ExpositionVisitor, type FamilyInfo, type Labels, type MetricType } from './types.js';

// Module-local copies: see chars.ts.
const { LBRACE, CT, F_NAME, F_NAME_START } = chars;
const { K_EXACT, K_NONE, suffixKind, suffixMask } = suffixes;
const EMPTY_LABELS = EMPTY;

/** One text format: how to read a line, and what to check once the text is consumed. */
export interface LineFormat {
  /** Read the line starting at `start` (comment, metadata or sample); leave `r.pos` after it. */
  line(r: ExpositionReader, start: number): void;
  /** Document-level checks after the last line (the last family is already delivered). */
  end(r: ExpositionReader): void;
}

/** One parse run; all state lives in fields so the hot loop stays monomorphic. */
export class ExpositionReader extends Lexer {
  readonly format: LineFormat;
  readonly lenient: boolean;
  readonly visitor: ExpositionVisitor;
  /** The OpenMetrics semantic rules, when they apply to this run. */
  rules: OpenMetricsRules | undefined = undefined;

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

  // The sample line being read: set by sampleHead, completed by the format, consumed by endSample.
  sName = '';
  sKind = K_NONE;
  sLabels: Labels = EMPTY_LABELS; // materialised only when the rules apply
  sLabelPos = -1;
  tsSec = NaN; // OpenMetrics timestamp in seconds (NaN: none)
  exPos = -1; // exemplar of the current line: '{' offset, or -1
  exVal = 0;
  exTs = NaN;
  exLabels: Labels = EMPTY_LABELS; // materialised only when the rules apply

  constructor(text: string, visitor: ExpositionVisitor, format: LineFormat, om: boolean, lenient: boolean) {
    super(text, om);
    this.visitor = visitor;
    this.format = format;
    this.lenient = lenient;
  }

  // -------------------------------------------------------------------------------------------
  // Errors

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
    const len = this.len;
    const format = this.format;
    while (this.pos < len) {
      const start = this.pos;
      this.line++;
      this.lineStart = start;
      try {
        format.line(this, start);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        this.handleError(e);
        this.pos = this.nextLine(start);
      }
      if (this.pos <= start) this.pos = this.nextLine(start); // never stall
    }
    this.endFamily();
    format.end(this);
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
    if (this.rules !== undefined) this.rules.startFamily(name);
  }

  endFamily(): void {
    if (!this.fActive) return;
    const rules = this.rules;
    if (rules !== undefined && this.fName !== '') {
      if (!this.fBad) {
        try {
          rules.endFamily();
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          this.handleError(e);
        }
      }
      rules.familyDone(this.fName, this.fType);
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

  /**
   * The format-independent start of a sample line: metric name (bare, or quoted inside the
   * braces) and label set, attributed to its family. Returns the position after them, or -1 when
   * the line was skipped (its family is already bad); this.pos is then past the line.
   */
  sampleHead(start: number): number {
    const t = this.text;
    const len = this.len;
    let p = start;
    const nl = t.indexOf('\n', start);
    this.lineEnd = nl < 0 ? len : nl;
    let name: string;
    let labels: Labels;
    let kind: number;
    const c0 = t.charCodeAt(p);
    let labelPos = -1;
    const mat = this.rules !== undefined;
    if (c0 < 128 && (CT[c0] & F_NAME_START) !== 0) {
      name = this.readSampleName(start);
      p = this.pos;
      kind = this.resolveSample(name);
      if (this.fBad) {
        this.fSamples++;
        this.pos = this.nextLine(p);
        return -1;
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
        return -1;
      }
    } else {
      // Garbage inside a family already being skipped: skip silently (no exception per line).
      if (this.fActive && this.fBad) {
        this.pos = this.nextLine(p);
        return -1;
      }
      this.err(p, 'expected a metric name');
    }
    this.fSamples++;
    this.fLastLine = this.line;
    this.sName = name;
    this.sKind = kind;
    this.sLabels = labels;
    this.sLabelPos = labelPos;
    this.tsSec = NaN;
    this.exPos = -1;
    return p;
  }

  /** Finish the sample line whose value ends at p (before its newline): check it and buffer it. */
  endSample(value: number, tsMs: number, start: number, p: number): void {
    this.pos = p < this.len ? p + 1 : this.len;
    const rules = this.rules;
    if (rules !== undefined) rules.sample(this.sName, this.sKind, this.sLabels, value, start);
    this.push(this.sName, this.sLabelPos, value, tsMs, this.exPos);
  }
}
