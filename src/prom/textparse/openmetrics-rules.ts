/**
 * The OpenMetrics 1.0 semantic rules, beyond syntax: counter values non-negative, histogram
 * buckets ordered with a `+Inf` bucket matching `_count`, `_sum`/`_count` pairing, summary
 * quantile range, stateset/info values, exemplar placement and size, contiguous metric groups,
 * non-decreasing timestamps, families appearing once, clashing family names, unit suffix.
 *
 * They apply when `validate` is true, which defaults to strict OpenMetrics parsing. Real exporters
 * violate some of them (e.g. the Go client writes `_sum` on histograms with negative buckets), so
 * lenient scraping does not drop such families unless asked. Each check throws a ParseError,
 * which the reader attributes to the current family.
 */
import { codePointLength, parseRealNumber } from '../number.js';
import { EMPTY_LABELS, getLabel } from './labels.js';
import type { ExpositionReader } from './reader.js';
import * as suffixes from './suffixes.js';
import { ParseError, type Labels, type MetricType } from './types.js';

// Module-local copies: see chars.ts.
const { K_BUCKET, K_COUNT, K_EXACT, K_GCOUNT, K_GSUM, K_INFO, K_SUM, K_TOTAL, SUFFIX_TEXT, suffixMask } = suffixes;

export class OpenMetricsRules {
  private readonly r: ExpositionReader;
  // Families already delivered, with their types (contiguity and name clashes).
  private readonly seen = new Map<string, MetricType>();
  // Metric groups (label sets without le/quantile) of the current family, and the current one.
  private readonly groupKeys = new Set<string>();
  private gLabels: Labels | undefined = undefined;
  private gExcl = '';
  private gKey = '';
  // The previous sample (repeated samples of one series).
  private sName = '';
  private sLabels: Labels = EMPTY_LABELS;
  private sHasTs = false;
  private sTs = 0;
  // The histogram group being read.
  private hActive = false;
  private hTs = NaN;
  private hLastLe = -Infinity;
  private hBuckets = 0;
  private hLastVal = 0;
  private hInf = false;
  private hInfVal = 0;
  private hCount = NaN;
  private hHasCount = false;
  private hSum = false;
  private hGsum = false;
  private hNegGsum = false;
  private hNegBucket = false;

  constructor(reader: ExpositionReader) {
    this.r = reader;
  }

  startFamily(name: string): void {
    this.groupKeys.clear();
    this.gLabels = undefined;
    this.gKey = '';
    this.sName = '';
    this.hActive = false;
    if (name !== '' && this.seen.has(name)) {
      this.r.err(this.r.lineStart, `metric family "${name}" appears more than once; families must be contiguous`);
    }
  }

  /** Checks once the current (named, valid so far) family is complete. */
  endFamily(): void {
    this.finishHistogramGroup(this.r.fLastLine);
    this.familyEndChecks();
  }

  /** Record a family as seen, valid or not. */
  familyDone(name: string, type: MetricType): void {
    this.seen.set(name, type);
  }

  checkUnitSuffix(name: string, unit: string, p: number): void {
    if (unit !== '' && !(name.length > unit.length + 1 && name.endsWith(unit) && name.charCodeAt(name.length - unit.length - 1) === 95)) {
      this.r.err(p, `metric name "${name}" must end with "_${unit}" to carry unit "${unit}"`);
    }
  }

  checkUnitType(p: number): void {
    const r: ExpositionReader = this.r;
    if (r.fUnit !== '' && (r.fType === 'info' || r.fType === 'stateset')) {
      r.err(p, `${r.fType} metrics cannot have a unit`);
    }
  }

