import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { Scheduler } from '../../src/platform/scheduler.js';
import { KvLease } from '../../src/platform/lease.js';
import { MemoryKv } from '../../src/platform/backends/kv/index.js';

const log = pino({ level: 'silent' });

/** A promise the test settles by hand: the job's work ends when the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** Records how many copies of a job run at once. */
function inFlight() {
  const starts: number[] = [];
  let now = 0;
  let max = 0;
  return {
    starts,
    get now() {
      return now;
    },
    get max() {
      return max;
    },
    enter(at: number) {
      starts.push(at);
      max = Math.max(max, ++now);
    },
    leave() {
      now--;
    },
  };
}

function scheduler(onSkip?: (job: string) => void): Scheduler {
  return new Scheduler({ lease: new KvLease(new MemoryKv()), owner: 'a', log, leaseMs: 3000, onSkip });
}

// The scheduler runs on vitest's fake clock (timers and Date): every run, timeout and tick is placed exactly.
// A stop() that never resolves fails the test at its (short) timeout.
describe('scheduler: a run lives until its work ends', { timeout: 10_000 }, () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a job that ignores its signal and overruns its timeout never runs twice at once, and stop() waits for it', async () => {
    const s = scheduler();
    const t0 = Date.now();
    const runs = inFlight();
    let work = gate();
    let sawAbort = false;
    s.add({
      name: 'stubborn',
      intervalMs: 100,
      jitterMs: 0,
      timeoutMs: 50,
      runAtStart: true,
      run: async (signal) => {
        runs.enter(Date.now() - t0);
        await work.promise; // deaf to the signal
        sawAbort = signal.aborted;
        runs.leave();
      },
    });
    await s.start();
    await vi.advanceTimersByTimeAsync(1000); // ten intervals, twenty timeouts' worth
    expect(runs.starts).toEqual([0]);
    expect(runs.now).toBe(1);
    expect(s.status()[0]).toMatchObject({ running: true, runs: 0 });

    // The overrun ends: the failure is recorded and the next tick starts a fresh run.
    work.open();
    work = gate();
    await vi.advanceTimersByTimeAsync(100);
    expect(sawAbort).toBe(true);
    expect(s.status()[0]).toMatchObject({ runs: 1, failures: 1, lastError: 'job stubborn timed out after 50 ms' });
    expect(runs.starts).toEqual([0, 1050]); // ticks kept their 100 ms rhythm (150, 250, … 1050) while skipping
    expect(runs.max).toBe(1);

    // stop() resolves only once the run in flight has finished.
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(5000);
    expect(stopped).toBe(false);
    expect(runs.now).toBe(1);
    work.open();
    await stopping;
    expect(runs.now).toBe(0);
    expect(s.status()[0].running).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs.starts).toHaveLength(2); // nothing starts after stop
  });

  it('a job that honours its signal is aborted at its timeout, and the next run waits until it has wound down', async () => {
    const s = scheduler();
    const t0 = Date.now();
    const runs = inFlight();
    const reasons: string[] = [];
    s.add({
      name: 'polite',
      intervalMs: 100,
      jitterMs: 0,
      timeoutMs: 50,
      runAtStart: true,
      run: (signal) =>
        new Promise<void>((_, reject) => {
          runs.enter(Date.now() - t0);
          signal.addEventListener('abort', () => {
            reasons.push((signal.reason as Error).message);
            // Winding down (closing a transaction, say) takes longer than the interval.
            setTimeout(() => (runs.leave(), reject(signal.reason)), 250);
          });
        }),
    });
    await s.start();
    await vi.advanceTimersByTimeAsync(50);
    expect(reasons).toEqual(['job polite timed out after 50 ms']);
    await vi.advanceTimersByTimeAsync(250);
    expect(s.status()[0]).toMatchObject({ runs: 1, failures: 1, running: false, lastError: 'job polite timed out after 50 ms' });
    // Ticks at 150 and 250 found the run still winding down; the tick at 350 starts the next one.
    await vi.advanceTimersByTimeAsync(100);
    expect(runs.starts).toEqual([0, 350]);
    expect(runs.max).toBe(1);
    // stop() aborts the run in flight and waits for its wind-down.
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(249);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await stopping;
    expect(runs.now).toBe(0);
  });

  it('stop() aborts runs in flight at once instead of waiting for their timeout', async () => {
    const s = scheduler();
    let reason: unknown;
    s.add({
      name: 'long',
      intervalMs: 60_000,
      timeoutMs: 60_000,
      runAtStart: true,
      run: (signal) => new Promise<void>((_, reject) => signal.addEventListener('abort', () => ((reason = signal.reason), reject(signal.reason)))),
    });
    await s.start();
    await vi.advanceTimersByTimeAsync(10);
    const stopping = s.stop();
    await vi.advanceTimersByTimeAsync(0);
    expect((reason as Error | undefined)?.message).toBe('scheduler stopping');
    await stopping;
    expect(s.status()[0]).toMatchObject({ running: false, runs: 1 });
  });

  it('ticks that find a run in flight are skipped and counted', async () => {
    const skips: string[] = [];
    const s = scheduler((job) => skips.push(job));
    const t0 = Date.now();
    const runs = inFlight();
    let work = gate();
    s.add({
      name: 'slow',
      intervalMs: 100,
      jitterMs: 0,
      timeoutMs: 50,
      runAtStart: true,
      run: async () => {
        runs.enter(Date.now() - t0);
        await work.promise; // deaf to the signal
        runs.leave();
      },
    });
    await s.start();
    // The run lasts from 0 to 430; it times out at 50, so ticks come at 150, 250, 350 (skipped) and 450 (runs).
    await vi.advanceTimersByTimeAsync(430);
    work.open();
    work = gate();
    await vi.advanceTimersByTimeAsync(30);
    expect(runs.starts).toEqual([0, 450]);
    expect(s.status()[0]).toMatchObject({ skipped: 3, runs: 1 });
    expect(skips).toEqual(['slow', 'slow', 'slow']);

    // Asking for a run while one is in flight joins it rather than starting a second.
    let settled = false;
    const joined = s.runNow('slow').finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(430);
    expect(settled).toBe(false); // still joined to the run in flight
    work.open();
    expect(await joined).toBe(true);
    expect(runs.starts).toEqual([0, 450]);
    expect(runs.max).toBe(1);
    await s.stop();
  });
});
