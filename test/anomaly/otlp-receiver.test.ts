/**
 * POST /v1/traces against a running server: the real OpenTelemetry SDK with both OTLP/HTTP exporters
 * (JSON and protobuf, plain and gzip), the upstream OTLP/JSON example, and every error status.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { fixturesDir } from '../support/env.js';
import { kvEngines, startAnomalyServer, WED_14_TAIPEI, type AnomalyTestServer } from './helpers.js';

/** Records what the wrapped exporter reported for each batch. */
class Recording implements SpanExporter {
  results: ExportResult[] = [];
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], cb: (r: ExportResult) => void) {
    this.inner.export(spans, (r) => {
      this.results.push(r);
      cb(r);
    });
  }
  shutdown() {
    return this.inner.shutdown();
  }
  forceFlush() {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** Emit `n` traces of service → endpoint (root SERVER span + one child SERVER span in `inventory`) through the SDK. */
async function emit(exporter: SpanExporter, service: string, endpoint: string, n: number, startMs: number): Promise<void> {
  const root = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = root.getTracer('vigil-test');
  const { trace, context } = await import('@opentelemetry/api');
  for (let i = 0; i < n; i++) {
    const t0 = startMs + i * 1000;
    const span = tracer.startSpan(endpoint, { kind: SpanKind.SERVER, startTime: t0, attributes: { 'http.request.method': 'POST', 'http.route': '/checkout' } });
    const child = tracer.startSpan('GET /stock/{sku}', { kind: SpanKind.SERVER, startTime: t0 + 5 }, trace.setSpan(context.active(), span));
    child.end(t0 + 25);
    span.end(t0 + 100 + i);
  }
  await root.forceFlush();
  await root.shutdown();
}

for (const engine of kvEngines()) {
  describe.skipIf(!engine.available)(`OTLP receiver (${engine.name})`, () => {
    let t: AnomalyTestServer;
    beforeAll(async () => {
      t = await startAnomalyServer({ ...engine.flags(), 'server.bodyLimitBytes': 64 * 1024, 'anomaly.serverSpans': true });
    });
    afterAll(async () => {
      await t?.stop();
    });

    const sampleCount = async (service: string, endpoint: string, startMs = WED_14_TAIPEI) => {
      await t.svc.runBaselineJob();
      const { hour, dayType } = t.svc.store.keyOf({ service, endpoint, startMs }).split('|').slice(2).reduce(
        (acc, v, i) => (i === 0 ? { ...acc, hour: v } : { ...acc, dayType: v }),
        { hour: '', dayType: '' },
      );
      const r = await t.call(`/v1/baseline?service=${encodeURIComponent(service)}&endpoint=${encodeURIComponent(endpoint)}&hour=${hour}&dayType=${dayType}`);
      return r.status === 404 ? 0 : ((await r.json()) as { sampleCount: number }).sampleCount;
    };

    const exporters = {
      'http/json': (compression?: string) =>
        new OTLPHttpJsonExporter({ url: `${t.url}/v1/traces`, headers: { authorization: `Bearer ${t.tokens.agent}` }, ...(compression ? { compression } : {}) } as never),
      'http/protobuf': (compression?: string) =>
        new OTLPProtoExporter({ url: `${t.url}/v1/traces`, headers: { authorization: `Bearer ${t.tokens.agent}` }, ...(compression ? { compression } : {}) } as never),
    };

    for (const [name, make] of Object.entries(exporters)) {
      for (const compression of [undefined, 'gzip']) {
        it(`learns root spans and SERVER spans exported by the OpenTelemetry SDK (${name}${compression ? ', gzip' : ''})`, async () => {
          const service = `svc-${name.replace(/\W/g, '')}-${compression ?? 'plain'}`;
          const rec = new Recording(make(compression));
          await emit(rec, service, 'POST /checkout', 12, WED_14_TAIPEI);
          expect(rec.results.length).toBeGreaterThan(0);
          expect(rec.results.every((r) => r.code === ExportResultCode.SUCCESS)).toBe(true);
          expect(await sampleCount(service, 'POST /checkout')).toBe(12);
          // the child SERVER spans became span-level summaries (anomaly.serverSpans)
          expect(await sampleCount(service, 'GET /stock/{sku}')).toBe(12);
          const m = await (await fetch(`${t.url}/metrics`)).text();
          expect(m).toMatch(/vigil_anomaly_spans_received_total\{format="(json|protobuf)"\} \d+/);
          expect(m).toMatch(/vigil_anomaly_summaries_ingested_total\{source="otlp"\} \d+/);
        });
      }
    }

    it('answers a re-sent batch as duplicates without learning it twice', async () => {
      const rec = new Recording(exporters['http/protobuf']());
      const service = 'svc-dupe';
      const provider = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [] });
      const span = provider.getTracer('t').startSpan('GET /x', { kind: SpanKind.SERVER, startTime: WED_14_TAIPEI });
      span.end(WED_14_TAIPEI + 30);
      const readable = span as unknown as ReadableSpan;
      for (let i = 0; i < 2; i++) await new Promise<void>((r) => rec.export([readable], () => r()));
      expect(rec.results.map((r) => r.code)).toEqual([ExportResultCode.SUCCESS, ExportResultCode.SUCCESS]);
      expect(await sampleCount(service, 'GET /x')).toBe(1);
      expect(await (await fetch(`${t.url}/metrics`)).text()).toMatch(/vigil_anomaly_summaries_duplicate_total\{source="otlp"\} [1-9]/);
    });

    it('decodes the upstream OTLP/JSON example (upper-case hex ids, string nanos, integer kind)', async (ctx) => {
      const dir = fixturesDir('otlp');
      if (!dir) return ctx.skip('the otlp fixtures are missing (set VIGIL_FIXTURES)');
      const body = readFileSync(path.join(dir, 'trace.json'));
      const r = await t.call('/v1/traces', { method: 'POST', role: 'agent', headers: { 'content-type': 'application/json' }, body });
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({});
      // its one span has a parent (not a root) and is a SERVER span: learned as a span-level summary
      expect(await sampleCount('my.service', "I'm a server span", Date.parse('2018-12-13T14:51:00Z'))).toBe(1);
    });

    it('reports unusable spans through partialSuccess (JSON) and keeps the good ones', async () => {
      const span = (traceId: string, start: string, end: string) => ({ traceId, spanId: 'a1a2a3a4a5a6a7a8', name: 'GET /p', kind: 2, startTimeUnixNano: start, endTimeUnixNano: end });
      const doc = {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'partial' } }] },
            scopeSpans: [
              {
                spans: [
                  span('0102030405060708090a0b0c0d0e0f10', '1704261600000000000', '1704261600050000000'),
                  span('zz', '1704261600000000000', '1704261600050000000'),
                  span('1102030405060708090a0b0c0d0e0f10', '1704261600050000000', '1704261600000000000'),
                ],
              },
            ],
          },
        ],
      };
      const r = await t.call('/v1/traces', { method: 'POST', role: 'agent', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
      expect(body.partialSuccess.rejectedSpans).toBe('2');
      expect(body.partialSuccess.errorMessage).toMatch(/invalid trace id/);
      expect(await sampleCount('partial', 'GET /p')).toBe(1);
    });

    it('reports rejected spans in a protobuf partialSuccess that the OpenTelemetry deserializer reads', async () => {
      const provider = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'pb-partial' }), spanProcessors: [] });
      const good = provider.getTracer('t').startSpan('GET /pb', { kind: SpanKind.SERVER, startTime: WED_14_TAIPEI });
      good.end(WED_14_TAIPEI + 40);
      const g = good as unknown as ReadableSpan;
      // the same span with an all-zero trace id, which OTLP forbids
      const bad = Object.create(g, {
        spanContext: { value: () => ({ ...g.spanContext(), traceId: '0'.repeat(32) }) },
      }) as ReadableSpan;
      const body = ProtobufTraceSerializer.serializeRequest([g, bad])!;
      const r = await t.call('/v1/traces', { method: 'POST', role: 'agent', headers: { 'content-type': 'application/x-protobuf' }, body: body as BodyInit });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^application\/x-protobuf/);
      const resp = ProtobufTraceSerializer.deserializeResponse(new Uint8Array(await r.arrayBuffer()));
      expect(Number(resp.partialSuccess?.rejectedSpans)).toBe(1);
      expect(resp.partialSuccess?.errorMessage).toMatch(/invalid trace id/);
      expect(await sampleCount('pb-partial', 'GET /pb')).toBe(1);
    });

    it('answers protobuf requests with protobuf: an empty ExportTraceServiceResponse, a binary Status on 400', async () => {
      const ok = await t.call('/v1/traces', { method: 'POST', role: 'agent', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array(0) });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^application\/x-protobuf/);
      expect((await ok.arrayBuffer()).byteLength).toBe(0);
      const bad = await t.call('/v1/traces', { method: 'POST', role: 'agent', headers: { 'content-type': 'application/x-protobuf' }, body: Uint8Array.from([0x0a, 0xff, 0xff, 0xff]) });
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toMatch(/^application\/x-protobuf/);
      const bytes = new Uint8Array(await bad.arrayBuffer());
      // google.rpc.Status: field 1 (code) varint 3 = INVALID_ARGUMENT, then field 2 (message)
      expect([bytes[0], bytes[1], bytes[2]]).toEqual([0x08, 0x03, 0x12]);
      expect(Buffer.from(bytes).toString('utf8')).toContain('protobuf');
    });

    it('400 for undecodable JSON and bad gzip, 415 for other types, 413 over the size limit (also after inflation)', async () => {
      const post = (body: Uint8Array<ArrayBuffer> | Buffer | string, headers: Record<string, string>) => t.call('/v1/traces', { method: 'POST', role: 'agent', headers, body: body as BodyInit });
      const notJson = await post('{"resourceSpans": [', { 'content-type': 'application/json' });
      expect(notJson.status).toBe(400);
      expect(await notJson.json()).toMatchObject({ error: 'bad_request', code: 3 });
      const badGzip = await post(Uint8Array.from([1, 2, 3, 4]), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      expect(badGzip.status).toBe(400);
      const text = await post('hello', { 'content-type': 'text/plain' });
      expect(text.status).toBe(415);
      const big = await post(new Uint8Array(80 * 1024), { 'content-type': 'application/x-protobuf' });
      expect(big.status).toBe(413);
      // 80 KiB of zeros gzip to ~100 bytes: the limit applies to the inflated body
      const bomb = await post(gzipSync(Buffer.alloc(80 * 1024)), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
      expect(bomb.status).toBe(413);
      const viaJsonBomb = await post(gzipSync(Buffer.alloc(80 * 1024, 0x20)), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      expect(viaJsonBomb.status).toBe(413);
    });

    it('needs an agent or admin token', async () => {
      const body = JSON.stringify({ resourceSpans: [] });
      const headers = { 'content-type': 'application/json' };
      expect((await t.call('/v1/traces', { method: 'POST', role: 'none', headers, body })).status).toBe(401);
      expect((await t.call('/v1/traces', { method: 'POST', role: 'viewer', headers, body })).status).toBe(403);
      expect((await t.call('/v1/traces', { method: 'POST', role: 'agent', headers, body })).status).toBe(200);
      expect((await t.call('/v1/traces', { method: 'POST', role: 'admin', headers, body })).status).toBe(200);
    });
  });
}
