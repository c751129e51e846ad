import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { engineUrl } from '../support/env.js';
import { uniqueId } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

const pgUrl = engineUrl('POSTGRES');

interface Outcome {
  status: number;
  retryAfter: string | null;
  error?: string;
}

/**
 * Requests that each need PostgreSQL (list tokens, create a token), from several concurrent
 * clients, until stop() — bounded by maxPerWorker so a broken server cannot spin the test for ever.
 */
function load(t: TestServer, workers = 6, maxPerWorker = 5000) {
  const outcomes: Outcome[] = [];
  let stopped = false;
  const auth = { authorization: `Bearer ${t.adminToken}` };
  const one = async (i: number): Promise<Outcome> => {
    const res =
      i % 3 === 0
        ? await fetch(`${t.url}/api/v1/tokens`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ name: `load-${i}`, role: 'viewer' }),
          })
        : await fetch(`${t.url}/api/v1/tokens`, { headers: auth });
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    return { status: res.status, retryAfter: res.headers.get('retry-after'), error: body.error };
  };
  const done = Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; i < maxPerWorker && !stopped; i++) outcomes.push(await one(w * maxPerWorker + i));
    }),
  );
  return {
    outcomes,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

const readyz = async (t: TestServer) => {
  const res = await fetch(`${t.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> } };
};

function withAppName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

function expectOnly200or503(outcomes: Outcome[]) {
  const unexpected = outcomes.filter((o) => o.status !== 200 && o.status !== 201 && o.status !== 503);
  expect(unexpected.slice(0, 5)).toEqual([]);
  for (const o of outcomes.filter((x) => x.status === 503)) {
    expect(o.retryAfter).toMatch(/^\d+$/);
    expect(o.error).toBe('unavailable');
  }
}

describe.skipIf(!pgUrl)('PostgreSQL connection loss under load', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  it("survives pg_terminate_backend on the server's own connections: 503 meanwhile, then recovers", async () => {
    const appName = uniqueId('vigil_fault');
    const t = await startTestServer({ pgUrl: withAppName(pgUrl!, appName), flags: { 'database.poolSize': 4 } });
    cleanup.push(() => t.stop());
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    cleanup.push(() => admin.end());

    const l = load(t);
    let kills = 0;
    // Terminate until at least one request was caught in flight (answered 503), bounded by a deadline.
    await waitFor(
      'a request failing with 503 while its connection was terminated',
      async () => {
        const before = l.outcomes.length;
        await waitFor('some traffic', () => l.outcomes.length > before + 5, 20_000, 5);
        const r = await admin.query('select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1', [appName]);
        kills += r.rowCount ?? 0;
        return l.outcomes.some((o) => o.status === 503);
      },
      60_000,
      20,
    );
    const during = l.outcomes.length;
    // after the cut, the pool reconnects: requests succeed again
    await waitFor('successful requests after the cut', () => l.outcomes.slice(during).filter((o) => o.status === 200 || o.status === 201).length >= 20, 30_000);
    await l.stop();

    expect(kills).toBeGreaterThan(0);
    expectOnly200or503(l.outcomes);
    await waitFor('/readyz ready again', async () => (await readyz(t)).status === 200, 30_000);
    const jobs = (await (await fetch(`${t.url}/api/v1/jobs`, { headers: { authorization: `Bearer ${t.adminToken}` } })).json()) as { jobs: unknown[] };
    expect(jobs.jobs.length).toBeGreaterThan(0);
  }, 120_000);

  it('survives a TCP proxy in front of PostgreSQL being stopped and restarted: 503 and /readyz unavailable meanwhile', async () => {
    const proxy = await TcpProxy.forUrl(pgUrl!).start();
    cleanup.push(() => proxy.stop());
    const t = await startTestServer({ pgUrl: proxy.rewrite(pgUrl!), flags: { 'database.poolSize': 4 } });
    cleanup.push(() => t.stop());
    const auth = { authorization: `Bearer ${t.adminToken}` };

    const l = load(t);
    await waitFor('traffic through the proxy', () => l.outcomes.filter((o) => o.status === 200).length >= 20, 20_000, 5);
    await proxy.cut();
    const cutAt = l.outcomes.length;
    await waitFor('503s while the database is unreachable', () => l.outcomes.slice(cutAt).filter((o) => o.status === 503).length >= 5, 30_000, 5);

    const down = await readyz(t);
    expect(down.status).toBe(503);
    expect(down.body.checks['sql:postgres'].ok).toBe(false);
    // a single request during the outage answers (503), it does not hang
    const res = await fetch(`${t.url}/api/v1/tokens`, { headers: auth, signal: AbortSignal.timeout(20_000) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await res.json()).toMatchObject({ error: 'unavailable' });

    await proxy.restore();
    const restoredAt = l.outcomes.length;
    await waitFor('successful requests after the restore', () => l.outcomes.slice(restoredAt).filter((o) => o.status === 200 || o.status === 201).length >= 20, 30_000);
    await l.stop();
    expectOnly200or503(l.outcomes);
    await waitFor('/readyz ready again', async () => (await readyz(t)).status === 200, 30_000);
    expect((await readyz(t)).body.checks['sql:postgres'].ok).toBe(true);
  }, 120_000);
});
