/**
 * The offline rule engine: rules in YAML turn facts (and text matches counted while parsing) into
 * findings with a severity, evidence a person can open, and a suggested action.
 *
 * Two phases, so gathering never re-reads lines: `LineMatcher` runs inside each file's parse and
 * counts the matches of text rules into the file's partial aggregate; `evaluateRules` runs once on
 * the merged facts and text counts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { RE2JS } from 're2js';
import { parseAllDocuments } from 'yaml';
import type { Evidence, FactKind, LocatedFact } from './facts.js';

const Severity = Type.Union(['critical', 'high', 'medium', 'low', 'info'].map((s) => Type.Literal(s)));
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

const Byte = Type.Integer({ minimum: 0, maximum: 255 });
const OneOrMany = <T extends ReturnType<typeof Type.Integer> | ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Array(t, { minItems: 1 })]);

const RuleMatch = Type.Object(
  {
    fact: Type.Optional(Type.Union(['dtc', 'uds_nrc', 'ecu_reset', 'ota_state', 'flash_block', 'flash_block_gap'].map((s) => Type.Literal(s)))),
    nrc: Type.Optional(OneOrMany(Byte)),
    sid: Type.Optional(OneOrMany(Byte)),
    code: Type.Optional(OneOrMany(Type.String({ pattern: '^[PCBU][0-3][0-9A-F]{3}$' }))),
    confirmed: Type.Optional(Type.Boolean()),
    state: Type.Optional(OneOrMany(Type.String({ minLength: 1, maxLength: 64 }))),
    /** RE2 syntax; for text rules, matched against every line (DLT payload or text line). */
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const RuleSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' }),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    severity: Severity,
    match: RuleMatch,
    /** The rule fires when at least this many matches are found (within `within`, when given). */
    min_count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    within: Type.Optional(Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' })),
    action: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
);
export type Rule = Static<typeof RuleSchema>;

export const RulesFileSchema = Type.Object({ rules: Type.Array(RuleSchema, { maxItems: 1000 }) }, { additionalProperties: false });

export class RuleFileError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'RuleFileError';
  }
}

