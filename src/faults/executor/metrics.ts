import { Gauge, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../platform/process-metrics.js';
import { ENVOY_BUCKETS_MS, FaultCounters, UPSTREAM_BUCKETS_S, type HistogramCounts, type InjectedCount } from './counters.js';

export { ENVOY_BUCKETS_MS, type FaultType, type InjectedCount } from './counters.js';

export interface MetricsSources {
  policyState: () => { ruleCount: number; ageSeconds: number | undefined; connected: boolean };
  /** Requests held or answered by a fault right now (summed over workers). */
  activeFaults: () => number;
  /** Brings `counters` up to date before a scrape (a primary collects its workers' counts). */
  refresh?: () => Promise<void>;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function header(lines: string[], name: string, type: 'counter' | 'histogram', help: string): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

/** `labels` is a rendered label list without braces ('' for none); `le` goes last, as prom-client puts it. */
function histogramLines(lines: string[], name: string, bounds: number[], h: HistogramCounts, labels: string): void {
  const sep = labels === '' ? '' : ',';
  let cumulative = 0;
  for (let i = 0; i < bounds.length; i++) {
    cumulative += h.buckets[i];
    lines.push(`${name}_bucket{${labels}${sep}le="${bounds[i]}"} ${cumulative}`);
  }
  lines.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${h.count}`);
  const braces = labels === '' ? '' : `{${labels}}`;
  lines.push(`${name}_sum${braces} ${h.sum}`, `${name}_count${braces} ${h.count}`);
}

/**
 * Everything the executor exports. The three `wasmcustom_hfi_*` series keep HFI's names, unlabelled,
 * so its dashboards and alerts work unchanged; the `vigil_*` ones say which policy and rule fired.
 * The hot series are rendered from `counters` (plain numbers); process metrics and the policy
 * gauges come from a prom-client registry, appended after them.
 */
export class ExecutorMetrics {
  readonly registry = new Registry();
  /** Totals: what the proxy counts into (one process), or the sum of the workers' counts. */
  readonly counters: FaultCounters;

  constructor(
    private readonly sources: MetricsSources,
    counters = new FaultCounters(),
  ) {
    this.counters = counters;
    const registers = [this.registry];
    new Gauge({
      name: 'vigil_faults_active',
      help: 'Requests currently held or answered by an injected fault',
      registers,
      collect() {
        this.set(sources.activeFaults());
      },
    });
    new Gauge({
      name: 'vigil_executor_policy_rules',
      help: 'Rules of the policies in force that target this executor',
      registers,
      collect() {
        this.set(sources.policyState().ruleCount);
      },
    });
    new Gauge({
      name: 'vigil_executor_policy_age_seconds',
      help: 'Seconds since the policies in force were last received from the control plane (-1: never)',
      registers,
      collect() {
        this.set(sources.policyState().ageSeconds ?? -1);
      },
    });
    new Gauge({
      name: 'vigil_executor_control_plane_connected',
      help: '1 while the policy stream from the control plane is open',
      registers,
      collect() {
        this.set(sources.policyState().connected ? 1 : 0);
      },
    });
    collectProcessMetrics(this.registry, '');
  }

  activeFaults(): number {
    return this.sources.activeFaults();
  }

  /** Cumulative injected counts since this executor started (as of the last refresh). */
  injectedCounts(): InjectedCount[] {
    return this.counters.injectedCounts();
  }

  /** Up-to-date injected counts (collects workers' counts first). */
  async freshInjectedCounts(): Promise<InjectedCount[]> {
    await this.sources.refresh?.();
    return this.counters.injectedCounts();
  }

  async text(): Promise<string> {
    await this.sources.refresh?.();
    return this.hotText() + (await this.registry.metrics());
  }

  private hotText(): string {
    const c = this.counters;
    const lines: string[] = [];
    header(lines, 'wasmcustom_hfi_faults_aborts_total', 'counter', 'Requests aborted by fault injection (HFI name)');
    lines.push(`wasmcustom_hfi_faults_aborts_total ${c.aborts}`);
    header(lines, 'wasmcustom_hfi_faults_delays_total', 'counter', 'Requests delayed by fault injection (HFI name)');
    lines.push(`wasmcustom_hfi_faults_delays_total ${c.delays}`);
    header(lines, 'wasmcustom_hfi_faults_delay_duration_milliseconds', 'histogram', 'Injected delays in milliseconds (HFI name, Envoy buckets)');
    histogramLines(lines, 'wasmcustom_hfi_faults_delay_duration_milliseconds', ENVOY_BUCKETS_MS, c.delayMs, '');
    header(lines, 'vigil_faults_injected_total', 'counter', 'Faults injected, by policy, rule index and fault type');
    for (const i of c.injectedCounts()) lines.push(`vigil_faults_injected_total{policy="${escapeLabel(i.policy)}",rule="${i.rule}",type="${i.type}"} ${i.count}`);
    header(lines, 'vigil_faults_overflow_total', 'counter', 'Faults not injected because max_active_faults were already active');
    lines.push(`vigil_faults_overflow_total ${c.overflow}`);
    const codes = c.allCodes();
    header(lines, 'vigil_executor_requests_total', 'counter', 'Requests answered by the executor, by status code');
    for (const k of codes) lines.push(`vigil_executor_requests_total{code="${k.code}"} ${k.requests}`);
    header(lines, 'vigil_executor_upstream_duration_seconds', 'histogram', 'Time from forwarding a request to the upstream response headers, by status code');
    for (const k of codes) if (k.upstream.count > 0) histogramLines(lines, 'vigil_executor_upstream_duration_seconds', UPSTREAM_BUCKETS_S, k.upstream, `code="${k.code}"`);
    return lines.join('\n') + '\n';
  }
}
