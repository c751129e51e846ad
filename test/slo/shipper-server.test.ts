/** The agent's shipper against the real snapshot endpoint: the server's duplicate answer is what the shipper takes as "already delivered". */
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Shipper } from '../../src/slo/agent/shipper.js';
import { Spool } from '../../src/slo/agent/spool.js';
import { sloModule } from '../../src/slo/module.js';
import { sqlCases } from '../support/backends.js';
import { fleetSnapshot } from '../support/slo-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`shipper and server agree on a duplicate snapshot (${c.name})`, () => {
    let t: TestServer;
    let token = '';
    beforeAll(async () => {
      t = await startTestServer({ pgUrl: c.url, modules: [sloModule(loadConfig({ env: {} }))], flags: { 'server.jobs': false } });
      token = (await t.server.ctx.tokens.create({ name: 'agent', role: 'agent', clusterId: 'alpha' })).token;
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('a seq sent twice is ok, then duplicate (acknowledged, not rejected)', async () => {
      const shipper = new Shipper({ serverUrl: t.url, token, clusterId: 'alpha', agentId: 'a1', spool: new Spool({ dir: '', maxBytes: 1e6 }), log: pino({ level: 'silent' }) });
      const body = gzipSync(JSON.stringify(fleetSnapshot({ cluster: 'alpha', agent: 'a1', services: 2, edges: 1, routes: 1 }, 7, Date.now() - 60_000)));
      expect(await shipper.send(7, body)).toEqual({ kind: 'ok', status: 200 });
      expect(await shipper.send(7, body)).toEqual({ kind: 'duplicate', status: 200 });
    });
  });
}
