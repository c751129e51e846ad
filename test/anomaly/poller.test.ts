/**
 * The Tempo poller against a local fake Tempo: search parameters and auth, truncated windows split,
 * backoff while Tempo answers 503 or is down, /readyz degraded, and no gap after an outage or a restart.
 * Time is a test clock; nothing waits for a timer.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryKv } from '../../src/platform/backends/kv/memory.js';
import { TempoPoller, TempoClient, ROOT_SPAN_NOT_YET_RECEIVED, type TraceSummary } from '../../src/anomaly/index.js';
import { fixturesDir } from '../support/env.js';
import { uniqueId } from '../support/backends.js';
import { kvEngines, scriptedServer, startAnomalyServer, traceId, type AnomalyTestServer, type Recorded } from './helpers.js';

interface FakeTrace {
  traceID: string;
  rootServiceName: string;
  rootTraceName?: string;
  startTimeUnixNano: string;
  durationMs?: number;
  [extra: string]: unknown;
}

/** A fake Tempo: /api/search returns the traces starting inside [start, end), at most `limit`. */
async function fakeTempo() {
  const state = { traces: [] as FakeTrace[], mode: 'ok' as 'ok' | 503 | 'hangup' };
  const srv = await scriptedServer((req) => {
    if (state.mode === 503) return { status: 503, body: 'ingester unavailable' };
    if (state.mode === 'hangup') return 'hangup';
    const u = new URL(req.url, 'http://x');
    if (u.pathname !== '/api/search') return { status: 404, body: 'not found' };
    const start = Number(u.searchParams.get('start')) * 1e9;
    const end = Number(u.searchParams.get('end')) * 1e9;
    const limit = Number(u.searchParams.get('limit'));
    const hits = state.traces.filter((t) => Number(t.startTimeUnixNano) >= start && Number(t.startTimeUnixNano) < end).slice(0, limit);
    return { status: 200, body: { traces: hits, metrics: { inspectedTraces: 42, totalBlocks: 1 }, somethingNew: true } };
  });
  return { ...srv, state };
}

const at = (sec: number, over: Partial<FakeTrace> = {}): FakeTrace => ({
  traceID: traceId().replace(/^0+/, '').slice(0, 16), // Tempo drops leading zeros and often shows 16 digits
  rootServiceName: 'frontend',
  rootTraceName: 'GET /cart',
  startTimeUnixNano: String(BigInt(sec) * 1_000_000_000n),
  durationMs: 120,
  ...over,
});

const windowOf = (r: Recorded) => {
  const u = new URL(r.url, 'http://x');
  return { start: Number(u.searchParams.get('start')), end: Number(u.searchParams.get('end')) };
};

const T0 = Date.parse('2024-01-03T06:00:00Z'); // a Wednesday, 14:00 in Taipei
const T0s = T0 / 1000;

