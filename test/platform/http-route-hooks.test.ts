import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VigilModule } from '../../src/platform/module.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The per-route hooks app.ts attaches when a route is declared (auth, metrics) and the request ids
 * it mints: what a request sees must not depend on how cheaply the platform decides it.
 */
const probeModule: VigilModule = {
  name: 'hooks-probe',
  routes(app) {
    // one route, two methods, nothing declared: GET reads (viewer), POST writes (admin)
    app.route({ method: ['GET', 'POST'], url: '/api/v1/hooks/both', handler: async (req) => ({ method: req.method }) });
    app.get('/api/v1/hooks/items/:id', async (req) => ({ id: (req.params as { id: string }).id }));
    app.post('/api/v1/hooks/viewer', { config: { auth: 'viewer' } }, async () => ({ ok: true }));
  },
};

describe('per-route auth and metrics hooks', () => {
  let t: TestServer;
  let viewer = '';
  let admin = '';
  beforeAll(async () => {
    t = await startTestServer({ modules: [probeModule] }); // loopback: anonymous reads allowed
    viewer = (await t.server.ctx.tokens.create({ name: 'v', role: 'viewer' })).token;
    admin = (await t.server.ctx.tokens.create({ name: 'a', role: 'admin' })).token;
  });
  afterAll(async () => {
    await t?.stop();
  });

  const call = (path: string, init: RequestInit = {}) => fetch(t.url + path, init);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('a route serving two methods demands of each what its method needs', async () => {
    expect((await call('/api/v1/hooks/both')).status).toBe(200);
    const anonymousWrite = await call('/api/v1/hooks/both', { method: 'POST' });
    expect(anonymousWrite.status).toBe(401);
    expect(anonymousWrite.headers.get('www-authenticate')).toBe('Bearer');
    expect(await anonymousWrite.json()).toEqual({ error: 'unauthorized', message: 'this route needs a bearer token with role admin' });
    const viewerWrite = await call('/api/v1/hooks/both', { method: 'POST', headers: bearer(viewer) });
    expect(viewerWrite.status).toBe(403);
    expect(await viewerWrite.json()).toEqual({ error: 'forbidden', message: 'role viewer may not call this route (needs admin)' });
    expect(await (await call('/api/v1/hooks/both', { method: 'POST', headers: bearer(admin) })).json()).toEqual({ method: 'POST' });
  });

  it('a token answered from the cache is judged like a looked-up one, and a revoked one is refused at once', async () => {
    const { token, info } = await t.server.ctx.tokens.create({ name: 'short-lived', role: 'viewer' });
    for (let i = 0; i < 3; i++) expect((await call('/api/v1/hooks/viewer', { method: 'POST', headers: bearer(token) })).status).toBe(200);
    expect(await t.server.ctx.tokens.revoke(info.id)).toBe(true);
    const after = await call('/api/v1/hooks/viewer', { method: 'POST', headers: bearer(token) });
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ error: 'unauthorized', message: 'invalid or revoked bearer token' });
    expect((await call('/api/v1/hooks/viewer', { method: 'POST', headers: { authorization: 'Basic abc' } })).status).toBe(401);
  });

  it('counts matched requests under their route pattern and unmatched ones under one label', async () => {
    await call('/api/v1/hooks/items/41');
    await call('/api/v1/hooks/items/42');
    await call('/api/v1/hooks/no-such-route-1');
    await call('/api/v1/hooks/no-such-route-2', { method: 'POST' });
    const text = await (await call('/metrics')).text();
    expect(text).toMatch(/vigil_http_requests_total\{method="GET",route="\/api\/v1\/hooks\/items\/:id",status="200"\} 2\n/);
    expect(text).toMatch(/vigil_http_requests_total\{method="GET",route="unmatched",status="404"\} [1-9]/);
    expect(text).toMatch(/vigil_http_requests_total\{method="POST",route="unmatched",status="404"\} [1-9]/);
    expect(text).toMatch(/vigil_http_requests_total\{method="POST",route="\/api\/v1\/hooks\/both",status="401"\} [1-9]/);
    expect(text).not.toContain('no-such-route');
    expect(text).not.toMatch(/route="\/api\/v1\/hooks\/items\/4[12]"/);
  });

  it('mints a distinct UUID-shaped request id for every request', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await call('/healthz')).headers.get('x-request-id') ?? '');
    expect(ids.size).toBe(5);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});
