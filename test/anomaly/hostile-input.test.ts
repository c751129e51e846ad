/**
 * Hostile names and bodies on the anomaly routes (issue 7, points 5, 6, 8), with the anomaly feed on
 * SQLite and PostgreSQL: multi-megabyte names never overflow the normaliser's stack, OTLP answers a
 * permanent problem with a partial success (never 503, which exporters retry for ever), names have
 * limits, NUL never reaches the database, and invalid summaries are named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ENDPOINT_LENGTH, MAX_SERVICE_LENGTH, looksLikeId, normalizeEndpoint } from '../../src/anomaly/index.js';
import { engineUrl } from '../support/env.js';
import { WED_14_TAIPEI, postJson, spanId, startAnomalyServer, traceId, type AnomalyTestServer } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A name past the ~5.5 MB at which the old regex-based id test overflowed the stack. */
const HUGE = 6 * 1024 * 1024;

describe('the endpoint normaliser on multi-megabyte names', () => {
  it('looksLikeId answers for a 6 MB segment of each shape it tests', () => {
    expect(looksLikeId('a'.repeat(HUGE) + '@example.com')).toBe(true);
    expect(looksLikeId('1'.repeat(HUGE))).toBe(true);
    expect(looksLikeId('ab1'.repeat(HUGE / 3))).toBe(true);
    expect(looksLikeId('word'.repeat(HUGE / 4))).toBe(false);
  });

  it('a 6 MB endpoint normalises to a bounded name', () => {
    const out = normalizeEndpoint('GET /' + 'x'.repeat(HUGE));
    expect(out.length).toBeLessThanOrEqual(200);
    expect(out.startsWith('GET /x')).toBe(true);
  });

  it('NUL characters never leave the normaliser', () => {
    expect(normalizeEndpoint('GET /a\u0000b')).not.toContain('\u0000');
  });
});

const pg = engineUrl('POSTGRES');
for (const c of [
  { name: 'sqlite', flags: {} },
  { name: 'postgres', flags: pg ? { 'database.url': pg } : undefined },
]) {
  describe.skipIf(!c.flags)(`anomaly routes refuse hostile input (${c.name})`, () => {
    let t: AnomalyTestServer;
    beforeAll(async () => {
      t = await startAnomalyServer(c.flags);
    });
    afterAll(async () => {
      await t?.stop();
    });

    const otlp = (service: string, name: string) => ({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: traceId(),
                  spanId: spanId(),
                  name,
                  kind: 2,
                  startTimeUnixNano: String(BigInt(WED_14_TAIPEI) * 1_000_000n),
                  endTimeUnixNano: String(BigInt(WED_14_TAIPEI + 25) * 1_000_000n),
                },
              ],
            },
          ],
        },
      ],
    });
    const sendTraces = async (body: unknown) => {
      const r = await t.call('/v1/traces', { ...postJson(body), role: 'agent' });
      return { status: r.status, body: (await r.json()) as Json };
    };

    it('an OTLP span with a 6 MB name is answered (not 503) and learned under a bounded name', async () => {
      const r = await sendTraces(otlp('huge-endpoint', 'GET /' + 'y'.repeat(HUGE)));
      expect(r.status).not.toBe(503);
      expect(r.status).toBe(200);
      expect(r.body.partialSuccess?.rejectedSpans ?? '0').toBe('0');
    });

    it('an OTLP span whose service.name is too long or holds a NUL is rejected in partialSuccess', async () => {
      let r = await sendTraces(otlp('s'.repeat(MAX_SERVICE_LENGTH + 1), 'GET /a'));
      expect(r.status).toBe(200);
      expect(r.body.partialSuccess).toMatchObject({ rejectedSpans: '1' });
      expect(r.body.partialSuccess.errorMessage).toContain('service.name');
      r = await sendTraces(otlp('cart\u0000', 'GET /a'));
      expect(r.status).toBe(200);
      expect(r.body.partialSuccess).toMatchObject({ rejectedSpans: '1' });
      expect(r.body.partialSuccess.errorMessage).toContain('NUL');
    });

    it('/v1/available stays small after hostile names', async () => {
      await sendTraces(otlp('x'.repeat(10 * 1024 * 1024 - 2048), 'GET /a'));
      await t.svc.runBaselineJob();
      const r = await t.call('/v1/available');
      expect(r.status).toBe(200);
      const text = await r.text();
      expect(text.length).toBeLessThan(100_000);
    });

    it('a check with a 6 MB endpoint or an over-long service is 400 naming the field', async () => {
      let r = await t.call('/v1/anomaly/check', postJson({ service: 'cart', endpoint: 'GET /' + 'z'.repeat(HUGE), durationMs: 5 }));
      expect(r.status).toBe(400);
      expect(((await r.json()) as Json).field).toBe('endpoint');
      r = await t.call('/v1/anomaly/check', postJson({ rootServiceName: 's'.repeat(MAX_SERVICE_LENGTH + 1), endpoint: 'GET /', durationMs: 5 }));
      expect(r.status).toBe(400);
      expect(((await r.json()) as Json).field).toBe('rootServiceName');
      r = await t.call(`/v1/baseline?service=cart&endpoint=${'e'.repeat(MAX_ENDPOINT_LENGTH + 1)}&hour=3&dayType=weekday`);
      expect(r.status).toBe(400);
      expect(((await r.json()) as Json).field).toBe('endpoint');
    });

    it('a NUL in a query parameter is 400 naming it', async () => {
      const r = await t.call('/api/v1/anomalies?service=ca%00rt');
      expect(r.status).toBe(400);
      expect(((await r.json()) as Json).field).toBe('service');
    });

    it('since=-1 and since=1e20 are 400 naming since', async () => {
      for (const since of ['-1', '1e20', '99999999999999999999']) {
        const r = await t.call(`/api/v1/anomalies?since=${since}`);
        expect(r.status, since).toBe(400);
        expect(((await r.json()) as Json).field).toBe('since');
      }
    });

    it('invalid summaries are named by index and field; the valid ones are learned', async () => {
      const good = { traceId: traceId(), service: 'cart', endpoint: 'GET /cart', startMs: WED_14_TAIPEI, durationMs: 12 };
      const r = await t.call('/api/v1/anomaly/summaries', {
        ...postJson({
          summaries: [good, { ...good, traceId: traceId(), durationMs: -4 }, { ...good, traceId: traceId(), service: 's'.repeat(MAX_SERVICE_LENGTH + 1) }],
        }),
        role: 'agent',
      });
      expect(r.status).toBe(200);
      const body = (await r.json()) as Json;
      expect(body).toMatchObject({ ingested: 1, invalid: 2 });
      expect(body.errors).toEqual([
        { index: 1, field: 'summaries[1].durationMs', message: expect.any(String) },
        { index: 2, field: 'summaries[2].service', message: expect.any(String) },
      ]);
    });

    it('a summary with a wrong type is named too (no coercion)', async () => {
      const r = await t.call('/api/v1/anomaly/summaries', {
        ...postJson({ summaries: [{ traceId: traceId(), service: 'cart', endpoint: 'GET /cart', startMs: String(WED_14_TAIPEI), durationMs: 12 }] }),
        role: 'agent',
      });
      const body = (await r.json()) as Json;
      expect(body.errors?.[0]?.field).toBe('summaries[0].startMs');
    });
  });
}
