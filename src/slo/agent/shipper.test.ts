import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Shipper } from './shipper.js';
import { Spool } from './spool.js';
import { waitFor } from '../../../test/support/wait.js';

const log = pino({ level: 'silent' });

interface Received {
  seq: number;
  status: number;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/**
 * A snapshot endpoint answering with `plan(n)` for the n-th request (0-based): a status, 'drop' (reset
 * the connection) or 'duplicate' (what the server answers for a seq it already has: 200 with status "duplicate").
 */
async function server(plan: (n: number, seq: number) => number | 'drop' | 'duplicate'): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  let n = 0;
  const srv: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8')) as { seq: number };
      const action = plan(n++, body.seq);
      if (action === 'drop') {
        received.push({ seq: body.seq, status: 0, headers: req.headers, body });
        req.socket.destroy();
        return;
      }
      if (action === 'duplicate') {
        received.push({ seq: body.seq, status: 200, headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'duplicate', cluster_id: 'c1', agent_id: 'a1', seq: body.seq, rows: {} }));
        return;
      }
      received.push({ seq: body.seq, status: action, headers: req.headers, body });
      res.writeHead(action, { 'content-type': 'application/json' });
      res.end(action < 300 ? JSON.stringify({ status: 'accepted', cluster_id: 'c1', agent_id: 'a1', seq: body.seq, rows: {} }) : '{"error":"nope"}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise((r) => srv.close(() => r())) };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function setup(url: string, count: number) {
  const spool = new Spool({ dir: '', maxBytes: 1e6, initialSeq: () => 100 });
  for (let i = 0; i < count; i++) {
    const seq = spool.nextSeq();
    spool.push(seq, gzipSync(JSON.stringify({ seq, cluster_id: 'c1' })));
  }
  const outcomes: string[] = [];
  const shipper = new Shipper({
    serverUrl: url + '/',
    token: 'agent-token-123',
    clusterId: 'c1',
    agentId: 'a1',
    spool,
    log,
    initialBackoffMs: 5,
    maxBackoffMs: 40,
    onAttempt: (o, seq) => outcomes.push(`${seq}:${o}`),
  });
  closers.unshift(() => shipper.stop());
  return { spool, shipper, outcomes };
}

describe('snapshot shipper', () => {
  it('drained() answers false as soon as the shipper stops with snapshots still spooled', async () => {
    const spool = new Spool({ dir: '', maxBytes: 1e6, initialSeq: () => 1 });
    spool.push(spool.nextSeq(), gzipSync('{}'));
    let attempts = 0;
    const shipper = new Shipper({
      serverUrl: 'http://127.0.0.1:9',
      token: 't',
      clusterId: 'c1',
      agentId: 'a1',
      spool,
      log,
      // An attempt that lasts until the shipper aborts it: the spool cannot drain.
      fetch: (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          attempts++;
          init?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    });
    shipper.start();
    const answer = shipper.drained(600_000);
    await waitFor('the first attempt', () => attempts === 1);
    await shipper.stop();
    expect(await answer).toBe(false);
    expect(spool.depth).toBe(1);
  });

  it('retries with backoff until the server takes it, then sends the rest in order, each acknowledged seq once', async () => {
    const srv = await server((n) => (n < 3 ? 503 : 202));
    closers.push(srv.close);
    const { spool, shipper, outcomes } = setup(srv.url, 3);
    shipper.start();
    expect(await shipper.drained(10_000)).toBe(true);
    expect(spool.depth).toBe(0);
    expect(outcomes).toEqual(['100:retry', '100:retry', '100:retry', '100:ok', '101:ok', '102:ok']);
    const accepted = srv.received.filter((r) => r.status === 202).map((r) => r.seq);
    expect(accepted).toEqual([100, 101, 102]);
    expect(shipper.failures).toBe(3);
    expect(shipper.shipped).toBe(3);
    // Nothing is sent again once acknowledged: the next request carries the next snapshot.
    const seq = spool.nextSeq();
    spool.push(seq, gzipSync(JSON.stringify({ seq, cluster_id: 'c1' })));
    shipper.kick();
    expect(await shipper.drained(10_000)).toBe(true);
    expect(srv.received.map((r) => r.seq)).toEqual([100, 100, 100, 100, 101, 102, 103]);
    const h = srv.received[0].headers;
    expect(h.authorization).toBe('Bearer agent-token-123');
    expect(h['content-encoding']).toBe('gzip');
    expect(h['content-type']).toBe('application/json');
    expect(h['idempotency-key']).toBe('c1/a1/100');
  });

  it('retries after connection resets and timeouts of the network', async () => {
    const srv = await server((n) => (n < 2 ? 'drop' : 200));
    closers.push(srv.close);
    const { spool, shipper, outcomes } = setup(srv.url, 2);
    shipper.start();
    expect(await shipper.drained(10_000)).toBe(true);
    expect(spool.depth).toBe(0);
    expect(outcomes).toEqual(['100:retry', '100:retry', '100:ok', '101:ok']);
    expect(shipper.lastError).toBeDefined();
  });

  it('takes the server\'s duplicate answer as delivered and drops bodies the server refuses for good (400), counting them', async () => {
    const srv = await server((_n, seq) => (seq === 100 ? 'duplicate' : seq === 101 ? 400 : 200));
    closers.push(srv.close);
    const { spool, shipper, outcomes } = setup(srv.url, 3);
    shipper.start();
    expect(await shipper.drained(10_000)).toBe(true);
    expect(outcomes).toEqual(['100:duplicate', '101:rejected', '102:ok']);
    expect(shipper.rejected).toBe(1);
    expect(spool.depth).toBe(0);
  });

  it('keeps retrying on 401 (a token can be fixed) and leaves unsent snapshots spooled when stopped', async () => {
    const srv = await server(() => 401);
    closers.push(srv.close);
    const { spool, shipper } = setup(srv.url, 2);
    shipper.start();
    await waitFor('the first snapshot to be sent again after a 401', () => srv.received.length >= 2);
    await shipper.stop();
    expect(spool.seqs()).toEqual([100, 101]);
    expect(srv.received.every((r) => r.seq === 100)).toBe(true);
  });
});
