/**
 * One-time move of the anomaly keys written before the module had a KV namespace (bare `base:`,
 * `pool:`, `svcidx:`, `dur:`, `seen:`, `dirtyKeys`, `baseKeys`) to `anomaly:…` (keys.ts), through
 * the KV port only, so it works the same on memory, the SQLite KV and Redis.
 *
 * - Two phases. First the buckets (windows, hashes, the dirty and index sets: a few keys per
 *   endpoint and hour); the store's reads and writes wait for this phase (gate()), so no write
 *   races a copy. Then the de-duplication ids (one per trace of the last seenTtl: possibly
 *   millions), while the store runs: until they are all moved, an id the store takes as new is
 *   also looked up under its old name, and forgetting an id forgets both names.
 * - Done once: a marker key per phase records completion; every later start costs one GET.
 * - One replica at a time: the mover holds a KV lease, renewed before every batch; the others wait
 *   for the markers (or for the lease to expire, when the mover died, and take over).
 * - Crash-safe and idempotent: each old key is copied, then deleted. Copies never overwrite: a hash
 *   or list already present under the new name was copied by a run that died before deleting the old
 *   one, so it is kept (a list is copied in one pushTrim, which no backend applies halfway); set
 *   members and de-duplication ids are added if absent. Re-running after a crash therefore never
 *   duplicates a sample.
 * - Batched: SCAN finds at most batchSize old keys at a time; they are gone once moved, so the next
 *   SCAN finds the next ones.
 *
 * The port cannot read a key's remaining TTL: a moved de-duplication id gets the full seenTtl again
 * (it is remembered up to one seenTtl longer than it would have been, never shorter).
 */
import { randomBytes } from 'node:crypto';
import type { KvStore } from '../platform/backends/kv/types.js';
import { ANOMALY_KV_NAMESPACE, LEGACY_KEYS, storeKeys } from './keys.js';

export interface KeyMigrationLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface KeyMigrationOptions {
  /** TTL given to moved de-duplication ids (the store's seenTtl). */
  seenTtlMs: number;
  /** Old keys moved per batch (default 500). */
  batchSize?: number;
  /** KV operations in flight (default 32). */
  concurrency?: number;
  /** Lease of the replica moving keys (default 30 s; renewed before each batch). */
  leaseMs?: number;
  /** How often a waiting replica looks for the marker (default 1 s). */
  pollMs?: number;
  /** This replica's lease owner id (default random). */
  owner?: string;
  /** An error that will never go away for this key (wrong type): the key is dropped instead of stopping the move. */
  isPermanentError?: (err: unknown) => boolean;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  log?: KeyMigrationLog;
}

export interface KeyMigrationResult {
  /** False when the marker said another start already did it. */
  ran: boolean;
  moved: number;
  /** Old keys that could not be read (wrong type) and were deleted. */
  dropped: number;
}

/** Present once every legacy key has been moved. */
export const MIGRATION_MARKER = `${ANOMALY_KV_NAMESPACE}migrations:namespace`;
/** Present once the buckets have been moved (the store no longer waits). */
export const BUCKETS_MARKER = `${ANOMALY_KV_NAMESPACE}migrations:namespace:buckets`;
/** The lease of the replica moving keys. */
export const MIGRATION_LEASE = `${ANOMALY_KV_NAMESPACE}migrate-namespace`;

class LeaseLostError extends Error {
  constructor() {
    super('another replica took over the anomaly key migration lease');
  }
}

const NEW = storeKeys(ANOMALY_KV_NAMESPACE);
const renamed = (oldKey: string) => ANOMALY_KV_NAMESPACE + oldKey;

type Mover = (kv: KvStore, oldKey: string, o: Required<Pick<KeyMigrationOptions, 'seenTtlMs' | 'batchSize'>>) => Promise<void>;

const moveHash: Mover = async (kv, oldKey) => {
  const [h, existing] = await Promise.all([kv.hgetall(oldKey), kv.hgetall(renamed(oldKey))]);
  if (h && !existing) await kv.hset(renamed(oldKey), h);
};

const moveList: Mover = async (kv, oldKey) => {
  const values = await kv.listRange(oldKey, 0, -1);
  if (values.length === 0 || (await kv.listLength(renamed(oldKey))) > 0) return;
  // values are newest first; pushing them oldest first leaves the same order.
  await kv.pushTrim(renamed(oldKey), values.reverse(), values.length);
};

const moveSeen: Mover = async (kv, oldKey, o) => {
  const v = await kv.get(oldKey);
  if (v !== null) await kv.setIfAbsent(renamed(oldKey), v, o.seenTtlMs);
};

