import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect as connectTcp, createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { BusUsageError, UnknownQueueError, openBus, type BusMessage } from '../../src/platform/backends/bus/index.js';
import { busCases, type BusHarness } from '../support/backends.js';
import { requireAll } from '../support/env.js';
import { waitFor } from '../support/wait.js';

/** Wait (advancing the harness clock between probes) until cond holds, for at most 20 s of real time. */
async function eventually(h: BusHarness, cond: () => boolean, what: string, stepMs = 50): Promise<void> {
  await waitFor(
    what,
    async () => {
      if (cond()) return true;
      await h.advance(stepMs);
      return cond();
    },
    20_000,
  );
}

/** Wait (advancing the harness clock between reads) until ok(value), for at most 20 s; returns that value. */
async function polled<T>(h: BusHarness, read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const hit = await waitFor(
    what,
    async () => {
      const v = await read();
      if (ok(v)) return { v };
      await h.advance(20);
      return undefined;
    },
    20_000,
  );
  return hit.v;
}

/** A promise the test resolves when it chooses. */
function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

const counter = async (reg: Registry, name: string, labels: Record<string, string>) => {
  const m = (await reg.getSingleMetric(name)?.get())?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return m?.value ?? 0;
};

for (const c of busCases()) {
  describe.skipIf(!c.open)(`bus port contract: ${c.name}`, () => {
    let h: BusHarness;
    let registry: Registry;
    const cleanups: (() => void)[] = [];
    const open = async () => {
      registry = new Registry();
      h = await c.open!({ registry });
      return h;
    };
    afterEach(async () => {
      for (const f of cleanups.splice(0)) f();
      await h?.dispose();
    });

    it('hands each message to one consumer of the group; resolve acks it', async () => {
      const { bus } = await open();
      await bus.ensureQueue({ name: 'work.spread' });
      const ids = Array.from({ length: 20 }, (_, i) => `m${i}`);
      for (const id of ids) await bus.publish('work.spread', { id }, { msgId: id });
      const peer = await h.peer();
      await peer.ensureQueue({ name: 'work.spread' });
      const seen: string[] = [];
      const handler = async (m: BusMessage<{ id: string }>) => void seen.push(m.data.id);
      await bus.consume('work.spread', { group: 'g', concurrency: 2 }, handler);
      await peer.consume('work.spread', { group: 'g', concurrency: 2 }, handler);
      await eventually(h, () => seen.length >= 20, '20 messages');
      // Anything redelivered after an ack would show up as a 21st handling.
      await bus.publish('work.spread', { id: 'last' }, { msgId: 'last' });
      await eventually(h, () => seen.includes('last'), 'the last message');
      expect([...seen].sort()).toEqual([...ids, 'last'].sort());
      expect(await counter(registry, 'vigil_bus_messages_handled_total', { queue: 'work.spread' })).toBeGreaterThan(0);
    });

    it('redelivers to another consumer when one dies holding a message (at-least-once)', async () => {
      const { bus } = await open();
      await bus.ensureQueue({ name: 'work.die', ackWaitMs: 1000 });
      const hung = gate();
      cleanups.push(hung.open);
      let firstSignal: AbortSignal | undefined;
      const firstGot: BusMessage[] = [];
      // The first consumer takes the message and never answers: the broker cannot tell it from a dead process.
      await bus.consume('work.die', { group: 'g', concurrency: 1 }, async (m, signal) => {
        firstGot.push(m);
        firstSignal = signal;
        await hung.p;
      });
      await bus.publish('work.die', { n: 7 }, { msgId: 'die-1' });
      await eventually(h, () => firstGot.length === 1, 'the first delivery', 0);
      const peer = await h.peer();
      await peer.ensureQueue({ name: 'work.die', ackWaitMs: 1000 });
      const secondGot: BusMessage[] = [];
      await peer.consume('work.die', { group: 'g', concurrency: 1 }, async (m) => void secondGot.push(m));
      await eventually(h, () => secondGot.length === 1, 'the redelivery');
      expect(secondGot[0]).toMatchObject({ id: 'die-1', queue: 'work.die', data: { n: 7 }, attempt: 2 });
      expect(firstGot[0].attempt).toBe(1);
      await eventually(h, () => firstSignal!.aborted, 'the hung handler to be told its ack wait expired');
    });

    it('handles a duplicate publish exactly once', async () => {
      const { bus } = await open();
      await bus.ensureQueue({ name: 'work.dup' });
      expect(await bus.publish('work.dup', { v: 'a' }, { msgId: 'same' })).toEqual({ duplicate: false });
      expect(await bus.publish('work.dup', { v: 'a-again' }, { msgId: 'same' })).toEqual({ duplicate: true });
      await bus.publish('work.dup', { v: 'b' }, { msgId: 'other' });
      await bus.publish('work.dup', { v: 'end' }, { msgId: 'end' });
      const got: string[] = [];
      await bus.consume('work.dup', { group: 'g', concurrency: 1 }, async (m: BusMessage<{ v: string }>) => void got.push(m.data.v));
      await eventually(h, () => got.includes('end'), 'the sentinel');
      expect(got).toEqual(['a', 'b', 'end']);
    });

    it('dead-letters a poison message after maxDeliver with its last error, counts it, and keeps the queue moving', async () => {
      const { bus } = await open();
      await bus.ensureQueue({ name: 'work.poison', maxDeliver: 3, backoffMs: [20, 40] });
      const attempts: number[] = [];
      const fine: string[] = [];
      await bus.consume('work.poison', { group: 'g', concurrency: 1 }, async (m: BusMessage<{ bad?: boolean; v: string }>) => {
        if (!m.data.bad) return void fine.push(m.data.v);
        attempts.push(m.attempt);
        throw new Error(`boom on attempt ${m.attempt}`);
      });
      await bus.publish('work.poison', { bad: true, v: 'p' }, { msgId: 'poison' });
      await bus.publish('work.poison', { v: 'ok' }, { msgId: 'ok' });
      await eventually(h, () => attempts.length === 3 && fine.includes('ok'), 'three attempts and the good message', 20);
      const dead = await polled(h, () => bus.deadLetters('work.poison'), (d) => d.length > 0, 'the dead letter');
      expect(attempts).toEqual([1, 2, 3]);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ id: 'poison', queue: 'work.poison', data: { bad: true, v: 'p' }, attempts: 3, reason: 'failed', error: 'boom on attempt 3' });
      expect(await counter(registry, 'vigil_bus_messages_dead_lettered_total', { queue: 'work.poison', reason: 'failed' })).toBe(1);
      expect(await counter(registry, 'vigil_bus_messages_failed_total', { queue: 'work.poison' })).toBe(3);
      expect(await counter(registry, 'vigil_bus_messages_redelivered_total', { queue: 'work.poison' })).toBe(2);
    });

    it('dead-letters a message whose deliveries all time out, with reason timeout', async () => {
      const { bus } = await open();
      await bus.ensureQueue({ name: 'work.slow', ackWaitMs: 1000, maxDeliver: 2 });
      const attempts: number[] = [];
      // Never answers in time; gives up (and frees its slot) when told the ack wait expired.
      await bus.consume('work.slow', { group: 'g', concurrency: 1 }, async (m, signal) => {
        attempts.push(m.attempt);
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
      });
      await bus.publish('work.slow', { v: 1 }, { msgId: 'slow' });
      const dead = await polled(h, () => bus.deadLetters('work.slow'), (d) => d.length > 0, 'the dead letter');
      expect(attempts).toEqual([1, 2]);
      expect(dead[0]).toMatchObject({ id: 'slow', reason: 'timeout', attempts: 3 });
      expect(dead[0].error).toMatch(/not acknowledged within 1000 ms/);
      expect(await counter(registry, 'vigil_bus_messages_dead_lettered_total', { queue: 'work.slow', reason: 'timeout' })).toBe(1);
    });

    it('dead-letters a payload that fails the consumer schema at once, without running the handler', async () => {
      const { bus } = await open();
      await bus.ensureQueue({ name: 'work.schema', maxDeliver: 5 });
      const got: unknown[] = [];
      const schema = Type.Object({ n: Type.Integer() });
      await bus.consume('work.schema', { group: 'g', concurrency: 1, schema }, async (m) => void got.push(m.data));
      await bus.publish('work.schema', { n: 'seven' }, { msgId: 'bad' });
      await bus.publish('work.schema', { n: 7 }, { msgId: 'good' });
      await eventually(h, () => got.length === 1, 'the valid message');
      const dead = await polled(h, () => bus.deadLetters('work.schema'), (d) => d.length > 0, 'the dead letter');
      expect(got).toEqual([{ n: 7 }]);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ id: 'bad', reason: 'invalid', attempts: 1, data: { n: 'seven' } });
      expect(dead[0].error).toMatch(/invalid payload: \/n /);
    });

    it('delivers in publish order to a consumer of concurrency 1', async () => {
      const { bus } = await open();
      await bus.ensureQueue({ name: 'work.order' });
      const sent = Array.from({ length: 30 }, (_, i) => i);
      for (const i of sent) await bus.publish('work.order', { i }, { msgId: `o${i}` });
      const got: number[] = [];
      await bus.consume('work.order', { group: 'g', concurrency: 1 }, async (m: BusMessage<{ i: number }>) => void got.push(m.data.i));
      await eventually(h, () => got.length === 30, 'all 30');
      expect(got).toEqual(sent);
    });

    it('drains gracefully: in-flight handlers finish and are acked, the rest waits for the next consumer', async () => {
      const { bus } = await open();
      await bus.ensureQueue({ name: 'work.drain' });
      for (let i = 0; i < 6; i++) await bus.publish('work.drain', { i }, { msgId: `d${i}` });
      const started: number[] = [];
      const finished: number[] = [];
      const release = gate();
      cleanups.push(release.open);
      await bus.consume('work.drain', { group: 'g', concurrency: 3 }, async (m: BusMessage<{ i: number }>) => {
        started.push(m.data.i);
        await release.p;
        finished.push(m.data.i);
      });
      await eventually(h, () => started.length === 3, 'three in flight', 0);
      let drained = false;
      const draining = bus.drain().then(() => (drained = true));
      await h.advance(0);
      expect(drained).toBe(false);
      release.open();
      await draining;
      // Drain returned only after every handler it had started finished.
      expect([...finished].sort()).toEqual([...started].sort());
      expect(started).toHaveLength(3);

      const peer = await h.peer();
      await peer.ensureQueue({ name: 'work.drain' });
      const later: number[] = [];
      await peer.consume('work.drain', { group: 'g', concurrency: 3 }, async (m: BusMessage<{ i: number }>) => void later.push(m.data.i));
      await eventually(h, () => later.length >= 3, 'the other three');
      await peer.publish('work.drain', { i: 99 }, { msgId: 'd99' });
      await eventually(h, () => later.includes(99), 'the sentinel');
      // Nothing lost, nothing handled twice.
      expect([...finished, ...later].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 99]);
    });

    it('never runs more handlers than the concurrency limit (back-pressure)', async () => {
      const { bus } = await open();
      await bus.ensureQueue({ name: 'work.limit' });
      for (let i = 0; i < 12; i++) await bus.publish('work.limit', { i }, { msgId: `l${i}` });
      let running = 0;
      let max = 0;
      let done = 0;
      const gates: (() => void)[] = [];
      await bus.consume('work.limit', { group: 'g', concurrency: 4 }, async () => {
        running++;
        max = Math.max(max, running);
        await new Promise<void>((r) => gates.push(r));
        running--;
        done++;
      });
      await eventually(h, () => running === 4, 'four running', 0);
      // Two full round trips to the broker: room for a fifth delivery to show up if one were sent.
      await bus.ping();
      await bus.ping();
      await h.advance(0);
      expect(running).toBe(4);
      while (done < 12) {
        gates.splice(0).forEach((g) => g());
        await eventually(h, () => gates.length > 0 || done === 12, 'next handlers', 0);
      }
      expect(max).toBe(4);
    });

    it('fans events out to every subscriber on every replica', async () => {
      const { bus } = await open();
      const peer = await h.peer();
      const a: unknown[] = [];
      const b: unknown[] = [];
      await bus.subscribeEvents('batch.b1.progress', (d) => a.push(d));
      const subB = await peer.subscribeEvents('batch.b1.progress', (d) => b.push(d));
      await bus.publishEvent('batch.b1.progress', { done: 1 });
      await bus.publishEvent('batch.other.progress', { done: 'not for us' });
      await eventually(h, () => a.length === 1 && b.length === 1, 'both subscribers', 0);
      await subB.close();
      await peer.publishEvent('batch.b1.progress', { done: 2 });
      await eventually(h, () => a.length === 2, 'the second event', 0);
      expect(a).toEqual([{ done: 1 }, { done: 2 }]);
      expect(b).toEqual([{ done: 1 }]);
    });

    it('refuses unknown queues, bad names, a second group and payloads that are not JSON', async () => {
      const { bus } = await open();
      await expect(bus.publish('never.declared', {}, { msgId: 'x' })).rejects.toBeInstanceOf(UnknownQueueError);
      await expect(bus.ensureQueue({ name: 'Bad Name!' })).rejects.toBeInstanceOf(BusUsageError);
      await expect(bus.ensureQueue({ name: 'ok', maxDeliver: 0 })).rejects.toThrow(/maxDeliver/);
      await bus.ensureQueue({ name: 'work.groups' });
      await expect(bus.publish('work.groups', undefined, { msgId: 'u' })).rejects.toBeInstanceOf(BusUsageError);
      await bus.consume('work.groups', { group: 'first', concurrency: 1 }, async () => {});
      await expect(bus.consume('work.groups', { group: 'second', concurrency: 1 }, async () => {})).rejects.toThrow(/one group/);
      await expect(bus.subscribeEvents('a.*', () => {})).rejects.toBeInstanceOf(BusUsageError);
    });
  });
}

