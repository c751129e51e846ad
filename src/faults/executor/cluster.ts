import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdminServer } from './admin.js';
import { policyStreamFor, reporterFor } from './control-plane.js';
import { Backoff } from './backoff.js';
import { systemClock } from './clock.js';
import { FaultCounters } from './counters.js';
import { SlotLedger } from './fault-slots.js';
import type { Executor, ExecutorOptions } from './executor.js';
import { WORKER_CONFIG_ENV, type FromWorker, type ToWorker, type WorkerConfig } from './ipc.js';
import { ExecutorMetrics } from './metrics.js';
import { closeNow, listen, urlOf } from './serve.js';

export interface ClusterOptions extends Omit<ExecutorOptions, 'clock' | 'draw'> {
  /** Proxy processes sharing the listen socket (node:cluster). */
  workers: number;
  /** Log level handed to the workers (they log on their own). */
  logLevel: string;
  /** How often workers send their counts unasked (default 1 s); a scrape or report asks anyway. */
  workerFlushMs?: number;
  /** How long a scrape waits for the workers' counts before answering with what it has. */
  collectTimeoutMs?: number;
}

export interface ClusterExecutor extends Omit<Executor, 'policies'> {
  /** Process ids of the running workers (for operators: `/readyz` lists them). */
  workerPids(): number[];
}

interface Child {
  worker: Worker;
  startedAt: number;
  ready: boolean;
  listening: boolean;
  active: number;
  flushes: Map<number, () => void>;
}

/** The worker entry beside this file, with this file's extension (.ts under tsx, .js when built). */
const workerEntry = () => {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), `worker-main${path.extname(here)}`);
};

/**
 * `vigil executor --workers N`: this process is the primary. It holds the one policy stream to the
 * control plane, the state file, the report and the admin listener, and relays every policy set to
 * N node:cluster workers that share the proxy's listen socket. Workers send the primary what they
 * counted, so `/metrics` shows the sum, and ask it for fault slots when a max_active_faults cap is
 * set, so the cap holds for all of them; a worker that dies is started again (its slots freed).
 */
