import { describe, expect, it } from 'vitest';
import { FaultCounters } from './counters.js';

describe('FaultCounters', () => {
  it('sums what workers drained, to the same totals as one process counting everything', () => {
    const one = new FaultCounters();
    const workers = [new FaultCounters(), new FaultCounters()];
    const primary = new FaultCounters();
    const act = (c: FaultCounters, i: number) => {
      c.fault('p', i % 3, i % 2 ? 'abort' : 'delay', 7 * i);
      c.answered(i % 4 ? 200 : 503, i / 1000);
      if (i % 5 === 0) c.overflowed();
    };
    for (let i = 0; i < 30; i++) {
      act(workers[i % 2], i);
      act(one, i);
      // Workers drain at different moments; nothing may be lost or counted twice.
      if (i % 7 === 0) primary.add(workers[i % 2].drain());
    }
    for (const w of workers) primary.add(w.drain());
    // Sums of floats added in another order differ in the last bits; the order of series does not matter.
    const normal = (c: FaultCounters) => {
      const snap = c.snapshot();
      const round = (h: { sum: number }) => (h.sum = Math.round(h.sum * 1e9) / 1e9);
      round(snap.delayMs);
      for (const code of snap.codes) round(code.upstream);
      snap.injected.sort((x, y) => `${x.rule}${x.type}`.localeCompare(`${y.rule}${y.type}`));
      return snap;
    };
    expect(normal(primary)).toEqual(normal(one));
    expect(primary.aborts).toBe(15);
    expect(primary.delays).toBe(15);
    expect(primary.overflow).toBe(6);
    expect(primary.delayMs.count).toBe(15);
  });

  it('starts from zero after a drain, and says whether anything was counted since', () => {
    const c = new FaultCounters();
    expect(c.touched).toBe(false);
    c.fault('p', 0, 'abort');
    expect(c.touched).toBe(true);
    expect(c.drain().aborts).toBe(1);
    expect(c.touched).toBe(false);
    expect(c.snapshot()).toEqual({ aborts: 0, delays: 0, delayMs: { buckets: new Array(20).fill(0), sum: 0, count: 0 }, overflow: 0, injected: [], codes: [] });
  });

  it('puts a delay in the first Envoy bucket whose bound is at least the value', () => {
    const c = new FaultCounters();
    c.fault('p', 0, 'delay', 5);
    c.fault('p', 0, 'delay', 5.01);
    c.fault('p', 0, 'delay', 4_000_000);
    // bounds 0.5, 1, 5, 10, …: 5 goes to le="5" (index 2), 5.01 to le="10" (index 3), beyond the last to +Inf
    expect(c.delayMs.buckets[2]).toBe(1);
    expect(c.delayMs.buckets[3]).toBe(1);
    expect(c.delayMs.buckets[19]).toBe(1);
  });
});
