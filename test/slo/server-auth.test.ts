/**
 * Every SLO route enforces its role (the platform's route-auth rules, applied to this module's routes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { sloModule } from '../../src/slo/module.js';
import { startTestServer, type TestServer } from '../support/server.js';

const concrete = (url: string) => url.replace(/:[A-Za-z_]+/g, 'x');

describe('SLO route authorisation', () => {
  let t: TestServer;
  const tokens = { viewer: '', agent: '' };
  beforeAll(async () => {
    t = await startTestServer({ modules: [sloModule(loadConfig({ env: {} }))], flags: { 'auth.anonymousRead': false, 'server.jobs': false } });
    tokens.viewer = (await t.server.ctx.tokens.create({ name: 'v', role: 'viewer' })).token;
    tokens.agent = (await t.server.ctx.tokens.create({ name: 'a', role: 'agent', clusterId: 'c1' })).token;
  });
  afterAll(async () => {
    await t?.stop();
  });

  const slo = () => t.server.app.vigilRoutes.filter((r) => r.url.startsWith('/api/v2/') && r.method !== 'HEAD');
  const call = (method: string, url: string, token?: string) =>
    fetch(t.url + concrete(url), {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: method === 'GET' ? undefined : '{}',
    });

  it('declares the roles: snapshots for agents, targets writes for admins, reads for viewers', () => {
    const by = Object.fromEntries(slo().map((r) => [`${r.method} ${r.url}`, r.auth]));
    expect(by['POST /api/v2/agent/snapshots']).toBe('agent');
    expect(by['PUT /api/v2/slo/targets']).toBe('admin');
    for (const [k, v] of Object.entries(by)) if (k.startsWith('GET ')) expect(v, k).toBe('viewer');
  });

  it('answers 401 without a token and 403 to the wrong role', async () => {
    for (const r of slo()) {
      expect((await call(r.method, r.url)).status, `${r.method} ${r.url}`).toBe(401);
      const wrong = r.auth === 'agent' ? tokens.viewer : r.auth === 'admin' ? tokens.agent : null;
      if (wrong) expect((await call(r.method, r.url, wrong)).status, `${r.method} ${r.url}`).toBe(403);
    }
  });
});
