/**
 * The SLO agent: every interval, scrape every target, turn the expositions into deltas, aggregate
 * them into a snapshot, spool it and let the shipper deliver it.
 */
import { gzipSync } from 'node:zlib';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RouteInfo, Snapshot } from '../snapshot.js';
import { Aggregator } from './aggregate.js';
import { DialectClassifier, type Dialect } from './dialect.js';
import { SeriesFilter } from './filter.js';
import type { PodDiscovery } from './kube.js';
import type { DiscoveredTarget } from './pods.js';
import { AgentMetrics } from './metrics.js';
import { processExposition, sweepTarget, TargetState, type TargetMeta } from './pipeline.js';
import { FileRouteSource, type RouteSource } from './routes.js';
import { scrape, ScrapeError } from './scrape.js';
import { Shipper } from './shipper.js';
import { Spool } from './spool.js';

export interface StaticTarget {
  url: string;
  namespace?: string;
  deployment?: string;
  pod?: string;
}

export interface AgentOptions {
  clusterId: string;
  agentId: string;
  serverUrl: string;
  token: string;
  intervalMs: number;
  scrapeTimeoutMs: number;
  seriesTtlMs: number;
  targets: StaticTarget[];
  /** Discover pods and routes through the Kubernetes API (a KubeConfig, or true for the default one). */
  kubernetes?: boolean | KubeConfig;
  routesFile?: string;
  otelPrefix: string;
  excludeNamespaces: string[];
  /** Ports whose mesh traffic is not application traffic (dropped). Default [4191], the Linkerd proxy admin port. */
  adminPorts?: readonly number[];
  /** `route_name` values whose series are dropped. Default ['probe']. */
  dropRouteNames?: readonly string[];
  /** '' = memory only. */
  spoolDir: string;
  spoolMaxBytes: number;
  log: Logger;
  metrics?: AgentMetrics;
  fetch?: typeof fetch;
  /** Parallel scrapes. Default 16. */
  concurrency?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Extra route source (tests, embedding). */
  routeSource?: RouteSource;
  /** Hand every snapshot here instead of spooling and shipping it (`vigil agent --dry-run`). */
  sink?: (snapshot: Snapshot) => void;
  now?: () => number;
}

export interface TargetStatus {
  id: string;
  url: string;
  source: 'static' | 'kubernetes';
  meta: TargetMeta;
  up: boolean;
  lastScrapeAt?: number;
  lastDurationMs?: number;
  lastError?: string;
  series: number;
  dialects: Dialect[];
}

export interface AgentStatus {
  clusterId: string;
  agentId: string;
  serverUrl: string;
  running: boolean;
  cycles: number;
  lastCycleAt?: number;
  lastCycleMs?: number;
  lastSeq?: number;
  nextSeq: number;
  series: number;
  routes: number;
  targets: TargetStatus[];
  spool: { depth: number; bytes: number; dropped: number; persistent: boolean };
  shipper: { shipped: number; failures: number; rejected: number; lastError?: string; lastSuccessAt?: number };
  discoveryError?: string;
}

export interface CycleReport {
  seq: number;
  at: number;
  snapshot: Snapshot;
  scraped: number;
  failed: number;
  parseErrors: number;
  series: number;
  durationMs: number;
}

interface Target {
  id: string;
  url: string;
  meta: TargetMeta;
  source: 'static' | 'kubernetes';
  startedAt?: number;
}

interface TargetRecord {
  target: Target;
  state: TargetState;
  up: boolean;
  lastScrapeAt?: number;
  lastDurationMs?: number;
  lastError?: string;
  /** Epoch ms the target was last listed (static or discovered). */
  lastListed: number;
}

export class Agent {
  readonly metrics: AgentMetrics;
  readonly spool: Spool;
  readonly shipper: Shipper;
  private readonly classifier: DialectClassifier;
  private readonly filter: SeriesFilter;
  private readonly records = new Map<string, TargetRecord>();
  private readonly routeSources: RouteSource[] = [];
  private pods: PodDiscovery | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<CycleReport> | undefined;
  private cycles = 0;
  private lastCycleAt: number | undefined;
  private lastCycleMs: number | undefined;
  private lastSeq: number | undefined;
  private lastRoutes = 0;
  private readonly startedAt: number;
  private firstDiscoveryDone = false;
  private kubeError: string | undefined;
  private readonly now: () => number;

