import { afterAll, describe, expect, it } from 'vitest';
import { engineUrl } from '../support/env.js';
import { uniqueId } from '../support/backends.js';
import { startTestServer } from '../support/server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

const redisUrl = engineUrl('REDIS');

describe.skipIf(!redisUrl)('Redis outage (through a proxy the test owns)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  it('POST /v1/anomaly/check and /v1/traces answer 503 + Retry-After while Redis is cut, and recover when it is back', async () => {
    const proxy = await TcpProxy.forUrl(redisUrl!).start();
    cleanup.push(() => proxy.stop());
    const t = await startTestServer({ flags: { 'redis.url': proxy.rewrite(redisUrl!), 'redis.prefix': `${uniqueId('outage')}:` } });
    cleanup.push(() => t.stop());
    const headers = { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' };
    // a new service each time: a baseline read cached in process would answer without Redis
    let n = 0;
    const check = () =>
      fetch(`${t.url}/v1/anomaly/check`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ service: `checkout-${n++}`, endpoint: 'GET /cart', durationMs: 12 }),
        // generous: the point is that an answer comes at all, not how fast
        signal: AbortSignal.timeout(20_000),
      });
    const traces = () =>
      fetch(`${t.url}/v1/traces`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          resourceSpans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
              scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'GET /cart', kind: 2, startTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n), endTimeUnixNano: String(BigInt(Date.now() + 12) * 1_000_000n) }] }],
            },
          ],
        }),
        signal: AbortSignal.timeout(20_000),
      });

    expect((await check()).status).toBe(200);

    await proxy.cut();
    const during = await check();
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await during.json()).toMatchObject({ error: 'unavailable' });
    const tr = await traces();
    expect(tr.status).toBe(503);
    expect(tr.headers.get('retry-after')).toMatch(/^\d+$/);
    const ready = await fetch(`${t.url}/readyz`, { signal: AbortSignal.timeout(20_000) });
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, { ok: boolean }> }).checks['kv:redis'].ok).toBe(false);

    await proxy.restore();
    await waitFor('a check answering 200 after Redis is back', async () => (await check()).status === 200, 30_000, 100);
    expect((await traces()).status).toBe(200);
    await waitFor('/readyz ready again', async () => (await fetch(`${t.url}/readyz`)).status === 200, 30_000, 100);
  }, 90_000);
});
