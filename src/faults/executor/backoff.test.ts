import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles its ceiling per attempt up to the cap, and starts over after reset', () => {
    const b = new Backoff(100, 1000, () => 0.999999);
    const waits = Array.from({ length: 7 }, () => Math.round(b.next()));
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    b.reset();
    expect(Math.round(b.next())).toBe(100);
  });

  it('never waits less than half the base, whatever the draw', () => {
    const b = new Backoff(100, 1000, () => 0);
    expect(b.next()).toBe(50);
  });

  it('keeps going long after the ceiling (no overflow to Infinity or NaN)', () => {
    const b = new Backoff(250, 30_000, () => 0.5);
    let last = 0;
    for (let i = 0; i < 10_000; i++) last = b.next();
    expect(last).toBe(15_000);
  });
});
