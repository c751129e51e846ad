/**
 * Per-file partial aggregates, built while a file is parsed, and their merge. Gathering a batch
 * merges partials (O(files)); it never re-reads a line. Every list in a partial is bounded, so a
 * partial stays small whatever the file's size.
 */
import { DrainMiner, mergeTemplateCounts, type TemplateCount } from './diagnose/drain.js';
import { extractFacts, type FactKind, type LocatedFact } from './diagnose/facts.js';
import { LineMatcher, mergeTextCounts, type Rule, type TextMatchCount } from './diagnose/rules.js';
import type { Level, LogLine } from './parse/text-log.js';

export type LevelKey = Level | 'unknown';

export interface NotableLine {
  file: string;
  index: number;
  time?: number;
  level: LevelKey;
  ecu?: string;
  app?: string;
  ctx?: string;
  text: string;
}

/** What a file's partial and a batch's merge both count. */
export interface AggregateCounts {
  records: number;
  firstTime: number | null;
  lastTime: number | null;
  byLevel: Partial<Record<LevelKey, number>>;
  byEcu: Record<string, number>;
  byApp: Record<string, number>;
  byContext: Record<string, number>;
  errorCount: number;
  fatalCount: number;
  /** The first error and fatal lines (bounded). */
  errorLines: NotableLine[];
  facts: LocatedFact[];
  factCounts: Partial<Record<FactKind, number>>;
  templates: TemplateCount[];
  textCounts: Record<string, TextMatchCount>;
}

export interface FileAggregate extends AggregateCounts {
  file: string;
  /** Epoch minute (ms, as a string key) → counts by level. */
  byMinute: Record<string, Partial<Record<LevelKey, number>>>;
  factsTruncated: boolean;
}

export interface AggregateLimits {
  errorLines: number;
  facts: number;
  templates: number;
  /** Distinct keys kept per dimension (ECU, app, context); the rest count under "(other)". */
  keys: number;
}

export const DEFAULT_LIMITS: AggregateLimits = { errorLines: 200, facts: 5000, templates: 200, keys: 500 };

/** Cheap screen before the fact recognisers run (most lines carry no fact). */
const MAY_HOLD_FACT = /7F|NRC|DTC|[PCBU][0-3][0-9A-F]{3}|reset|reboot|ota|campaign|update|swdl|transfer|TD\b/i;

const MINUTE = 60_000;

export class FileAggregator {
  private readonly agg: FileAggregate;
  private readonly drain = new DrainMiner();
  private readonly matcher: LineMatcher;

  constructor(
    file: string,
    rules: Rule[],
    private readonly limits: AggregateLimits = DEFAULT_LIMITS,
  ) {
    this.matcher = new LineMatcher(rules);
    this.agg = { ...emptyCommon(), file, byMinute: {}, factsTruncated: false, textCounts: this.matcher.counts };
  }

  add(line: LogLine): void {
    const a = this.agg;
    a.records++;
    const level: LevelKey = line.level ?? 'unknown';
    a.byLevel[level] = (a.byLevel[level] ?? 0) + 1;
    if (line.ecu) this.bump(a.byEcu, line.ecu);
    if (line.app) this.bump(a.byApp, line.app);
    if (line.ctx) this.bump(a.byContext, line.ctx);
    if (line.time !== undefined) {
      if (a.firstTime === null || line.time < a.firstTime) a.firstTime = line.time;
      if (a.lastTime === null || line.time > a.lastTime) a.lastTime = line.time;
      const minute = String(line.time - (line.time % MINUTE));
      const slot = (a.byMinute[minute] ??= {});
      slot[level] = (slot[level] ?? 0) + 1;
    }
    if (level === 'error' || level === 'fatal') {
      if (level === 'error') a.errorCount++;
      else a.fatalCount++;
      if (a.errorLines.length < this.limits.errorLines) a.errorLines.push(this.notable(line, level));
    }
    const text = line.message;
    if (text.length === 0) return;
    this.drain.add(text);
    const at = { file: a.file, index: line.index, time: line.time };
    if (!this.matcher.empty) this.matcher.line(text, at);
    if (MAY_HOLD_FACT.test(text)) {
      for (const f of extractFacts(text)) {
        a.factCounts[f.kind] = (a.factCounts[f.kind] ?? 0) + 1;
        if (a.facts.length < this.limits.facts) a.facts.push({ ...f, at: { ...at, text: clip(text) } });
        else a.factsTruncated = true;
      }
    }
  }

