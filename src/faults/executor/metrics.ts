import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../platform/process-metrics.js';

/** Envoy's default histogram bucket bounds, which HFI's delay histogram is exported with. */
export const ENVOY_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

const UPSTREAM_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type FaultType = 'abort' | 'delay' | 'reset' | 'rate_limit';

export interface InjectedCount {
  policy: string;
  rule: number;
  type: FaultType;
  count: number;
}

/**
 * Everything the executor exports. The three `wasmcustom_hfi_*` series keep HFI's names, unlabelled,
 * so its dashboards and alerts work unchanged; the `vigil_*` ones say which policy and rule fired.
 */
export class ExecutorMetrics {
  readonly registry = new Registry();
  private readonly hfiAborts: Counter;
  private readonly hfiDelays: Counter;
  private readonly hfiDelayMs: Histogram;
  private readonly injected: Counter<'policy' | 'rule' | 'type'>;
  private readonly overflow: Counter;
  readonly active: Gauge;
  private readonly requests: Counter<'code'>;
  private readonly upstream: Histogram<'code'>;
  /** Same counts as `vigil_faults_injected_total`, kept here for the report to the control plane. */
  private readonly counts = new Map<string, InjectedCount>();
  private readonly byCode = new Map<number, { requests: Counter.Internal; upstream: Histogram.Internal<'code'> | undefined }>();

  constructor(policyState: () => { version: string; ruleCount: number; ageSeconds: number | undefined; connected: boolean }) {
    const registers = [this.registry];
    this.hfiAborts = new Counter({ name: 'wasmcustom_hfi_faults_aborts_total', help: 'Requests aborted by fault injection (HFI name)', registers });
    this.hfiDelays = new Counter({ name: 'wasmcustom_hfi_faults_delays_total', help: 'Requests delayed by fault injection (HFI name)', registers });
    this.hfiDelayMs = new Histogram({
      name: 'wasmcustom_hfi_faults_delay_duration_milliseconds',
      help: 'Injected delays in milliseconds (HFI name, Envoy buckets)',
      buckets: ENVOY_BUCKETS_MS,
      registers,
    });
    this.injected = new Counter({ name: 'vigil_faults_injected_total', help: 'Faults injected, by policy, rule index and fault type', labelNames: ['policy', 'rule', 'type'], registers });
    this.overflow = new Counter({ name: 'vigil_faults_overflow_total', help: 'Faults not injected because max_active_faults were already active', registers });
    this.active = new Gauge({ name: 'vigil_faults_active', help: 'Requests currently held or answered by an injected fault', registers });
    this.requests = new Counter({ name: 'vigil_executor_requests_total', help: 'Requests answered by the executor, by status code', labelNames: ['code'], registers });
    this.upstream = new Histogram({
      name: 'vigil_executor_upstream_duration_seconds',
      help: 'Time from forwarding a request to the upstream response headers, by status code',
      labelNames: ['code'],
      buckets: UPSTREAM_BUCKETS_S,
      registers,
    });
    new Gauge({
      name: 'vigil_executor_policy_rules',
      help: 'Rules of the policies in force that target this executor',
      registers,
      collect() {
        this.set(policyState().ruleCount);
      },
    });
    new Gauge({
      name: 'vigil_executor_policy_age_seconds',
      help: 'Seconds since the policies in force were last received from the control plane (-1: never)',
      registers,
      collect() {
        this.set(policyState().ageSeconds ?? -1);
      },
    });
    new Gauge({
      name: 'vigil_executor_control_plane_connected',
      help: '1 while the policy stream from the control plane is open',
      registers,
      collect() {
        this.set(policyState().connected ? 1 : 0);
      },
    });
    collectProcessMetrics(this.registry, '');
  }

  fault(policy: string, rule: number, type: FaultType, delayMs?: number): void {
    this.injected.inc({ policy, rule: String(rule), type });
    const key = `${policy}\u0000${rule}\u0000${type}`;
    const c = this.counts.get(key);
    if (c) c.count++;
    else this.counts.set(key, { policy, rule, type, count: 1 });
    if (type === 'abort') this.hfiAborts.inc();
    if (type === 'delay') {
      this.hfiDelays.inc();
      this.hfiDelayMs.observe(delayMs ?? 0);
    }
  }

  overflowed(): void {
    this.overflow.inc();
  }

  /** One answered request; `upstreamSeconds` when it reached the upstream. */
  answered(code: number, upstreamSeconds?: number): void {
    let c = this.byCode.get(code);
    if (!c) {
      const label = String(code);
      c = { requests: this.requests.labels(label), upstream: undefined };
      this.byCode.set(code, c);
    }
    c.requests.inc();
    if (upstreamSeconds !== undefined) {
      c.upstream ??= this.upstream.labels(String(code));
      c.upstream.observe(upstreamSeconds);
    }
  }

  /** Cumulative injected counts since this executor started. */
  injectedCounts(): InjectedCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
