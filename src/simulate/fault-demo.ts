/**
 * The fault-injection demo of `vigil up`: real HTTP traffic through a real executor, feeding the
 * demo fleet's metrics, so a fault policy visibly hurts an SLO.
 *
 *   load generator ──GET──▶ executor (src/faults/executor) ──▶ demo upstream `frontend` (node:http)
 *
 * Every answer the load generator gets (status code, latency) is counted as inbound traffic of the
 * meshed service `demo/frontend` on its own Linkerd-style /metrics endpoint, and as Traefik traffic of
 * the route `demo.example.com/` in the fleet's Traefik exposition. The engine's simulated traffic is
 * untouched: outcomes here are real, so they follow wall time, not the simulator's speed.
 */
import { appendFileSync } from 'node:fs';
import { createServer, request, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { stringify } from 'yaml';
import { startExecutor, type Executor } from '../faults/executor/index.js';
import { ingressRouteRouteNames } from '../traefik/index.js';
import type { DemoFleet, DemoTarget } from './index.js';
import type { PodState, TraefikSeries } from './engine.js';
import { INGRESS_DEPLOYMENT, INGRESS_NAMESPACE, LINKERD_BOUNDS, TRAEFIK_BOUNDS_S } from './model.js';
import { renderLinkerd } from './render.js';

export const FAULT_DEMO = {
  namespace: 'demo',
  service: 'frontend',
  port: 8000,
  domain: 'demo.example.com',
  ingressRoute: 'frontend',
  pod: 'frontend-6b8d9c7f5d-q4x2z',
  ip: '10.42.9.2',
} as const;

export interface FaultDemoOptions {
  fleet: DemoFleet;
  /** The Vigil server whose /v1/config/stream the executor follows. */
  serverUrl: string;
  /** An `executor` token. */
  token: string;
  /** Where the executor keeps its last policies. */
  stateFile: string;
  /** Requests per second the load generator sends (default 5). */
  rps?: number;
  /** How often the executor reports its counters (default 2 s). */
  reportIntervalMs?: number;
  log: Logger;
}

export interface FaultDemo {
  /** Agent target of the frontend's Linkerd-style /metrics. */
  target: DemoTarget;
  executor: Executor;
  upstreamUrl: string;
  /** Requests answered so far, by status code. */
  outcomes(): Record<string, number>;
  stop(): Promise<void>;
}

const listen = (server: Server) =>
  new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** Index of the histogram bucket of `v` under finite `bounds` (the last index is +Inf). */
function bucketOf(bounds: readonly number[], v: number): number {
  const i = bounds.findIndex((b) => v <= b);
  return i < 0 ? bounds.length : i;
}

const LINKERD_NB = LINKERD_BOUNDS.length + 1;
const TRAEFIK_NB = TRAEFIK_BOUNDS_S.length + 1;

function addMesh(pod: PodState, labels: string, status: string, ms: number): void {
  const key = `${labels}|${status}`;
  let s = pod.series.get(key);
  if (!s) {
    s = { labels, status, classification: status.startsWith('5') ? 'failure' : 'success', count: 0, buckets: new Float64Array(LINKERD_NB), sum: 0 };
    pod.series.set(key, s);
  }
  s.count++;
  s.buckets[bucketOf(LINKERD_BOUNDS, ms)]++;
  s.sum += ms;
}

/**
 * The frontend's answers as the Linkerd proxies would count them: inbound at the frontend's proxy and
 * outbound at the meshed Traefik's (the route's traffic enters through it), so the mesh shows the edge.
 */
class FrontendProxyCounters {
  readonly pod: PodState;
  private readonly inbound: string;
  private readonly outbound: string;

  constructor(
    startSec: number,
    private readonly ingress: PodState | undefined,
  ) {
    const d = FAULT_DEMO;
    const hash = d.pod.split('-')[1];
    this.pod = { def: { namespace: d.namespace, deployment: d.service, pod: d.pod, ip: d.ip, templateHash: hash, meshed: true }, startTime: startSec, series: new Map() };
    const client = `${INGRESS_DEPLOYMENT}.${INGRESS_NAMESPACE}.serviceaccount.identity.linkerd.cluster.local`;
    this.inbound =
      `direction="inbound",target_addr="${d.ip}:${d.port}",target_ip="${d.ip}",target_port="${d.port}",` +
      (ingress ? `tls="true",client_id="${client}",` : 'tls="no_identity",no_tls_reason="no_tls_from_remote",') +
      'srv_kind="default",srv_name="all-unauthenticated",authz_kind="default",authz_name="all-unauthenticated",route_kind="default",route_name="default"';
    this.outbound =
      `direction="outbound",authority="${d.service}.${d.namespace}.svc.cluster.local:${d.port}",target_addr="${d.ip}:${d.port}",target_ip="${d.ip}",target_port="${d.port}",tls="true",` +
      `server_id="${d.service}.${d.namespace}.serviceaccount.identity.linkerd.cluster.local",dst_control_plane_ns="linkerd",` +
      `dst_deployment="${d.service}",dst_namespace="${d.namespace}",dst_pod="${d.pod}",dst_pod_template_hash="${hash}",` +
      `dst_serviceaccount="${d.service}",dst_service="${d.service}"`;
  }

  add(status: string, ms: number): void {
    addMesh(this.pod, this.inbound, status, ms);
    if (this.ingress) addMesh(this.ingress, this.outbound, status, ms + 1);
  }
}

/** The demo route's IngressRoute and its Traefik names, as the agent will derive them. */
function demoRoute() {
  const d = FAULT_DEMO;
  const match = `Host(\`${d.domain}\`)`;
  const names = ingressRouteRouteNames(d.namespace, d.ingressRoute, { match, services: [{ name: d.service, port: d.port }] });
  const manifest = stringify({
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'IngressRoute',
    metadata: { name: d.ingressRoute, namespace: d.namespace },
    spec: { entryPoints: ['web'], routes: [{ match, kind: 'Rule', services: [{ name: d.service, port: d.port }] }] },
  });
  return { router: names.router, service: names.leafServices[0], manifest };
}

/** Count one answer in the fleet's Traefik exposition, beside the simulated routes. */
function addTraefik(fleet: DemoFleet, route: { router: string; service: string }, code: string, ms: number): void {
  const t = fleet.engine.traefik;
  const key = `${route.service}|${code}|GET`;
  let s: TraefikSeries | undefined = t.series.get(key);
  if (!s) {
    s = { service: route.service, router: route.router, code, method: 'GET', count: 0, buckets: new Float64Array(TRAEFIK_NB), sum: 0 };
    t.series.set(key, s);
  }
  s.count++;
  s.buckets[bucketOf(TRAEFIK_BOUNDS_S, ms / 1000)]++;
  s.sum += ms / 1000;
  const ekey = `web|${code}|GET`;
  const e = t.entrypoints.get(ekey) ?? { entrypoint: 'web', code, method: 'GET', count: 0 };
  e.count++;
  t.entrypoints.set(ekey, e);
}

/** A small page with a little work behind it: a few milliseconds, like a real frontend. */
function upstreamHandler(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const ms = 3 + Math.floor(Math.random() * 12);
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>demo frontend</title><p>Vigil demo frontend</p>\n');
  }, ms).unref();
}

