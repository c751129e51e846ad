/** Types and small helpers the store's parts share (no I/O). */
import type { EntityColumn } from '../tables.js';

/** Snapshots not rolled up yet, with the minutes their raw rows sit in. */
export interface Unrolled {
  ids: number[];
  minutes: number[];
  snaps: { id: number; minute: number }[];
}

/** Equality filters on key columns of a metric table (e.g. { domain } or { namespace, name }). */
export type Filters = Partial<Record<EntityColumn, string>>;

/** The filters as (column, value) pairs, typed for `where`. */
export const filterEntries = (f: Filters) => Object.entries(f) as [EntityColumn, string][];

/** A rollup bucket and the version the rollup last gave it (see cache.ts). */
export interface BucketVersion {
  grain: 'hourly' | 'daily';
  ts: number;
  version: number;
}

/** Rows per multi-row INSERT: well under either engine's bound-parameter limit. */
export const ROWS_PER_INSERT = 400;

export const signatureOf = (bs: BucketVersion[]) => bs.map((b) => `${b.grain[0]}${b.ts}:${b.version}`).join(',');

export function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** A summed column: null when nothing was summed; a string or number depending on the driver. */
export const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