/** Parse and validate a rules YAML document; errors name the JSON path of the bad value. */
export function parseRules(yamlText: string): Rule[] {
  const docs = parseAllDocuments(yamlText);
  const out: Rule[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new RuleFileError(`rules file is not valid YAML: ${doc.errors[0]!.message}`, '');
    const data = doc.toJS() as unknown;
    if (data == null) continue;
    const first = Value.Errors(RulesFileSchema, data).First();
    if (first) {
      const field = first.path.replace(/^\//, '').replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.').replace(/^(\d+)/, '[$1]');
      throw new RuleFileError(`${field || 'rules file'}: ${first.message}`, field);
    }
    for (const [i, r] of (data as { rules: Rule[] }).rules.entries()) {
      if (r.match.text !== undefined) {
        try {
          RE2JS.compile(r.match.text);
        } catch (err) {
          throw new RuleFileError(`rules[${i}].match.text is not a valid RE2 pattern: ${(err as Error).message}`, `rules[${i}].match.text`);
        }
      }
      if (r.within !== undefined && r.min_count === undefined) throw new RuleFileError(`rules[${i}].within needs min_count`, `rules[${i}].within`);
      out.push(r);
    }
  }
  const ids = new Set<string>();
  for (const [i, r] of out.entries()) {
    if (ids.has(r.id)) throw new RuleFileError(`duplicate rule id ${r.id}`, `rules[${i}].id`);
    ids.add(r.id);
  }
  return out;
}

/** A user's rules replace shipped rules of the same id and add the rest. */
export function combineRules(shipped: Rule[], user: Rule[]): Rule[] {
  const byId = new Map(shipped.map((r) => [r.id, r]));
  for (const r of user) byId.set(r.id, r);
  return [...byId.values()];
}

export interface TextMatchCount {
  count: number;
  evidence: Evidence[];
  /** Times of the matches (epoch ms) for `within` windows; capped. */
  times: number[];
}

const MAX_EVIDENCE = 5;
const MAX_TIMES = 10_000;

/** Counts text-rule matches line by line inside one file's parse. */
export class LineMatcher {
  private readonly compiled: { id: string; re: RE2JS }[];
  readonly counts: Record<string, TextMatchCount> = {};

  constructor(rules: Rule[]) {
    this.compiled = rules.filter((r) => !r.match.fact && r.match.text !== undefined).map((r) => ({ id: r.id, re: RE2JS.compile(r.match.text!) }));
  }

  get empty(): boolean {
    return this.compiled.length === 0;
  }

  line(text: string, at: Omit<Evidence, 'text'>): void {
    for (const c of this.compiled) {
      if (!c.re.test(text)) continue;
      const slot = (this.counts[c.id] ??= { count: 0, evidence: [], times: [] });
      slot.count++;
      if (slot.evidence.length < MAX_EVIDENCE) slot.evidence.push({ ...at, text: text.length > 500 ? `${text.slice(0, 500)}…` : text });
      if (at.time !== undefined && slot.times.length < MAX_TIMES) slot.times.push(at.time);
    }
  }
}

/** Merge text counts of several files' partial aggregates. */
export function mergeTextCounts(parts: Record<string, TextMatchCount>[]): Record<string, TextMatchCount> {
  const out: Record<string, TextMatchCount> = {};
  for (const part of parts) {
    for (const [id, c] of Object.entries(part)) {
      const slot = (out[id] ??= { count: 0, evidence: [], times: [] });
      slot.count += c.count;
      for (const e of c.evidence) if (slot.evidence.length < MAX_EVIDENCE) slot.evidence.push(e);
      for (const t of c.times) if (slot.times.length < MAX_TIMES) slot.times.push(t);
    }
  }
  return out;
}

export interface Finding {
  rule: string;
  title: string;
  severity: Severity;
  count: number;
  evidence: Evidence[];
  action: string;
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

export interface RuleInput {
  /** Facts of every file, each file's in record order. */
  facts: LocatedFact[];
  textCounts: Record<string, TextMatchCount>;
}

/** Findings of every rule that fires, most severe first, then by count. */
export function evaluateRules(rules: Rule[], input: RuleInput): Finding[] {
  const findings: Finding[] = [];
  const gaps = flashBlockGaps(input.facts);
  for (const rule of rules) {
    let hits: { at: Evidence }[];
    if (rule.match.fact === 'flash_block_gap') hits = gaps;
    else if (rule.match.fact) hits = input.facts.filter((f) => factMatches(rule, f));
    else {
      const c = input.textCounts[rule.id];
      if (!c || c.count === 0) continue;
      const min = rule.min_count ?? 1;
      if (rule.within ? maxInWindow(c.times, durationMs(rule.within)) < min : c.count < min) continue;
      findings.push({ rule: rule.id, title: rule.title, severity: rule.severity as Severity, count: c.count, evidence: c.evidence, action: rule.action });
      continue;
    }
    const min = rule.min_count ?? 1;
    if (hits.length < min) continue;
    if (rule.within) {
      const times = hits.map((h) => h.at.time).filter((t): t is number => t !== undefined);
      if (maxInWindow(times, durationMs(rule.within)) < min) continue;
    }
    findings.push({
      rule: rule.id,
      title: rule.title,
      severity: rule.severity as Severity,
      count: hits.length,
      evidence: hits.slice(0, MAX_EVIDENCE).map((h) => h.at),
      action: rule.action,
    });
  }
  return findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || b.count - a.count || (a.rule < b.rule ? -1 : 1));
}

const asList = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

function factMatches(rule: Rule, f: LocatedFact): boolean {
  const m = rule.match;
  if (f.kind !== (m.fact as FactKind)) return false;
  if (f.kind === 'uds_nrc') {
    if (m.nrc !== undefined && !asList(m.nrc)!.includes(f.nrc)) return false;
    if (m.sid !== undefined && !asList(m.sid)!.includes(f.sid)) return false;
  }
  if (f.kind === 'dtc') {
    if (m.code !== undefined && !asList(m.code)!.includes(f.code)) return false;
    if (m.confirmed !== undefined && f.confirmed !== m.confirmed) return false;
  }
  if (f.kind === 'ota_state' && m.state !== undefined && !asList(m.state)!.map((s) => s.toUpperCase()).includes(f.state)) return false;
  if (m.text !== undefined && !RE2JS.compile(m.text).test(f.at.text)) return false;
  return true;
}

/**
 * Breaks in a flash download's block sequence counter: within one file, each TransferData block
 * must be the previous + 1 (wrapping 0xFF → 0x00); a 1 starts a new download.
 */
function flashBlockGaps(facts: LocatedFact[]): { at: Evidence }[] {
  const out: { at: Evidence }[] = [];
  let prev: { file: string; block: number } | undefined;
  for (const f of facts) {
    if (f.kind !== 'flash_block') continue;
    if (prev && prev.file === f.at.file && f.block !== 1 && f.block !== ((prev.block + 1) & 0xff)) out.push({ at: f.at });
    prev = { file: f.at.file, block: f.block };
  }
  return out;
}

function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! > windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text)!;
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}
