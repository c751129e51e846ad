/**
 * The demo fleet (`vigil simulate`, embedded in `vigil up`): one HTTP server exposing realistic Linkerd
 * proxy and Traefik /metrics for a small shop, plus its IngressRoute manifests and the ground truth.
 *
 *   GET /linkerd/<namespace>/<deployment>/<pod>/metrics   a Linkerd proxy admin endpoint
 *   GET /traefik/metrics                                 Traefik
 *   GET /targets                                         agent static targets (JSON)
 *   GET /manifests.yaml                                  IngressRoute manifests (--routes-file)
 *   GET /truth                                           cumulative ground truth (JSON)
 *   POST /restart?target=<pod|traefik>                   reset a target's counters
 *
 * Simulated time runs `speed`× faster than wall time, one step per simulated second; with
 * `clock: 'manual'` it moves only through advance().
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { FleetEngine, type FleetTruth } from './engine.js';
import { fleetManifestsYaml } from './manifests.js';
import { INGRESS_DEPLOYMENT, INGRESS_NAMESPACE } from './model.js';
import { renderLinkerd, renderTraefik } from './render.js';

export { FleetEngine } from './engine.js';
export type { FleetTruth, ServiceTruth, EdgeTruth, IngressTruth, Histo } from './engine.js';
export { fleetManifestsYaml } from './manifests.js';
export { ROUTES, SERVICES, routeServiceKey } from './model.js';

export interface DemoTarget {
  url: string;
  namespace: string;
  deployment: string;
  pod: string;
}

export interface DemoFleetOptions {
  /** 0 = any free port. */
  port: number;
  seed: number;
  /** Simulated seconds per wall second. */
  speed: number;
  log?: Logger;
  host?: string;
  /** 'auto' (default) follows wall time × speed; 'manual' moves only with advance(). */
  clock?: 'auto' | 'manual';
  /** Simulated epoch ms at start (default now). Fix it for reproducible runs. */
  startTime?: number;
  /** Directory for the routes file (default: a temp dir removed on stop). */
  dir?: string;
}

export interface DemoFleet {
  /** Base URL, e.g. http://127.0.0.1:43127 */
  url: string;
  /** Scrape targets with pod metadata, for the agent's static target list. */
  targets: DemoTarget[];
  /** IngressRoute manifests (YAML). */
  manifestsYaml: string;
  /** The same manifests written to a file, for --routes-file. */
  routesFile: string;
  /** Cumulative ground truth at the current simulated time. */
  truth(): FleetTruth;
  /** Reset a target's counters like a process restart: a pod name, or 'traefik'. */
  restart(target: string): void;
  /** Manual clock: move simulated time forward by `ms` (whole seconds are stepped). */
  advance(ms: number): void;
  /** Simulated epoch ms. */
  now(): number;
  engine: FleetEngine;
  stop(): Promise<void>;
}

export async function startDemoFleet(opts: DemoFleetOptions): Promise<DemoFleet> {
  const engine = new FleetEngine({ seed: opts.seed, startTime: opts.startTime });
  const manual = opts.clock === 'manual';
  const speed = opts.speed > 0 ? opts.speed : 1;
  const wall0 = Date.now();
  let carryMs = 0;

  /** Auto clock: take the steps wall time says are due (bounded per call to stay responsive). */
  const catchUp = () => {
    if (manual) return;
    const due = Math.floor(((Date.now() - wall0) * speed) / 1000);
    const n = Math.min(due - engine.steps, 20_000);
    if (n > 0) engine.run(n);
  };

  const manifestsYaml = fleetManifestsYaml();
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'vigil-demo-'));
  const routesFile = path.join(dir, 'ingressroutes.yaml');
  writeFileSync(routesFile, manifestsYaml);

  const traefikPod = engine.pods.find((p) => p.namespace === INGRESS_NAMESPACE && p.deployment === INGRESS_DEPLOYMENT)!;
  const targetPaths: { path: string; namespace: string; deployment: string; pod: string }[] = [];
  for (const p of engine.pods) {
    targetPaths.push({ path: `/linkerd/${p.namespace}/${p.deployment}/${p.pod}/metrics`, namespace: p.namespace, deployment: p.deployment, pod: p.pod });
  }
  targetPaths.push({ path: '/traefik/metrics', namespace: INGRESS_NAMESPACE, deployment: INGRESS_DEPLOYMENT, pod: traefikPod.pod });

  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };

  let base = '';
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    try {
      const u = new URL(req.url ?? '/', 'http://x');
      const p = u.pathname;
      catchUp();
      const nowSec = Math.floor(engine.now / 1000);
      if (req.method === 'GET' && p.startsWith('/linkerd/') && p.endsWith('/metrics')) {
        const parts = p.split('/');
        const pod = engine.podStates.get(decodeURIComponent(parts[4] ?? ''));
        if (!pod || parts.length !== 6 || pod.def.namespace !== parts[2] || pod.def.deployment !== parts[3]) return send(res, 404, 'text/plain', 'no such proxy\n');
        return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', renderLinkerd(pod, nowSec));
      }
      if (req.method === 'GET' && p === '/traefik/metrics') {
        return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', renderTraefik(engine.traefik, nowSec));
      }
      if (req.method === 'GET' && p === '/truth') return send(res, 200, 'application/json', JSON.stringify(engine.truth()));
      if (req.method === 'GET' && p === '/targets') return send(res, 200, 'application/json', JSON.stringify(targets(base)));
      if (req.method === 'GET' && p === '/manifests.yaml') return send(res, 200, 'application/yaml', manifestsYaml);
      if (req.method === 'POST' && p === '/restart') {
        const t = u.searchParams.get('target') ?? '';
        try {
          engine.restart(t);
        } catch (err) {
          return send(res, 404, 'text/plain', (err as Error).message + '\n');
        }
        return send(res, 204, 'text/plain', '');
      }
      if (req.method === 'GET' && p === '/') {
        const lines = [
          'Vigil demo fleet',
          `seed ${engine.seed}, speed ${speed}x, simulated time ${new Date(engine.now).toISOString()}`,
          '',
          ...targetPaths.map((t) => `${base}${t.path}`),
          `${base}/manifests.yaml`,
          `${base}/truth`,
          '',
        ];
        return send(res, 200, 'text/plain; charset=utf-8', lines.join('\n'));
      }
      return send(res, 404, 'text/plain', 'not found\n');
    } catch (err) {
      opts.log?.error({ err }, 'demo fleet request failed');
      return send(res, 500, 'text/plain', 'internal error\n');
    }
  };

  const server = createServer(handler);
  server.keepAliveTimeout = 65_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const timer = manual ? undefined : setInterval(catchUp, 250);
  timer?.unref();

  function targets(b: string): DemoTarget[] {
    return targetPaths.map((t) => ({ url: `${b}${t.path}`, namespace: t.namespace, deployment: t.deployment, pod: t.pod }));
  }

  opts.log?.info({ url: base, seed: opts.seed, speed, targets: targetPaths.length, routesFile }, 'demo fleet started');

  return {
    url: base,
    targets: targets(base),
    manifestsYaml,
    routesFile,
    truth: () => {
      catchUp();
      return engine.truth();
    },
    restart: (t) => engine.restart(t),
    advance: (ms) => {
      const total = carryMs + ms;
      const n = Math.floor(total / 1000);
      carryMs = total - n * 1000;
      engine.run(n);
    },
    now: () => {
      catchUp();
      return engine.now;
    },
    engine,
    stop: async () => {
      if (timer) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
