/**
 * A poisoned row in the input of the SLO rollup and status jobs (issue 7, point 2), on SQLite and
 * PostgreSQL: the row is quarantined (kept in slo_quarantine), counted in
 * vigil_job_quarantined_rows_total{job}, /readyz reports degraded with its id, and every other row
 * is processed. The rows are written straight into the tables, bypassing the API's validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { sloModule } from '../../src/slo/module.js';
import { fleetSnapshot } from '../support/slo-fixtures.js';
import type { JobSpec } from '../../src/platform/scheduler.js';
import { sqlCases } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MIN = 60_000;
const HOUR = 60 * MIN;

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`SLO jobs quarantine rows they cannot process (${c.name})`, () => {
    let t: TestServer;
    let jobs: JobSpec[];
    const mod = sloModule(loadConfig({ env: {} }));
    // Three minutes of one clock hour, in the past: one hourly row per service whatever the time.
    const firstMinute = Math.floor((Date.now() - 10 * MIN) / HOUR) * HOUR + MIN;
    const shape = { cluster: 'alpha', services: 3, edges: 2, routes: 2, domains: 1 };

    const call = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(t.url + path, { ...init, headers: { authorization: `Bearer ${t.adminToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as Json, text };
    };
    const db = () => t.server.ctx.sql.db;
    const run = (name: string) => jobs.find((j) => j.name === name)!.run(new AbortController().signal);
    const quarantinedMetric = async (job: string) => {
      const m = await t.server.ctx.metrics.getSingleMetric('vigil_job_quarantined_rows_total')?.get();
      return m?.values.find((v) => v.labels.job === job)?.value ?? 0;
    };

    beforeAll(async () => {
      t = await startTestServer({ pgUrl: c.url, modules: [mod], flags: { 'server.jobs': false } });
      jobs = mod.jobs!(t.server.ctx);
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('the rollup quarantines a snapshot with an unreadable raw row and rolls up the others', async () => {
      for (let seq = 1; seq <= 3; seq++) {
        const r = await call('/api/v2/agent/snapshots', { method: 'POST', body: JSON.stringify(fleetSnapshot(shape, seq, firstMinute + seq * MIN)) });
        expect(r.status, r.text).toBe(200);
      }
      const ids = ((await db().selectFrom('slo_snapshots').select('id').orderBy('id').execute()) as { id: number }[]).map((r) => Number(r.id));
      expect(ids).toHaveLength(3);
      const poisoned = ids[1];
      // What an older version or a manual edit could leave behind: JSON that does not parse.
      await db().updateTable('slo_service_raw').set({ lat_counts: '[1,2,' }).where('snap_id', '=', poisoned).execute();
      expect(await quarantinedMetric('slo-rollup')).toBe(0);

      await run('slo-rollup');

      const snaps = (await db().selectFrom('slo_snapshots').select(['id', 'rolled']).orderBy('id').execute()) as { id: number; rolled: number }[];
      expect(snaps.map((s) => [Number(s.id), Number(s.rolled)])).toEqual([
        [ids[0], 1],
        [poisoned, -1],
        [ids[2], 1],
      ]);
      const q = (await db().selectFrom('slo_quarantine').selectAll().execute()) as Json[];
      expect(q).toHaveLength(1);
      expect(q[0]).toMatchObject({ job: 'slo-rollup', cluster_id: 'alpha', ref: `slo_snapshots id=${poisoned}` });
      expect(q[0].reason).toMatch(/slo_service_raw/);
      expect(JSON.parse(q[0].payload).service).toHaveLength(shape.services);
      expect(await quarantinedMetric('slo-rollup')).toBe(1);

      // The other two snapshots' traffic is in the hourly rollup: 2 of 3 snapshots of every service.
      const hourly = (await db().selectFrom('slo_service_hourly').select(['requests']).execute()) as { requests: number }[];
      expect(hourly.length).toBe(shape.services);
      const raw = (await db()
        .selectFrom('slo_service_raw')
        .select(['snap_id', 'requests'])
        .where('snap_id', 'in', [ids[0], ids[2]])
        .execute()) as { requests: number }[];
      const sum = (xs: { requests: number }[]) => xs.reduce((s, x) => s + Number(x.requests), 0);
      expect(sum(hourly)).toBeCloseTo(sum(raw), 6);

      // Reads of the cluster answer again, and /readyz names the row.
      expect((await call('/api/v2/slo/domains?cluster_id=alpha&time_range=1d')).status).toBe(200);
      const ready = await call('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('degraded');
      expect(ready.body.checks['slo:quarantine']).toMatchObject({ ok: true, degraded: true });
      expect(ready.body.checks['slo:quarantine'].detail).toContain(`slo_snapshots id=${poisoned}`);

      // A second run has nothing left to do and does not fail.
      await run('slo-rollup');
      expect(await quarantinedMetric('slo-rollup')).toBe(1);
    });

    it('the status job quarantines an unreadable rollup row and records the other statuses', async () => {
      const before = Number(((await db().selectFrom('slo_status_history').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()) as { n: number }).n);
      expect(before).toBe(0);
      const victim = (await db().selectFrom('slo_service_hourly').select(['namespace', 'name', 'ts']).orderBy('name').executeTakeFirstOrThrow()) as Json;
      for (const table of ['slo_service_hourly', 'slo_service_daily']) {
        await db()
          .updateTable(table)
          .set({ codes: '{"200":', lat_counts: '[1,' })
          .where('namespace', '=', victim.namespace)
          .where('name', '=', victim.name)
          .execute();
      }
      // As after a restart: no replica has the bucket decoded in memory any more.
      await db().updateTable('slo_rollup_buckets').set({ version: 1_000_000 }).execute();
      expect((await call('/api/v2/slo/mesh/topology?cluster_id=alpha&time_range=1d')).status).toBe(500);

      await run('slo-status');

      const q = (await db().selectFrom('slo_quarantine').selectAll().where('job', '=', 'slo-status').execute()) as Json[];
      expect(q.length).toBeGreaterThanOrEqual(1);
      expect(q.map((r) => r.ref).join(' ')).toContain(`name=${victim.name}`);
      expect(await quarantinedMetric('slo-status')).toBe(q.length);
      const statuses = (await db().selectFrom('slo_status_current').select(['scope', 'key']).execute()) as Json[];
      // Every other service and the domains got a status.
      const others = (await db().selectFrom('slo_service_hourly').select(['namespace', 'name']).execute()) as Json[];
      expect(others).toHaveLength(shape.services - 1);
      const keys = statuses.filter((s) => s.scope === 'service').map((s) => s.key);
      for (const o of others) expect(keys).toContain(`${o.namespace}/${o.name}`);
      expect(statuses.some((s) => s.scope === 'domain')).toBe(true);
      expect((await call('/api/v2/slo/mesh/topology?cluster_id=alpha&time_range=1d')).status).toBe(200);
      const ready = await call('/readyz');
      expect(ready.body.checks['slo:quarantine'].detail).toContain(`name=${victim.name}`);
    });
  });
}
