import http from 'node:http';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/faults/executor/index.js';
import { FakeClock, executorWith, policy, request, startUpstream, type Upstream } from './executor-support.js';
import { waitFor } from '../support/wait.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(opts: Parameters<typeof executorWith>[1] = {}, handler?: Parameters<typeof startUpstream>[0]): Promise<{ up: Upstream; ex: Executor }> {
  const up = await startUpstream(handler);
  cleanup.push(() => up.close());
  const ex = await executorWith(up.url, opts);
  cleanup.push(() => ex.stop(1000));
  return { up, ex };
}

const metricValue = async (ex: Executor, line: string) => {
  const text = await ex.metrics.text();
  const hit = text.split('\n').find((l) => l.startsWith(line + ' '));
  return hit === undefined ? undefined : Number(hit.slice(line.length + 1));
};

describe('executor proxy: forwarding', () => {
  it('streams a request body: the upstream sees the first chunk before the client has finished', async () => {
    const { up, ex } = await setup({}, (req, res, seen) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        chunks.push(c);
        seen.body = Buffer.concat(chunks);
      });
      req.on('end', () => res.end(`got ${Buffer.concat(chunks).length}`));
    });
    const answer = new Promise<string>((resolve, reject) => {
      const req = http.request(ex.url + '/upload', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(64 * 1024, 1));
      // the rest is sent only once the upstream holds the first part: a buffering proxy never gets here
      void waitFor('first chunk at the upstream', () => up.seen[0]?.body.length >= 64 * 1024).then(() => {
        for (let i = 0; i < 64; i++) req.write(Buffer.alloc(64 * 1024, 2));
        req.end();
      }, reject);
    });
    expect(await answer).toBe(`got ${65 * 64 * 1024}`);
  });

  it('streams a response body: the client sees the first chunk before the upstream has finished', async () => {
    let finish: (() => void) | undefined;
    const { ex } = await setup({}, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first-part;');
      finish = () => res.end('last-part');
    });
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get(ex.url + '/download', { agent: false }, (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
            if (text === 'first-part;') finish?.();
          });
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(body).toBe('first-part;last-part');
  });

  it('forwards end-to-end headers, drops hop-by-hop ones and adds X-Forwarded-*', async () => {
    const { up, ex } = await setup({}, (_req, res) => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('x-upstream', 'yes');
      res.setHeader('keep-alive', 'timeout=99');
      res.end('ok');
    });
    const a = await request(ex.url + '/h?q=1', {
      headers: { host: 'shop.example', 'x-dup': ['one', 'two'], connection: 'x-secret', 'x-secret': 's', 'proxy-authorization': 'Basic zzz', 'x-forwarded-for': '203.0.113.9', te: 'trailers' },
    });
    expect(a.status).toBe(200);
    const s = up.seen[0];
    expect(s.url).toBe('/h?q=1');
    expect(s.headers.host).toBe('shop.example');
    expect(s.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1].toLowerCase() === 'x-dup')).toEqual(['one', 'two']);
    expect(s.headers['x-secret']).toBeUndefined();
    expect(s.headers['proxy-authorization']).toBeUndefined();
    expect(s.headers.te).toBeUndefined();
    expect(s.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(s.headers['x-forwarded-proto']).toBe('http');
    expect(s.headers['x-forwarded-host']).toBe('shop.example');
    expect(a.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(a.headers['x-upstream']).toBe('yes');
    expect(a.headers['keep-alive']).not.toBe('timeout=99');
  });

  it('passes a 64 KiB header value and an 8 KiB path untouched', async () => {
    const { up, ex } = await setup({}, (req, res) => {
      const h = String(req.headers['x-big']);
      res.setHeader('x-big-back', h);
      res.end(createHash('sha256').update(h).digest('hex'));
    });
    const big = 'v'.repeat(64 * 1024);
    const longPath = '/' + 'p'.repeat(8 * 1024);
    const a = await request(ex.url + longPath, { headers: { 'x-big': big } });
    expect(a.status).toBe(200);
    expect(up.seen[0].url).toBe(longPath);
    expect(a.body).toBe(createHash('sha256').update(big).digest('hex'));
    expect(a.headers['x-big-back']).toBe(big);
  });

  it('answers 502 with a JSON error when the upstream is down, and counts it', async () => {
    const { up, ex } = await setup();
    await up.close();
    const a = await request(ex.url + '/x');
    expect(a.status).toBe(502);
    expect(a.headers['content-type']).toBe('application/json');
    expect(JSON.parse(a.body)).toMatchObject({ error: 'upstream_unavailable' });
    expect(await metricValue(ex, 'vigil_executor_requests_total{code="502"}')).toBe(1);
  });

  it('reuses upstream connections (keep-alive)', async () => {
    const { up, ex } = await setup();
    const sockets = new Set<unknown>();
    up.server.on('connection', (s) => sockets.add(s));
    for (let i = 0; i < 5; i++) expect((await request(ex.url + '/k')).status).toBe(200);
    expect(up.seen).toHaveLength(5);
    expect(sockets.size).toBe(1);
  });
});

