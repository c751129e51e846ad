import { describe, expect, it } from 'vitest';
import { neverEarly, type TimerSource } from './clock.js';

/** Platform timers that fire `earlyMs` before they are due, as Node's do when armed late in a loop turn. */
function earlyTimers(earlyMs: number) {
  let now = 0;
  let seq = 0;
  const armed = new Map<number, { at: number; fn: () => void }>();
  const source: TimerSource = {
    monotonicMs: () => now,
    arm(ms, fn) {
      armed.set(++seq, { at: now + Math.max(1, ms) - earlyMs, fn });
      return seq;
    },
    disarm: (h) => void armed.delete(h as number),
  };
  /** Move time to the next armed timer and fire it; false when none is armed. */
  const fireNext = () => {
    const next = [...armed.entries()].sort((a, b) => a[1].at - b[1].at)[0];
    if (!next) return false;
    armed.delete(next[0]);
    now = Math.max(now, next[1].at);
    next[1].fn();
    return true;
  };
  return { source, fireNext, now: () => now, armed: () => armed.size };
}

describe('neverEarly', () => {
  it('re-arms a timer that fires early, and runs the callback only once the full time has passed', () => {
    const t = earlyTimers(0.8);
    const after = neverEarly(t.source);
    const firedAt: number[] = [];
    after(50, () => firedAt.push(t.now()));
    while (t.fireNext());
    expect(firedAt).toHaveLength(1);
    expect(firedAt[0]).toBeGreaterThanOrEqual(50);
  });

  it('never fires early for any delay, whatever the platform timer does', () => {
    for (const early of [0.01, 0.5, 0.999]) {
      for (const ms of [1, 2, 7.5, 50, 1000]) {
        const t = earlyTimers(early);
        const after = neverEarly(t.source);
        let firedAt = -1;
        after(ms, () => (firedAt = t.now()));
        while (t.fireNext());
        expect(firedAt).toBeGreaterThanOrEqual(ms);
      }
    }
  });

  it('fires at once when the platform timer is on time (no second arm)', () => {
    const t = earlyTimers(0);
    const after = neverEarly(t.source);
    let fired = 0;
    after(20, () => fired++);
    expect(t.fireNext()).toBe(true);
    expect(fired).toBe(1);
    expect(t.armed()).toBe(0);
  });

  it('runs nothing after cancel, even when cancelled between an early fire and the re-arm', () => {
    const t = earlyTimers(0.5);
    const after = neverEarly(t.source);
    let fired = 0;
    const timer = after(10, () => fired++);
    expect(t.fireNext()).toBe(true); // early: re-armed
    timer.cancel();
    while (t.fireNext());
    expect(fired).toBe(0);
  });
});
