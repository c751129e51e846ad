import type { Logger } from 'pino';
import { systemClock } from './clock.js';
import { FaultCounters } from './counters.js';
import { RemoteFaultSlots } from './fault-slots.js';
import { WORKER_CONFIG_ENV, type FromWorker, type ToWorker, type WorkerConfig } from './ipc.js';
import { PolicyStream } from './policy-stream.js';
import { createProxy } from './proxy.js';
import { drain, listen, proxyServer, urlOf } from './serve.js';

const send = (m: FromWorker, then?: () => void) => process.send?.(m, undefined, undefined, then);

/**
 * One `vigil executor --workers N` child: the proxy alone, on the listen socket it shares with its
 * siblings. Its primary owns the control plane, the state file, the report and the admin port; it
 * sends the policies here, and this sends back what it counted.
 */
export async function runExecutorWorker(makeLog: (level: string) => Logger): Promise<void> {
  const cfg = JSON.parse(process.env[WORKER_CONFIG_ENV] ?? '') as WorkerConfig;
  const log = makeLog(cfg.logLevel);
  const policies = new PolicyStream({ target: { service: cfg.service, namespace: cfg.namespace, headerFaults: cfg.headerFaults }, clock: systemClock, log });
  const counters = new FaultCounters();
  const slots = new RemoteFaultSlots(cfg.maxActiveFaults !== undefined, (m, onError) => {
    if (!process.send) return onError();
    process.send(m, undefined, undefined, (err) => err && onError());
  });
  const proxy = createProxy({
    upstream: new URL(cfg.upstream),
    policies: () => policies.current,
    counters,
    clock: systemClock,
    draw: Math.random,
    log,
    slots,
    maxHeaderSize: cfg.maxHeaderSize,
  });
  const server = proxyServer(proxy, cfg.maxHeaderSize);
  let lastActive = 0;
  const report = (id?: number, then?: () => void) => {
    const active = proxy.activeFaults();
    if (id === undefined && !counters.touched && active === lastActive) return then?.();
    lastActive = active;
    send({ type: 'counts', id, counts: counters.touched ? counters.drain() : undefined, active }, then);
  };
  const ticker = setInterval(() => report(), cfg.flushMs);
  ticker.unref();

  // The primary orchestrates shutdown: a Ctrl-C reaching the whole process group must not cut
  // this worker's in-flight requests short.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  // Without its primary nobody scrapes, reports or restarts: go.
  process.on('disconnect', () => process.exit(0));

  let listening = false;
  let stopping = false;
  process.on('message', (m: ToWorker) => {
    if (m.type === 'policies') policies.adopt(m.policies, m.version);
    else if (m.type === 'listen' && !listening) {
      // The primary says when: after the policies (no request goes through unchecked) and, at
      // start-up, once every worker is loaded (the first to listen would get every connection).
      listening = true;
      listen(server, cfg.listen).then(
        (addr) => send({ type: 'listening', url: urlOf(addr) }),
        (err: Error) => send({ type: 'listen-failed', message: err.message }, () => process.exit(1)),
      );
    } else if (m.type === 'slot') slots.answer(m);
    else if (m.type === 'flush') report(m.id);
    else if (m.type === 'stop' && !stopping) {
      stopping = true;
      void (async () => {
        await drain(server, m.drainMs);
        clearInterval(ticker);
        proxy.agent.destroy();
        await policies.stop();
        send({ type: 'counts', counts: counters.touched ? counters.drain() : undefined, active: 0 }, () => process.exit(0));
      })();
    }
  });
  // Messages sent before this listener existed were dropped: only now may the primary send policies.
  send({ type: 'ready' });
}
