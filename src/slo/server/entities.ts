/**
 * Accumulating metric rows into per-entity golden metrics (no I/O).
 */
import { cloneHist, decodeHist, mergeHist } from '../math/histogram.js';
import type { Golden } from '../math/slo.js';
import { ATTR_COLUMNS, KEY_COLUMNS, type EntityKind, type MetricRow } from './tables.js';

export interface LoadOpts {
  /** Decode status-code breakdowns. */
  codes?: boolean;
  /** Decode latency histograms. */
  hist?: boolean;
}

export interface Entity {
  key: string;
  parts: Record<string, string>;
  attrs: Record<string, string>;
  /** ts of the row the attrs came from (newest wins). */
  attrTs: number;
  g: Golden;
}

export const SEP = '\u0000';

export function entityKey(kind: EntityKind, row: Record<string, unknown>): string {
  const cols = KEY_COLUMNS[kind];
  if (cols.length === 2) return `${row[cols[0]]}${SEP}${row[cols[1]]}`;
  return cols.map((c) => row[c]).join(SEP);
}

/** Adds a row's metrics to an accumulator; `fresh` accumulators may take over the row's arrays. */
export function addRow(g: Golden, row: MetricRow, opts: LoadOpts): void {
  g.requests += row.requests;
  g.failures += row.failures;
  g.tls += row.tls_requests ?? 0;
  g.sumMs += row.lat_sum ?? 0;
  if (opts.codes && row.codes) {
    const src = JSON.parse(row.codes) as Record<string, number>;
    if (!g.codes) g.codes = src;
    else for (const k in src) g.codes[k] = (g.codes[k] ?? 0) + src[k];
  }
  if (opts.hist && row.lat_bounds && row.lat_counts) {
    const h = decodeHist(row.lat_bounds, row.lat_counts)!;
    // The decoded counts array is ours: the first histogram is adopted without a copy.
    g.hist = g.hist ? mergeHist(g.hist, h) : h;
  }
}

export const newGolden = (): Golden => ({ requests: 0, failures: 0, tls: 0, codes: null, hist: null, sumMs: 0 });

/**
 * Entities keyed by their key columns. Entities handed to merge() (e.g. from the caches) are never
 * modified: their parts/attrs objects may be shared, but accumulators are always copied.
 */
export class EntityMap {
  readonly map = new Map<string, Entity>();
  constructor(readonly kind: EntityKind) {}

  entity(row: Record<string, unknown>): Entity {
    const key = entityKey(this.kind, row);
    let e = this.map.get(key);
    if (!e) {
      const parts: Record<string, string> = {};
      for (const c of KEY_COLUMNS[this.kind]) parts[c] = row[c] as string;
      e = { key, parts, attrs: {}, attrTs: -Infinity, g: newGolden() };
      this.map.set(key, e);
    }
    const ts = row.ts as number;
    if (ATTR_COLUMNS[this.kind].length && row[ATTR_COLUMNS[this.kind][0]] !== undefined && ts >= e.attrTs) {
      // A new object: attrs may be shared with cached entities (see merge), never mutated.
      const attrs: Record<string, string> = {};
      for (const c of ATTR_COLUMNS[this.kind]) attrs[c] = row[c] as string;
      e.attrs = attrs;
      e.attrTs = ts;
    }
    return e;
  }

  add(row: MetricRow, opts: LoadOpts): void {
    addRow(this.entity(row).g, row, opts);
  }

  /** Adds another accumulator (e.g. a cached bucket's) without modifying it. */
  merge(src: Entity, opts: LoadOpts): void {
    let e = this.map.get(src.key);
    if (!e) {
      e = { key: src.key, parts: src.parts, attrs: src.attrs, attrTs: src.attrTs, g: newGolden() };
      this.map.set(src.key, e);
    } else if (src.attrTs >= e.attrTs) {
      e.attrs = src.attrs;
      e.attrTs = src.attrTs;
    }
    addGolden(e.g, src.g, opts);
  }

  get(key: string): Entity | undefined {
    return this.map.get(key);
  }

  values(): IterableIterator<Entity> {
    return this.map.values();
  }
}

/** Adds accumulator `s` into `g` (counts, codes and histogram as `opts` asks); `s` is not modified. */
function addGolden(g: Golden, s: Golden, opts: LoadOpts): void {
    g.requests += s.requests;
    g.failures += s.failures;
    g.tls += s.tls;
    g.sumMs += s.sumMs;
    if (opts.codes && s.codes) {
      if (!g.codes) g.codes = { ...s.codes };
      else for (const k in s.codes) g.codes[k] = (g.codes[k] ?? 0) + s.codes[k];
    }
    if (opts.hist && s.hist) g.hist = g.hist ? mergeHist(g.hist, s.hist) : cloneHist(s.hist);
}

/** An entity with one accumulator per series point. */
export interface SeriesEntity {
  key: string;
  parts: Record<string, string>;
  points: (Golden | undefined)[];
}

export class SeriesMap {
  readonly map = new Map<string, SeriesEntity>();
  constructor(
    readonly kind: EntityKind,
    readonly from: number,
    readonly step: number,
    readonly points: number,
  ) {}

  /** Adds an accumulator (not modified) at time `ts`. */
  merge(ts: number, src: Entity, opts: LoadOpts): void {
    const i = Math.floor((ts - this.from) / this.step);
    if (i < 0 || i >= this.points) return;
    let e = this.map.get(src.key);
    if (!e) {
      e = { key: src.key, parts: src.parts, points: new Array(this.points) };
      this.map.set(src.key, e);
    }
    addGolden((e.points[i] ??= newGolden()), src.g, opts);
  }

  add(row: MetricRow, opts: LoadOpts): void {
    const i = Math.floor((row.ts - this.from) / this.step);
    if (i < 0 || i >= this.points) return;
    const key = entityKey(this.kind, row);
    let e = this.map.get(key);
    if (!e) {
      const parts: Record<string, string> = {};
      for (const c of KEY_COLUMNS[this.kind]) parts[c] = row[c] as string;
      e = { key, parts, points: new Array(this.points) };
      this.map.set(key, e);
    }
    const g = (e.points[i] ??= newGolden());
    addRow(g, row, opts);
  }
}