describe('TempoPoller (unit, in-process KV)', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  async function setup(opts: { limit?: number; now: { t: number } } = { now: { t: T0 } }) {
    const tempo = await fakeTempo();
    closers.push(tempo.close);
    const kv = new MemoryKv();
    const ingested: TraceSummary[] = [];
    const warnings: string[] = [];
    const client = new TempoClient({ baseUrl: tempo.url, limit: opts.limit ?? 100, retries: 1, backoffMs: 1, onWarn: (m) => warnings.push(m) });
    const make = () =>
      new TempoPoller({
        client,
        kv,
        ingest: async (s) => void ingested.push(...s),
        lookbackMs: 120_000,
        pollIntervalMs: 15_000,
        now: () => opts.now.t,
      });
    return { tempo, kv, ingested, warnings, poller: make(), make };
  }

  it('searches the lookback window, skips traces whose root span has not arrived, ignores unknown fields', async () => {
    const clock = { t: T0 };
    const { tempo, poller, ingested } = await setup({ now: clock });
    tempo.state.traces = [at(T0s - 30), at(T0s - 20, { rootServiceName: ROOT_SPAN_NOT_YET_RECEIVED, rootTraceName: ROOT_SPAN_NOT_YET_RECEIVED }), at(T0s - 500)];
    const r = await poller.runOnce();
    expect(r).toMatchObject({ outcome: 'ok', traces: 1 });
    expect(windowOf(tempo.requests[0])).toEqual({ start: T0s - 120, end: T0s });
    expect(ingested).toHaveLength(1);
    expect(ingested[0]).toMatchObject({ service: 'frontend', endpoint: 'GET /cart', durationMs: 120, startMs: (T0s - 30) * 1000 });
    expect(ingested[0].traceId).toHaveLength(32);
  });

  it('plans whole-second windows: the lookback, hour slices from an older watermark, and no further back than the catch-up bound', async () => {
    const { poller } = await setup();
    // a clock between two seconds: the window ends at the last whole second, so it never reaches into the future
    expect(poller.plan(T0 + 500, null)).toEqual({ windows: [{ start: T0s - 120, end: T0s }] });
    expect(poller.plan(T0, T0s - 60).windows).toEqual([{ start: T0s - 120, end: T0s }]);
    expect(poller.plan(T0, T0s - 2.5 * 3600).windows).toEqual([
      { start: T0s - 9000, end: T0s - 5400 },
      { start: T0s - 5400, end: T0s - 1800 },
      { start: T0s - 1800, end: T0s },
    ]);
    const gap = poller.plan(T0, T0s - 30 * 3600);
    expect(gap.skippedFrom).toBe(T0s - 30 * 3600);
    expect(gap.windows[0].start).toBe(T0s - 24 * 3600);
    expect(gap.windows.at(-1)).toEqual({ start: T0s - 3600, end: T0s });
  });

  it('splits a window Tempo truncated (exactly limit traces) and warns', async () => {
    const clock = { t: T0 };
    const { tempo, poller, ingested, warnings } = await setup({ limit: 4, now: clock });
    tempo.state.traces = Array.from({ length: 10 }, (_, i) => at(T0s - 110 + i * 11));
    const r = await poller.runOnce();
    expect(r).toMatchObject({ outcome: 'ok', traces: 10 });
    expect(new Set(ingested.map((s) => s.traceId)).size).toBe(10);
    expect(tempo.requests.length).toBeGreaterThan(1);
    expect(warnings.some((w) => /exactly limit=4 traces.*splitting/.test(w))).toBe(true);
    // every searched window lies inside the poll window
    for (const req of tempo.requests) {
      const w = windowOf(req);
      expect(w.start).toBeGreaterThanOrEqual(T0s - 120);
      expect(w.end).toBeLessThanOrEqual(T0s);
    }
  });

  it('backs off while Tempo answers 503, then resumes from the last good window without a gap', async () => {
    const clock = { t: T0 };
    const { tempo, poller, ingested } = await setup({ now: clock });
    expect(await poller.runOnce()).toMatchObject({ outcome: 'ok' });
    const watermark = T0s;
    tempo.state.mode = 503;
    clock.t += 15_000;
    const failed = await poller.runOnce();
    expect(failed.outcome).toBe('error');
    const calls = tempo.requests.length;
    // still inside the backoff: no request at all
    clock.t += 1_000;
    expect((await poller.runOnce()).outcome).toBe('backoff');
    expect(tempo.requests.length).toBe(calls);
    // Tempo comes back ten minutes later, with traces from during the outage
    tempo.state.mode = 'ok';
    clock.t = T0 + 600_000;
    tempo.state.traces = [at(T0s + 60), at(T0s + 300), at(T0s + 590)];
    const first = tempo.requests.length;
    const ok = await poller.runOnce();
    expect(ok).toMatchObject({ outcome: 'ok', traces: 3 });
    expect(windowOf(tempo.requests[first])).toEqual({ start: watermark, end: T0s + 600 });
    expect(ingested).toHaveLength(3);
    expect((await poller.currentStatus())?.consecutiveFailures).toBe(0);
  });

  it('doubles the backoff per failure (also when Tempo is down) up to the cap', async () => {
    const clock = { t: T0 };
    const { tempo, poller } = await setup({ now: clock });
    tempo.state.mode = 'hangup';
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await poller.runOnce();
      expect(r.outcome).toBe('error');
      if (r.outcome !== 'error') return;
      delays.push(r.retryAt - clock.t);
      clock.t = r.retryAt;
    }
    expect(delays).toEqual([15_000, 30_000, 60_000, 120_000, 240_000, 300_000]);
    expect((await poller.currentStatus())?.lastError).toBeTruthy();
  });

  it('resumes from the watermark in the KV store after a restart, in bounded slices', async () => {
    const clock = { t: T0 };
    const { tempo, make, ingested } = await setup({ now: clock });
    expect((await make().runOnce()).outcome).toBe('ok');
    // "restart" 3 hours later: a new poller over the same KV
    clock.t = T0 + 3 * 3600_000;
    tempo.state.traces = [at(T0s + 100), at(T0s + 2 * 3600 + 5), at(T0s + 3 * 3600 - 10)];
    const before = tempo.requests.length;
    const again = make();
    const r = await again.runOnce();
    expect(r).toMatchObject({ outcome: 'ok', traces: 3, caughtUp: true });
    const windows = tempo.requests.slice(before).map(windowOf);
    expect(windows[0].start).toBe(T0s);
    expect(windows.at(-1)!.end).toBe(T0s + 3 * 3600);
    for (let i = 1; i < windows.length; i++) expect(windows[i].start).toBe(windows[i - 1].end);
    expect(windows.every((w) => w.end - w.start <= 3600)).toBe(true);
    expect(ingested).toHaveLength(3);
  });

  it('sends tenant, auth and the query', async () => {
    const tempo = await fakeTempo();
    closers.push(tempo.close);
    const basic = new TempoClient({ baseUrl: tempo.url, tenant: 'team-a', auth: { type: 'basic', username: 'u', password: 'p' }, q: '{ resource.service.name = "cart" }', limit: 50 });
    await basic.searchAll({ start: T0s - 10, end: T0s });
    const bearer = new TempoClient({ baseUrl: tempo.url, auth: { type: 'bearer', token: 'tok' }, tags: 'service.name=cart' });
    await bearer.searchAll({ start: T0s - 10, end: T0s });
    const [a, b] = tempo.requests;
    expect(a.headers['x-scope-orgid']).toBe('team-a');
    expect(a.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    const qa = new URL(a.url, 'http://x').searchParams;
    expect([qa.get('q'), qa.get('limit'), qa.get('start'), qa.get('end')]).toEqual(['{ resource.service.name = "cart" }', '50', String(T0s - 10), String(T0s)]);
    expect(b.headers.authorization).toBe('Bearer tok');
    expect(new URL(b.url, 'http://x').searchParams.get('tags')).toBe('service.name=cart');
  });

  it('ingests the documented Tempo search response', async (ctx) => {
    const dir = fixturesDir('tempo');
    if (!dir) return ctx.skip('the tempo fixtures are missing (set VIGIL_FIXTURES)');
    const doc = JSON.parse(readFileSync(path.join(dir, 'docs-search-tags-based.response.json'), 'utf8')) as { traces: FakeTrace[] };
    const tempo = await fakeTempo();
    closers.push(tempo.close);
    tempo.state.traces = doc.traces;
    const client = new TempoClient({ baseUrl: tempo.url });
    const startSec = Math.floor(Number(BigInt(doc.traces[1].startTimeUnixNano) / 1_000_000_000n));
    const r = await client.searchAll({ start: startSec - 10, end: startSec + 200 });
    expect(r.summaries.map((s) => [s.traceId, s.service, s.endpoint, s.durationMs])).toEqual([
      ['0000000000000000d6e9329d67b6146a', 'frontend', '/cart', 611],
      ['00000000000000001b1ba462b409200d', 'frontend', '/cart', 611],
    ]);
  });
});

