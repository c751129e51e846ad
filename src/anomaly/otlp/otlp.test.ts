import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../../test/support/env.js';
import { seededRandom } from '../../simulate/random.js';
import {
  OtlpDecodeError,
  SPAN_KIND,
  decodeJsonTraces,
  decodeOtlpTraces,
  decodeProtobufTraces,
  endpointOf,
  exportResponseJson,
  exportResponseProtobuf,
  statusProtobuf,
  summarize,
  type DecodedTraces,
} from './index.js';

const otlpDir = fixturesDir('otlp');
const tempoDir = fixturesDir('tempo');

describe.skipIf(!otlpDir)('OTLP/JSON fixtures from opentelemetry-proto', () => {
  it('decodes examples/trace.json: upper-case hex ids, string int64, integer kind', () => {
    const d = decodeJsonTraces(readFileSync(path.join(otlpDir!, 'trace.json')));
    expect(d.rejectedSpans).toBe(0);
    expect(d.spans).toHaveLength(1);
    expect(d.spans[0]).toMatchObject({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: 'eee19b7ec3c1b173',
      service: 'my.service',
      name: "I'm a server span",
      kind: SPAN_KIND.SERVER,
      startTimeUnixNano: 1544712660000000000n,
      endTimeUnixNano: 1544712661000000000n,
    });
    // it has a parent, so it is no trace summary; as a SERVER span it is a span-level one
    expect(summarize(d.spans)).toEqual([]);
    expect(summarize(d.spans, { serverSpans: true })).toEqual([
      {
        traceId: '5b8efff798038103d269b633813fc60c',
        spanId: 'eee19b7ec3c1b174',
        service: 'my.service',
        endpoint: "I'm a server span",
        startMs: 1544712660000,
        durationMs: 1000,
      },
    ]);
  });

  it('ignores the other signals (unknown fields) without error', () => {
    for (const f of ['metrics.json', 'logs.json', 'events.json']) {
      expect(decodeJsonTraces(readFileSync(path.join(otlpDir!, f)))).toEqual({ spans: [], rejectedSpans: 0, errorMessage: '' });
    }
  });
});

describe.skipIf(!tempoDir)('Tempo v1 trace fixture', () => {
  it('is not an export request: its "batches" are unknown fields and ignored', () => {
    const d = decodeJsonTraces(readFileSync(path.join(tempoDir!, 'tempopb-trace.json')));
    expect(d.spans).toEqual([]);
  });
});

describe('OTLP/JSON variants the spec allows', () => {
  const doc = (span: Record<string, unknown>, resourceAttrs: unknown[] = [{ key: 'service.name', value: { stringValue: 'cart' } }]) => ({
    resourceSpans: [{ resource: { attributes: resourceAttrs }, scopeSpans: [{ scope: { name: 'x' }, spans: [span] }], futureField: 1 }],
  });
  const root = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    name: 'GET',
    kind: 2,
    startTimeUnixNano: '1704263400000000000',
    endTimeUnixNano: '1704263400250000000',
    attributes: [
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'http.route', value: { stringValue: '/users/:id' } },
      { key: 'http.response.status_code', value: { intValue: '200' } },
      { key: 'ignored', value: { arrayValue: { values: [] } } },
    ],
    unknownSpanField: { a: 1 },
  };

  it('accepts 64-bit integers as numbers or strings and enum names', () => {
    const d = decodeJsonTraces(
      doc({ ...root, startTimeUnixNano: 1704263400000000000, endTimeUnixNano: '1704263400250000000', kind: 'SPAN_KIND_SERVER', status: { code: 2 } }),
    );
    expect(d.spans[0]).toMatchObject({ kind: 2, statusCode: 2, attributes: { 'http.route': '/users/:id', 'http.response.status_code': 200 } });
    expect(summarize(d.spans)).toEqual([
      { traceId: '0af7651916cd43dd8448eb211c80319c', service: 'cart', endpoint: 'GET /users/:id', startMs: 1704263400000, durationMs: 250 },
    ]);
  });

  it('tolerates snake_case keys and base64 ids from generic protobuf JSON encoders', () => {
    const d = decodeJsonTraces({
      resource_spans: [
        {
          scope_spans: [
            {
              spans: [
                {
                  trace_id: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex').toString('base64'),
                  span_id: Buffer.from('b7ad6b7169203331', 'hex').toString('base64'),
                  name: 'job',
                  start_time_unix_nano: '1',
                  end_time_unix_nano: '2',
                },
              ],
            },
          ],
        },
      ],
    });
    expect(d.spans[0]).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', service: 'unknown_service' });
  });

  it('rejects unusable spans with a partial-success count and reason', () => {
    const d = decodeJsonTraces({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                root,
                { ...root, traceId: 'zz' },
                { ...root, spanId: '0000000000000000' },
                { ...root, endTimeUnixNano: '1' },
                { ...root, startTimeUnixNano: 'soon' },
                'not a span',
              ],
            },
          ],
        },
      ],
    });
    expect(d.spans).toHaveLength(1);
    expect(d.rejectedSpans).toBe(5);
    expect(d.errorMessage).toMatch(/^5 spans rejected: /);
    expect(d.errorMessage).toContain('invalid trace id');
    expect(d.errorMessage).toContain('ending before they start');
    expect(exportResponseJson(d.rejectedSpans, d.errorMessage)).toEqual({ partialSuccess: { rejectedSpans: '5', errorMessage: d.errorMessage } });
  });

  it('rejects garbage with a malformed OtlpDecodeError', () => {
    for (const bad of ['not json', '[]', '{"resourceSpans": 5}', '{"resourceSpans": [1]}', '{"resourceSpans":[{"scopeSpans":{}}]}', '"x"']) {
      expect(() => decodeJsonTraces(bad)).toThrow(OtlpDecodeError);
    }
    expect(decodeJsonTraces('{}')).toEqual({ spans: [], rejectedSpans: 0, errorMessage: '' });
  });
});