  finish(): FileAggregate {
    this.agg.templates = this.drain.templates(this.limits.templates);
    return this.agg;
  }

  private bump(map: Record<string, number>, key: string): void {
    if (map[key] === undefined && Object.keys(map).length >= this.limits.keys) key = '(other)';
    map[key] = (map[key] ?? 0) + 1;
  }

  private notable(line: LogLine, level: LevelKey): NotableLine {
    return { file: this.agg.file, index: line.index, time: line.time, level, ecu: line.ecu, app: line.app, ctx: line.ctx, text: clip(line.message) };
  }
}

const clip = (s: string) => (s.length > 500 ? `${s.slice(0, 500)}…` : s);

export interface BatchAggregate extends AggregateCounts {
  files: number;
  /** Sorted by minute. */
  timeline: { minute: number; counts: Partial<Record<LevelKey, number>> }[];
}

/** Merge the partials of a batch's files, in the order given (the batch's file order). */
export function mergeAggregates(parts: FileAggregate[], limits: AggregateLimits = DEFAULT_LIMITS): BatchAggregate {
  const out: BatchAggregate = { ...emptyCommon(), files: parts.length, timeline: [] };
  const minutes = new Map<number, Partial<Record<LevelKey, number>>>();
  for (const p of parts) {
    out.records += p.records;
    if (p.firstTime !== null && (out.firstTime === null || p.firstTime < out.firstTime)) out.firstTime = p.firstTime;
    if (p.lastTime !== null && (out.lastTime === null || p.lastTime > out.lastTime)) out.lastTime = p.lastTime;
    addCounts(out.byLevel, p.byLevel);
    addCounts(out.byEcu, p.byEcu);
    addCounts(out.byApp, p.byApp);
    addCounts(out.byContext, p.byContext);
    for (const [m, c] of Object.entries(p.byMinute)) {
      const key = Number(m);
      const slot = minutes.get(key) ?? {};
      addCounts(slot, c);
      minutes.set(key, slot);
    }
    out.errorCount += p.errorCount;
    out.fatalCount += p.fatalCount;
    for (const l of p.errorLines) if (out.errorLines.length < limits.errorLines) out.errorLines.push(l);
    for (const f of p.facts) if (out.facts.length < limits.facts * 4) out.facts.push(f);
    addCounts(out.factCounts, p.factCounts);
  }
  out.timeline = [...minutes.entries()].sort((a, b) => a[0] - b[0]).map(([minute, counts]) => ({ minute, counts }));
  out.templates = mergeTemplateCounts(parts.map((p) => p.templates), limits.templates);
  out.textCounts = mergeTextCounts(parts.map((p) => p.textCounts));
  return out;
}

/** The fields a file's partial and a batch's merge share, empty. */
function emptyCommon() {
  return {
    records: 0,
    firstTime: null,
    lastTime: null,
    byLevel: {},
    byEcu: {},
    byApp: {},
    byContext: {},
    errorCount: 0,
    fatalCount: 0,
    errorLines: [],
    facts: [],
    factCounts: {},
    templates: [],
    textCounts: {},
  } satisfies AggregateCounts;
}

function addCounts<K extends string>(into: Partial<Record<K, number>>, from: Partial<Record<K, number>>): void {
  for (const [k, v] of Object.entries(from) as [K, number][]) into[k] = (into[k] ?? 0) + v;
}
