import type { Logger } from 'pino';
import type { Clock, Timer } from './clock.js';
import type { InjectedCount } from './metrics.js';

export interface ExecutorReport {
  executor_id: string;
  service: string;
  namespace: string;
  policy_version: string;
  /** Cumulative since this executor (this `executor_id`) started. */
  counters: InjectedCount[];
}

export interface ReporterOptions {
  server: URL;
  token?: string;
  intervalMs: number;
  clock: Clock;
  log: Logger;
  report: () => ExecutorReport | Promise<ExecutorReport>;
}

/** POSTs `/v1/executors/report` every interval; a failed report is simply superseded by the next. */
export class Reporter {
  private timer: Timer | undefined;
  private stopped = false;
  private failures = 0;

  constructor(private readonly opts: ReporterOptions) {}

  start(): void {
    this.schedule();
  }

  /** Stop the schedule and send one last report so the control plane sees the final counts. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.send();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.after(this.opts.intervalMs, () => {
      void this.send().finally(() => this.schedule());
    });
  }

  async send(): Promise<boolean> {
    const url = new URL('v1/executors/report', this.opts.server.href.endsWith('/') ? this.opts.server : this.opts.server.href + '/');
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(await this.opts.report()), signal: AbortSignal.timeout(5000) });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`answered ${res.status}`);
      this.failures = 0;
      return true;
    } catch (err) {
      // Say it once per outage, not every interval.
      if (this.failures++ === 0) this.opts.log.warn({ err: (err as Error).message, url: url.href }, 'executor report failed; will retry');
      return false;
    }
  }
}
