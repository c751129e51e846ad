/**
 * Where the anomaly module keeps its data in the KV port. Every key lives under one namespace
 * (`anomaly:`), like the poller's (`anomaly:tempo:`) and the webhook's (`anomaly:webhook:`), so the
 * module's keys never collide with another module's and can be listed, migrated or dropped together.
 * The layout of store.ts (see its header) with the namespace in front of each name.
 */
import type { KeySchema } from './rule.js';

/** The anomaly module's namespace in the KV port. */
export const ANOMALY_KV_NAMESPACE = 'anomaly:';

export interface StoreKeys extends KeySchema {
  /** LIST of durations of one bucket, newest first. */
  dur(bucketKey: string): string;
  /** STRING remembered for seenTtl: de-duplication of a trace (or trace:span) id. */
  seen(id: string): string;
  /** SET of bucket keys whose window changed since the last baseline job. */
  readonly dirty: string;
  /** SET of every base hash written (full KV keys), so listing baselines never SCANs. */
  readonly baseIndex: string;
}

/** The key layout under `prefix` (glob characters are not allowed: the prefix is also a SCAN pattern). */
export function storeKeys(prefix: string = ANOMALY_KV_NAMESPACE): StoreKeys {
  if (/[*?[\]]/.test(prefix)) throw new RangeError(`an anomaly key prefix cannot contain glob characters, got "${prefix}"`);
  return {
    base: (k) => `${prefix}base:${k}`,
    pool: (k) => `${prefix}pool:${k}`,
    serviceIndex: (s) => `${prefix}svcidx:${s}`,
    dur: (k) => `${prefix}dur:${k}`,
    seen: (id) => `${prefix}seen:${id}`,
    dirty: `${prefix}dirtyKeys`,
    baseIndex: `${prefix}baseKeys`,
  };
}

/** The layout versions before the namespace wrote (bare `base:`, `dur:`, `seen:`, `dirtyKeys` …). */
export const LEGACY_KEYS: StoreKeys = storeKeys('');