/** A SET of names; `map` renames members that are themselves keys (null drops one). */
const moveSet =
  (newKey: string, map: (m: string) => string | null = (m) => m): Mover =>
  async (kv, oldKey, o) => {
    const members = (await kv.smembers(oldKey)).map(map).filter((m): m is string => m !== null);
    for (let i = 0; i < members.length; i += o.batchSize) await kv.sadd(newKey, ...members.slice(i, i + o.batchSize));
  };

type Family = { pattern: string; move: Mover };

/** The legacy key families of the first phase: the SCAN pattern that finds their keys and how one is moved. */
const BUCKET_FAMILIES: Family[] = [
  { pattern: LEGACY_KEYS.base('*'), move: moveHash },
  { pattern: LEGACY_KEYS.pool('*'), move: moveHash },
  { pattern: LEGACY_KEYS.serviceIndex('*'), move: moveHash },
  { pattern: LEGACY_KEYS.baseIndex, move: moveSet(NEW.baseIndex, (m) => (m.startsWith(LEGACY_KEYS.base('')) ? renamed(m) : null)) },
  { pattern: LEGACY_KEYS.dirty, move: moveSet(NEW.dirty) },
  { pattern: LEGACY_KEYS.dur('*'), move: moveList },
];
const SEEN_FAMILIES: Family[] = [{ pattern: LEGACY_KEYS.seen('*'), move: moveSeen }];

const NEW_SEEN = NEW.seen('');
const isNewSeen = (k: string) => k.startsWith(NEW_SEEN);
const legacyName = (newKey: string) => newKey.slice(ANOMALY_KV_NAMESPACE.length);

const PORT_OPERATIONS = [
  'get', 'set', 'setIfAbsent', 'del', 'incrBy', 'expire', 'pushTrim', 'listRange', 'listLength', 'hset', 'hgetall',
  'hgetallMany', 'sadd', 'spop', 'smembers', 'scard', 'scanKeys', 'acquireLease', 'releaseLease', 'ping', 'close',
] as const satisfies readonly (keyof KvStore)[];

/** Operations that touch no anomaly data: they never wait for the move. */
const UNGATED: ReadonlySet<string> = new Set(['acquireLease', 'releaseLease', 'ping', 'close']);

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

type Phase = 'pending' | 'seen' | 'done';

/** The move of one KV store's legacy anomaly keys, run at most once at a time per process. */
export class AnomalyKeyMigration {
  /** pending: buckets not moved yet (the store waits); seen: ids still being moved; done. */
  private phase: Phase = 'pending';
  private current: { all: Promise<KeyMigrationResult>; buckets: Promise<void> } | null = null;
  private readonly abort = new AbortController();
  private readonly o: Required<Omit<KeyMigrationOptions, 'log'>> & { log?: KeyMigrationLog };

  constructor(
    private readonly kv: KvStore,
    opts: KeyMigrationOptions,
  ) {
    this.o = {
      batchSize: 500,
      concurrency: 32,
      leaseMs: 30_000,
      pollMs: 1000,
      owner: randomBytes(8).toString('hex'),
      isPermanentError: () => false,
      sleep: defaultSleep,
      ...opts,
    };
  }

  /** Move every key unless done; concurrent callers share one run, a failed run is retried by the next call. */
  run(): Promise<KeyMigrationResult> {
    if (this.phase === 'done') return Promise.resolve({ ran: false, moved: 0, dropped: 0 });
    return this.started().all;
  }

  /** Resolves once the buckets are moved, by this replica or another (starting the move if needed). */
  bucketsMoved(): Promise<void> {
    return this.phase === 'pending' ? this.started().buckets : Promise.resolve();
  }

  private started(): { all: Promise<KeyMigrationResult>; buckets: Promise<void> } {
    if (!this.current) {
      let markBuckets!: () => void;
      const buckets = new Promise<void>((resolve) => (markBuckets = resolve));
      const onBuckets = () => {
        if (this.phase === 'pending') this.phase = 'seen';
        markBuckets();
      };
      const all = this.runOnce(onBuckets).then(
        (r) => ((this.phase = 'done'), r),
        (err: unknown) => {
          this.current = null;
          throw err;
        },
      );
      const moved = Promise.race([buckets, all.then(() => undefined)]);
      // A failure reaches whoever waits (or the run() caller); nobody waiting is not an error.
      moved.catch(() => undefined);
      this.current = { all, buckets: moved };
    }
    return this.current;
  }

