/**
 * Platform hardening (issue 7, point 8): probes ignore tokens, security headers everywhere (web UI
 * included, its inline script allowed by hash), house error bodies for errors raised before routing,
 * private database files, masked webhook URL.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, maskSecrets } from '../../src/config/load.js';
import { createServer, type VigilServer } from '../../src/platform/runtime.js';
import { startTestServer, type TestServer } from '../support/server.js';

const INLINE = "document.documentElement.dataset.theme = 'dark';";

/** A raw HTTP/1.1 exchange, for requests fetch would refuse to send. */
function rawRequest(port: number, head: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (d) => (data += d));
    s.on('error', (e) => (data ? undefined : reject(e)));
    s.on('close', () => {
      const [h, ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(h)?.[1] ?? 0), headers: h.toLowerCase(), body: rest.join('\r\n\r\n') });
    });
    s.end(head);
  });
}

describe('platform hardening', () => {
  let t: TestServer;
  let web: VigilServer;
  let webUrl: string;
  beforeAll(async () => {
    t = await startTestServer({ flags: { 'server.jobs': false, 'auth.anonymousRead': false } });
    const webDir = mkdtempSync(path.join(tmpdir(), 'vigil-web-'));
    mkdirSync(path.join(webDir, 'assets'));
    writeFileSync(path.join(webDir, 'index.html'), `<!doctype html><html><head><script>${INLINE}</script><script type="module" src="/assets/app.js"></script></head><body></body></html>`);
    writeFileSync(path.join(webDir, 'assets', 'app.js'), 'console.log(1)');
    const config = loadConfig({ env: {}, flags: { 'server.port': 0, dataDir: mkdtempSync(path.join(tmpdir(), 'vigil-web-data-')), 'log.level': 'silent', 'server.jobs': false } });
    web = await createServer(config, [], { webDir });
    webUrl = await web.listen();
  });
  afterAll(async () => {
    await t?.stop();
    await web?.stop();
  });

  it('probes answer whatever token is sent: a stale one is not a 401', async () => {
    for (const p of ['/healthz', '/readyz', '/metrics']) {
      for (const authorization of ['Bearer vgl_000000000000_revokedOrUnknownSecretxx', 'Basic Zm9vOmJhcg==']) {
        const res = await fetch(t.url + p, { headers: { authorization } });
        expect(res.status, `${p} with ${authorization}`).toBe(200);
      }
    }
    // other routes still refuse it
    expect((await fetch(`${t.url}/api/v1/jobs`, { headers: { authorization: 'Bearer vgl_000000000000_revokedOrUnknownSecretxx' } })).status).toBe(401);
  });

  it('every response carries nosniff, no-framing and a CSP: API, errors, and the web UI with its inline script by hash', async () => {
    const hash = createHash('sha256').update(INLINE).digest('base64');
    for (const [url, headers] of [
      [`${t.url}/healthz`, {}],
      [`${t.url}/api/v1/jobs`, {}],
      [`${t.url}/nope`, {}],
      [`${webUrl}/`, { accept: 'text/html' }],
      [`${webUrl}/assets/app.js`, {}],
      [`${webUrl}/some/client/route`, { accept: 'text/html' }],
    ] as const) {
      const res = await fetch(url, { headers });
      expect(res.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), url).toBe('DENY');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, url).toContain("default-src 'self'");
      expect(csp, url).toContain("frame-ancestors 'none'");
    }
    const csp = (await fetch(`${webUrl}/`, { headers: { accept: 'text/html' } })).headers.get('content-security-policy')!;
    expect(csp).toContain(`'sha256-${hash}'`);
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  });

  it('errors raised before routing answer the house error body', async () => {
    const port = Number(new URL(t.url).port);
    const badUrl = await rawRequest(port, 'GET /api/v1/tokens/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(badUrl.status).toBe(400);
    expect(JSON.parse(badUrl.body)).toEqual({ error: 'bad_request', message: expect.any(String) });

    const longParam = await fetch(`${t.url}/api/v1/tokens/${'a'.repeat(500)}`, { method: 'DELETE', headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(longParam.status).toBe(414);
    expect(await longParam.json()).toEqual({ error: 'uri_too_long', message: expect.any(String) });

    const bigHeaders = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(40_000)}\r\n\r\n`);
    expect(bigHeaders.status).toBe(431);
    expect(bigHeaders.headers).toContain('content-type: application/json');
    expect(JSON.parse(bigHeaders.body)).toEqual({ error: 'headers_too_large', message: expect.any(String) });

    const manyHeaders = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`);
    expect(manyHeaders.status).toBe(431);
    expect(JSON.parse(manyHeaders.body)).toMatchObject({ error: 'headers_too_large' });

    const garbage = await rawRequest(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body)).toMatchObject({ error: 'bad_request' });
  });

  it('the SQLite store, its WAL and shared-memory files are readable by their owner only', () => {
    for (const f of ['vigil.db', 'vigil.db-wal', 'vigil.db-shm', 'vigil-kv.db', 'vigil-kv.db-wal']) {
      expect((statSync(path.join(t.config.dataDir, f)).mode & 0o777).toString(8), f).toBe('600');
    }
  });

  it('config print masks the anomaly webhook URL (Slack-style hooks carry their secret in the path)', () => {
    const c = loadConfig({ env: {}, flags: { 'anomaly.webhook.url': 'https://hooks.example.com/services/T000/B000/s3cr3tT0ken?k=v' } });
    const text = JSON.stringify(maskSecrets(c));
    expect(text).not.toContain('s3cr3tT0ken');
    expect(text).toContain('hooks.example.com');
  });
});
