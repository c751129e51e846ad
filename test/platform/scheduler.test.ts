import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { Scheduler } from '../../src/platform/scheduler.js';
import { KvLease } from '../../src/platform/lease.js';
import { MemoryKv } from '../../src/platform/backends/kv/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { engineUrl } from '../support/env.js';
import { uniqueId } from '../support/backends.js';
import { waitFor } from '../support/wait.js';
import type { VigilModule } from '../../src/platform/module.js';

const log = pino({ level: 'silent' });
// The scheduler's own timing runs on vitest's fake clock (timers and Date), so the counts are exact.
describe('scheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs periodically, times a job out and stops gracefully', async () => {
    const s = new Scheduler({ lease: new KvLease(new MemoryKv()), owner: 'a', log, leaseMs: 300 });
    const at: number[] = [];
    let aborted = false;
    const t0 = Date.now();
    s.add({ name: 'tick', intervalMs: 40, jitterMs: 0, runAtStart: true, run: async () => void at.push(Date.now() - t0) });
    s.add({
      name: 'hang',
      intervalMs: 10_000,
      timeoutMs: 50,
      runAtStart: true,
      run: (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(signal.reason)))),
    });
    await s.start();
    await vi.advanceTimersByTimeAsync(300);
    // at start, then every 40 ms
    expect(at).toEqual([0, 40, 80, 120, 160, 200, 240, 280]);
    const hang = s.status().find((j) => j.name === 'hang')!;
    expect(aborted).toBe(true);
    expect(hang.failures).toBe(1);
    expect(hang.lastError).toBe('job hang timed out after 50 ms');
    await s.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(at).toHaveLength(8); // nothing runs after stop
  });

  it('a failing job is recorded and runs again next interval', async () => {
    const s = new Scheduler({ lease: new KvLease(new MemoryKv()), owner: 'a', log, leaseMs: 300 });
    let calls = 0;
    s.add({ name: 'flaky', intervalMs: 30, jitterMs: 0, runAtStart: true, run: async () => { calls++; if (calls === 1) throw new Error('first fails'); } });
    await s.start();
    await vi.advanceTimersByTimeAsync(0); // the run at start
    expect(s.status()[0]).toMatchObject({ runs: 1, failures: 1, lastError: 'first fails' });
    await vi.advanceTimersByTimeAsync(30);
    expect(s.status()[0]).toMatchObject({ runs: 2, failures: 1, lastError: null });
    await s.stop();
  });

  it('a leader that dies without releasing its lease is replaced within one lease period', async () => {
    const kv = new MemoryKv(); // expiry on the fake clock too
    const t0 = Date.now();
    const ran: { who: string; at: number }[] = [];
    const replica = (who: string) => {
      const s = new Scheduler({ lease: new KvLease(kv), owner: who, log, leaseMs: 300 });
      s.add({ name: 'lead', intervalMs: 50, jitterMs: 0, runAtStart: true, run: async () => void ran.push({ who, at: Date.now() - t0 }) });
      return s;
    };
    const a = replica('A');
    const b = replica('B');
    await a.start();
    await b.start();
    await vi.advanceTimersByTimeAsync(200);
    expect(new Set(ran.map((r) => r.who))).toEqual(new Set(['A']));
    a.halt();
    // One lease period, plus a heartbeat (leaseMs / 3) to notice and a tick to run.
    await vi.advanceTimersByTimeAsync(300 + 100 + 50);
    const takeover = ran.find((r) => r.who === 'B');
    expect(takeover, 'B took over').toBeDefined();
    expect(ran.filter((r) => r.who === 'A' && r.at > 200)).toEqual([]);
    expect(takeover!.at).toBeGreaterThanOrEqual(100 + 300); // not before A's lease, last renewed at 100 or 200, runs out
    await b.stop();
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
    it(`${c.name}: exactly one replica runs each job; the other takes over when it dies`, async () => {
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
      // Replicas talk to real engines on real time: wait (bounded) for what they do.
      await waitFor('the leader to run the job 4 times', () => ran.length > 3, 15_000);
      const leaders = new Set(ran.map((r) => r.who));
      expect(leaders.size).toBe(1);
      const first = [...leaders][0];
      const other = first === 'A' ? 'B' : 'A';
      expect(ran.length).toBeGreaterThan(3);

      // The leader dies without releasing its lease.
      const dead = servers[first === 'A' ? 0 : 1];
      dead.server.ctx.scheduler.halt();
      const diedAt = Date.now();
      // How soon the take-over comes is checked on a fake clock above; here, that it comes at all.
      const takeover = await waitFor('the surviving replica to take over', () => ran.find((r) => r.who === other), 15_000);
      expect(takeover.at).toBeGreaterThanOrEqual(diedAt);
      expect(ran.filter((r) => r.at > takeover.at && r.who === first)).toHaveLength(0);
    });
  }
});