  /**
   * The KV as the store may use it: data operations wait for the buckets to be moved; while ids are
   * still being moved, de-duplication also consults their old names.
   */
  gate(kv: KvStore = this.kv): KvStore {
    const gated: Record<string, unknown> = { kind: kv.kind };
    for (const name of PORT_OPERATIONS) {
      const op = kv[name] as (...args: unknown[]) => Promise<unknown>;
      const call = (args: unknown[]) => (this.phase === 'seen' ? this.duringSeenMove(kv, name, op, args) : op.apply(kv, args));
      gated[name] = UNGATED.has(name)
        ? (...args: unknown[]) => op.apply(kv, args)
        : (...args: unknown[]) => (this.phase === 'done' ? op.apply(kv, args) : this.phase === 'seen' ? call(args) : this.bucketsMoved().then(() => call(args)));
    }
    return gated as unknown as KvStore;
  }

  private async duringSeenMove(kv: KvStore, name: string, op: (...args: unknown[]) => Promise<unknown>, args: unknown[]): Promise<unknown> {
    if (name === 'setIfAbsent' && isNewSeen(args[0] as string)) {
      if (!(await op.apply(kv, args))) return false;
      // new under its new name: still a duplicate when its old name has not been moved yet
      return (await kv.get(legacyName(args[0] as string))) === null;
    }
    if (name === 'del') {
      const old = (args as string[]).filter(isNewSeen).map(legacyName);
      const n = await op.apply(kv, args);
      if (old.length) await kv.del(...old);
      return n;
    }
    return op.apply(kv, args);
  }

  /** Stop waiting for another replica (shutdown); a run in progress stops at its next batch. */
  stop(): void {
    this.abort.abort();
  }

  private async runOnce(onBuckets: () => void): Promise<KeyMigrationResult> {
    const { kv, o } = this;
    const stopped = () => new Error('anomaly key migration stopped before it finished');
    for (;;) {
      if ((await kv.get(MIGRATION_MARKER)) !== null) return { ran: false, moved: 0, dropped: 0 };
      if ((await kv.get(BUCKETS_MARKER)) !== null) onBuckets();
      if (this.abort.signal.aborted) throw stopped();
      if (await kv.acquireLease(MIGRATION_LEASE, o.owner, o.leaseMs)) {
        try {
          // The mover before us may have finished between our look at the marker and our lease.
          if ((await kv.get(MIGRATION_MARKER)) !== null) return { ran: false, moved: 0, dropped: 0 };
          const r = { moved: 0, dropped: 0 };
          if ((await kv.get(BUCKETS_MARKER)) === null) {
            await this.moveAll(BUCKET_FAMILIES, r);
            await kv.set(BUCKETS_MARKER, new Date().toISOString());
          }
          onBuckets();
          await this.moveAll(SEEN_FAMILIES, r);
          await kv.set(MIGRATION_MARKER, new Date().toISOString());
          if (r.moved || r.dropped) o.log?.info({ module: 'anomaly', ...r }, `moved legacy anomaly keys under "${ANOMALY_KV_NAMESPACE}"`);
          return { ran: true, ...r };
        } catch (err) {
          if (!(err instanceof LeaseLostError)) throw err;
          o.log?.warn({ module: 'anomaly' }, err.message);
        } finally {
          await kv.releaseLease(MIGRATION_LEASE, o.owner).catch(() => undefined);
        }
      }
      await o.sleep(o.pollMs, this.abort.signal);
    }
  }

  private async moveAll(families: Family[], into: { moved: number; dropped: number }): Promise<void> {
    const { kv, o } = this;
    for (const f of families) {
      for (;;) {
        if (this.abort.signal.aborted) throw new Error('anomaly key migration stopped before it finished');
        if (!(await kv.acquireLease(MIGRATION_LEASE, o.owner, o.leaseMs))) throw new LeaseLostError();
        const keys = await kv.scanKeys(f.pattern, o.batchSize);
        if (keys.length === 0) break;
        for (let i = 0; i < keys.length; i += o.concurrency) {
          await Promise.all(
            keys.slice(i, i + o.concurrency).map(async (k) => {
              try {
                await f.move(kv, k, o);
                into.moved++;
              } catch (err) {
                if (!o.isPermanentError(err)) throw err;
                into.dropped++;
                o.log?.warn({ module: 'anomaly', key: k, err }, 'legacy anomaly key cannot be read; dropped');
              }
            }),
          );
        }
        await kv.del(...keys);
      }
    }
  }
}