describe('executor proxy: faults', () => {
  it('aborts with HFI\'s status, headers and body, without reaching the upstream', async () => {
    const { up, ex } = await setup({ policies: [policy('abort-policy', { abort: { httpStatus: 503 } }, { method: { exact: 'GET' }, path: { exact: '/' } })] });
    const a = await request(ex.url + '/');
    expect(a.status).toBe(503);
    expect(a.headers['content-type']).toBe('text/plain');
    expect(a.headers['x-fault-injected']).toBe('abort');
    expect(a.body).toBe('Fault injection: Service unavailable');
    expect(up.seen).toHaveLength(0);
    // a request the rule does not match passes
    expect((await request(ex.url + '/other')).status).toBe(200);
    expect(await metricValue(ex, 'wasmcustom_hfi_faults_aborts_total')).toBe(1);
    expect(await metricValue(ex, 'vigil_faults_injected_total{policy="abort-policy",rule="0",type="abort"}')).toBe(1);
    expect(await metricValue(ex, 'wasmcustom_hfi_faults_delays_total')).toBe(0);
  });

  it('answers the policy\'s own abort body and headers', async () => {
    const { ex } = await setup({ policies: [policy('teapot', { abort: { httpStatus: 418, body: 'short and stout', headers: { 'retry-after': '7' } } })] });
    const a = await request(ex.url + '/brew');
    expect(a.status).toBe(418);
    expect(a.body).toBe('short and stout');
    expect(a.headers['retry-after']).toBe('7');
    expect(a.headers['x-fault-injected']).toBe('abort');
  });

  it('holds a delayed request for exactly the configured time, then forwards it and counts the delay', async () => {
    const clock = new FakeClock();
    const { up, ex } = await setup({ clock, policies: [policy('delay-policy', { delay: { fixed_delay_ms: 1000 } })] });
    const answer = request(ex.url + '/slow');
    await waitFor('the request to be held', async () => ex.metrics.activeFaults() === 1);
    // counted when it happens, not when it ends
    expect(await metricValue(ex, 'wasmcustom_hfi_faults_delays_total')).toBe(1);
    clock.advance(999);
    await new Promise((r) => setImmediate(r));
    expect(up.seen).toHaveLength(0);
    clock.advance(1);
    expect((await answer).status).toBe(200);
    expect(up.seen).toHaveLength(1);
    expect(await metricValue(ex, 'wasmcustom_hfi_faults_delay_duration_milliseconds_bucket{le="500"}')).toBe(0);
    expect(await metricValue(ex, 'wasmcustom_hfi_faults_delay_duration_milliseconds_bucket{le="1000"}')).toBe(1);
    expect(await metricValue(ex, 'wasmcustom_hfi_faults_delay_duration_milliseconds_sum')).toBe(1000);
    expect(await metricValue(ex, 'vigil_faults_active')).toBe(0);
  });

  it('cancels a delay when the client hangs up: nothing reaches the upstream', async () => {
    const clock = new FakeClock();
    const { up, ex } = await setup({ clock, policies: [policy('delay-policy', { delay: { fixed_delay_ms: 5000 } }, { path: { exact: '/slow' } })] });
    const req = http.get(ex.url + '/slow', { agent: false });
    req.on('error', () => {});
    await waitFor('the request to be held', async () => ex.metrics.activeFaults() === 1);
    req.destroy();
    await waitFor('the held request to be released', async () => ex.metrics.activeFaults() === 0);
    clock.advance(10_000);
    // a later request goes through, so anything the cancelled one had sent would be there by now
    expect((await request(ex.url + '/after')).status).toBe(200);
    expect(up.seen.map((s) => s.url)).toEqual(['/after']);
  });

  it('applies the delay, then the abort, when a rule has both (as Envoy does)', async () => {
    const clock = new FakeClock();
    const { up, ex } = await setup({ clock, policies: [policy('both', { delay: { fixed_delay_ms: 200 }, abort: { httpStatus: 500 } })] });
    let done = false;
    const answer = request(ex.url + '/').finally(() => (done = true));
    await waitFor('the request to be held', async () => ex.metrics.activeFaults() === 1);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    clock.advance(200);
    expect((await answer).status).toBe(500);
    expect(up.seen).toHaveLength(0);
    expect(await metricValue(ex, 'wasmcustom_hfi_faults_delays_total')).toBe(1);
    expect(await metricValue(ex, 'wasmcustom_hfi_faults_aborts_total')).toBe(1);
  });

  it('honours start_delay_ms before the fault takes effect', async () => {
    const clock = new FakeClock();
    const { ex } = await setup({ clock, policies: [policy('late', { start_delay_ms: 500, abort: { httpStatus: 503 } })] });
    let done = false;
    const answer = request(ex.url + '/').finally(() => (done = true));
    await waitFor('the request to be held', async () => ex.metrics.activeFaults() === 1);
    clock.advance(499);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    expect(await metricValue(ex, 'wasmcustom_hfi_faults_aborts_total')).toBe(0);
    clock.advance(1);
    expect((await answer).status).toBe(503);
  });

  it('resets the connection without an answer', async () => {
    const { up, ex } = await setup({ policies: [policy('reset', { reset: true })] });
    await expect(request(ex.url + '/')).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(up.seen).toHaveLength(0);
    expect(await metricValue(ex, 'vigil_faults_injected_total{policy="reset",rule="0",type="reset"}')).toBe(1);
  });

  it('throttles the response stream to response_rate_limit_kbps', async () => {
    const clock = new FakeClock();
    const body = Buffer.alloc(4096, 'x');
    const { ex } = await setup({ clock, policies: [policy('slow-body', { response_rate_limit_kbps: 1 })] }, (_req, res) => res.end(body));
    let received = 0;
    let ended = false;
    const done = new Promise<void>((resolve, reject) => {
      http
        .get(ex.url + '/', { agent: false }, (res) => {
          res.on('data', (c: Buffer) => (received += c.length));
          res.on('end', () => {
            ended = true;
            resolve();
          });
        })
        .on('error', reject);
    });
    // 1 KiB/s: the first slice (a tenth of a second's budget) leaves at once, the rest waits for time
    await waitFor('the first slice', () => received > 0);
    expect(received).toBe(102);
    clock.advance(1000);
    await waitFor('one second of budget', () => received >= 1020);
    expect(received).toBeLessThanOrEqual(1024 + 102);
    clock.advance(3000);
    await done;
    expect(ended).toBe(true);
    expect(received).toBe(4096);
  });

  it('passes requests unfaulted beyond --max-active-faults and counts the overflow', async () => {
    const clock = new FakeClock();
    const { up, ex } = await setup({ clock, maxActiveFaults: 1, policies: [policy('delay', { delay: { fixed_delay_ms: 1000 } })] });
    const first = request(ex.url + '/one');
    await waitFor('the first request to be held', async () => ex.metrics.activeFaults() === 1);
    expect((await request(ex.url + '/two')).status).toBe(200);
    expect(up.seen.map((s) => s.url)).toEqual(['/two']);
    expect(await metricValue(ex, 'vigil_faults_overflow_total')).toBe(1);
    clock.advance(1000);
    expect((await first).status).toBe(200);
  });

  it('caps faults in progress per policy at its max_active_faults', async () => {
    const clock = new FakeClock();
    const capped = policy('capped', { delay: { fixed_delay_ms: 1000 } });
    (capped.spec as Record<string, unknown>).max_active_faults = 1;
    const { up, ex } = await setup({ clock, policies: [capped] });
    const first = request(ex.url + '/one');
    await waitFor('the first request to be held', async () => ex.metrics.activeFaults() === 1);
    expect((await request(ex.url + '/two')).status).toBe(200);
    expect(up.seen.map((s) => s.url)).toEqual(['/two']);
    expect(await metricValue(ex, 'vigil_faults_overflow_total')).toBe(1);
    clock.advance(1000);
    expect((await first).status).toBe(200);
  });

  it('stops enforcing a policy when its duration_seconds have passed', async () => {
    const clock = new FakeClock();
    const limited = policy('limited', { abort: { httpStatus: 503 } });
    (limited.metadata as Record<string, unknown>).applied_at = clock.now();
    (limited.spec as Record<string, unknown>).duration_seconds = 10;
    const { ex } = await setup({ clock, policies: [limited] });
    expect((await request(ex.url + '/')).status).toBe(503);
    clock.advance(9_999);
    expect((await request(ex.url + '/')).status).toBe(503);
    clock.advance(1);
    expect((await request(ex.url + '/')).status).toBe(200);
  });

  it('lets a request pick its fault with x-envoy-fault-* headers only when --header-faults is on', async () => {
    const off = await setup();
    expect((await request(off.ex.url + '/', { headers: { 'x-envoy-fault-abort-request': '418' } })).status).toBe(200);
    const on = await setup({ headerFaults: true });
    const a = await request(on.ex.url + '/', { headers: { 'x-envoy-fault-abort-request': '418' } });
    expect(a.status).toBe(418);
    expect(a.headers['x-fault-injected']).toBe('abort');
  });

  it('matches a rule on a request header, whatever case the client wrote its name in', async () => {
    const { up, ex } = await setup({ policies: [policy('testers', { abort: { httpStatus: 503 } }, { path: { prefix: '/' }, headers: [{ name: 'x-user-id', exact: 'tester' }] })] });
    expect((await request(ex.url + '/a', { headers: { 'X-User-Id': 'tester' } })).status).toBe(503);
    expect((await request(ex.url + '/b', { headers: { 'x-user-id': 'someone-else' } })).status).toBe(200);
    expect((await request(ex.url + '/c')).status).toBe(200);
    expect(up.seen.map((s) => s.url)).toEqual(['/b', '/c']);
  });

  it('drains in-flight requests on stop and refuses new connections', async () => {
    let release: (() => void) | undefined;
    const up = await startUpstream((_req, res) => (release = () => res.end('late')));
    cleanup.push(() => up.close());
    const ex = await executorWith(up.url);
    const inflight = request(ex.url + '/long');
    await waitFor('the request at the upstream', () => release);
    const stopped = ex.stop(10_000);
    release!();
    expect((await inflight).body).toBe('late');
    await stopped;
    await expect(request(ex.url + '/new')).rejects.toThrow(/ECONNREFUSED/);
  });
});
