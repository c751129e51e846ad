/**
 * The numbers on the SLO pages, on SQLite and PostgreSQL, with a fixed clock and hand-built snapshots
 * whose expected answers are worked out in the comments: rates over covered time, the current rate,
 * statuses on tiny samples, the error budget as it burned, `previous` over the same span, edge mean
 * latency over mixed bucket layouts, infinite burn rates and the ingress as a mesh source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/platform/backends/sql/db.js';
import { migrate } from '../../src/platform/backends/sql/migrations.js';
import { platformMigrations } from '../../src/platform/runtime.js';
import { SloRepository } from '../../src/slo/server/repository.js';
import { DEFAULT_TARGET, SloQueries } from '../../src/slo/server/query.js';
import { sloMigrations } from '../../src/slo/server/tables.js';
import type { Snapshot } from '../../src/slo/snapshot.js';
import { sqlCases } from '../support/backends.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** 2026-03-15 10:45:30 UTC. */
const NOW = Date.UTC(2026, 2, 15, 10, 45, 30);

const route = (domain: string, key: string) => ({ name: domain, namespace: 'web', domain, path_prefix: '/', service_key: key, service_name: 'front', service_port: 80, tls: true });
const ingress = (key: string, ok: number, bad: number) => ({
  service_key: key,
  requests: [
    { code: '200', method: 'GET', count: ok },
    { code: '503', method: 'GET', count: bad },
  ],
  // every request in (0, 10] ms
  latency: { bounds: [10, 100], counts: [ok + bad, 0, 0], sum_ms: 5 * (ok + bad), count: ok + bad },
});