  constructor(readonly opts: AgentOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.metrics = opts.metrics ?? new AgentMetrics();
    this.classifier = new DialectClassifier(opts.otelPrefix);
    this.filter = new SeriesFilter({ excludeNamespaces: opts.excludeNamespaces, adminPorts: opts.adminPorts, dropRouteNames: opts.dropRouteNames });
    this.spool = new Spool({ dir: opts.spoolDir, maxBytes: opts.spoolMaxBytes, log: opts.log });
    this.shipper = new Shipper({
      serverUrl: opts.serverUrl,
      token: opts.token,
      clusterId: opts.clusterId,
      agentId: opts.agentId,
      spool: this.spool,
      log: opts.log,
      fetch: opts.fetch,
      initialBackoffMs: opts.initialBackoffMs,
      maxBackoffMs: opts.maxBackoffMs,
      onAttempt: (outcome) => {
        this.metrics.shipAttempts.inc({ outcome });
        this.updateSpoolGauges();
      },
    });
    if (opts.routesFile) this.routeSources.push(new FileRouteSource(opts.routesFile, { log: opts.log, excludeNamespaces: opts.excludeNamespaces }));
    if (opts.routeSource) this.routeSources.push(opts.routeSource);
    this.updateSpoolGauges();
  }

  /** Start discovery, the shipper and the scrape loop (first cycle right away). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const k = this.opts.kubernetes;
    if (k) {
      // Loaded only when used: the Kubernetes client is a large module.
      let kube: typeof import('./kube.js') | undefined;
      try {
        kube = await import('./kube.js');
      } catch (err) {
        this.kubeError = `Kubernetes discovery unavailable: @kubernetes/client-node failed to load (${(err as Error).message}); scraping static targets only`;
        this.opts.log.error(this.kubeError);
      }
      let kc: KubeConfig | undefined;
      if (kube) {
        try {
          kc = k === true ? kube.defaultKubeConfig() : k;
        } catch (err) {
          this.kubeError = `Kubernetes discovery unavailable: no usable kubeconfig (${(err as Error).message}); scraping static targets only`;
          this.opts.log.error(this.kubeError);
        }
      }
      if (kube && kc) {
        this.pods = new kube.PodDiscovery(kc, { log: this.opts.log, excludeNamespaces: this.opts.excludeNamespaces });
        const routes = new kube.KubeRouteSource(kc, { log: this.opts.log, excludeNamespaces: this.opts.excludeNamespaces });
        this.routeSources.push(routes);
        await Promise.all([this.pods.start(), routes.start()]);
      }
    }
    if (!this.opts.sink) this.shipper.start();
    const tick = async () => {
      if (!this.running) return;
      const began = this.now();
      try {
        await this.runCycle();
      } catch (err) {
        this.opts.log.error({ err }, 'scrape cycle failed');
      }
      if (!this.running) return;
      const elapsed = this.now() - began;
      const wait = Math.max(0, this.opts.intervalMs - (elapsed % this.opts.intervalMs));
      this.timer = setTimeout(() => void tick(), wait);
    };
    void tick();
  }

  /** Stop scraping; give the shipper up to `drainMs` to deliver what is spooled. */
  async stop(drainMs = 2000): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight?.catch(() => undefined);
    if (drainMs > 0 && this.spool.depth > 0) await this.shipper.drained(drainMs);
    await this.shipper.stop();
    await this.pods?.stop();
    for (const s of this.routeSources) await s.stop?.();
  }

  /** Run one cycle now (waits for a cycle in flight first). */
  async runCycle(): Promise<CycleReport> {
    while (this.inFlight) await this.inFlight.catch(() => undefined);
    const p = this.cycle();
    this.inFlight = p;
    try {
      return await p;
    } finally {
      this.inFlight = undefined;
    }
  }

  private currentTargets(): Target[] {
    const out: Target[] = [];
    for (const t of this.opts.targets) {
      const meta: TargetMeta = {};
      if (t.namespace) meta.namespace = t.namespace;
      if (t.deployment) meta.deployment = t.deployment;
      if (t.pod) meta.pod = t.pod;
      out.push({ id: `static:${t.url}|${t.namespace ?? ''}/${t.deployment ?? ''}/${t.pod ?? ''}`, url: t.url, meta, source: 'static' });
    }
    if (this.pods) {
      const found: DiscoveredTarget[] = this.pods.targets();
      for (const d of found) out.push({ id: d.id, url: d.url, meta: d.meta, source: 'kubernetes', startedAt: d.startedAt });
      if (found.length > 0 || this.pods.lastError === undefined) this.firstDiscoveryDone = true;
    }
    return out;
  }

  private async cycle(): Promise<CycleReport> {
    const t0 = performance.now();
    const now = this.now();
    const o = this.opts;
    const targets = this.currentTargets();
    const agg = new Aggregator();
    let scraped = 0;
    let failed = 0;
    let parseErrors = 0;

    const records = targets.map((t) => {
      let r = this.records.get(t.id);
      if (!r) {
        r = { target: t, state: new TargetState(), up: false, lastListed: now };
        // A pod that started after this agent (and after discovery had a look) counts from zero:
        // nothing of it was ever recorded, so its first scrape is all new traffic.
        if (t.source === 'kubernetes' && this.firstDiscoveryDone && t.startedAt !== undefined && t.startedAt >= this.startedAt && this.cycles > 0) {
          r.state.primed = true;
        }
        this.records.set(t.id, r);
      }
      r.target = t;
      r.lastListed = now;
      return r;
    });

    const concurrency = Math.max(1, o.concurrency ?? 16);
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const r = records[next++];
        const s0 = performance.now();
        try {
          const res = await scrape(r.target.url, { timeoutMs: o.scrapeTimeoutMs, fetch: o.fetch });
          const at = this.now();
          const out = processExposition(res.text, r.target.meta, r.state, agg, {
            classifier: this.classifier,
            filter: this.filter,
            now: at,
            contentType: res.contentType,
          });
          sweepTarget(r.state, at, o.seriesTtlMs);
          this.metrics.scrapeBytes.inc(res.bytes);
          this.metrics.parseErrors.inc(out.parseErrors);
          this.metrics.samples.inc({ outcome: 'used' }, out.used);
          this.metrics.samples.inc({ outcome: 'filtered' }, out.filtered);
          this.metrics.samples.inc({ outcome: 'unattributed' }, out.unattributed);
          if (out.restarted) o.log.info({ target: r.target.url }, 'target restarted; counting its counters from zero');
          parseErrors += out.parseErrors;
          scraped++;
          if (!r.up && r.lastError) o.log.info({ target: r.target.url }, 'target is back');
          r.up = true;
          r.lastError = undefined;
          this.metrics.scrapeDuration.observe({ outcome: 'ok' }, (performance.now() - s0) / 1000);
        } catch (err) {
          failed++;
          const reason = err instanceof ScrapeError ? err.reason : 'error';
          const msg = (err as Error).message ?? String(err);
          if (r.up || r.lastError === undefined) o.log.warn({ target: r.target.url, err: msg }, 'scrape failed');
          r.up = false;
          r.lastError = msg;
          this.metrics.scrapeFailures.inc({ reason });
          this.metrics.scrapeDuration.observe({ outcome: 'error' }, (performance.now() - s0) / 1000);
        }
        r.lastScrapeAt = now;
        r.lastDurationMs = performance.now() - s0;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, worker));

    // Forget targets gone (or failing) for longer than the series TTL: a target that comes back after
    // that is primed afresh (its first scrape only records).
    for (const [id, r] of this.records) {
      if (r.lastListed < now - o.seriesTtlMs) {
        this.records.delete(id);
      } else if (!r.up && r.state.primed && now - r.state.lastOk > o.seriesTtlMs) {
        r.state.series.clear();
        r.state.primed = false;
        r.state.startTime = undefined;
      }
    }

    const seq = this.spool.nextSeq();
    const built = agg.build();
    const routes = this.routes(agg);
    const snapshot: Snapshot = {
      cluster_id: o.clusterId,
      agent_id: o.agentId.slice(0, 128),
      seq,
      timestamp: now,
      services: built.services,
      edges: built.edges,
      ingress: built.ingress,
      routes,
    };
    if (o.sink) {
      o.sink(snapshot);
    } else {
      const body = gzipSync(JSON.stringify(snapshot));
      const dropped = this.spool.push(seq, body);
      if (dropped > 0) this.metrics.spoolDropped.inc(dropped);
      this.shipper.kick();
    }

    let series = 0;
    let up = 0;
    for (const r of this.records.values()) {
      series += r.state.series.size;
      if (r.up) up++;
    }
    this.metrics.series.set(series);
    this.metrics.targets.set({ state: 'up' }, up);
    this.metrics.targets.set({ state: 'down' }, this.records.size - up);
    this.metrics.snapshots.inc();
    this.metrics.routes.set(routes.length);
    this.updateSpoolGauges();
    const durationMs = performance.now() - t0;
    this.metrics.cycleDuration.observe(durationMs / 1000);
    this.metrics.lastCycle.set(this.now() / 1000);
    this.cycles++;
    this.lastCycleAt = now;
    this.lastCycleMs = durationMs;
    this.lastSeq = seq;
    this.lastRoutes = routes.length;
    return { seq, at: now, snapshot, scraped, failed, parseErrors, series, durationMs };
  }

  private routes(agg: Aggregator): RouteInfo[] {
    const out: RouteInfo[] = [];
    for (const s of this.routeSources) {
      try {
        out.push(...s.routes());
      } catch (err) {
        this.opts.log.error({ err }, 'route source failed');
      }
    }
    out.push(...agg.metricRoutes.values());
    return out;
  }

  private updateSpoolGauges(): void {
    this.metrics.spoolDepth.set(this.spool.depth);
    this.metrics.spoolBytes.set(this.spool.bytes);
  }

  status(): AgentStatus {
    const targets: TargetStatus[] = [];
    let series = 0;
    for (const r of this.records.values()) {
      series += r.state.series.size;
      targets.push({
        id: r.target.id,
        url: r.target.url,
        source: r.target.source,
        meta: r.target.meta,
        up: r.up,
        ...(r.lastScrapeAt !== undefined ? { lastScrapeAt: r.lastScrapeAt } : {}),
        ...(r.lastDurationMs !== undefined ? { lastDurationMs: Math.round(r.lastDurationMs * 10) / 10 } : {}),
        ...(r.lastError !== undefined ? { lastError: r.lastError } : {}),
        series: r.state.series.size,
        dialects: [...r.state.dialects],
      });
    }
    const sh = this.shipper;
    return {
      clusterId: this.opts.clusterId,
      agentId: this.opts.agentId,
      serverUrl: this.opts.serverUrl,
      running: this.running,
      cycles: this.cycles,
      ...(this.lastCycleAt !== undefined ? { lastCycleAt: this.lastCycleAt } : {}),
      ...(this.lastCycleMs !== undefined ? { lastCycleMs: Math.round(this.lastCycleMs * 10) / 10 } : {}),
      ...(this.lastSeq !== undefined ? { lastSeq: this.lastSeq } : {}),
      nextSeq: this.spool.peekSeq(),
      series,
      routes: this.lastRoutes,
      targets,
      spool: { depth: this.spool.depth, bytes: this.spool.bytes, dropped: this.spool.dropped, persistent: this.spool.persistent },
      shipper: {
        shipped: sh.shipped,
        failures: sh.failures,
        rejected: sh.rejected,
        ...(sh.lastError !== undefined ? { lastError: sh.lastError } : {}),
        ...(sh.lastSuccessAt !== undefined ? { lastSuccessAt: sh.lastSuccessAt } : {}),
      },
      ...(this.kubeError || this.pods?.lastError ? { discoveryError: this.kubeError ?? this.pods?.lastError } : {}),
    };
  }
}