/** Spans recorded by the real OpenTelemetry SDK. */
function recordSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'deployment.environment': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('vigil-test', '1.0.0');
  const T = 1_704_263_400; // 2024-01-03T06:30:00Z
  const order = tracer.startSpan('GET /orders/:id', {
    kind: SpanKind.SERVER,
    startTime: [T, 0],
    attributes: { 'http.route': '/orders/:id', 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.path': '/orders/17' },
  });
  const ctx = trace.setSpan(context.active(), order);
  const db = tracer.startSpan('SELECT orders', { kind: SpanKind.CLIENT, startTime: [T, 1_000_000] }, ctx);
  db.end([T, 41_000_000]);
  const inner = tracer.startSpan('POST /inventory/reserve', { kind: SpanKind.SERVER, startTime: [T, 50_000_000] }, ctx);
  inner.end([T, 90_500_000]);
  order.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  order.end([T, 123_456_789]);
  const bare = tracer.startSpan('GET', {
    kind: SpanKind.SERVER,
    startTime: [T + 60, 0],
    attributes: { 'http.method': 'GET', 'http.target': '/users/42?verbose=1' },
  });
  bare.end([T + 61, 500_000_000]);
  return exporter.getFinishedSpans();
}

function checkSdkSpans(d: DecodedTraces, sdk: ReadableSpan[]) {
  expect(d.rejectedSpans).toBe(0);
  expect(d.spans).toHaveLength(4);
  const byName = new Map(d.spans.map((s) => [s.name, s]));
  for (const s of sdk) {
    const got = byName.get(s.name)!;
    expect(got.traceId).toBe(s.spanContext().traceId);
    expect(got.spanId).toBe(s.spanContext().spanId);
    expect(got.parentSpanId).toBe(s.parentSpanContext?.spanId ?? '');
    expect(got.service).toBe('checkout');
  }
  const order = byName.get('GET /orders/:id')!;
  expect(order).toMatchObject({
    kind: SPAN_KIND.SERVER,
    statusCode: 2,
    startTimeUnixNano: 1_704_263_400_000_000_000n,
    endTimeUnixNano: 1_704_263_400_123_456_789n,
    attributes: { 'http.route': '/orders/:id', 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.path': '/orders/17' },
  });
  expect(byName.get('SELECT orders')!.kind).toBe(SPAN_KIND.CLIENT);

  const roots = summarize(d.spans);
  expect(roots.map((r) => [r.service, r.endpoint, r.durationMs])).toEqual(
    expect.arrayContaining([
      ['checkout', 'GET /orders/:id', 123.456],
      ['checkout', 'GET /users/42', 1500],
    ]),
  );
  expect(roots).toHaveLength(2);
  expect(roots.find((r) => r.endpoint === 'GET /orders/:id')!.startMs).toBe(1_704_263_400_000);
  const withServer = summarize(d.spans, { serverSpans: true });
  expect(withServer).toHaveLength(3);
  expect(withServer.find((r) => r.spanId)).toMatchObject({ endpoint: 'POST /inventory/reserve', durationMs: 40.5 });
}

describe('round trip through the OpenTelemetry SDK serializers', () => {
  const sdk = recordSpans();

  it('decodes the binary protobuf the OTLP/proto exporter sends', () => {
    const bytes = ProtobufTraceSerializer.serializeRequest(sdk)!;
    checkSdkSpans(decodeProtobufTraces(bytes), sdk);
  });

  it('decodes the JSON the OTLP/HTTP JSON exporter sends', () => {
    const bytes = JsonTraceSerializer.serializeRequest(sdk)!;
    checkSdkSpans(decodeJsonTraces(bytes), sdk);
  });

  it('decodes gzip bodies chosen by Content-Type and Content-Encoding', () => {
    const pb = ProtobufTraceSerializer.serializeRequest(sdk)!;
    const r = decodeOtlpTraces({ body: gzipSync(pb), contentType: 'application/x-protobuf', contentEncoding: 'gzip' });
    expect(r.format).toBe('protobuf');
    checkSdkSpans(r, sdk);
    const j = decodeOtlpTraces({ body: JsonTraceSerializer.serializeRequest(sdk)!, contentType: 'application/json; charset=utf-8' });
    expect(j.format).toBe('json');
    checkSdkSpans(j, sdk);
  });

  it('answers with responses the SDK parses as partial success', () => {
    expect(exportResponseProtobuf()).toEqual(new Uint8Array(0));
    expect(exportResponseJson()).toEqual({});
    expect(ProtobufTraceSerializer.deserializeResponse(exportResponseProtobuf(3, '3 spans rejected: bad ids'))).toEqual({
      partialSuccess: { rejectedSpans: 3, errorMessage: '3 spans rejected: bad ids' },
    });
    const json = JsonTraceSerializer.deserializeResponse(new TextEncoder().encode(JSON.stringify(exportResponseJson(2, 'x'))));
    expect(json).toEqual({ partialSuccess: { rejectedSpans: '2', errorMessage: 'x' } });
  });

  it('encodes google.rpc.Status for errors', () => {
    // field 1 varint 3, field 2 "bad"
    expect([...statusProtobuf('bad')]).toEqual([0x08, 3, 0x12, 3, 0x62, 0x61, 0x64]);
  });
});

describe('protobuf decoder robustness', () => {
  const good = ProtobufTraceSerializer.serializeRequest(recordSpans())!;

  it('rejects garbage with an OtlpDecodeError', () => {
    const cases = [
      new TextEncoder().encode('hello world'),
      new TextEncoder().encode('{"resourceSpans":[]}'), // JSON sent as protobuf
      good.subarray(0, good.length - 3), // truncated
      Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // length far beyond the end
      Uint8Array.from([0x00, 0x01]), // field number 0
      Uint8Array.from([0x0f]), // wire type 7
      Uint8Array.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // 11-byte varint
      Uint8Array.from([0x0a, 0x02, 0x10, 0x01]), // resource_spans.scope_spans as a varint
    ];
    for (const c of cases) expect(() => decodeProtobufTraces(c)).toThrow(OtlpDecodeError);
  });

  it('accepts an empty request (the spec says: answer success)', () => {
    expect(decodeProtobufTraces(new Uint8Array(0))).toEqual({ spans: [], rejectedSpans: 0, errorMessage: '' });
  });

  it('never hangs or throws anything but OtlpDecodeError on mutated input', () => {
    const rnd = seededRandom(99);
    for (let i = 0; i < 3000; i++) {
      const buf = Uint8Array.from(good);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
      const cut = rnd() < 0.3 ? buf.subarray(0, Math.floor(rnd() * buf.length)) : buf;
      try {
        const d = decodeProtobufTraces(cut);
        expect(d.spans.length + d.rejectedSpans).toBeLessThanOrEqual(4);
      } catch (e) {
        expect(e).toBeInstanceOf(OtlpDecodeError);
      }
    }
  });

  it('tells a body too large and an unsupported media type or encoding from malformed data', () => {
    const big = gzipSync(Buffer.alloc(2 * 1024 * 1024));
    const tooBig = () => decodeOtlpTraces({ body: big, contentType: 'application/x-protobuf', contentEncoding: 'gzip', maxBytes: 1024 * 1024 });
    expect(tooBig).toThrow(expect.objectContaining({ kind: 'too_large' }));
    expect(() => decodeOtlpTraces({ body: good, contentType: 'text/plain' })).toThrow(expect.objectContaining({ kind: 'unsupported_media_type' }));
    expect(() => decodeOtlpTraces({ body: good, contentType: 'application/x-protobuf', contentEncoding: 'br' })).toThrow(
      expect.objectContaining({ kind: 'unsupported_media_type' }),
    );
    expect(() => decodeOtlpTraces({ body: good, contentType: 'application/x-protobuf', contentEncoding: 'gzip' })).toThrow(
      expect.objectContaining({ kind: 'malformed' }),
    );
  });
});

describe('endpointOf', () => {
  const span = (name: string, attributes: Record<string, string> = {}) => ({ name, attributes });
  it('keeps a descriptive span name (what Tempo shows as rootTraceName)', () => {
    expect(endpointOf(span('GET /users/:id', { 'http.route': '/other' }))).toBe('GET /users/:id');
    expect(endpointOf(span('checkout.process'))).toBe('checkout.process');
  });

  it('completes a bare method with the route, else the path', () => {
    expect(endpointOf(span('GET', { 'http.route': '/users/:id' }))).toBe('GET /users/:id');
    expect(endpointOf(span('HTTP GET', { 'http.target': '/users/12?x=1' }))).toBe('GET /users/12');
    expect(endpointOf(span('HTTP', { 'http.request.method': 'post', 'url.full': 'https://a.b/c/d?e' }))).toBe('POST /c/d');
    expect(endpointOf(span('', { 'rpc.service': 'Greeter', 'rpc.method': 'Hello' }))).toBe('Greeter/Hello');
    expect(endpointOf(span(''))).toBe('(unnamed)');
    expect(endpointOf(span('GET'))).toBe('GET');
  });
});
