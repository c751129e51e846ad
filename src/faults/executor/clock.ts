import { performance } from 'node:perf_hooks';

/**
 * Time as the executor sees it. Injected so tests drive delays, throttling and backoff
 * without sleeping.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Run `fn` once at least `ms` have passed (never earlier); the timer does not keep the process alive. */
  after(ms: number, fn: () => void): Timer;
}

/** A monotonic millisecond clock and the platform timer it arms (injected in tests). */
export interface TimerSource {
  monotonicMs(): number;
  arm(ms: number, fn: () => void): unknown;
  disarm(handle: unknown): void;
}

const nodeTimers: TimerSource = {
  monotonicMs: () => performance.now(),
  arm(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  disarm: (t) => clearTimeout(t as NodeJS.Timeout),
};

/**
 * `after` that never fires early. Node's timers count from the event loop's cached time, which
 * lags the real start by however long the current turn has run, so a timer may fire up to ~1 ms
 * before `ms` have really passed: when it does, it is re-armed for what is left.
 */
export function neverEarly(source: TimerSource): Clock['after'] {
  return (ms, fn) => {
    const due = source.monotonicMs() + ms;
    let cancelled = false;
    const fire = () => {
      if (cancelled) return;
      const left = due - source.monotonicMs();
      if (left > 0) handle = source.arm(left, fire);
      else fn();
    };
    let handle = source.arm(ms, fire);
    return {
      cancel: () => {
        cancelled = true;
        source.disarm(handle);
      },
    };
  };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  after: neverEarly(nodeTimers),
};

/** A promise that resolves after `ms` on `clock`, or rejects when `signal` aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.after(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
