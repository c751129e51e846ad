/**
 * Bus throughput (the bus half of the bus/blob benchmark; the blob half is bench/blob.ts): messages/s
 * through one work queue with 1 KiB payloads, publish → handler → ack, until every message is handled
 * (and, on NATS, every ack has removed its message from the work-queue stream).
 *
 * Contenders, interleaved round by round:
 *  - Vigil in-process bus (MemoryBus);
 *  - Vigil NATS bus (NatsBus: JetStream publish with Nats-Msg-Id, durable pull consumer, pulls sized
 *    to free handler slots, handler run, ack);
 *  - peer: raw JetStream with the same client, `nats bench` style: js.publish of pre-encoded bytes with
 *    Nats-Msg-Id into an identical stream, consumer.consume() (client-side buffering of 256), ack each.
 * All publish with the same window of concurrent publishes. Ratio = Vigil msgs/s ÷ peer msgs/s.
 * NATS rows need VIGIL_BENCH_NATS_URL (or VIGIL_TEST_NATS_URL).
 *
 *   npx tsx bench/bus-blob.ts          (BUS_BENCH_MESSAGES=20000, BUS_BENCH_ROUNDS=3, BUS_BENCH_CONCURRENCY=64)
 */
import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { MemoryBus, NatsBus, type Bus } from '../src/platform/backends/bus/index.js';
import { isMain, report, round, type Row } from './lib/report.js';

const N = Number(process.env.BUS_BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BUS_BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BUS_BENCH_CONCURRENCY ?? 64);
const PUBLISH_WINDOW = 256;
const PAD = 'x'.repeat(1000);
const payload = (i: number) => ({ i, pad: PAD }); // ≈ 1 KiB of JSON

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Run pub(i) for i < n with at most `window` in flight. */
async function publishAll(n: number, pub: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: PUBLISH_WINDOW }, async () => {
      while (next < n) await pub(next++);
    }),
  );
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One round through a Vigil bus: seconds from first publish to the last message handled (and acked). */
async function vigilRound(bus: Bus, queue: string, acked: () => Promise<boolean>): Promise<number> {
  await bus.ensureQueue({ name: queue, ackWaitMs: 60_000 });
  let handled = 0;
  const sub = await bus.consume(queue, { group: 'bench', concurrency: CONCURRENCY }, async () => void handled++);
  const run = randomBytes(4).toString('hex');
  const t0 = performance.now();
  await publishAll(N, (i) => bus.publish(queue, payload(i), { msgId: `${run}-${i}` }));
  await waitFor(() => handled >= N, 'every message handled');
  await waitFor(acked, 'every ack applied');
  const s = (performance.now() - t0) / 1000;
  await sub.close();
  return s;
}

export async function benchBus(): Promise<Row[]> {
  const times: Record<string, number[]> = { memory: [], nats: [], raw: [] };
  const natsUrl = process.env.VIGIL_BENCH_NATS_URL ?? process.env.VIGIL_TEST_NATS_URL;
  if (!natsUrl) console.log('[skip] NATS: set VIGIL_BENCH_NATS_URL (or VIGIL_TEST_NATS_URL) to include the NATS rows');
  const prefix = `bench-${Date.now().toString(36)}`;
  const nc = natsUrl ? await connect({ servers: natsUrl }) : undefined;
  const jsm = nc ? await jetstreamManager(nc) : undefined;
  const js = nc ? jetstream(nc) : undefined;
  const natsBus = natsUrl ? await NatsBus.connect(natsUrl, { prefix }) : undefined;
  const streamEmpty = (stream: string) => async () => (await jsm!.streams.info(stream)).state.messages === 0;

  /** The peer: the same client, no port in between. */
  const rawRound = async (r: number): Promise<number> => {
    const stream = `${prefix}_raw_${r}`;
    const subject = `${prefix}.raw.${r}`;
    await jsm!.streams.add({ name: stream, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File, duplicate_window: nanos(120_000) });
    await jsm!.consumers.add(stream, { durable_name: 'bench', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: nanos(60_000) });
    const consumer = await js!.consumers.get(stream, 'bench');
    const bodies = Array.from({ length: N }, (_, i) => new TextEncoder().encode(JSON.stringify(payload(i))));
    let handled = 0;
    const messages = await consumer.consume({ max_messages: 256 });
    const reading = (async () => {
      for await (const m of messages) {
        m.json();
        m.ack();
        if (++handled >= N) break;
      }
    })();
    const t0 = performance.now();
    await publishAll(N, (i) => js!.publish(subject, bodies[i], { msgID: `${r}-${i}` }));
    await reading;
    await waitFor(streamEmpty(stream), 'every raw ack applied');
    const s = (performance.now() - t0) / 1000;
    await messages.close();
    return s;
  };

  try {
    for (let r = 0; r < ROUNDS; r++) {
      const mem = new MemoryBus();
      times.memory.push(await vigilRound(mem, `mem.r${r}`, async () => true));
      await mem.close();
      if (natsBus) {
        times.nats.push(await vigilRound(natsBus, `nats.r${r}`, streamEmpty(`${prefix}_q_nats_r${r}`)));
        times.raw.push(await rawRound(r));
      }
    }
  } finally {
    await natsBus?.close();
    if (jsm) for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix}_`)) await jsm.streams.delete(name);
    await nc?.close();
  }

  const rate = (k: string) => N / median(times[k]);
  const peer = times.raw.length ? rate('raw') : undefined;
  const rows: Row[] = [];
  const add = (contender: string, k: string) =>
    times[k].length &&
    rows.push({
      contender,
      'msgs/s (median)': round(rate(k), 0),
      'MiB/s': round((rate(k) * 1024) / (1024 * 1024), 1),
      'vs raw JetStream': peer ? `${round((100 * rate(k)) / peer, 0)}%` : 'n/a',
    });
  add('Vigil in-process bus', 'memory');
  add(`Vigil NATS bus (concurrency ${CONCURRENCY})`, 'nats');
  add('peer: raw JetStream publish + consume, same client', 'raw');
  return report('bus', `Bus work queue: ${N} messages of 1 KiB, publish → handle → ack, window ${PUBLISH_WINDOW}; median of ${ROUNDS} rounds`, rows);
}

export async function run(): Promise<Row[]> {
  return benchBus();
}

if (isMain(import.meta.url)) await run();
