/**
 * GET /v1/config/stream: full_config, then an update on every change (on this replica or on
 * another one sharing the database), keepalive comments; expiry removed by one leader.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { call, faultBackends, json, SseClient, startFaultServer, type FaultServer } from './helpers.js';
import { waitFor } from '../support/wait.js';

const policy = (name: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name },
  spec: { rules: [{ match: { path: { prefix: '/' } }, fault: { percentage: 100, abort: { httpStatus: 503 } } }], ...extra },
});

const names = (data: string) => (JSON.parse(data) as { metadata: { name: string } }[]).map((p) => p.metadata.name);

for (const backend of faultBackends()) {
  describe.skipIf(!backend.available)(`policy stream (${backend.name})`, () => {
    const servers: FaultServer[] = [];
    const clients: SseClient[] = [];
    afterEach(async () => {
      for (const c of clients.splice(0)) c.close();
      for (const s of servers.splice(0)) await s.stop();
    });
    const start = async (db: ReturnType<typeof backend.database>, opts = {}) => {
      const s = await startFaultServer(db, opts);
      servers.push(s);
      return s;
    };
    const open = async (s: FaultServer, token?: string) => {
      const c = await SseClient.open(`${s.url}/v1/config/stream`, token ?? s.adminToken);
      clients.push(c);
      return c;
    };

    it('sends full_config, then an update with the whole set on every change, ids being versions', async () => {
      const s = await start(backend.database());
      await call(s, '/v1/policies', json(policy('b')));
      const c = await open(s, await s.token('executor'));
      expect(c.status).toBe(200);
      expect(c.headers?.get('content-type')).toMatch(/^text\/event-stream/);
      await c.until((x) => x.events.length >= 1, 'full_config');
      expect(c.events[0]).toMatchObject({ event: 'full_config', id: '1' });
      expect(names(c.events[0].data)).toEqual(['b']);

      await call(s, '/v1/policies', json(policy('a')));
      await c.until((x) => x.events.length >= 2, 'update after create');
      expect(c.events[1]).toMatchObject({ event: 'update', id: '2' });
      expect(names(c.events[1].data)).toEqual(['a', 'b']);

      await call(s, '/v1/policies/b', { method: 'DELETE' });
      await c.until((x) => x.events.some((e) => e.event === 'update' && names(e.data).join() === 'a'), 'update after delete');
      const versions = c.events.map((e) => Number(e.id));
      expect(versions).toEqual([...versions].sort((x, y) => x - y));
      expect(new Set(versions).size).toBe(versions.length);
    });

    it('an empty store streams an empty array', async () => {
      const s = await start(backend.database());
      const c = await open(s);
      await c.until((x) => x.events.length >= 1, 'full_config');
      expect(c.events[0]).toMatchObject({ event: 'full_config', id: '0', data: '[]' });
    });

    it('sends keepalive comments', async () => {
      const s = await start(backend.database(), { keepaliveMs: 20 });
      const c = await open(s);
      await c.until((x) => x.comments.includes('keepalive'), 'a keepalive comment');
      expect(c.comments).toContain('keepalive');
    });

    it('an anonymous stream is 401 when reads need a token; a token of a reading role streams', async () => {
      const s = await startFaultServer(backend.database(), {}, { 'auth.anonymousRead': false });
      servers.push(s);
      expect((await fetch(`${s.url}/v1/config/stream`)).status).toBe(401);
      const agent = await open(s, await s.token('agent'));
      expect(agent.status).toBe(200);
      await agent.until((x) => x.events.length >= 1, 'full_config for an agent token');
    });

    it('a change on one replica reaches the stream on another', async () => {
      const db = backend.database();
      const a = await start(db);
      const b = await start(db);
      const c = await open(b);
      await c.until((x) => x.events.length >= 1, 'full_config from replica b');
      await call(a, '/v1/policies', json(policy('written-on-a')));
      await c.until((x) => x.events.some((e) => e.event === 'update' && names(e.data).includes('written-on-a')), 'update on replica b');
      await call(a, '/v1/policies/written-on-a', { method: 'DELETE' });
      await c.until((x) => x.events.at(-1)?.event === 'update' && names(x.events.at(-1)!.data).length === 0, 'delete seen on replica b');
    });

    it('stopping the server ends open streams instead of hanging', async () => {
      const s = await start(backend.database());
      const c = await open(s);
      await c.until((x) => x.events.length >= 1, 'full_config');
      await s.stop();
      await c.until((x) => x.closed, 'stream closed');
      expect(c.closed).toBe(true);
    });

    it('the leader removes an expired policy once, however many replicas run, and streams push it', async () => {
      const db = backend.database();
      let now = Date.now();
      const clock = () => now;
      const a = await start(db, { now: clock, expireIntervalMs: 50 });
      const b = await start(db, { now: clock, expireIntervalMs: 50 });
      const c = await open(b);
      await call(a, '/v1/policies', json(policy('short', { duration_seconds: 60 })));
      await call(a, '/v1/policies', json(policy('stays')));
      await c.until((x) => x.events.some((e) => names(e.data).includes('short')), 'short applied');
      now += 61_000;
      await c.until((x) => x.events.at(-1) !== undefined && names(x.events.at(-1)!.data).join() === 'stays', 'expiry pushed');
      expect((await call(b, '/v1/policies/short')).status).toBe(404);
      // exactly one expiry recorded, whichever replica led
      const rows = (await a.server.ctx.sql.db.selectFrom('fault_changes').select(['name', 'op']).where('op', '=', 'expire').execute()) as { name: string }[];
      expect(rows).toEqual([{ name: 'short', op: 'expire' }]);
      const intervals = await waitFor('interval of the expired policy', async () => {
        const r = (await (await call(a, '/api/v1/faults/active-intervals?service=any&since=0')).json()) as { intervals: { policy: string; from: number; to: number | null }[] };
        return r.intervals.find((i) => i.policy === 'short');
      });
      expect(intervals.to! - intervals.from).toBe(60_000);
    });
  });
}
