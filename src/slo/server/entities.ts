/**
 * Accumulating metric rows into per-entity golden metrics (no I/O).
 */
import { decodeHist } from '../math/histogram.js';
import { addGolden, emptyGolden, type Golden, type GoldenParts } from '../math/slo.js';
import { ATTR_COLUMNS, KEY_COLUMNS, type EntityKind, type MetricRow } from './tables.js';

/** Which parts of the rows to decode and sum (codes and histograms cost the most). */
export type LoadOpts = GoldenParts;

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

/** Adds a row's metrics to an accumulator; the row's freshly decoded codes and histogram may be adopted. */
export function addRow(g: Golden, row: MetricRow, opts: LoadOpts): void {
  const src: Golden = {
    requests: row.requests,
    failures: row.failures,
    tls: row.tls_requests ?? 0,
    // Same property order as emptyGolden(): one object shape keeps addGolden monomorphic.
    codes: opts.codes && row.codes ? (JSON.parse(row.codes) as Record<string, number>) : null,
    hist: opts.hist ? decodeHist(row.lat_bounds, row.lat_counts) : null,
    sumMs: row.lat_sum ?? 0,
  };
  addGolden(g, src, opts, true);
}

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
      e = { key, parts, attrs: {}, attrTs: -Infinity, g: emptyGolden() };
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
      e = { key: src.key, parts: src.parts, attrs: src.attrs, attrTs: src.attrTs, g: emptyGolden() };
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
    addGolden((e.points[i] ??= emptyGolden()), src.g, opts);
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
    const g = (e.points[i] ??= emptyGolden());
    addRow(g, row, opts);
  }
}
