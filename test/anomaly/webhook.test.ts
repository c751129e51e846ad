/**
 * Anomaly webhook: delivery to a local HTTP receiver, retries, the per-key rate limit (shared through
 * the KV store), and an unreachable receiver never failing ingest.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryKv } from '../../src/platform/backends/kv/memory.js';
import { WebhookNotifier, type WebhookPayload, type AnomalyEvent } from '../../src/anomaly/index.js';
import { kvEngines, postJson, scriptedServer, startAnomalyServer, summaries, traceId, WED_14_TAIPEI, type AnomalyTestServer } from './helpers.js';

const event = (over: Partial<AnomalyEvent> = {}): AnomalyEvent => ({
  id: traceId(),
  traceId: traceId(),
  service: 'checkout',
  endpoint: 'POST /checkout',
  startMs: WED_14_TAIPEI,
  durationMs: 2310,
  threshold: 980,
  explanation: '2310 ms is above 980 ms',
  detectedAt: WED_14_TAIPEI + 1000,
  bucket: { hour: 14, dayType: 'weekday' },
  fallbackLevel: 'exact',
  ...over,
});

describe('WebhookNotifier', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('retries 5xx with backoff and delivers once', async () => {
    const rx = await scriptedServer((_r, n) => (n <= 2 ? { status: 503, headers: { 'retry-after': '0' } } : { status: 204 }));
    closers.push(rx.close);
    const w = new WebhookNotifier({ url: rx.url + '/hook', minIntervalMs: 60_000, retries: 3, kv: new MemoryKv(), backoffMs: 1 });
    const e = event({ traceUrl: 'https://grafana.example/t/abc' });
    w.notify(e);
    await w.flush();
    expect(rx.requests).toHaveLength(3);
    expect(w.stats).toMatchObject({ sent: 1, failed: 0 });
    const last = rx.requests[2];
    expect(last.headers['content-type']).toBe('application/json');
    expect(last.headers['x-vigil-delivery']).toBe(e.id);
    const p = JSON.parse(last.body) as WebhookPayload;
    expect(p).toMatchObject({ type: 'vigil.anomaly', anomaly: { id: e.id, durationMs: 2310 }, suppressed: 0 });
    expect(p.text).toBe(`Latency anomaly: checkout POST /checkout took 2310 ms (threshold 980 ms), trace ${e.traceId}. https://grafana.example/t/abc`);
  });

  it('gives up after the configured retries, and does not retry a 4xx', async () => {
    const down = await scriptedServer(() => ({ status: 500 }));
    closers.push(down.close);
    const w = new WebhookNotifier({ url: down.url, minIntervalMs: 0, retries: 2, kv: new MemoryKv(), backoffMs: 1 });
    w.notify(event());
    await w.flush();
    expect(down.requests).toHaveLength(3);
    expect(w.stats).toMatchObject({ sent: 0, failed: 1 });

    const reject = await scriptedServer(() => ({ status: 404 }));
    closers.push(reject.close);
    const w2 = new WebhookNotifier({ url: reject.url, minIntervalMs: 0, retries: 5, kv: new MemoryKv(), backoffMs: 1 });
    w2.notify(event());
    await w2.flush();
    expect(reject.requests).toHaveLength(1);
    expect(w2.stats.failed).toBe(1);
  });

  it('notifies at most once per service+endpoint per interval, and counts what it held back', async () => {
    const rx = await scriptedServer(() => ({ status: 200 }));
    closers.push(rx.close);
    const clock = { t: 1_000_000 };
    const kv = new MemoryKv({ now: () => clock.t });
    const w = new WebhookNotifier({ url: rx.url, minIntervalMs: 300_000, kv, backoffMs: 1 });
    w.notify(event());
    w.notify(event());
    w.notify(event());
    w.notify(event({ endpoint: 'GET /cart' }));
    await w.flush();
    expect(rx.requests).toHaveLength(2);
    expect(rx.requests.map((r) => (JSON.parse(r.body) as WebhookPayload).anomaly.endpoint)).toEqual(['POST /checkout', 'GET /cart']);
    expect(w.stats).toMatchObject({ sent: 2, suppressed: 2 });
    // a second notifier (another replica) over the same KV is held back too
    const other = new WebhookNotifier({ url: rx.url, minIntervalMs: 300_000, kv, backoffMs: 1 });
    other.notify(event());
    await other.flush();
    expect(rx.requests).toHaveLength(2);
    // after the interval the next one goes out and says how many were held back here
    clock.t += 300_001;
    w.notify(event());
    await w.flush();
    expect(rx.requests).toHaveLength(3);
    expect((JSON.parse(rx.requests[2].body) as WebhookPayload).suppressed).toBe(2);
  });

  it('releases the rate-limit claim when delivery failed, so the next anomaly tries again', async () => {
    let up = false;
    const rx = await scriptedServer(() => ({ status: up ? 200 : 500 }));
    closers.push(rx.close);
    const w = new WebhookNotifier({ url: rx.url, minIntervalMs: 300_000, retries: 0, kv: new MemoryKv(), backoffMs: 1 });
    w.notify(event());
    await w.flush();
    up = true;
    w.notify(event());
    await w.flush();
    expect(w.stats).toMatchObject({ failed: 1, sent: 1 });
  });
});

for (const engine of kvEngines()) {
  describe.skipIf(!engine.available)(`anomaly webhook in the server (${engine.name})`, () => {
    const servers: AnomalyTestServer[] = [];
    const closers: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const s of servers.splice(0)) await s.stop();
      for (const c of closers.splice(0)) await c();
    });

    const learn = async (t: AnomalyTestServer) => {
      await t.call('/api/v1/anomaly/summaries', postJson({ summaries: summaries(60, (i) => 100 + i) }));
      await t.svc.runBaselineJob();
    };
    const slow = (endpoint = 'POST /checkout') => ({ traceId: traceId(), service: 'checkout', endpoint, startMs: WED_14_TAIPEI + 5000, durationMs: 5000 });

    it('POSTs each anomaly detected on ingest, rate-limited per key, retrying failures', async () => {
      let n = 0;
      const rx = await scriptedServer(() => (++n === 1 ? { status: 502 } : { status: 200 }));
      closers.push(rx.close);
      const t = await startAnomalyServer(
        { ...engine.flags(), 'anomaly.webhook.url': `${rx.url}/vigil`, 'anomaly.webhook.retries': 2, 'anomaly.webhook.minInterval': '1h', 'anomaly.traceUrlTemplate': 'https://tempo/{traceId}' },
        { webhook: { backoffMs: 1 } },
      );
      servers.push(t);
      await learn(t);
      const first = slow();
      const r = await t.call('/api/v1/anomaly/summaries', postJson({ summaries: [first, slow(), slow('GET /cart')] }));
      // GET /cart has no baseline: not an anomaly, no notification
      expect(await r.json()).toMatchObject({ anomalies: 2 });
      await t.svc.webhook!.flush();
      expect(rx.requests).toHaveLength(2); // one 502, then the retry
      const p = JSON.parse(rx.requests[1].body) as WebhookPayload;
      expect(p.anomaly).toMatchObject({ service: 'checkout', endpoint: 'POST /checkout', durationMs: 5000 });
      expect(p.anomaly.traceUrl).toMatch(/^https:\/\/tempo\/[0-9a-f]{32}$/);
      const m = await (await fetch(`${t.url}/metrics`)).text();
      expect(m).toMatch(/vigil_anomaly_webhook_notifications_total\{outcome="sent"\} 1/);
      expect(m).toMatch(/vigil_anomaly_webhook_notifications_total\{outcome="suppressed"\} 1/);
      const st = (await (await t.call('/api/v1/anomaly/status')).json()) as { webhook: Record<string, number> };
      expect(st.webhook).toMatchObject({ sent: 1, suppressed: 1 });
    });

    it('an unreachable receiver never fails ingest; the anomaly is still in the feed', async () => {
      const rx = await scriptedServer(() => ({ status: 200 }));
      const deadUrl = rx.url;
      await rx.close();
      const t = await startAnomalyServer({ ...engine.flags(), 'anomaly.webhook.url': deadUrl, 'anomaly.webhook.retries': 1 }, { webhook: { backoffMs: 1 } });
      servers.push(t);
      await learn(t);
      const r = await t.call('/api/v1/anomaly/summaries', postJson({ summaries: [slow()] }));
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ anomalies: 1 });
      await t.svc.webhook!.flush();
      expect(t.svc.webhook!.stats.failed).toBe(1);
      const feed = (await (await t.call('/api/v1/anomalies')).json()) as { anomalies: unknown[] };
      expect(feed.anomalies).toHaveLength(1);
    });
  });
}