/**
 * Start the upstream, the executor in front of it and the load generator; add the demo route to the
 * fleet's routes file. Call before the agent starts, so it reads the route with the others.
 */
export async function startFaultDemo(opts: FaultDemoOptions): Promise<FaultDemo> {
  const d = FAULT_DEMO;
  const log = opts.log;
  const route = demoRoute();
  appendFileSync(opts.fleet.routesFile, `---\n${route.manifest}`);

  const upstream = createServer({ keepAlive: true }, upstreamHandler);
  const upstreamUrl = await listen(upstream);
  let executor: Executor;
  try {
    executor = await startExecutor({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: new URL(upstreamUrl),
      service: d.service,
      namespace: d.namespace,
      server: new URL(opts.serverUrl),
      token: opts.token,
      stateFile: opts.stateFile,
      executorId: `vigil-up-${d.namespace}-${d.service}`,
      reportIntervalMs: opts.reportIntervalMs ?? 2000,
      log: log.child({ component: 'demo-executor' }),
    });
  } catch (err) {
    await close(upstream);
    throw err;
  }

  const ingressPod = opts.fleet.engine.pods.find((p) => p.namespace === INGRESS_NAMESPACE && p.deployment === INGRESS_DEPLOYMENT);
  const counters = new FrontendProxyCounters(Math.floor(Date.now() / 1000), ingressPod && opts.fleet.engine.podStates.get(ingressPod.pod));
  const outcomes: Record<string, number> = {};
  const record = (code: string, ms: number) => {
    outcomes[code] = (outcomes[code] ?? 0) + 1;
    counters.add(code, ms);
    addTraefik(opts.fleet, route, code, ms);
  };

  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const target = new URL(executor.url);
  let inFlight = 0;
  const send = () => {
    // A hung upstream must not pile up requests without bound.
    if (inFlight >= 32) return;
    inFlight++;
    const t0 = performance.now();
    const req = request({ host: target.hostname, port: target.port, path: '/', method: 'GET', agent, headers: { host: d.domain }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        inFlight--;
        record(String(res.statusCode ?? 0), performance.now() - t0);
      });
      res.on('error', () => undefined);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      inFlight--;
      // A reset or a dead proxy is what a Traefik in front would answer with a 502.
      record('502', performance.now() - t0);
    });
    req.end();
  };
  const rps = opts.rps ?? 5;
  const timer = setInterval(send, Math.max(10, Math.round(1000 / rps)));
  timer.unref();

  const metrics = createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && p === `/linkerd/${d.namespace}/${d.service}/${d.pod}/metrics`) {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
      res.end(renderLinkerd(counters.pod, Math.floor(Date.now() / 1000)));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  let metricsUrl: string;
  try {
    metricsUrl = await listen(metrics);
  } catch (err) {
    clearInterval(timer);
    await executor.stop(0);
    await close(upstream);
    throw err;
  }

  log.info({ executor: executor.url, admin: executor.adminUrl, upstream: upstreamUrl, rps }, 'fault demo: load flows through an executor in front of demo/frontend');

  return {
    target: { url: `${metricsUrl}/linkerd/${d.namespace}/${d.service}/${d.pod}/metrics`, namespace: d.namespace, deployment: d.service, pod: d.pod },
    executor,
    upstreamUrl,
    outcomes: () => ({ ...outcomes }),
    async stop() {
      clearInterval(timer);
      agent.destroy();
      await executor.stop(1000).catch(() => undefined);
      await close(upstream);
      await close(metrics);
    },
  };
}
