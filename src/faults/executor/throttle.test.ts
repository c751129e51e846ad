import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import { Throttle } from './throttle.js';

function manualClock() {
  let t = 0;
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  const clock: Clock = {
    now: () => t,
    after(ms, fn) {
      const e = { at: t + ms, fn, live: true };
      timers.push(e);
      return { cancel: () => void (e.live = false) };
    },
  };
  const advance = (ms: number) => {
    const end = t + ms;
    for (;;) {
      const due = timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      t = due.at;
      due.fn();
    }
    t = end;
  };
  return { clock, advance };
}

describe('Throttle', () => {
  it('lets out no more than the rate allows by each point in time (KiB/s)', () => {
    const { clock, advance } = manualClock();
    const th = new Throttle(10, clock); // 10 KiB/s = 10 240 B/s
    let out = 0;
    th.on('data', (c: Buffer) => (out += c.length));
    th.write(Buffer.alloc(40_960));
    expect(out).toBe(1024);
    advance(1000);
    expect(out).toBeGreaterThanOrEqual(10_240);
    expect(out).toBeLessThanOrEqual(10_240 + 1024);
    advance(3000);
    expect(out).toBe(40_960);
  });

  it('sends nothing more once destroyed, however much time passes', () => {
    const { clock, advance } = manualClock();
    const th = new Throttle(1, clock);
    let out = 0;
    th.on('data', (c: Buffer) => (out += c.length));
    th.on('error', () => {});
    th.write(Buffer.alloc(4096));
    const before = out;
    th.destroy();
    advance(60_000);
    expect(before).toBe(102);
    expect(out).toBe(before);
  });
});
