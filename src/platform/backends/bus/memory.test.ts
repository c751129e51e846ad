import { describe, expect, it } from 'vitest';
import { ManualTimers } from '../../../../test/support/manual-timers.js';
import { MemoryBus } from './memory.js';
import { resolveSpec } from './types.js';

describe('MemoryBus timing on a manual clock', () => {
  it('redelivers a failed message after backoffMs[attempt-1], repeating the last delay', async () => {
    const timers = new ManualTimers();
    const bus = new MemoryBus({ timers });
    await bus.ensureQueue({ name: 'q', backoffMs: [100, 500], maxDeliver: 5 });
    const seen: [number, number][] = [];
    await bus.consume('q', { group: 'g', concurrency: 1 }, async (m) => {
      seen.push([m.attempt, timers.now()]);
      throw new Error('again');
    });
    await bus.publish('q', {}, { msgId: 'm' });
    await timers.advance(99);
    expect(seen).toEqual([[1, 0]]);
    await timers.advance(1);
    expect(seen).toEqual([[1, 0], [2, 100]]);
    await timers.advance(499);
    expect(seen).toHaveLength(2);
    await timers.advance(1);
    await timers.advance(500);
    expect(seen).toEqual([[1, 0], [2, 100], [3, 600], [4, 1100]]);
    await bus.close();
  });

  it('forgets a message id once its duplicate window has passed', async () => {
    const timers = new ManualTimers();
    const bus = new MemoryBus({ timers });
    await bus.ensureQueue({ name: 'q', duplicateWindowMs: 1000 });
    expect(await bus.publish('q', 1, { msgId: 'x' })).toEqual({ duplicate: false });
    await timers.advance(999);
    expect(await bus.publish('q', 2, { msgId: 'x' })).toEqual({ duplicate: true });
    await timers.advance(1);
    expect(await bus.publish('q', 3, { msgId: 'x' })).toEqual({ duplicate: false });
    await bus.close();
  });
});

describe('queue specs', () => {
  it('fills defaults and refuses values that cannot work', () => {
    expect(resolveSpec({ name: 'batches.parse' })).toEqual({ name: 'batches.parse', ackWaitMs: 30_000, maxDeliver: 5, backoffMs: [1_000, 5_000, 30_000], duplicateWindowMs: 120_000 });
    expect(() => resolveSpec({ name: 'a..b' })).toThrow(/queue name/);
    expect(() => resolveSpec({ name: 'a_b' })).toThrow(/queue name/);
    expect(() => resolveSpec({ name: 'q', ackWaitMs: Number.NaN })).toThrow(/ackWaitMs/);
    expect(() => resolveSpec({ name: 'q', backoffMs: [-1] })).toThrow(/backoffMs/);
  });
});
