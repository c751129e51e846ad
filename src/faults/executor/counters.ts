/**
 * The executor's hot counters as plain numbers: the proxy bumps them on every request, and they are
 * turned into Prometheus text only when scraped (a prom-client counter per request costs a label
 * hash and a map lookup each time). A snapshot is plain data, so a `--workers` child can send its
 * counts since the last snapshot to the primary, which adds them to the totals it exports.
 */

/** Envoy's default histogram bucket bounds, which HFI's delay histogram is exported with. */
export const ENVOY_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

export const UPSTREAM_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type FaultType = 'abort' | 'delay' | 'reset' | 'rate_limit';

export interface InjectedCount {
  policy: string;
  rule: number;
  type: FaultType;
  count: number;
}

/** Observations per bucket (not cumulative; the last slot is +Inf), their sum and count. */
export interface HistogramCounts {
  buckets: number[];
  sum: number;
  count: number;
}

export interface CodeCounts {
  code: number;
  requests: number;
  upstream: HistogramCounts;
}

/** Everything counted, as plain JSON-safe data (what a worker sends its primary). */
export interface CounterSnapshot {
  aborts: number;
  delays: number;
  delayMs: HistogramCounts;
  overflow: number;
  injected: InjectedCount[];
  codes: CodeCounts[];
}

const emptyHistogram = (bounds: number[]): HistogramCounts => ({ buckets: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 });

function observe(h: HistogramCounts, bounds: number[], value: number): void {
  let i = 0;
  while (i < bounds.length && value > bounds[i]) i++;
  h.buckets[i]++;
  h.sum += value;
  h.count++;
}

function addHistogram(into: HistogramCounts, from: HistogramCounts): void {
  const n = Math.min(into.buckets.length, from.buckets.length);
  for (let i = 0; i < n; i++) into.buckets[i] += from.buckets[i];
  into.sum += from.sum;
  into.count += from.count;
}

const cloneHistogram = (h: HistogramCounts): HistogramCounts => ({ buckets: [...h.buckets], sum: h.sum, count: h.count });

export class FaultCounters {
  aborts = 0;
  delays = 0;
  overflow = 0;
  readonly delayMs = emptyHistogram(ENVOY_BUCKETS_MS);
  private readonly injected = new Map<string, InjectedCount>();
  private readonly codes = new Map<number, CodeCounts>();
  /** Whether anything was counted since construction (a worker sends nothing when idle). */
  touched = false;

  fault(policy: string, rule: number, type: FaultType, delayMs?: number): void {
    this.touched = true;
    this.bumpInjected(policy, rule, type, 1);
    if (type === 'abort') this.aborts++;
    else if (type === 'delay') {
      this.delays++;
      observe(this.delayMs, ENVOY_BUCKETS_MS, delayMs ?? 0);
    }
  }

  overflowed(): void {
    this.touched = true;
    this.overflow++;
  }

  /** One answered request; `upstreamSeconds` when it reached the upstream. */
  answered(code: number, upstreamSeconds?: number): void {
    this.touched = true;
    const c = this.codeCounts(code);
    c.requests++;
    if (upstreamSeconds !== undefined) observe(c.upstream, UPSTREAM_BUCKETS_S, upstreamSeconds);
  }

  injectedCounts(): InjectedCount[] {
    return [...this.injected.values()].map((c) => ({ ...c }));
  }

  codeCounts(code: number): CodeCounts {
    let c = this.codes.get(code);
    if (!c) {
      c = { code, requests: 0, upstream: emptyHistogram(UPSTREAM_BUCKETS_S) };
      this.codes.set(code, c);
    }
    return c;
  }

  /** Status codes seen so far, in ascending order (a stable exposition). */
  allCodes(): CodeCounts[] {
    return [...this.codes.values()].sort((a, b) => a.code - b.code);
  }

  snapshot(): CounterSnapshot {
    return {
      aborts: this.aborts,
      delays: this.delays,
      delayMs: cloneHistogram(this.delayMs),
      overflow: this.overflow,
      injected: this.injectedCounts(),
      codes: this.allCodes().map((c) => ({ code: c.code, requests: c.requests, upstream: cloneHistogram(c.upstream) })),
    };
  }

  /** The counts so far, then start again from zero (a worker sends its primary what it counted since last time). */
  drain(): CounterSnapshot {
    const s = this.snapshot();
    this.aborts = 0;
    this.delays = 0;
    this.overflow = 0;
    this.delayMs.buckets.fill(0);
    this.delayMs.sum = 0;
    this.delayMs.count = 0;
    this.injected.clear();
    this.codes.clear();
    this.touched = false;
    return s;
  }

  /** Add another process's counts (a worker's since its last snapshot) to these. */
  add(s: CounterSnapshot): void {
    this.touched = true;
    this.aborts += s.aborts;
    this.delays += s.delays;
    this.overflow += s.overflow;
    addHistogram(this.delayMs, s.delayMs);
    for (const i of s.injected) this.bumpInjected(i.policy, i.rule, i.type, i.count);
    for (const c of s.codes) {
      const mine = this.codeCounts(c.code);
      mine.requests += c.requests;
      addHistogram(mine.upstream, c.upstream);
    }
  }

  private bumpInjected(policy: string, rule: number, type: FaultType, n: number): void {
    const key = `${policy}\u0000${rule}\u0000${type}`;
    const c = this.injected.get(key);
    if (c) c.count += n;
    else this.injected.set(key, { policy, rule, type, count: n });
  }
}
