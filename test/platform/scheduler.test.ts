import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Scheduler } from '../../src/platform/scheduler.js';
import { KvLease } from '../../src/platform/lease.js';
import { MemoryKv } from '../../src/platform/backends/kv/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { engineUrl } from '../support/env.js';
import { uniqueId } from '../support/backends.js';
import type { VigilModule } from '../../src/platform/module.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduler', () => {
  it('runs periodically, times a job out and stops gracefully', async () => {
    const s = new Scheduler({ lease: new KvLease(new MemoryKv()), owner: 'a', log, leaseMs: 300 });
    let runs = 0;
    let aborted = false;
    s.add({ name: 'tick', intervalMs: 40, jitterMs: 10, runAtStart: true, run: async () => void runs++ });
    s.add({
      name: 'hang',
      intervalMs: 10_000,
      timeoutMs: 50,
      runAtStart: true,
      run: (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(signal.reason)))),
    });
    await s.start();
    await sleep(300);
    await s.stop();
    const after = runs;
    await sleep(120);
    expect(runs).toBe(after); // nothing runs after stop
    expect(runs).toBeGreaterThanOrEqual(3);
    const hang = s.status().find((j) => j.name === 'hang')!;
    expect(aborted).toBe(true);
    expect(hang.failures).toBe(1);
    expect(hang.lastError).toMatch(/timed out/);
  });

  it('a failing job is recorded and runs again next interval', async () => {
    const s = new Scheduler({ lease: new KvLease(new MemoryKv()), owner: 'a', log, leaseMs: 300 });
    let calls = 0;
    s.add({ name: 'flaky', intervalMs: 30, jitterMs: 0, runAtStart: true, run: async () => { calls++; if (calls === 1) throw new Error('first fails'); } });
    await s.start();
    await sleep(150);
    await s.stop();
    const st = s.status()[0];
    expect(st.failures).toBe(1);
    expect(st.runs).toBeGreaterThanOrEqual(2);
    expect(st.lastError).toBeNull();
  });
});

/** Two server replicas share one engine; each registers the same job that records who ran it. */
function replicaCases(): { name: string; flags?: Record<string, unknown>; pgUrl?: string }[] {
  const pg = engineUrl('POSTGRES');
  const redis = engineUrl('REDIS');
  return [
    { name: 'PostgreSQL lease', pgUrl: pg },
    { name: 'Redis lease', pgUrl: pg, flags: redis ? { 'redis.url': redis, 'redis.prefix': `${uniqueId('r')}:` } : undefined },
  ].filter((c) => c.pgUrl && (c.name.startsWith('PostgreSQL') || c.flags));
}

describe.skipIf(replicaCases().length < 2)('leader election across two server replicas', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop().catch(() => {})));
  });

  for (const c of replicaCases()) {
    it(`${c.name}: exactly one replica runs each job; the other takes over within one lease period`, async () => {
      const ran: { who: string; at: number }[] = [];
      const schema = uniqueId('lead');
      const mod = (who: string): VigilModule => ({
        name: 'leadtest',
        jobs: () => [
          { name: 'leadtest.job', intervalMs: 50, jitterMs: 10, runAtStart: true, run: async () => void ran.push({ who, at: Date.now() }) },
        ],
      });
      for (const who of ['A', 'B']) {
        const t = await startTestServer({ pgUrl: c.pgUrl, pgSchema: schema, flags: c.flags, modules: [mod(who)], listen: false });
        // A short lease so the test sees a take-over quickly.
        (t.server.ctx.scheduler as unknown as { leaseMs: number }).leaseMs = 1000;
        servers.push(t);
      }
      await Promise.all(servers.map((s) => s.server.ctx.scheduler.start()));
      await sleep(800);
      const leaders = new Set(ran.map((r) => r.who));
      expect(leaders.size).toBe(1);
      const first = [...leaders][0];
      const other = first === 'A' ? 'B' : 'A';
      expect(ran.length).toBeGreaterThan(3);

      // The leader dies without releasing its lease.
      const dead = servers[first === 'A' ? 0 : 1];
      dead.server.ctx.scheduler.halt();
      const diedAt = Date.now();
      await sleep(2200);
      const takeover = ran.find((r) => r.who === other);
      expect(takeover, 'the surviving replica took over').toBeDefined();
      expect(takeover!.at - diedAt).toBeLessThanOrEqual(1000 + 500); // one lease period plus a heartbeat and a tick
      expect(ran.filter((r) => r.at > takeover!.at && r.who === first)).toHaveLength(0);
    });
  }
});
