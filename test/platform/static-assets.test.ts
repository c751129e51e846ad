/** The web app's files: compressed when asked, hashed bundles cached for a year, index.html revalidated. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { staticCacheControl } from '../../src/platform/http/app.js';
import { createServer, type VigilServer } from '../../src/platform/runtime.js';

describe('web app files', () => {
  let server: VigilServer;
  const bundle = 'export const rows = [' + Array.from({ length: 400 }, (_, i) => `{ id: ${i}, name: "row ${i}" }`).join(', ') + '];\n';

  beforeAll(async () => {
    const webDir = mkdtempSync(path.join(tmpdir(), 'vigil-web-'));
    mkdirSync(path.join(webDir, 'assets'));
    writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>Vigil</title><script type="module" src="/assets/index-BXk3a9Qz.js"></script>');
    writeFileSync(path.join(webDir, 'assets', 'index-BXk3a9Qz.js'), bundle);
    writeFileSync(path.join(webDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-test-'));
    const config = loadConfig({ env: {}, flags: { 'server.port': 0, dataDir, 'log.level': 'silent', 'auth.adminToken': 'vgl_static_test_token_0123456789' } });
    server = await createServer(config, [], { webDir });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves a hashed bundle as immutable for a year, gzip-compressed when the client accepts it', async () => {
    const r = await server.app.inject({ method: 'GET', url: '/assets/index-BXk3a9Qz.js', headers: { 'accept-encoding': 'gzip' } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.rawPayload.length).toBeLessThan(bundle.length / 3);
    expect(gunzipSync(r.rawPayload).toString()).toBe(bundle);
  });

  it('answers uncompressed to a client that does not ask', async () => {
    const r = await server.app.inject({ method: 'GET', url: '/assets/index-BXk3a9Qz.js' });
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.body).toBe(bundle);
  });

  it('makes browsers revalidate index.html (also for client-side routes) and unhashed files', async () => {
    for (const url of ['/', '/index.html', '/anomalies']) {
      const r = await server.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['cache-control'], url).toBe('no-cache');
    }
    const icon = await server.app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('tells hashed bundle names from others', () => {
    expect(staticCacheControl('assets/MeshPage-Cq1_z-9x.js')).toBe('public, max-age=31536000, immutable');
    expect(staticCacheControl('assets/logo.svg')).toBe('no-cache');
    expect(staticCacheControl('index.html')).toBe('no-cache');
  });
});
