/**
 * The lexer shared by both text formats: character classes, and the scanning of everything whose
 * syntax the formats share (label sets, quoted strings, metric names in metadata, HELP text).
 *
 * The input string is walked by char code: no regular expressions, no per-line `split`. Only one
 * concrete class ever extends {@link Lexer} ({@link ExpositionReader}), so every field access in
 * the hot loops stays monomorphic whichever formats a process parses.
 *
 * Linear work: searches for quotes, backslashes and line ends only move forward, and the
 * duplicate-label check switches from pairwise hash compares to a Set past 32 labels.
 */
import * as chars from './chars.js';
import { EMPTY_LABELS as EMPTY } from './labels.js';
import { ParseError, type Labels } from './types.js';

// Module-local copies: see chars.ts.
const { NL, CR, SP, TAB, QUOTE, BSLASH, RBRACE, COMMA, EQ, CT, F_NAME, F_NAME_START, F_LABEL, F_LABEL_START } = chars;
const EMPTY_LABELS = EMPTY;

/** Label sets wider than this switch duplicate detection from pairwise compares to a Set. */
const MAX_LINEAR_LABELS = 32;

export abstract class Lexer {
  readonly text: string;
  readonly len: number;
  /** OpenMetrics syntax (no trailing comma in label sets). */
  readonly om: boolean;

  pos = 0;
  line = 0;
  lineStart = 0;
  lineEnd = 0; // index of the '\n' ending the current sample line (or the text length)

  // Label-name ranges of the label set being scanned (duplicate detection without allocation).
  lnStart = new Int32Array(16);
  lnEnd = new Int32Array(16);
  lnHash = new Int32Array(16);
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
  // Set by scanLabels when the label set started with a quoted metric name.
  qName: string | undefined = undefined;

  constructor(text: string, om: boolean) {
    this.text = text;
    this.len = text.length;
    this.om = om;
  }

  err(p: number, reason: string): never {
    throw new ParseError(reason, this.line, p - this.lineStart + 1);
  }


  nextLine(p: number): number {
    const i = this.text.indexOf('\n', p);
    return i < 0 ? this.len : i + 1;
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
}