for (const engine of kvEngines()) {
  describe.skipIf(!engine.available)(`Tempo poller in the server (${engine.name})`, () => {
    const servers: AnomalyTestServer[] = [];
    const closers: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const s of servers.splice(0)) await s.stop();
      for (const c of closers.splice(0)) await c();
    });

    const start = async (tempoUrl: string, clock: { t: number }, prefix?: string) => {
      const s = await startAnomalyServer(
        { ...engine.flags(prefix), 'anomaly.tempo.url': tempoUrl, 'anomaly.tempo.tenant': 'acme' },
        { now: () => clock.t, tempoClient: { retries: 1, backoffMs: 1 } },
      );
      servers.push(s);
      return s;
    };
    const readyz = async (s: AnomalyTestServer) => {
      const r = await fetch(`${s.url}/readyz`);
      return { status: r.status, body: (await r.json()) as { status: string; checks: Record<string, { ok: boolean; degraded?: boolean; detail?: string }> } };
    };

    it('learns polled traces, reports Tempo degraded on /readyz while it is down, and recovers without a gap', async () => {
      const tempo = await fakeTempo();
      closers.push(tempo.close);
      const clock = { t: T0 };
      const s = await start(tempo.url, clock);
      expect((await readyz(s)).body.checks['anomaly:tempo']).toMatchObject({ ok: true });
      tempo.state.traces = Array.from({ length: 60 }, (_, i) => at(T0s - 119 + i, { durationMs: 100 + (i % 7) }));
      expect(await s.svc.poller!.runOnce()).toMatchObject({ outcome: 'ok', traces: 60 });
      expect(tempo.requests[0].headers['x-scope-orgid']).toBe('acme');
      await s.svc.runBaselineJob();
      const b = await s.call('/v1/baseline?service=frontend&endpoint=GET%20/cart&hour=13&dayType=weekday');
      expect(b.status).toBe(200);
      expect(await b.json()).toMatchObject({ sampleCount: 60, p50: 103 });

      tempo.state.mode = 503;
      clock.t += 15_000;
      expect((await s.svc.poller!.runOnce()).outcome).toBe('error');
      const down = await readyz(s);
      expect(down.status).toBe(200);
      expect(down.body.status).toBe('degraded');
      expect(down.body.checks['anomaly:tempo']).toMatchObject({ ok: true, degraded: true });
      expect(down.body.checks['anomaly:tempo'].detail).toMatch(/503/);

      tempo.state.mode = 'ok';
      clock.t = T0 + 300_000;
      tempo.state.traces = [at(T0s + 30, { durationMs: 5000 })];
      const before = tempo.requests.length;
      expect(await s.svc.poller!.runOnce()).toMatchObject({ outcome: 'ok', traces: 1 });
      expect(windowOf(tempo.requests[before]).start).toBe(T0s);
      expect((await readyz(s)).body.status).toBe('ready');
      // the trace from the outage was checked on arrival: 5000 ms against p95 ~106 ms
      const feed = (await (await s.call('/api/v1/anomalies?service=frontend')).json()) as { anomalies: { durationMs: number; source: string }[] };
      expect(feed.anomalies).toHaveLength(1);
      expect(feed.anomalies[0]).toMatchObject({ durationMs: 5000, source: 'tempo' });
    });

    it.skipIf(engine.name === 'memory')('resumes from the watermark after a server restart (needs a KV that outlives the server: Redis)', async () => {
      const tempo = await fakeTempo();
      closers.push(tempo.close);
      const clock = { t: T0 };
      const prefix = `${uniqueId('restart')}:`;
      const a = await start(tempo.url, clock, prefix);
      expect((await a.svc.poller!.runOnce()).outcome).toBe('ok');
      await a.stop();
      servers.splice(servers.indexOf(a), 1);
      clock.t = T0 + 20 * 60_000;
      const b = await start(tempo.url, clock, prefix);
      const before = tempo.requests.length;
      expect((await b.svc.poller!.runOnce()).outcome).toBe('ok');
      expect(windowOf(tempo.requests[before])).toEqual({ start: T0s, end: T0s + 1200 });
    });
  });
}
