import type { Logger } from 'pino';
import type { LeaseProvider } from './lease.js';

export interface JobSpec {
  name: string;
  intervalMs: number;
  /** Random extra delay up to this, so replicas and jobs do not fire in lockstep. Default 10% of interval. */
  jitterMs?: number;
  /** A run is aborted (its signal fires) after this long. Default: the interval. */
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
  lastRunAt: number | null;
  lastError: string | null;
  running: boolean;
}

interface JobState {
  spec: JobSpec;
  timer?: NodeJS.Timeout;
  holdsLease: boolean;
  running?: Promise<void>;
  abort?: AbortController;
  runs: number;
  failures: number;
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
}

/**
 * Periodic jobs with jitter, timeouts and graceful stop. Leader jobs run only on the replica that
 * holds the job's lease; a heartbeat renews held leases every leaseMs/3, so when a holder dies its
 * leases expire and another replica takes them over within one lease period.
 */
export class Scheduler {
  private jobs = new Map<string, JobState>();
  private heartbeat?: NodeJS.Timeout;
  private stopped = true;
  readonly leaseMs: number;

  constructor(private readonly opts: SchedulerOptions) {
    this.leaseMs = opts.leaseMs ?? 15_000;
  }

  add(spec: JobSpec): void {
    if (this.jobs.has(spec.name)) throw new Error(`job ${spec.name} registered twice`);
    this.jobs.set(spec.name, { spec, holdsLease: false, runs: 0, failures: 0, lastRunAt: null, lastError: null });
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
      lastRunAt: s.lastRunAt,
      lastError: s.lastError,
      running: !!s.running,
    }));
  }

  /** Run a job now on this replica (if it may), waiting for it. Returns false when another replica leads. */
  async runNow(name: string): Promise<boolean> {
    const st = this.jobs.get(name);
    if (!st) throw new Error(`no job ${name}`);
    if (st.spec.leader !== false && !(await this.tryLease(st))) return false;
    await this.execute(st);
    return true;
  }

  /** Stop timers, let running jobs finish (abort them at their timeout), release leases. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const st of this.jobs.values()) if (st.timer) clearTimeout(st.timer);
    await Promise.all([...this.jobs.values()].map((st) => st.running?.catch(() => {})));
    await Promise.all(
      [...this.jobs.values()]
        .filter((st) => st.holdsLease)
        .map(async (st) => {
          st.holdsLease = false;
          await this.opts.lease.release(st.spec.name, this.opts.owner).catch(() => {});
        }),
    );
  }

  /** Stop without releasing anything, as a crashed process would. For tests of take-over. */
  halt(): void {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const st of this.jobs.values()) {
      if (st.timer) clearTimeout(st.timer);
      st.abort?.abort();
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
      if (!this.stopped) await this.execute(st);
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

  private async renewLeases(): Promise<void> {
    if (this.stopped) return;
    await Promise.all([...this.jobs.values()].filter((s) => s.spec.leader !== false).map((s) => this.tryLease(s)));
  }

  private execute(st: JobState): Promise<void> {
    if (st.running) return st.running;
    const abort = new AbortController();
    st.abort = abort;
    const timeoutMs = st.spec.timeoutMs ?? st.spec.intervalMs;
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort(new Error(`job ${st.spec.name} timed out after ${timeoutMs} ms`));
        reject(abort.signal.reason);
      }, timeoutMs);
      timer.unref();
    });
    st.running = Promise.race([st.spec.run(abort.signal), timeout])
      .then(
        () => {
          st.lastError = null;
          this.opts.onRun?.(st.spec.name, Date.now() - started, true);
        },
        (err: unknown) => {
          st.failures++;
          st.lastError = err instanceof Error ? err.message : String(err);
          this.opts.log.error({ err, job: st.spec.name }, 'job failed');
          this.opts.onRun?.(st.spec.name, Date.now() - started, false);
        },
      )
      .finally(() => {
        clearTimeout(timer);
        st.runs++;
        st.lastRunAt = started;
        st.running = undefined;
        st.abort = undefined;
      });
    return st.running;
  }
}