export async function startExecutorCluster(opts: ClusterOptions): Promise<ClusterExecutor> {
  const log = opts.log;
  const clock = systemClock;
  const policies = policyStreamFor(opts, clock);
  const config: WorkerConfig = {
    listen: opts.listen,
    upstream: opts.upstream.href,
    service: opts.service,
    namespace: opts.namespace,
    maxActiveFaults: opts.maxActiveFaults,
    headerFaults: opts.headerFaults === true,
    maxHeaderSize: opts.maxHeaderSize ?? 256 * 1024,
    logLevel: opts.logLevel,
    flushMs: opts.workerFlushMs ?? 1000,
  };
  const children = new Map<number, Child>();
  // The caps hold for the executor as a whole: one ledger here, workers ask it (fault-slots.ts).
  const slots = new SlotLedger(opts.maxActiveFaults);
  const totals = new FaultCounters();
  let proxyUrl: string | undefined;
  let stopping = false;
  let flushSeq = 0;
  const restartBackoff = new Backoff(100, 5000);

  const sendTo = (c: Child, m: ToWorker) => {
    if (c.worker.isConnected()) c.worker.send(m);
  };
  const policyMessage = (): ToWorker => ({ type: 'policies', ...policies.installedSet });
  policies.onUpdate(() => {
    const m = policyMessage();
    for (const c of children.values()) sendTo(c, m);
  });

  /** Ask every listening worker for its counts; resolves when all answered (or left, or the timeout). */
  const collect = async () => {
    const waits: Promise<void>[] = [];
    for (const c of children.values()) {
      if (!c.listening || !c.worker.isConnected()) continue;
      const id = ++flushSeq;
      waits.push(new Promise<void>((resolve) => c.flushes.set(id, resolve)));
      sendTo(c, { type: 'flush', id });
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(waits), new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.collectTimeoutMs ?? 1000)))]);
    clearTimeout(timer);
  };

  const metrics = new ExecutorMetrics(
    {
      policyState: () => policies.status(),
      activeFaults: () => [...children.values()].reduce((sum, c) => sum + c.active, 0),
      refresh: collect,
    },
    totals,
  );

  let firstListening: (url: string) => void = () => {};
  let startFailed: (err: Error) => void = () => {};
  const started = new Promise<string>((resolve, reject) => {
    firstListening = resolve;
    startFailed = reject;
  });

  cluster.setupPrimary({ exec: workerEntry(), args: [], silent: false });
  const fork = () => {
    const worker = cluster.fork({ [WORKER_CONFIG_ENV]: JSON.stringify(config) });
    const child: Child = { worker, startedAt: Date.now(), ready: false, listening: false, active: 0, flushes: new Map() };
    children.set(worker.id, child);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        child.ready = true;
        sendTo(child, policyMessage());
        // At start-up all listen together, so connections spread over all of them from the first.
        if (proxyUrl !== undefined) sendTo(child, { type: 'listen' });
        else if ([...children.values()].every((c) => c.ready)) for (const c of children.values()) sendTo(c, { type: 'listen' });
      } else if (m.type === 'listening') {
        child.listening = true;
        proxyUrl ??= m.url;
        if ([...children.values()].every((c) => c.listening)) firstListening(m.url);
      } else if (m.type === 'listen-failed') {
        startFailed(new Error(`executor worker could not listen on ${opts.listen.host}:${opts.listen.port}: ${m.message}`));
      } else if (m.type === 'slot-acquire') {
        sendTo(child, { type: 'slot', id: m.id, granted: slots.tryAcquire(worker.id, m.policy, m.policyMax) });
      } else if (m.type === 'slot-release') {
        slots.release(worker.id, m.policy);
      } else if (m.type === 'counts') {
        if (m.counts) totals.add(m.counts);
        child.active = m.active;
        if (m.id !== undefined) {
          child.flushes.get(m.id)?.();
          child.flushes.delete(m.id);
        }
      }
    });
    worker.on('exit', (code, signal) => {
      children.delete(worker.id);
      slots.releaseAll(worker.id);
      for (const done of child.flushes.values()) done();
      if (stopping) return;
      if (!child.listening) {
        startFailed(new Error(`executor worker exited before listening (code ${code}, signal ${signal})`));
        if (proxyUrl === undefined) return;
      }
      // Counts it had not sent yet are lost with it (at most one flush interval's worth).
      if (Date.now() - child.startedAt > 10_000) restartBackoff.reset();
      const wait = restartBackoff.next();
      log.warn({ pid: worker.process.pid, code, signal, restartInMs: Math.round(wait) }, 'executor worker died; starting another');
      setTimeout(() => {
        if (!stopping) fork();
      }, wait).unref();
    });
  };

  const admin = opts.admin
    ? createAdminServer(metrics, () => ({
        ...policies.status(),
        listening: [...children.values()].some((c) => c.listening),
        workers: { wanted: opts.workers, pids: [...children.values()].filter((c) => c.listening).map((c) => c.worker.process.pid ?? 0) },
      }))
    : undefined;
  const reporter = reporterFor(opts, clock, policies, () => metrics.freshInjectedCounts());

  const adminAddr = admin && opts.admin ? await listen(admin, opts.admin) : undefined;
  for (let i = 0; i < opts.workers; i++) fork();
  let url: string;
  try {
    url = await started;
  } catch (err) {
    stopping = true;
    for (const c of children.values()) c.worker.process.kill('SIGKILL');
    admin?.close();
    throw err;
  }
  policies.start();
  reporter?.start();
  log.info({ listen: url, workers: opts.workers, upstream: opts.upstream.href, admin: adminAddr && urlOf(adminAddr), server: opts.server?.href }, 'executor listening');

  let stopped: Promise<void> | undefined;
  const stop = (drainMs = 10_000) =>
    (stopped ??= (async () => {
      stopping = true;
      const exits = [...children.values()].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.worker.isDead()) return resolve();
            c.worker.once('exit', () => resolve());
            sendTo(c, { type: 'stop', drainMs });
          }),
      );
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(exits), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs + 5000)))]);
      clearTimeout(timer);
      // Past the drain and a grace period: whatever is left is stuck.
      for (const c of children.values()) c.worker.process.kill('SIGKILL');
      await policies.stop();
      await reporter?.stop();
      if (admin) await closeNow(admin);
      log.info('executor stopped');
    })());

  return {
    url,
    adminUrl: adminAddr && urlOf(adminAddr),
    metrics,
    stop,
    workerPids: () => [...children.values()].map((c) => c.worker.process.pid ?? 0),
  };
}
