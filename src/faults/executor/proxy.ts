import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { sleep, type Clock } from './clock.js';
import { endToEnd, hasBody, upstreamHeaders } from './headers.js';
import type { FaultCounters } from './counters.js';
import { DEFAULT_ABORT_BODY, type CompiledPolicies, type FaultDecision, type RequestFacts } from '../policy/index.js';
import type { FaultSlot, FaultSlots } from './fault-slots.js';
import { Throttle } from './throttle.js';

export interface ProxyDeps {
  upstream: URL;
  /** The policies in force; read on every request so a push takes effect at once. */
  policies: () => CompiledPolicies;
  /** Where this process counts (plain numbers; rendered on scrape). */
  counters: FaultCounters;
  clock: Clock;
  /** Uniform in [0, 1): the percentage draw. */
  draw: () => number;
  log: Logger;
  /** Who may start a fault now (the executor's and each policy's max_active_faults); beyond a cap requests pass unfaulted. */
  slots: FaultSlots;
  agent?: http.Agent;
  /** Largest response header block accepted from the upstream (the listener's own limit). */
  maxHeaderSize?: number;
}

export interface Proxy {
  handle(req: IncomingMessage, res: ServerResponse): void;
  readonly agent: http.Agent;
  activeFaults(): number;
}

const pathOf = (url: string) => {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
};

/**
 * The facts the matcher sees. `headers` is Node's lazily built header object: most rule sets never
 * look at a header, so most requests never build it.
 */
class Facts implements RequestFacts {
  constructor(
    private readonly req: IncomingMessage,
    readonly method: string,
    readonly path: string,
  ) {}

  get headers(): IncomingMessage['headers'] {
    return this.req.headers;
  }
}

/**
 * Upstream connections: kept alive and reused most-recent-first (warm sockets), capped so a burst
 * cannot open thousands of sockets to one service; beyond the cap requests queue in the agent.
 */
export const upstreamAgent = () => new http.Agent({ keepAlive: true, scheduling: 'lifo', maxSockets: 512, maxFreeSockets: 256 });

export function createProxy(deps: ProxyDeps): Proxy {
  const { upstream, counters, clock, log } = deps;
  const agent = deps.agent ?? upstreamAgent();
  const target = { hostname: upstream.hostname.replace(/^\[|\]$/g, ''), port: Number(upstream.port || 80) };
  const basePath = upstream.pathname === '/' ? '' : upstream.pathname.replace(/\/$/, '');

  function fail(res: ServerResponse, error: string, message: string): void {
    const body = JSON.stringify({ error, message });
    res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    counters.answered(502);
  }

  function forward(req: IncomingMessage, res: ServerResponse, rateLimitKbps?: number): void {
    const started = performance.now();
    const out = http.request({
      ...target,
      agent,
      method: req.method,
      path: basePath + (req.url ?? '/'),
      headers: upstreamHeaders(req.rawHeaders, req.socket.remoteAddress),
      setHost: false,
      maxHeaderSize: deps.maxHeaderSize,
    });
    out.on('response', (up) => {
      const code = up.statusCode ?? 502;
      counters.answered(code, (performance.now() - started) / 1000);
      res.writeHead(code, up.statusMessage, endToEnd(up.rawHeaders));
      if (rateLimitKbps) {
        const throttle = new Throttle(rateLimitKbps, clock);
        res.once('close', () => throttle.destroy());
        up.pipe(throttle).pipe(res);
      } else up.pipe(res);
      up.on('error', () => res.destroy());
    });
    out.on('error', (err) => {
      req.unpipe(out);
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      log.debug({ err: err.message, upstream: upstream.href }, 'upstream unreachable');
      // Drain what the client still sends so the connection can answer and be reused.
      req.resume();
      fail(res, 'upstream_unavailable', `upstream ${upstream.host} did not answer: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
    });
    // The client hung up: stop the upstream exchange too.
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    // Most requests carry no body: end at once rather than wire a pipe for nothing.
    if (hasBody(req.rawHeaders)) req.pipe(out);
    else out.end();
  }

  function abort(res: ServerResponse, a: NonNullable<FaultDecision['abort']>): void {
    const body = a.body ?? DEFAULT_ABORT_BODY;
    const headers: Record<string, string | number> = { 'content-type': 'text/plain' };
    for (const name in a.headers) headers[name.toLowerCase()] = a.headers[name];
    headers['x-fault-injected'] = 'abort';
    headers['content-length'] = Buffer.byteLength(body);
    res.writeHead(a.status, headers);
    res.end(body);
    counters.answered(a.status);
  }

  async function inject(req: IncomingMessage, res: ServerResponse, d: FaultDecision, slot: FaultSlot): Promise<void> {
    // A client that hangs up while its request is held cancels the wait; nothing goes upstream.
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.once('close', onClose);
    try {
      if (d.startDelayMs) await sleep(clock, d.startDelayMs, gone.signal);
      if (d.delayMs) {
        counters.fault(d.policy, d.rule, 'delay', d.delayMs);
        await sleep(clock, d.delayMs, gone.signal);
      }
      if (d.reset) {
        counters.fault(d.policy, d.rule, 'reset');
        req.socket.destroy();
        return;
      }
      if (d.abort) {
        counters.fault(d.policy, d.rule, 'abort');
        req.resume();
        abort(res, d.abort);
        return;
      }
      if (d.rateLimitKbps) counters.fault(d.policy, d.rule, 'rate_limit');
      forward(req, res, d.rateLimitKbps);
      // A throttled response stays an active fault until its last byte left.
      if (d.rateLimitKbps && !res.destroyed) await new Promise((r) => res.once('close', r));
    } catch {
      // the client left during a delay
    } finally {
      res.off('close', onClose);
      slot.release();
    }
  }

  function start(req: IncomingMessage, res: ServerResponse, d: FaultDecision, slot: FaultSlot | null): void {
    if (!slot) {
      counters.overflowed();
      return forward(req, res);
    }
    // The client left while a worker asked its primary for the slot: nothing to do for it.
    if (req.socket.destroyed) return slot.release();
    void inject(req, res, d, slot);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    let d: FaultDecision | null = null;
    try {
      d = deps.policies().decide(new Facts(req, req.method ?? 'GET', pathOf(req.url ?? '/')), deps.draw);
    } catch (err) {
      // Fail open: a matcher bug must never take the service down.
      log.error({ err }, 'fault decision failed; request forwarded unfaulted');
    }
    if (!d) return forward(req, res);
    const decision = d;
    const slot = deps.slots.acquire(d.policy, d.maxActiveFaults);
    if (!(slot instanceof Promise)) return start(req, res, decision, slot);
    slot.then(
      (s) => start(req, res, decision, s),
      (err: unknown) => {
        log.error({ err }, 'fault slot request failed; request forwarded unfaulted');
        forward(req, res);
      },
    );
  }

  return { handle, agent, activeFaults: () => deps.slots.active };
}