  sample(name: string, kind: number, labels: Labels, value: number, start: number): void {
    const r: ExpositionReader = this.r;
    const type = r.fType;
    let excl = '';
    switch (type) {
      case 'counter':
        if (kind === K_TOTAL && !(value >= 0)) r.err(start, 'counter value must be a non-negative number');
        break;
      case 'histogram':
      case 'gaugehistogram':
        if (kind === K_BUCKET) {
          excl = 'le';
          if (!(value >= 0)) r.err(start, 'bucket count must be a non-negative number');
        } else if (kind === K_COUNT || kind === K_GCOUNT) {
          if (!(value >= 0)) r.err(start, 'count must be a non-negative number');
        } else if (kind === K_SUM) {
          if (!(value >= 0)) r.err(start, 'histogram _sum must be a non-negative number');
        } else if (kind === K_GSUM) {
          if (value !== value) r.err(start, '_gsum must not be NaN');
        }
        break;
      case 'summary':
        if (kind === K_EXACT) {
          excl = 'quantile';
          const q = getLabel(labels, 'quantile');
          if (q === undefined) r.err(start, 'summary quantile sample without a "quantile" label');
          const qv = parseRealNumber(q);
          if (!(qv >= 0 && qv <= 1)) r.err(start, `invalid quantile "${q}" (must be a number in [0, 1])`);
          if (value < 0) r.err(start, 'summary quantile value must not be negative');
        } else if (kind === K_COUNT || kind === K_SUM) {
          if (!(value >= 0)) r.err(start, `summary ${SUFFIX_TEXT[kind]} must be a non-negative number`);
        }
        break;
      case 'info':
        if (value !== 1) r.err(start, 'info value must be 1');
        break;
      case 'stateset':
        if (getLabel(labels, r.fName) === undefined) r.err(start, `stateset sample without a "${r.fName}" label`);
        if (value !== 0 && value !== 1) r.err(start, 'stateset value must be 0 or 1');
        break;
      default:
        break;
    }
    if (r.exPos >= 0) {
      const exLabels = r.exLabels;
      const allowed =
        (type === 'counter' && kind === K_TOTAL) || ((type === 'histogram' || type === 'gaugehistogram') && kind === K_BUCKET);
      if (!allowed) r.err(start, 'exemplars are only allowed on counter _total and histogram _bucket samples');
      let n = 0;
      for (let i = 0; i < exLabels.length; i++) n += codePointLength(exLabels[i]);
      if (n > 128) r.err(start, `exemplar labels are ${n} characters long (max 128)`);
    }

    // Metric groups must be contiguous.
    const hist = type === 'histogram' || type === 'gaugehistogram';
    const gl = this.gLabels;
    if (gl === undefined || !sameLabelsExcept(gl, this.gExcl, labels, excl)) {
      const key = groupKey(labels, excl);
      if (key !== this.gKey || gl === undefined) {
        if (this.groupKeys.has(key)) r.err(start, 'samples of the same metric must be contiguous');
        if (hist) this.finishHistogramGroup(r.line);
        this.groupKeys.add(key);
        this.gKey = key;
      }
      this.gLabels = labels;
      this.gExcl = excl;
    }

    // Repeated samples of one series: all with or all without timestamps, never going back.
    const hasTs = r.tsSec === r.tsSec;
    if (name === this.sName && sameLabelsExcept(labels, '', this.sLabels, '')) {
      if (hasTs !== this.sHasTs) r.err(start, 'a series must not mix samples with and without timestamps');
      if (!hasTs) r.err(start, 'duplicate sample for the same series');
      if (r.tsSec < this.sTs) r.err(start, 'timestamps of a series must not decrease');
    }
    this.sName = name;
    this.sLabels = labels;
    this.sHasTs = hasTs;
    this.sTs = r.tsSec;

    if (hist) {
      const ts = r.tsSec;
      if (this.hActive && !(ts === this.hTs || (ts !== ts && this.hTs !== this.hTs))) this.finishHistogramGroup(r.line);
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
        if (les === undefined) r.err(start, 'histogram bucket without an "le" label');
        const le = les === '+Inf' ? Infinity : parseRealNumber(les);
        if (le !== le) r.err(start, `invalid le "${les}"`);
        if (this.hBuckets > 0 && le <= this.hLastLe) r.err(start, 'histogram buckets must be in increasing "le" order');
        if (value < this.hLastVal) r.err(start, 'histogram bucket counts must not decrease');
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

  private finishHistogramGroup(line: number): void {
    if (!this.hActive) return;
    const r: ExpositionReader = this.r;
    this.hActive = false;
    const fail = (reason: string): never => {
      throw new ParseError(reason, line, 1);
    };
    const count = r.fType === 'gaugehistogram' ? '_gcount' : '_count';
    const sum = r.fType === 'gaugehistogram' ? '_gsum' : '_sum';
    if (!this.hInf) fail(`histogram "${r.fName}" has no +Inf bucket`);
    if (this.hHasCount && this.hCount !== this.hInfVal) fail(`histogram "${r.fName}" ${count} does not match its +Inf bucket`);
    if ((this.hSum || this.hGsum) && !this.hHasCount) fail(`histogram "${r.fName}" has ${sum} without ${count}`);
    if (this.hHasCount && !(this.hSum || this.hGsum)) fail(`histogram "${r.fName}" has ${count} without ${sum}`);
    if (this.hNegBucket && this.hSum) fail(`histogram "${r.fName}" has negative buckets and must not have _sum`);
    if (!this.hNegBucket && this.hNegGsum) fail(`gauge histogram "${r.fName}" has a negative _gsum but no negative buckets`);
  }

  /** Name clashes between this family's sample names and other families. */
  private familyEndChecks(): void {
    const r: ExpositionReader = this.r;
    const name = r.fName;
    const seen = this.seen;
    const mask = suffixMask(r.fType, true);
    for (let k = K_TOTAL; k <= K_INFO; k++) {
      if ((mask & (1 << k)) !== 0 && seen.has(name + SUFFIX_TEXT[k])) {
        throw new ParseError(`family "${name}" clashes with family "${name + SUFFIX_TEXT[k]}"`, r.fLastLine, 1);
      }
    }
    for (let k = K_TOTAL; k <= K_INFO; k++) {
      const suf = SUFFIX_TEXT[k];
      if (name.length > suf.length && name.endsWith(suf)) {
        const base = name.slice(0, name.length - suf.length);
        const bt = seen.get(base);
        if (bt !== undefined && (suffixMask(bt, true) & (1 << k)) !== 0) {
          throw new ParseError(`family "${name}" clashes with samples of family "${base}"`, r.fLastLine, 1);
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
