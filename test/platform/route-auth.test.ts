import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/** A concrete URL for a route pattern: every :param and * gets a harmless value. */
const concrete = (url: string) => url.replace(/:[A-Za-z_]+/g, 'x').replace(/\*/g, 'x');

describe('route authorisation over every registered route', () => {
  let open: TestServer; // loopback: anonymous reads allowed
  let closed: TestServer; // anonymous reads off
  let viewer = '';
  let agent = '';

  beforeAll(async () => {
    open = await startTestServer();
    closed = await startTestServer({ flags: { 'auth.anonymousRead': false } });
    viewer = (await open.server.ctx.tokens.create({ name: 'v', role: 'viewer' })).token;
    agent = (await open.server.ctx.tokens.create({ name: 'a', role: 'agent', clusterId: 'c1' })).token;
  });
  afterAll(async () => {
    await open?.stop();
    await closed?.stop();
  });

  const writes = () => open.server.app.vigilRoutes.filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method));

  it('sees the routes of every module', () => {
    const urls = open.server.app.vigilRoutes.map((r) => r.url);
    expect(urls).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics']));
  });

  it('no write route answers an anonymous caller', async () => {
    expect(writes().length).toBeGreaterThan(0);
    for (const r of writes()) {
      expect(r.auth, `${r.method} ${r.url} is declared public`).not.toBe('public');
      const res = await fetch(open.url + concrete(r.url), { method: r.method, headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status, `${r.method} ${r.url}`).toBe(401);
    }
  });

  it('a write route refuses a token of the wrong role with 403', async () => {
    for (const r of writes()) {
      const wrong = r.auth === 'agent' || r.auth === 'executor' ? viewer : r.auth === 'admin' ? agent : null;
      if (!wrong) continue;
      const res = await fetch(open.url + concrete(r.url), {
        method: r.method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${wrong}` },
        body: '{}',
      });
      expect(res.status, `${r.method} ${r.url}`).toBe(403);
    }
  });

  it('an executor token reaches only the routes declared for executors', async () => {
    const executor = (await open.server.ctx.tokens.create({ name: 'e', role: 'executor' })).token;
    const routes = open.server.app.vigilRoutes.filter((r) => !['HEAD', 'OPTIONS'].includes(r.method) && !r.url.includes('*'));
    const refused = routes.filter((r) => r.auth !== 'public' && r.auth !== 'executor' && r.auth !== 'policy-read');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      const res = await fetch(open.url + concrete(r.url), {
        method: r.method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${executor}` },
        body: r.method === 'GET' ? undefined : '{}',
      });
      expect(res.status, `${r.method} ${r.url}`).toBe(403);
    }
  });

  it('a bad token is 401 even on a public route', async () => {
    const res = await fetch(open.url + '/api/v1/whoami', { headers: { authorization: 'Bearer nope' } });
    expect(res.status).toBe(401);
  });

  it('reads need a viewer token unless anonymous read is on', async () => {
    const reads = closed.server.app.vigilRoutes.filter((r) => r.method === 'GET' && r.auth !== 'public' && !r.url.includes('*'));
    expect(reads.length).toBeGreaterThan(0);
    for (const r of reads) {
      const res = await fetch(closed.url + concrete(r.url));
      expect(res.status, `GET ${r.url}`).toBe(401);
    }
    const who = await fetch(closed.url + '/api/v1/whoami');
    expect(await who.json()).toMatchObject({ authenticated: false, anonymousRead: false });
    const jobs = await fetch(closed.url + '/api/v1/jobs', { headers: { authorization: `Bearer ${closed.adminToken}` } });
    expect(jobs.status).toBe(200);
    const anonOpen = await fetch(open.url + '/api/v1/jobs');
    expect(anonOpen.status).toBe(200);
  });
});