describe('bus start-up', () => {
  it('an unreachable NATS is an error naming the URL, without its password', async () => {
    await expect(openBus('nats://vigil:s3cret@127.0.0.1:1')).rejects.toThrow(/cannot connect to NATS at nats:\/\/vigil:\*\*\*@127\.0\.0\.1:1/);
    await expect(openBus('nats://vigil:s3cret@127.0.0.1:1')).rejects.not.toThrow(/s3cret/);
  });
  it('a URL that is not nats:// is refused', async () => {
    await expect(openBus('http://127.0.0.1:4222')).rejects.toThrow(/nats\.url must be nats:\/\//);
  });
  it('an empty URL is the in-process bus', async () => {
    const bus = await openBus('');
    expect(bus.kind).toBe('memory');
    await bus.close();
  });
});

const natsServerBin = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => existsSync(p));
if (!natsServerBin) {
  if (requireAll) throw new Error('nats-server binary not found but VIGIL_TEST_REQUIRE_ALL=1 (apt-get install nats-server)');
  console.warn('[skip] nats-server binary not found; the NATS restart test needs its own server (apt-get install nats-server)');
}

describe.skipIf(!natsServerBin)('bus on NATS across a server restart', () => {
  const freePort = () =>
    new Promise<number>((resolve, reject) => {
      const s = createNetServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
      s.on('error', reject);
    });
  let child: ChildProcess | undefined;
  let storeDir = '';
  const startServer = async (port: number) => {
    child = spawn(natsServerBin!, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: 'ignore' });
    await waitFor(
      'nats-server to accept connections',
      () =>
        new Promise<boolean>((r) => {
          const sock = connectTcp(port, '127.0.0.1', () => (sock.destroy(), r(true))).on('error', () => r(false));
        }),
      15_000,
    );
  };
  const stopServer = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  afterEach(async () => {
    await stopServer();
    if (storeDir) await rm(storeDir, { recursive: true, force: true });
  });

  it('keeps acked messages acked and unacked ones pending, and resumes consuming and publishing', async () => {
    const port = await freePort();
    storeDir = mkdtempSync(path.join(tmpdir(), 'vigil-nats-'));
    await startServer(port);
    const bus = await openBus(`nats://127.0.0.1:${port}`, { prefix: 'restart' });
    try {
      await bus.ensureQueue({ name: 'work.restart', ackWaitMs: 2000 });
      for (let i = 0; i < 6; i++) await bus.publish('work.restart', { i }, { msgId: `r${i}` });
      const handled: number[] = [];
      const held = gate();
      await bus.consume('work.restart', { group: 'g', concurrency: 1 }, async (m: BusMessage<{ i: number }>) => {
        // The fourth message is in hand (unacked) when the server goes away.
        if (m.data.i === 3 && m.attempt === 1) await held.p;
        handled.push(m.data.i);
      });
      const noClock = { advance: async () => {} } as unknown as BusHarness;
      await eventually(noClock, () => handled.length === 3, 'the first three');

      await stopServer();
      await expect(bus.ping()).rejects.toThrow();
      held.open();
      await startServer(port);

      await polled(noClock, () => bus.publish('work.restart', { i: 6 }, { msgId: 'r6' }).then(() => true, () => false), (ok) => ok, 'a publish after the restart');
      await eventually(noClock, () => [3, 4, 5, 6].every((i) => handled.includes(i)), 'every message after the restart');
      await bus.ping();
      expect(handled.slice(0, 3)).toEqual([0, 1, 2]);
      // Acked before the restart: never again. In hand during it: at least once.
      expect(handled.filter((i) => i < 3)).toEqual([0, 1, 2]);
      expect(new Set(handled)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
    } finally {
      await bus.close();
    }
  });
});
