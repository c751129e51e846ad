import { existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer as createHttpServer } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromOptions } from '../../src/cli/common.js';
import { loadConfig, maskSecrets } from '../../src/config/load.js';
import { createServer } from '../../src/platform/runtime.js';
import type { VigilModule } from '../../src/platform/module.js';
import { startLocalS3, type LocalS3 } from '../support/s3rver.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { uniqueId } from '../support/backends.js';

const readyz = async (url: string) => {
  const r = await fetch(`${url}/readyz`);
  return { status: r.status, body: (await r.json()) as { checks: Record<string, { ok: boolean; detail?: string }> } };
};

describe('blob store wiring', () => {
  let s3: LocalS3;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    s3 = await startLocalS3();
  }, 30_000);
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await s3?.close();
  });

  it('--blob-url and VIGIL_BLOB_URL set blob.url, and config print masks its secret key', () => {
    const url = 's3://AKIAEXAMPLE:wJalr%2FTopSecret@logs/vigil?endpoint=http://minio:9000&forcePathStyle=true';
    const fromFlag = configFromOptions({ blobUrl: url });
    expect(fromFlag.blob.url).toBe(url);
    expect(loadConfig({ env: { VIGIL_BLOB_URL: url } }).blob.url).toBe(url);
    const printed = JSON.stringify(maskSecrets(fromFlag));
    expect(printed).not.toContain('wJalr');
    expect(printed).not.toContain('TopSecret');
    expect(maskSecrets(fromFlag).blob.url).toContain('@logs/vigil');
    expect(loadConfig({ env: {} }).blob.url).toBe('');
  });

  it('readyz reports the local blob directory, created under dataDir by default', async () => {
    const t = await startTestServer({ modules: [] });
    servers.push(t);
    const r = await readyz(t.url);
    expect(r.status).toBe(200);
    expect(r.body.checks['blob:local']).toEqual({ ok: true });
    expect(t.server.ctx.blob.kind).toBe('local');
    expect(existsSync(path.join(t.config.dataDir, 'blobs'))).toBe(true);
  });

  it('readyz reports S3, and 503 once the S3 server is gone', async () => {
    const own = await startLocalS3('vigil-gone');
    const t = await startTestServer({ modules: [], flags: { 'blob.url': own.url(uniqueId('w')) } });
    servers.push(t);
    const up = await readyz(t.url);
    expect(up.status).toBe(200);
    expect(up.body.checks['blob:s3']).toEqual({ ok: true });
    await own.close();
    const down = await readyz(t.url);
    expect(down.status).toBe(503);
    expect(down.body.checks['blob:s3'].ok).toBe(false);
  }, 60_000);

  it('the server hands modules a working S3 blob store', async () => {
    const t = await startTestServer({ modules: [], flags: { 'blob.url': s3.url(uniqueId('m')) } });
    servers.push(t);
    const { Readable } = await import('node:stream');
    await t.server.ctx.blob.put('x/y.txt', Readable.from([Buffer.from('hello')]));
    expect(await t.server.ctx.blob.head('x/y.txt')).toMatchObject({ size: 5 });
  });

  it('blob domain errors reach clients as 4xx JSON naming the key', async () => {
    const { BlobNotFound, BlobTooLarge, InvalidBlobKey, BlobRangeNotSatisfiable } = await import('../../src/platform/backends/blob/index.js');
    const thrower: VigilModule = {
      name: 'blob-probe',
      routes(app) {
        app.get('/api/v1/blob-probe/:what', { config: { auth: 'public' } }, async (req) => {
          const what = (req.params as { what: string }).what;
          if (what === 'missing') throw new BlobNotFound('b/1');
          if (what === 'big') throw new BlobTooLarge('b/2', 10);
          if (what === 'range') throw new BlobRangeNotSatisfiable('b/3', 5);
          throw new InvalidBlobKey('../x', '".." segments are not allowed');
        });
      },
    };
    const t = await startTestServer({ modules: [thrower] });
    servers.push(t);
    const answer = async (what: string) => {
      const r = await fetch(`${t.url}/api/v1/blob-probe/${what}`);
      return { status: r.status, body: await r.json() };
    };
    expect(await answer('missing')).toEqual({ status: 404, body: { error: 'not_found', message: 'no blob "b/1"', field: 'key' } });
    expect(await answer('big')).toMatchObject({ status: 413, body: { error: 'too_large' } });
    expect(await answer('range')).toMatchObject({ status: 416, body: { error: 'range_not_satisfiable' } });
    expect(await answer('key')).toMatchObject({ status: 400, body: { error: 'invalid_key', field: 'key', message: expect.stringContaining('"../x"') } });
  });

  it('an unreachable S3 at start is an error naming the URL without its credentials', async () => {
    // A port that was just free: nothing listens there.
    const probe = createHttpServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const url = `s3://KEYID:sup3rs3cret@nowhere/p?endpoint=http://127.0.0.1:${port}&forcePathStyle=true`;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-blob-wiring-'));
    const config = loadConfig({ env: {}, flags: { dataDir, 'log.level': 'silent', 'blob.url': url } });
    const err = (await createServer(config, []).then(
      () => undefined,
      (e: Error) => e,
    )) as Error;
    await rm(dataDir, { recursive: true, force: true });
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain(`nowhere/p?endpoint=http://127.0.0.1:${port}`);
    expect(err.message).not.toContain('sup3rs3cret');
  }, 60_000);
});
