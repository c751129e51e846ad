import http from 'node:http';
import type { ExecutorMetrics } from './metrics.js';
import type { PolicyStatus } from './policy-stream.js';

/**
 * The executor's admin listener: Prometheus text on `/stats/prometheus` (Envoy's path, which HFI
 * users scrape) and `/metrics`, liveness on `/healthz`, and `/readyz` saying how fresh the
 * policies in force are. Readiness does not depend on the control plane: the executor fails open.
 */
export interface AdminStatus extends PolicyStatus {
  listening: boolean;
  /** With `--workers N`: how many were asked for and the process ids of those listening. */
  workers?: { wanted: number; pids: number[] };
}

export function createAdminServer(metrics: ExecutorMetrics, status: () => AdminStatus): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (code: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method_not_allowed', message: `${req.method} is not allowed here` });
    if (path === '/metrics' || path === '/stats/prometheus') {
      metrics.text().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        () => json(500, { error: 'internal', message: 'metrics collection failed' }),
      );
      return;
    }
    if (path === '/healthz') return json(200, { status: 'ok' });
    if (path === '/readyz') {
      const s = status();
      return json(s.listening ? 200 : 503, {
        status: s.listening ? 'ready' : 'starting',
        policies: {
          version: s.version,
          source: s.source,
          policies: s.policyCount,
          rules: s.ruleCount,
          control_plane_connected: s.connected,
          seconds_since_sync: s.ageSeconds === undefined ? null : Math.round(s.ageSeconds),
        },
        ...(s.workers ? { workers: { wanted: s.workers.wanted, running: s.workers.pids.length, pids: s.workers.pids } } : {}),
      });
    }
    json(404, { error: 'not_found', message: `no admin endpoint at ${path}` });
  });
}
