/** The agent's own metrics, on its own prom-client Registry (served at /metrics by `vigil agent`). */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../platform/process-metrics.js';

export class AgentMetrics {
  readonly registry: Registry;
  readonly scrapeDuration: Histogram<'outcome'>;
  readonly scrapeFailures: Counter<'reason'>;
  readonly scrapeBytes: Counter;
  readonly cycleDuration: Histogram;
  readonly series: Gauge;
  readonly targets: Gauge<'state'>;
  readonly parseErrors: Counter;
  readonly samples: Counter<'outcome'>;
  readonly spoolDepth: Gauge;
  readonly spoolBytes: Gauge;
  readonly spoolDropped: Counter;
  readonly shipAttempts: Counter<'outcome'>;
  readonly snapshots: Counter;
  readonly lastCycle: Gauge;
  readonly routes: Gauge;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [(this.registry = new Registry())];
    if (opts.defaultMetrics) collectProcessMetrics(this.registry, 'vigil_agent_');
    this.scrapeDuration = new Histogram({
      name: 'vigil_agent_scrape_duration_seconds',
      help: 'Time to fetch and process one target',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.scrapeFailures = new Counter({ name: 'vigil_agent_scrape_failures_total', help: 'Failed scrapes by reason', labelNames: ['reason'], registers });
    this.scrapeBytes = new Counter({ name: 'vigil_agent_scrape_bytes_total', help: 'Exposition bytes read', registers });
    this.cycleDuration = new Histogram({
      name: 'vigil_agent_cycle_duration_seconds',
      help: 'Time of one scrape cycle (all targets, aggregation, spooling)',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.series = new Gauge({ name: 'vigil_agent_series', help: 'Series whose last value the agent keeps for deltas', registers });
    this.targets = new Gauge({ name: 'vigil_agent_targets', help: 'Scrape targets by state of their last scrape', labelNames: ['state'], registers });
    this.parseErrors = new Counter({ name: 'vigil_agent_parse_errors_total', help: 'Exposition families skipped because they did not parse', registers });
    this.samples = new Counter({
      name: 'vigil_agent_samples_total',
      help: 'Samples of the families the agent uses, by outcome (used, filtered, unattributed)',
      labelNames: ['outcome'],
      registers,
    });
    this.spoolDepth = new Gauge({ name: 'vigil_agent_spool_depth', help: 'Snapshots waiting to be acknowledged by the server', registers });
    this.spoolBytes = new Gauge({ name: 'vigil_agent_spool_bytes', help: 'Bytes of snapshots waiting in the spool', registers });
    this.spoolDropped = new Counter({ name: 'vigil_agent_spool_dropped_total', help: 'Snapshots dropped because the spool was full', registers });
    this.shipAttempts = new Counter({
      name: 'vigil_agent_ship_attempts_total',
      help: 'Snapshot POSTs by outcome (ok, duplicate, retry, rejected)',
      labelNames: ['outcome'],
      registers,
    });
    this.snapshots = new Counter({ name: 'vigil_agent_snapshots_total', help: 'Snapshots built', registers });
    this.lastCycle = new Gauge({ name: 'vigil_agent_last_cycle_timestamp_seconds', help: 'End of the last scrape cycle', registers });
    this.routes = new Gauge({ name: 'vigil_agent_routes', help: 'Ingress route mappings known', registers });
  }

  /** Serve /metrics on `port` (0 = any free port); resolves with the bound port. */
  async serve(port: number, host = '0.0.0.0'): Promise<{ port: number; close(): Promise<void> }> {
    const server: Server = createServer((req, res) => {
      if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) {
        this.registry
          .metrics()
          .then((body) => {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(body);
          })
          .catch((err: Error) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(err.message);
          });
        return;
      }
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok\n');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    return {
      port: typeof addr === 'object' && addr ? addr.port : port,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  }
}
