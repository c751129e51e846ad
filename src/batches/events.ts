/**
 * A batch's events: written to SQL (so a client can resume with Last-Event-ID on any replica),
 * then announced on a bus topic (so every replica's open SSE streams wake up at once). LLM tokens
 * are live only: announced, never stored.
 */
import type { Bus } from '../platform/backends/bus/types.js';
import type { BatchStore } from './store.js';

export const EVENTS_TOPIC = 'batches.events';

export type BatchEventType = 'status' | 'progress' | 'file' | 'report' | 'llm';

export interface Announcement {
  batch_id: string;
  /** Stored event id; absent for live-only events. */
  id?: number;
  type: BatchEventType;
  data?: unknown;
}

export class BatchEvents {
  constructor(
    private readonly store: BatchStore,
    private readonly bus: Bus,
  ) {}

  async emit(batchId: string, type: Exclude<BatchEventType, 'llm'>, data: unknown): Promise<void> {
    const id = await this.store.appendEvent(batchId, type, data);
    await this.announce({ batch_id: batchId, id, type });
  }

  /** Tokens of the LLM summary as they stream; not stored. */
  async live(batchId: string, data: unknown): Promise<void> {
    await this.announce({ batch_id: batchId, type: 'llm', data });
  }

  private async announce(a: Announcement): Promise<void> {
    // Live delivery is best effort: SSE streams also poll the stored events, so a lost announcement only delays them.
    await this.bus.publishEvent(EVENTS_TOPIC, a).catch(() => {});
  }
}
