/**
 * Report reads: KV cache (Redis when configured) in front of SQL, with single flight, so a burst
 * of readers of one uncached report costs one database read per replica (Argus's query service).
 */
import type { KvStore } from '../platform/backends/kv/types.js';
import type { BatchStore } from './store.js';

const key = (batchId: string) => `batches:report:${batchId}`;

export class ReportCache {
  private readonly inflight = new Map<string, Promise<string | undefined>>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly kv: KvStore,
    private readonly store: BatchStore,
    private readonly ttlMs: number,
    private readonly onRead: (source: 'cache' | 'database') => void = () => {},
  ) {}

  /** The report JSON text, or undefined when the batch has none yet. */
  get(batchId: string): Promise<string | undefined> {
    const running = this.inflight.get(batchId);
    if (running) return running;
    const p = this.load(batchId).finally(() => this.inflight.delete(batchId));
    this.inflight.set(batchId, p);
    return p;
  }

  async invalidate(batchId: string): Promise<void> {
    await this.kv.del(key(batchId));
  }

  private async load(batchId: string): Promise<string | undefined> {
    const cached = await this.kv.get(key(batchId)).catch(() => null);
    if (cached !== null) {
      this.hits++;
      this.onRead('cache');
      return cached;
    }
    this.misses++;
    this.onRead('database');
    const row = await this.store.report(batchId);
    if (!row) return undefined;
    // A cache write that fails only costs the next reader a database read.
    await this.kv.set(key(batchId), row.report, { ttlMs: this.ttlMs }).catch(() => {});
    return row.report;
  }
}
