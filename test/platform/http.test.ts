import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VigilModule } from '../../src/platform/module.js';
import { badRequest } from '../../src/platform/http/errors.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

let slowRelease: (() => void) | undefined;
/** A module with a body route, a query route and a slow route, to exercise the platform's edges. */
const probeModule: VigilModule = {
  name: 'probe',
  routes(app) {
    app.post(
      '/api/v1/probe/echo',
      {
        config: { auth: 'viewer' },
        schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 20 } } } },
      },
      async (req) => ({ got: req.body }),
    );
    app.get(
      '/api/v1/probe/items',
      { schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 100 } } } } },
      async (req) => ({ limit: (req.query as { limit?: number }).limit ?? 10 }),
    );
    app.get('/api/v1/probe/field', async () => {
      throw badRequest('window must be 1d, 7d or 30d', 'window');
    });
    app.get('/api/v1/probe/crash', async () => {
      throw new Error('secret internal detail at /src/x.ts:1');
    });
    app.get('/api/v1/probe/slow', async () => {
      await new Promise<void>((r) => (slowRelease = r));
      return { done: true };
    });
  },
};

describe('HTTP platform', () => {
  let t: TestServer;
  const viewer = { authorization: '' };
  beforeAll(async () => {
    t = await startTestServer({ modules: [probeModule], flags: { 'server.bodyLimitBytes': 4096 } });
    const { token } = await t.server.ctx.tokens.create({ name: 'v', role: 'viewer' });
    viewer.authorization = `Bearer ${token}`;
  });
  afterAll(async () => {
    await t?.stop();
  });

  const call = (path: string, init: RequestInit = {}) => fetch(t.url + path, init);
  const json = async (r: Response) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> });

  it('healthz, readyz per backend, request ids', async () => {
    const h = await call('/healthz');
    expect(h.status).toBe(200);
    expect(h.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
    const given = await call('/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const r = await json(await call('/readyz'));
    expect(r.status).toBe(200);
    expect(r.body.checks).toMatchObject({ 'sql:sqlite': { ok: true }, 'kv:sqlite': { ok: true } });
  });

  it('malformed JSON → 400 JSON error', async () => {
    const r = await json(await call('/api/v1/probe/echo', { method: 'POST', headers: { ...viewer, 'content-type': 'application/json' }, body: '{"name": ' }));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('malformed_json');
    expect(typeof r.body.message).toBe('string');
  });

  it('wrong content type → 415', async () => {
    const r = await json(await call('/api/v1/probe/echo', { method: 'POST', headers: { ...viewer, 'content-type': 'application/xml' }, body: '<a/>' }));
    expect(r.status).toBe(415);
    expect(r.body.error).toBe('unsupported_media_type');
  });

  it('schema violation → 400 naming the field', async () => {
    const r = await json(await call('/api/v1/probe/echo', { method: 'POST', headers: { ...viewer, 'content-type': 'application/json' }, body: '{"nom":"x"}' }));
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('name');
    const r2 = await json(await call('/api/v1/probe/echo', { method: 'POST', headers: { ...viewer, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(30) }) }));
    expect(r2.status).toBe(400);
    expect(r2.body.field).toBe('name');
  });

  it('oversized body → 413, also when it only inflates past the limit', async () => {
    const big = JSON.stringify({ name: 'x', pad: 'y'.repeat(8000) });
    const r = await json(await call('/api/v1/probe/echo', { method: 'POST', headers: { ...viewer, 'content-type': 'application/json' }, body: big }));
    expect(r.status).toBe(413);
    expect(r.body.error).toBe('payload_too_large');
    const gz = gzipSync(big);
    expect(gz.length).toBeLessThan(4096);
    const r2 = await json(await call('/api/v1/probe/echo', { method: 'POST', headers: { ...viewer, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gz }));
    expect(r2.status).toBe(413);
  });

  it('gzip request bodies are accepted; broken gzip is a 400', async () => {
    const ok = await json(await call('/api/v1/probe/echo', { method: 'POST', headers: { ...viewer, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{"name":"zipped"}') }));
    expect(ok).toEqual({ status: 200, body: { got: { name: 'zipped' } } });
    const bad = await call('/api/v1/probe/echo', { method: 'POST', headers: { ...viewer, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: 'not gzip at all' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBeTruthy();
  });

  it('unknown route → 404 JSON', async () => {
    const r = await json(await call('/api/v1/nope'));
    expect(r).toEqual({ status: 404, body: { error: 'not_found', message: 'no route GET /api/v1/nope' } });
    const r2 = await json(await call('/healthz', { method: 'DELETE' }));
    expect(r2.status).toBe(404);
  });

  it('bad query parameter → 400 naming it', async () => {
    const r = await json(await call('/api/v1/probe/items?limit=lots'));
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('limit');
    expect((await json(await call('/api/v1/probe/items?limit=5'))).body).toEqual({ limit: 5 });
    const f = await json(await call('/api/v1/probe/field'));
    expect(f).toEqual({ status: 400, body: { error: 'bad_request', message: 'window must be 1d, 7d or 30d', field: 'window' } });
  });

  it('an unexpected error is a 500 without the stack or message', async () => {
    const r = await call('/api/v1/probe/crash');
    const text = await r.text();
    expect(r.status).toBe(500);
    expect(text).not.toContain('secret internal detail');
    expect(text).not.toContain('.ts');
    expect(JSON.parse(text).error).toBe('internal');
  });

  it('metrics expose process metrics and per-route request counts and latency', async () => {
    await call('/api/v1/probe/items?limit=3');
    const text = await (await call('/metrics')).text();
    expect(text).toContain('vigil_process_cpu_user_seconds_total');
    expect(text).toMatch(/vigil_http_requests_total\{method="GET",route="\/api\/v1\/probe\/items",status="200"\} [1-9]/);
    expect(text).toMatch(/vigil_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/api\/v1\/probe\/items"\}/);
  });

  it('OpenAPI document lists the module routes; docs are browsable', async () => {
    const spec = (await (await call('/api/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/api/v1/probe/echo', '/api/v1/probe/items']));
    const docs = await call('/api/docs', { redirect: 'follow' });
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('graceful stop finishes an in-flight request', async () => {
    slowRelease = undefined;
    const slow = call('/api/v1/probe/slow');
    const release = await waitFor('the slow handler to hold its request', () => slowRelease);
    const stopping = t.stop();
    // Released only once the server has stopped listening, so the request is in flight during the close.
    await waitFor('the server to stop listening', () => !t.server.app.server.listening);
    release();
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    await stopping;
    await expect(call('/healthz')).rejects.toThrow();
  });
});
