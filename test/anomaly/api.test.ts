/**
 * The check, baseline, available, anomalies and summaries endpoints on a running server, on the
 * in-process KV and on Redis; SQL on SQLite (and PostgreSQL when VIGIL_TEST_POSTGRES_URL is set).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineUrl } from '../support/env.js';
import { kvEngines, postJson, startAnomalyServer, summaries, traceId, WED_14_TAIPEI, type AnomalyTestServer } from './helpers.js';

const pgUrl = engineUrl('POSTGRES');
const combos = [
  ...kvEngines().map((e) => ({ name: `${e.name} KV, sqlite`, available: e.available, flags: () => e.flags() })),
  { name: 'memory KV, postgres', available: !!pgUrl, flags: () => ({ 'database.url': pgUrl }) },
];

const nanos = (ms: number) => String(BigInt(ms) * 1_000_000n);

for (const combo of combos) {
  describe.skipIf(!combo.available)(`anomaly API (${combo.name})`, () => {
    let t: AnomalyTestServer;
    beforeAll(async () => {
      t = await startAnomalyServer({ ...combo.flags(), 'anomaly.traceUrlTemplate': 'https://grafana.example/explore?traceId={traceId}&from={startSec}' });
      // 60 traces of 100..159 ms on Wednesday 14:xx Taipei: p50 129.5, p95 156, MAD 15 → threshold 312
      const r = await t.call('/api/v1/anomaly/summaries', postJson({ summaries: summaries(60, (i) => 100 + i, { endpoint: 'POST /checkout/42' }) }));
      expect(await r.json()).toEqual({ ingested: 60, duplicates: 0, invalid: 0, anomalies: 0 });
      await t.svc.runBaselineJob();
    });
    afterAll(async () => {
      await t?.stop();
    });

    const check = (body: unknown, role: 'viewer' | 'none' | 'admin' = 'viewer') => t.call('/v1/anomaly/check', { ...postJson(body), role });
    const at = nanos(WED_14_TAIPEI + 1800_000);

    it('gives a verdict with its reason, in the seed wire shape and in Vigil names', async () => {
      const seed = await check({ rootServiceName: 'checkout', rootTraceName: 'POST /checkout/977', startTimeUnixNano: at, durationMs: 400 });
      expect(seed.status).toBe(200);
      const v = (await seed.json()) as Record<string, unknown>;
      expect(v).toMatchObject({
        isAnomaly: true,
        service: 'checkout',
        endpoint: 'POST /checkout/{id}',
        bucket: { hour: 14, dayType: 'weekday' },
        baseline: { p50: 129.5, p95: 156, mad: 15, sampleCount: 60 },
        threshold: 312,
        fallbackLevel: 'exact',
      });
      expect(v.reason).toBe(v.explanation);
      expect(v.explanation).toContain('400 ms is above 312 ms');
      const ok = await check({ service: 'checkout', endpoint: 'POST /checkout/1', timestampNano: at, durationMs: 200 });
      expect(await ok.json()).toMatchObject({ isAnomaly: false, threshold: 312 });
      const pinned = await check({ service: 'checkout', endpoint: 'POST /checkout/1', durationMs: 400, hour: 14, dayType: 'weekday' });
      expect(await pinned.json()).toMatchObject({ isAnomaly: true, bucket: { hour: 14, dayType: 'weekday' } });
    });

    it('answers cannotDetermine with an explanation for an unknown service (not 404)', async () => {
      const r = await check({ service: 'ghost', endpoint: 'GET /', timestampNano: at, durationMs: 10 });
      expect(r.status).toBe(200);
      const v = (await r.json()) as { isAnomaly: boolean; cannotDetermine: boolean; explanation: string };
      expect(v).toMatchObject({ isAnomaly: false, cannotDetermine: true, fallbackLevel: 'none', threshold: null });
      expect(v.explanation).toMatch(/no traces have been seen for service "ghost"/);
    });

    it.each([
      [{ service: 'checkout', endpoint: 'x', durationMs: -1 }, 'durationMs'],
      [{ service: 'checkout', endpoint: 'x', durationMs: 'NaN' }, 'durationMs'],
      [{ service: 'checkout', endpoint: 'x', durationMs: null }, 'durationMs'],
      [{ service: 'checkout', endpoint: 'x' }, 'durationMs'],
      [{ service: 'checkout', endpoint: 'x', durationMs: 5, hour: 24 }, 'hour'],
      [{ service: 'checkout', endpoint: 'x', durationMs: 5, hour: -1 }, 'hour'],
      [{ service: 'checkout', endpoint: 'x', durationMs: 5, hour: 3.5 }, 'hour'],
      [{ service: 'checkout', endpoint: 'x', durationMs: 5, dayType: 'holiday' }, 'dayType'],
      [{ endpoint: 'x', durationMs: 5 }, 'service'],
      [{ rootServiceName: '', rootTraceName: 'x', durationMs: 5 }, 'rootServiceName'],
      [{ service: 'checkout', durationMs: 5 }, 'endpoint'],
      [{ service: 'checkout', endpoint: 'x', durationMs: 5, timestampNano: '-5' }, 'timestampNano'],
      [{ service: 'checkout', endpoint: 'x', durationMs: 5, startTimeUnixNano: 'soon' }, 'startTimeUnixNano'],
      [[1, 2], 'body'],
    ])('400 naming the field for %j', async (body, field) => {
      const r = await check(body);
      expect(r.status).toBe(400);
      const e = (await r.json()) as { error: string; message: string; field: string };
      expect(e).toMatchObject({ error: 'bad_request', field });
      expect(e.message).toContain(field === 'body' ? 'JSON object' : field);
    });

    it('400 for malformed JSON; a viewer token is enough, none is not (even with anonymous reads on loopback)', async () => {
      const r = await t.call('/v1/anomaly/check', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"service":', role: 'viewer' });
      expect(r.status).toBe(400);
      const body = { service: 'checkout', endpoint: 'POST /checkout', durationMs: 5 };
      expect((await check(body, 'viewer')).status).toBe(200);
      expect((await t.call('/v1/available', { role: 'none' })).status).toBe(200); // anonymous reads are on here
      const anon = await check(body, 'none');
      expect(anon.status).toBe(401);
      expect(await anon.json()).toMatchObject({ error: 'unauthorized' });
    });

    it('GET /v1/baseline: the bucket, aggregates with *, 400 naming a bad parameter, 404 {"error":"not found"}', async () => {
      const ok = await t.call('/v1/baseline?service=checkout&endpoint=POST%20/checkout/5&hour=14&dayType=weekday', { role: 'viewer' });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ service: 'checkout', endpoint: 'POST /checkout/{id}', hour: 14, dayType: 'weekday', p50: 129.5, p95: 156, mad: 15, sampleCount: 60 });
      const agg = await t.call('/v1/baseline?service=checkout&endpoint=POST%20/checkout/5&hour=*&dayType=*');
      expect(await agg.json()).toMatchObject({ hour: '*', dayType: '*', sampleCount: 60 });
      const missing = await t.call('/v1/baseline?service=checkout&endpoint=POST%20/checkout/5&hour=3&dayType=weekend');
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe('{"error":"not found"}');
      for (const [qs, field] of [
        ['service=checkout&endpoint=x&hour=24&dayType=weekday', 'hour'],
        ['service=checkout&endpoint=x&hour=abc&dayType=weekday', 'hour'],
        ['service=checkout&endpoint=x&hour=3&dayType=holiday', 'dayType'],
        ['service=checkout&endpoint=x&dayType=weekday', 'hour'],
        ['endpoint=x&hour=3&dayType=weekday', 'service'],
        ['service=checkout&hour=3&dayType=weekday', 'endpoint'],
        ['service=checkout&endpoint=x&hour=3&hour=4&dayType=weekday', 'hour'],
      ]) {
        const r = await t.call(`/v1/baseline?${qs}`);
        expect(r.status, qs).toBe(400);
        expect(((await r.json()) as { field: string }).field, qs).toBe(field);
      }
    });

    it('GET /v1/available lists learned hour buckets in the web UI shape', async () => {
      const r = await t.call('/v1/available', { role: 'viewer' });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { timeZone: string; keys: Record<string, unknown>[] };
      expect(body.timeZone).toBe('Asia/Taipei');
      expect(body.keys).toEqual([
        { service: 'checkout', endpoint: 'POST /checkout/{id}', hour: 14, dayType: 'weekday', p50: 129.5, p95: 156, mad: 15, sampleCount: 60, updatedAt: expect.any(Number) },
      ]);
      const none = (await (await t.call('/v1/available?service=ghost')).json()) as { keys: unknown[] };
      expect(none.keys).toEqual([]);
      expect((await t.call('/v1/available?limit=0')).status).toBe(400);
    });

    it('checks every ingested trace on arrival and serves anomalies with a trace link', async () => {
      const slow = { traceId: traceId(), service: 'checkout', endpoint: 'POST /checkout/7', startMs: WED_14_TAIPEI + 100_000, durationMs: 2400 };
      const normal = { ...slow, traceId: traceId(), durationMs: 140 };
      const r = await t.call('/api/v1/anomaly/summaries', { ...postJson({ summaries: [slow, normal] }), role: 'agent' });
      expect(await r.json()).toEqual({ ingested: 2, duplicates: 0, invalid: 0, anomalies: 1 });
      // re-sending is a duplicate and not flagged twice
      expect(await (await t.call('/api/v1/anomaly/summaries', { ...postJson({ summaries: [slow] }), role: 'agent' })).json()).toMatchObject({ duplicates: 1, anomalies: 0 });
      // history can be learned without flagging
      const quiet = { ...slow, traceId: traceId() };
      expect(await (await t.call('/api/v1/anomaly/summaries', postJson({ summaries: [quiet], check: false }))).json()).toMatchObject({ ingested: 1, anomalies: 0 });

      const feed = (await (await t.call('/api/v1/anomalies?service=checkout&endpoint=POST%20/checkout/123', { role: 'viewer' })).json()) as {
        anomalies: Record<string, unknown>[];
      };
      expect(feed.anomalies).toHaveLength(1);
      const a = feed.anomalies[0];
      expect(a).toMatchObject({
        id: slow.traceId,
        traceId: slow.traceId,
        service: 'checkout',
        endpoint: 'POST /checkout/{id}',
        startMs: slow.startMs,
        durationMs: 2400,
        threshold: 312,
        bucket: { hour: 14, dayType: 'weekday' },
        fallbackLevel: 'exact',
        baseline: { p50: 129.5, p95: 156, mad: 15, sampleCount: 60 },
        traceUrl: `https://grafana.example/explore?traceId=${slow.traceId}&from=${Math.floor(slow.startMs / 1000) - 60}`,
      });
      expect(a.explanation).toMatch(/2400 ms is above 312 ms/);
      expect(typeof a.detectedAt).toBe('number');
      const detectedAt = a.detectedAt as number;
      expect(((await (await t.call(`/api/v1/anomalies?since=${detectedAt}`)).json()) as { anomalies: unknown[] }).anomalies).toHaveLength(0);
      expect(((await (await t.call(`/api/v1/anomalies?since=${detectedAt - 1}`)).json()) as { anomalies: unknown[] }).anomalies).toHaveLength(1);
      expect(((await (await t.call('/api/v1/anomalies?service=cart')).json()) as { anomalies: unknown[] }).anomalies).toHaveLength(0);
      expect((await t.call('/api/v1/anomalies?limit=5000')).status).toBe(400);
      expect(((await (await t.call('/api/v1/anomalies?since=yesterday')).json()) as { field: string }).field).toBe('since');
      expect(await (await fetch(`${t.url}/metrics`)).text()).toMatch(/vigil_anomaly_anomalies_detected_total\{source="api"\} 1/);
    });

    it('POST /api/v1/anomaly/summaries validates and needs agent or admin', async () => {
      const bad = await t.call('/api/v1/anomaly/summaries', { ...postJson({ summaries: [{ traceId: 'xyz', service: 's', endpoint: 'e', startMs: 1, durationMs: 1 }] }), role: 'agent' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { field: string }).field).toBe('summaries[0].traceId');
      expect((await t.call('/api/v1/anomaly/summaries', { ...postJson({}), role: 'agent' })).status).toBe(400);
      const invalid = await t.call('/api/v1/anomaly/summaries', { ...postJson({ summaries: [{ traceId: 'ab', service: 's', endpoint: 'e', startMs: 1, durationMs: -4 }] }), role: 'agent' });
      expect(await invalid.json()).toMatchObject({ invalid: 1, ingested: 0 });
      expect((await t.call('/api/v1/anomaly/summaries', { ...postJson({ summaries: [] }), role: 'viewer' })).status).toBe(403);
    });

    it('status shows the rule and pending baselines; every route is in the OpenAPI document', async () => {
      const st = (await (await t.call('/api/v1/anomaly/status')).json()) as Record<string, unknown>;
      expect(st).toMatchObject({ timeZone: 'Asia/Taipei', rule: { factor: 2, k: 10, minSamples: 50 }, tempo: null, webhook: null });
      const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
      for (const [p, m] of [
        ['/v1/traces', 'post'],
        ['/v1/anomaly/check', 'post'],
        ['/v1/baseline', 'get'],
        ['/v1/available', 'get'],
        ['/api/v1/anomalies', 'get'],
        ['/api/v1/anomaly/summaries', 'post'],
        ['/api/v1/anomaly/status', 'get'],
      ]) {
        expect(doc.paths[p]?.[m]?.tags, p).toEqual(['anomaly']);
      }
      const routes = t.server.app.vigilRoutes.filter((r) => r.method !== 'HEAD');
      const auth = (url: string, method: string) => routes.find((r) => r.url === url && r.method === method)?.auth;
      expect(auth('/v1/traces', 'POST')).toBe('agent');
      expect(auth('/v1/anomaly/check', 'POST')).toBe('viewer');
      expect(auth('/api/v1/anomaly/summaries', 'POST')).toBe('agent');
    });
  });
}
