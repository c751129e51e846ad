import type { Logger } from 'pino';
import type { LeaseProvider } from './lease.js';

export interface JobSpec {
  name: string;
  intervalMs: number;
  /** Random extra delay up to this, so replicas and jobs do not fire in lockstep. Default 10% of interval. */
  jitterMs?: number;
  /** A run is aborted (its signal fires) after this long; the next run still waits until it has ended. Default: the interval. */
  timeoutMs?: number;
  /** Only the lease holder runs it (default true). Per-replica jobs (e.g. pollers of local state) set false. */
  leader?: boolean;
  /** Run once right after start instead of waiting an interval. */
  runAtStart?: boolean;
  run(signal: AbortSignal): Promise<void>;
}

export interface JobStatus {
  name: string;
  leader: boolean;
  holdsLease: boolean;
  runs: number;
  failures: number;
  /** Ticks that found the previous run still in flight (overrunning its timeout, or started by runNow) and started nothing. */
  skipped: number;
  lastRunAt: number | null;
  lastError: string | null;
  running: boolean;
}

/** One run of a job, alive until the job's own promise settles (a timeout only aborts it). */
interface Run {
  abort: AbortController;
  /** Settles when the job's work has ended, whatever the outcome. */
  done: Promise<void>;
  /** Resolves when the run passes its timeout (its signal has fired by then). */
  overdue: Promise<void>;
}

interface JobState {
  spec: JobSpec;
  timer?: NodeJS.Timeout;
  holdsLease: boolean;
  run?: Run;
  runs: number;
  failures: number;
  skipped: number;
  lastRunAt: number | null;
  lastError: string | null;
}

export interface SchedulerOptions {
  lease: LeaseProvider;
  /** Unique id of this replica. */
  owner: string;
  log: Logger;
  /** A dead holder's jobs are taken over within this. */
  leaseMs?: number;
  onRun?: (job: string, ms: number, ok: boolean) => void;
  /** A tick found the job's previous run still in flight and started nothing. */
  onSkip?: (job: string) => void;
}

const STOPPING = 'scheduler stopping';

/**
 * Periodic jobs with jitter, timeouts and graceful stop. Leader jobs run only on the replica that
 * holds the job's lease; a heartbeat renews held leases every leaseMs/3, so when a holder dies its
 * leases expire and another replica takes them over within one lease period.
 *
 * A job never runs twice at once on a replica: a timeout fires the run's signal but the run lasts
 * until the job's promise settles, and ticks meanwhile are skipped (counted in `skipped`). A job
 * that ignores its signal therefore delays its own next run instead of overlapping with itself, and
 * `stop()` waits for it, so nothing writes to a backend after the process has closed it.
 */
export class Scheduler {
  private jobs = new Map<string, JobState>();
  private heartbeat?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  private stopped = true;
  readonly leaseMs: number;

  constructor(private readonly opts: SchedulerOptions) {
    this.leaseMs = opts.leaseMs ?? 15_000;
  }

