import { describe, expect, it } from 'vitest';
import { TempoClient } from './tempo-client.js';

type Call = { url: URL; headers: Record<string, string> };

function fakeTempo(handler: (url: URL, n: number) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    calls.push({ url, headers: init?.headers as Record<string, string> });
    return handler(url, calls.length);
  }) as typeof fetch;
  return { calls, fetchFn };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const trace = (i: number, startSec: number) => ({
  traceID: i.toString(16),
  rootServiceName: 'cart',
  rootTraceName: 'GET /x',
  startTimeUnixNano: String(BigInt(startSec) * 1_000_000_000n),
  durationMs: 10 + i,
});

describe('TempoClient', () => {
  it('retries 503 and network errors with growing backoff, honours Retry-After, and sends tenant/auth', async () => {
    const sleeps: number[] = [];
    const { calls, fetchFn } = fakeTempo((_u, n) => {
      if (n === 1) throw new TypeError('fetch failed');
      if (n === 2) return json({ error: 'busy' }, 503);
      if (n === 3) return json({}, 429, { 'retry-after': '2' });
      return json({ traces: [trace(1, 1700000000)] });
    });
    const c = new TempoClient({
      baseUrl: 'http://tempo:3200',
      tenant: 'team-a',
      auth: { type: 'bearer', token: 'tok' },
      fetch: fetchFn,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0.5,
      backoffMs: 100,
    });
    const r = await c.search({ start: 1700000000, end: 1700000120 });
    expect(r.summaries).toHaveLength(1);
    expect(r.requests).toBe(4);
    // jitter factor 0.5 + 0.5/2 = 0.75: 100 × 0.75, 200 × 0.75, then Retry-After 2 s
    expect(sleeps).toEqual([75, 150, 2000]);
    expect(calls[0].headers).toMatchObject({ 'X-Scope-OrgID': 'team-a', Authorization: 'Bearer tok' });
    expect(calls[0].url.searchParams.get('limit')).toBe('1000');
  });

  it('does not retry a 400 and gives up after the configured retries', async () => {
    const bad = fakeTempo(() => new Response('invalid TraceQL', { status: 400 }));
    const c1 = new TempoClient({ baseUrl: 'http://t', fetch: bad.fetchFn, sleep: async () => {} });
    await expect(c1.search({ start: 1, end: 2 })).rejects.toThrow(/400.*invalid TraceQL/);
    expect(bad.calls).toHaveLength(1);

    const down = fakeTempo(() => json({}, 502));
    const c2 = new TempoClient({ baseUrl: 'http://t', fetch: down.fetchFn, sleep: async () => {}, retries: 2 });
    await expect(c2.search({ start: 1, end: 2 })).rejects.toThrow(/502/);
    expect(down.calls).toHaveLength(3);

    const html = fakeTempo(() => new Response('<html>login</html>', { status: 200 }));
    const c3 = new TempoClient({ baseUrl: 'http://t', fetch: html.fetchFn, sleep: async () => {} });
    await expect(c3.search({ start: 1, end: 2 })).rejects.toThrow(/non-JSON/);
  });

  it('warns and splits a window that returned exactly limit traces', async () => {
    // the fake Tempo holds one trace per second; it truncates to `limit` like the real one
    const limit = 40;
    const { calls, fetchFn } = fakeTempo((u) => {
      const start = Number(u.searchParams.get('start'));
      const end = Number(u.searchParams.get('end'));
      const all = [];
      for (let s = start; s <= end; s++) all.push(trace(s - 1_700_000_000 + 1, s));
      return json({ traces: all.slice(0, limit) });
    });
    const warnings: string[] = [];
    const c = new TempoClient({ baseUrl: 'http://t', limit, fetch: fetchFn, onWarn: (m) => warnings.push(m) });
    const r = await c.searchAll({ start: 1_700_000_000, end: 1_700_000_120 });
    // 121 distinct seconds (both ends inclusive, halves share their boundary second)
    expect(r.summaries).toHaveLength(121);
    expect(r.truncatedWindows).toEqual([]);
    expect(warnings[0]).toContain('exactly limit=40 traces for 1700000000–1700000120; splitting');
    expect(r.requests).toBe(calls.length);
    expect(calls.length).toBeGreaterThan(3);
  });

  it('reports windows still truncated at the split limit', async () => {
    const { fetchFn } = fakeTempo(() => json({ traces: Array.from({ length: 5 }, (_, i) => trace(i + 1, 1_700_000_000)) }));
    const c = new TempoClient({ baseUrl: 'http://t', limit: 5, maxSplitDepth: 1, fetch: fetchFn });
    const r = await c.searchAll({ start: 1_700_000_000, end: 1_700_000_120 });
    expect(r.truncatedWindows).toHaveLength(2);
    expect(r.warnings.at(-1)).toContain('some traces were missed');
    expect(r.summaries).toHaveLength(5); // same ids in both halves, kept once
  });
});
