import { Type } from '@sinclair/typebox';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusMessage } from '../../src/platform/backends/bus/index.js';
import { defineConsumer } from '../../src/platform/backends/bus/consumers.js';
import type { VigilModule } from '../../src/platform/module.js';
import { deleteStreams, uniqueId } from '../support/backends.js';
import { engineUrl } from '../support/env.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

/** A module with one consumer that remembers what it handled. */
function echoModule(seen: string[]): VigilModule {
  return {
    name: 'echo',
    consumers: () => [defineConsumer<{ v: string }>({ queue: { name: 'echo.work' }, group: 'echo', schema: Type.Object({ v: Type.String() }), handle: async (m) => void seen.push(m.data.v) })],
  };
}

describe('module consumers in the server process', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('vigil server runs module consumers in process and reports the bus in /readyz', async () => {
    const seen: string[] = [];
    t = await startTestServer({ modules: [echoModule(seen)] });
    await t.server.ctx.bus.publish('echo.work', { v: 'hello' }, { msgId: 'h1' });
    await waitFor('the in-process consumer', () => seen.length === 1, 20_000);
    expect(seen).toEqual(['hello']);
    const r = await fetch(`${t.url}/readyz`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { checks: object }).checks).toMatchObject({ 'bus:memory': { ok: true } });
  });

  it('with --no-workers (worker.inProcess=false) the queue is declared but nothing here consumes it', async () => {
    const seen: string[] = [];
    t = await startTestServer({ modules: [echoModule(seen)], flags: { 'worker.inProcess': false } });
    // Publishing works (the queue exists) and the message waits for a worker; a consumer added now gets it.
    await t.server.ctx.bus.publish('echo.work', { v: 'queued' }, { msgId: 'q1' });
    const later: string[] = [];
    const sub = await t.server.ctx.bus.consume('echo.work', { group: 'echo', concurrency: 1 }, async (m: BusMessage<{ v: string }>) => void later.push(m.data.v));
    await waitFor('the late consumer', () => later.length === 1, 20_000);
    await sub.close();
    expect(later).toEqual(['queued']);
    expect(seen).toEqual([]);
  });

  it('a server whose NATS is unreachable does not start, and says which URL', async () => {
    await expect(startTestServer({ modules: [], flags: { 'nats.url': 'nats://127.0.0.1:1' } })).rejects.toThrow(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  });

  const natsUrl = engineUrl('NATS');
  it.skipIf(!natsUrl)('on NATS, /readyz reports bus:nats', async () => {
    const prefix = uniqueId('srv').replaceAll('_', '-');
    const seen: string[] = [];
    try {
      t = await startTestServer({ modules: [echoModule(seen)], flags: { 'nats.url': natsUrl, 'nats.prefix': prefix } });
      await t.server.ctx.bus.publish('echo.work', { v: 'over nats' }, { msgId: 'n1' });
      await waitFor('the consumer on NATS', () => seen.length === 1, 20_000);
      const r = await fetch(`${t.url}/readyz`);
      expect(((await r.json()) as { checks: object }).checks).toMatchObject({ 'bus:nats': { ok: true } });
      await t.stop();
      t = undefined;
    } finally {
      await deleteStreams(natsUrl!, `${prefix}_`);
    }
  });
});