function snap(cluster: string, seq: number, timestamp: number, parts: Partial<Snapshot>): Snapshot {
  return { cluster_id: cluster, agent_id: 'a1', seq, timestamp, services: [], edges: [], ingress: [], routes: [], ...parts };
}

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`SLO numbers (${c.name})`, () => {
    let store: SqlStore;
    let repo: SloRepository;
    let q: SloQueries;
    let now = NOW;

    beforeAll(async () => {
      store = await c.open!();
      await migrate(store, [platformMigrations, { module: 'slo', migrations: sloMigrations }]);
      repo = new SloRepository(store);
      q = new SloQueries(repo, { now: () => now, minBurnRequests: 100, minStatus: { requests: 100, coveredSeconds: 600 }, rawRetentionMs: 48 * HOUR, defaults: DEFAULT_TARGET });
    });
    afterAll(async () => {
      await store?.close();
    });

    it('divides by the covered time: the same requests read the same rate at every range', async () => {
      now = NOW;
      // Data starts 10:42:54 (2 min 36 s = 156 s before now): 3 snapshots of 659 requests = 1 977.
      const first = NOW - 156_000;
      for (const [i, t] of [first, first + 60_000, first + 120_000].entries()) {
        await repo.ingest(snap('fresh', i + 1, t, { routes: [route('a.example.com', 'a@k8s')], ingress: [ingress('a@k8s', 659, 0)] }), NOW);
      }
      for (const range of ['1h', '6h', '1d', '7d', '30d'] as const) {
        const d = await q.domains('fresh', range);
        expect(d.covered_seconds, range).toBe(156);
        expect(d.data_from).toBe(first);
        // 1 977 / 156 s = 12.673…/s, whatever the range (was 0.55/s at 1h, 0.02/s at 1d)
        expect(d.domains[0].summary.rps, range).toBeCloseTo(1977 / 156, 3);
        expect(d.summary.total_rps, range).toBeCloseTo(1977 / 156, 3);
        // the last 5 minutes are [10:41, now): all of it, over the same 156 covered seconds
        const detail = await q.domain('fresh', 'a.example.com', range);
        expect(detail.summary.current_rps, range).toBeCloseTo(1977 / 156, 3);
        expect(detail.routes[0].current.current_rps, range).toBeCloseTo(1977 / 156, 3);
      }
    });

    it('the Traffic card and the RPS chart agree: the card is the chart averaged over covered time', async () => {
      now = NOW;
      const d = await q.domain('fresh', 'a.example.com', '1h');
      const covered = d.history.reduce((a, p) => a + p.covered_seconds, 0);
      const requests = d.history.reduce((a, p) => a + p.rps * p.covered_seconds, 0);
      expect(covered).toBeCloseTo(156, 6);
      expect(requests / covered).toBeCloseTo(d.summary.rps, 3);
      // no step before the data has covered time; the incomplete last step covers 10:45:00–10:45:30
      expect(d.history.filter((p) => p.covered_seconds > 0)).toHaveLength(4);
      expect(d.history.at(-1)!.covered_seconds).toBe(30);
    });

    it('a tiny sample is insufficient_data with its basis stated, never critical, and fires no burn alert', async () => {
      now = NOW;
      // 600 requests, 1 failure, two minutes after start: 99.83 % < 99.9 % would be critical.
      await repo.ingest(snap('tiny', 1, NOW - 2 * MIN, { routes: [route('t.example.com', 't@k8s')], ingress: [ingress('t@k8s', 599, 1)] }), NOW);
      const list = await q.domains('tiny', '1d');
      expect(list.status_minimum).toEqual({ requests: 100, covered_seconds: 600 });
      expect(list.domains[0].status).toBe('insufficient_data');
      expect(list.domains[0].summary).toMatchObject({ total_requests: 600, covered_seconds: 120 });
      expect(list.summary).toMatchObject({ critical_count: 0, insufficient_data_count: 1 });
      const d = await q.domain('tiny', 't.example.com', '1d');
      expect(d.status).toBe('insufficient_data');
      const threeDay = d.burn_rates.find((b) => b.window === '3d/6h')!;
      // 1/600 / 0.001 = 1.667 > 1: over threshold, but measured on 120 s of data
      expect(threeDay.long_rate).toBeCloseTo(1.6667, 3);
      expect(threeDay).toMatchObject({ firing: false, insufficient_data: true, long_covered_seconds: 120 });
      expect(d.burn_rates.some((b) => b.firing)).toBe(false);
      // the status job records it (the status columns hold its 17 characters on PostgreSQL too)
      expect(await q.recordStatuses('tiny')).toBeGreaterThan(0);
      const recorded = await q.statusHistory('tiny', { scope: 'domain', limit: 10 });
      expect(recorded.transitions.map((x) => x.status)).toEqual(['insufficient_data']);

      // 14 minutes later, with 12 more minutes of traffic, the same error ratio is judged: critical.
      for (let i = 1; i <= 12; i++) await repo.ingest(snap('tiny', 1 + i, NOW + i * MIN, { ingress: [ingress('t@k8s', 599, 1)], routes: [route('t.example.com', 't@k8s')] }), NOW + 14 * MIN);
      now = NOW + 14 * MIN;
      const later = await q.domains('tiny', '1d');
      expect(later.domains[0].summary.covered_seconds).toBe(16 * 60);
      expect(later.domains[0].status).toBe('critical');
    });

    it('plots the error budget as it burned: each point is what the card showed at that time', async () => {
      now = NOW;
      // One snapshot a minute from 10:05 to 10:34, 100 requests each; the one at 10:20 has 5 failures.
      for (let m = 0; m < 30; m++) {
        const t = Date.UTC(2026, 2, 15, 10, 5 + m, 10);
        await repo.ingest(snap('burn', m + 1, t, { routes: [route('b.example.com', 'b@k8s')], ingress: [ingress('b@k8s', m === 15 ? 95 : 100, m === 15 ? 5 : 0)] }), NOW);
      }
      const d = await q.domain('burn', 'b.example.com', '1h');
      const at = (h: number, m: number) => d.history.find((p) => p.timestamp === Date.UTC(2026, 2, 15, h, m))!;
      // step 10:19–10:20 ends before the failures: 15 min × 100 requests, no failure → 100 %
      expect(at(10, 19).error_budget_remaining).toBe(100);
      // step 10:20–10:21 holds them: 1 600 requests, 5 failures → 100·(1 − (5/1600)/0.001) = −212.5 %
      expect(at(10, 20).error_budget_remaining).toBeCloseTo(-212.5, 3);
      // the last point is the card now: 3 000 requests, 5 failures → 100·(1 − (5/3000)/0.001) = −66.667 %
      expect(d.history.at(-1)!.error_budget_remaining).toBeCloseTo(-66.667, 3);
      expect(d.error_budget_remaining).toBeCloseTo(-66.667, 3);
      // before the data: no budget to show
      expect(at(10, 0).error_budget_remaining).toBeNull();
    });

    it('previous covers the same span as the summary, one range earlier', async () => {
      // 60 requests every 10 minutes for the last 13 hours (constant traffic), at :08:30, :18:30, …
      now = NOW;
      let seq = 0;
      for (let t = NOW - 13 * HOUR + 3 * MIN; t < NOW; t += 10 * MIN) {
        await repo.ingest(snap('steady', ++seq, t, { routes: [route('s.example.com', 's@k8s')], ingress: [ingress('s@k8s', 60, 0)] }), NOW);
      }
      const d = await q.domain('steady', 's.example.com', '6h');
      // summary: 05:00–10:45:30 holds 05:08:30 … 10:38:30 = 34 snapshots; previous: 23:00–04:45:30
      // holds 23:08:30 … 04:38:30 = 34 (a whole 6 h previous, 23:00–05:00, held 36: 6 % more).
      expect(d.summary.total_requests).toBe(34 * 60);
      expect(d.previous.total_requests).toBe(d.summary.total_requests);
      expect(d.previous.covered_seconds).toBe(d.summary.covered_seconds);
    });

    it('edge mean latency counts every bucket layout', async () => {
      now = NOW;
      const edge = (bounds: number[], counts: number[], sum: number) => ({
        src_namespace: 'web',
        src_name: 'front',
        dst_namespace: 'shop',
        dst_name: 'cart',
        requests: counts.reduce((a, b) => a + b, 0),
        failures: 0,
        latency: { bounds, counts, sum_ms: sum, count: counts.reduce((a, b) => a + b, 0) },
      });
      // 10 calls summing 100 ms on one layout, 10 summing 300 ms on another: mean 400 / 20 = 20 ms
      await repo.ingest(snap('mix', 1, NOW - 3 * MIN, { edges: [edge([10, 100], [5, 5, 0], 100)] }), NOW);
      await repo.ingest(snap('mix', 2, NOW - 2 * MIN, { edges: [edge([10, 50, 100], [0, 10, 0, 0], 300)] }), NOW);
      const t = await q.topology('mix', '1h');
      expect(t.edges[0].total_requests).toBe(20);
      expect(t.edges[0].avg_latency).toBe(20);
    });

    it('an infinite burn rate (failures against a 100 % target) is flagged, not null like no traffic', async () => {
      now = NOW;
      await repo.putTargets('burn', [{ scope: 'domain', key: 'b.example.com', window: '30d', availability_target: 100, p95_latency_target: 500 }], [], 'test', NOW);
      const d = await q.domain('burn', 'b.example.com', '1h');
      const hour = d.burn_rates.find((b) => b.window === '1h/5m')!;
      expect(hour).toMatchObject({ long_rate: null, long_infinite: true });
      // the last 5 minutes (10:41–now) have no traffic: null, and not infinite
      expect(hour).toMatchObject({ short_rate: null, short_infinite: false });
      // the last 30 minutes (10:16–now) hold the failures of 10:20: infinite too
      expect(d.burn_rates.find((b) => b.window === '6h/30m')).toMatchObject({ short_rate: null, short_infinite: true });
      // no traffic at all stays null without the flag
      const none = (await q.domain('steady', 's.example.com', '1h')).burn_rates[0];
      expect(none.long_infinite).toBe(false);
    });

    it('the ingress is a mesh source with its outbound traffic, not a node without data', async () => {
      now = NOW;
      const svc = (ns: string, name: string, count: number) => ({
        namespace: ns,
        name,
        requests: [{ status_code: '200', classification: 'success', count }],
        tls_requests: count,
        latency: { bounds: [10], counts: [count, 0], sum_ms: count, count },
      });
      const e = (src: string, dst: string, n: number) => ({
        src_namespace: 'ingress',
        src_name: src,
        dst_namespace: 'shop',
        dst_name: dst,
        requests: n,
        failures: 0,
        latency: { bounds: [10], counts: [n, 0], sum_ms: n, count: n },
      });
      // Traefik sends 300 + 300 requests in the 5 min from 10:40:30 (data start) to now: 2/s.
      await repo.ingest(snap('mesh', 1, NOW - 5 * MIN, {}), NOW);
      await repo.ingest(snap('mesh', 2, NOW - MIN, { services: [svc('shop', 'cart', 300), svc('shop', 'pay', 300)], edges: [e('traefik', 'cart', 300), e('traefik', 'pay', 300)] }), NOW);
      const t = await q.topology('mesh', '1h');
      const traefik = t.nodes.find((n) => n.id === 'ingress/traefik')!;
      expect(traefik).toMatchObject({ role: 'source', outbound_rps: 2, rps: 0 });
      expect(t.nodes.find((n) => n.id === 'shop/cart')).toMatchObject({ role: 'service', rps: 1 });
    });
  });
}