  add(spec: JobSpec): void {
    if (this.jobs.has(spec.name)) throw new Error(`job ${spec.name} registered twice`);
    this.jobs.set(spec.name, { spec, holdsLease: false, runs: 0, failures: 0, skipped: 0, lastRunAt: null, lastError: null });
    if (!this.stopped) this.arm(this.jobs.get(spec.name)!, !!spec.runAtStart);
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.renewLeases();
    this.heartbeat = setInterval(() => void this.renewLeases(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref();
    for (const st of this.jobs.values()) this.arm(st, !!st.spec.runAtStart);
  }

  status(): JobStatus[] {
    return [...this.jobs.values()].map((s) => ({
      name: s.spec.name,
      leader: s.spec.leader !== false,
      holdsLease: s.holdsLease,
      runs: s.runs,
      failures: s.failures,
      skipped: s.skipped,
      lastRunAt: s.lastRunAt,
      lastError: s.lastError,
      running: !!s.run,
    }));
  }

  /**
   * Run a job now on this replica (if it may), waiting for it to end. A run already in flight is
   * joined, not doubled. Returns false when another replica leads.
   */
  async runNow(name: string): Promise<boolean> {
    const st = this.jobs.get(name);
    if (!st) throw new Error(`no job ${name}`);
    if (st.spec.leader !== false && !(await this.tryLease(st))) return false;
    await (st.run ?? this.begin(st)).done;
    return true;
  }

  /**
   * Stop timers, abort every run in flight and wait until each has ended (a job deaf to its signal
   * is waited for; its lease is renewed meanwhile so no other replica starts a second copy), then
   * release leases.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const st of this.jobs.values()) if (st.timer) clearTimeout(st.timer);
    const inFlight = [...this.jobs.values()].filter((st) => st.run);
    for (const st of inFlight) st.run!.abort.abort(new Error(STOPPING));
    if (inFlight.length) this.opts.log.info({ jobs: inFlight.map((st) => st.spec.name) }, 'waiting for running jobs to end');
    await Promise.all(inFlight.map((st) => st.run?.done));
    if (this.heartbeat) clearInterval(this.heartbeat);
    // A renewal that was under way must not re-take a lease after it is released below.
    await this.renewing;
    await Promise.all(
      [...this.jobs.values()]
        .filter((st) => st.holdsLease)
        .map(async (st) => {
          st.holdsLease = false;
          await this.opts.lease.release(st.spec.name, this.opts.owner).catch(() => {});
        }),
    );
  }

  /** Stop without releasing or waiting for anything, as a crashed process would. For tests of take-over. */
  halt(): void {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const st of this.jobs.values()) {
      if (st.timer) clearTimeout(st.timer);
      st.run?.abort.abort(new Error(STOPPING));
    }
  }

  private arm(st: JobState, immediately: boolean): void {
    if (this.stopped) return;
    const jitter = st.spec.jitterMs ?? Math.floor(st.spec.intervalMs * 0.1);
    const delay = immediately ? 0 : st.spec.intervalMs + Math.floor(Math.random() * (jitter + 1));
    st.timer = setTimeout(() => void this.tick(st), delay);
    st.timer.unref();
  }

  private async tick(st: JobState): Promise<void> {
    if (this.stopped) return;
    if (st.spec.leader === false || st.holdsLease || (await this.tryLease(st))) {
      if (st.run) {
        st.skipped++;
        this.opts.onSkip?.(st.spec.name);
        this.opts.log.debug({ job: st.spec.name }, 'previous run still in flight; tick skipped');
      } else if (!this.stopped) {
        // The next tick is timed from the end of this run, or from its timeout if it overruns.
        const run = this.begin(st);
        await Promise.race([run.done, run.overdue]);
      }
    }
    this.arm(st, false);
  }

  private async tryLease(st: JobState): Promise<boolean> {
    try {
      st.holdsLease = await this.opts.lease.acquire(st.spec.name, this.opts.owner, this.leaseMs);
    } catch (err) {
      st.holdsLease = false;
      this.opts.log.warn({ err, job: st.spec.name }, 'lease check failed');
    }
    return st.holdsLease;
  }

  private renewLeases(): Promise<void> {
    // While stopping, only the leases of runs still winding down are kept.
    const jobs = [...this.jobs.values()].filter((s) => s.spec.leader !== false && (!this.stopped || s.run));
    const renewing = Promise.all(jobs.map((s) => this.tryLease(s))).then(() => {});
    this.renewing = renewing;
    return renewing;
  }

  private begin(st: JobState): Run {
    const name = st.spec.name;
    const abort = new AbortController();
    const timeoutMs = st.spec.timeoutMs ?? st.spec.intervalMs;
    const started = Date.now();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        abort.abort(new Error(`job ${name} timed out after ${timeoutMs} ms`));
        this.opts.log.warn({ job: name, timeoutMs }, 'job timed out; its next run waits until this one has ended');
        resolve();
      }, timeoutMs);
      timer.unref();
    });
    let work: Promise<void>;
    try {
      work = Promise.resolve(st.spec.run(abort.signal));
    } catch (err) {
      work = Promise.reject(err);
    }
    const done = work
      .then(
        () => {
          // Finishing after the timeout still counts as a timeout: the run held the job past its budget.
          if (timedOut) throw abort.signal.reason;
          st.lastError = null;
          this.opts.onRun?.(name, Date.now() - started, true);
        },
        (err: unknown) => {
          throw timedOut ? abort.signal.reason : err;
        },
      )
      .catch((err: unknown) => {
        if (abort.signal.aborted && !timedOut) {
          // Aborted by stop() or halt(): a shutdown, not a failure of the job.
          this.opts.log.info({ job: name }, 'job aborted by stop');
          return;
        }
        st.failures++;
        st.lastError = err instanceof Error ? err.message : String(err);
        this.opts.log.error({ err, job: name }, 'job failed');
        this.opts.onRun?.(name, Date.now() - started, false);
      })
      .finally(() => {
        clearTimeout(timer);
        st.runs++;
        st.lastRunAt = started;
        st.run = undefined;
      });
    st.run = { abort, done, overdue };
    return st.run;
  }
}
