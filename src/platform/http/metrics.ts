/**
 * Request count and latency by method, route and status. Each route gets its own onResponse hook
 * holding its label children (app.ts adds it from onRoute), so counting a request builds no label
 * key and reads no route options.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

type Hook = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;
interface Children {
  count: Counter.Internal;
  time: Histogram.Internal<string>;
}

export function httpMetrics(registry: Registry): { routeHook(route: string): Hook } {
  const requests = new Counter({
    name: 'vigil_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'vigil_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    /** The onResponse hook of the route labelled `route`. */
    routeHook(route) {
      const byMethod = new Map<string, Map<number, Children>>();
      return (req, reply, done) => {
        const status = reply.statusCode;
        let byStatus = byMethod.get(req.method);
        if (!byStatus) byMethod.set(req.method, (byStatus = new Map()));
        let c = byStatus.get(status);
        if (!c) byStatus.set(status, (c = { count: requests.labels(req.method, route, String(status)), time: latency.labels(req.method, route) }));
        c.count.inc();
        c.time.observe(reply.elapsedTime / 1000);
        if (status >= 500) req.log.error({ reqId: req.id, route, status }, 'request failed');
        done();
      };
    },
  };
}
