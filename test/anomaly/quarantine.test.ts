/**
 * A poisoned window in the baseline job's input (issue 7, point 2): a bucket key holding the wrong
 * kind of value, written straight into the KV. The job quarantines it (anomaly_quarantine),
 * counts it in vigil_job_quarantined_rows_total, /readyz reports degraded naming it, and every
 * other bucket gets its baseline. Runs on SQLite + in-process KV and PostgreSQL + Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselineKey, bucketOf } from '../../src/anomaly/index.js';
import { engineUrl } from '../support/env.js';
import { summaries, startAnomalyServer, WED_14_TAIPEI, type AnomalyTestServer } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const pg = engineUrl('POSTGRES');
const redis = engineUrl('REDIS');
for (const c of [
  { name: 'sqlite + embedded kv', flags: {} as Record<string, unknown> | undefined },
  { name: 'postgres + redis', flags: pg && redis ? { 'database.url': pg, 'redis.url': redis, 'redis.prefix': `q${Date.now().toString(36)}:` } : undefined },
]) {
  describe.skipIf(!c.flags)(`the baseline job quarantines windows it cannot read (${c.name})`, () => {
    let t: AnomalyTestServer;
    beforeAll(async () => {
      t = await startAnomalyServer(c.flags);
    });
    afterAll(async () => {
      await t?.stop();
    });

    const metric = async () => {
      const m = await t.server.ctx.metrics.getSingleMetric('vigil_job_quarantined_rows_total')?.get();
      return m?.values.find((v) => v.labels.job === 'anomaly.baselines')?.value ?? 0;
    };

    it('quarantines the poisoned bucket, recomputes the others, and does not count it twice', async () => {
      await t.svc.ingest(summaries(30, (i) => 100 + i), 'api', { check: false });
      await t.svc.ingest(summaries(30, (i) => 200 + i, { endpoint: 'GET /cart' }), 'api', { check: false });
      const b = bucketOf(WED_14_TAIPEI, t.svc.store.rule.timeZone, t.svc.store.rule.weekendDays);
      const poisoned = baselineKey('checkout', 'GET /poisoned', b.hour, b.dayType);
      // A string where the job expects a list of durations.
      await t.server.ctx.kv.set(`anomaly:dur:${poisoned}`, 'not a list');
      await t.server.ctx.kv.sadd('anomaly:dirtyKeys', poisoned);

      const r = await t.svc.runBaselineJob();
      expect(r).toMatchObject({ quarantined: 1, remaining: 0, failed: 0 });
      expect(await t.svc.store.getBaseline('checkout', 'POST /checkout', b.hour, b.dayType)).toMatchObject({ sampleCount: 30 });
      expect(await t.svc.store.getBaseline('checkout', 'GET /cart', b.hour, b.dayType)).toMatchObject({ sampleCount: 30 });
      expect(await t.svc.store.pendingDirty()).toBe(0);
      expect(await metric()).toBe(1);

      const ready = (await (await t.call('/readyz')).json()) as Json;
      expect(ready.status).toBe('degraded');
      expect(ready.checks['anomaly:quarantine']).toMatchObject({ ok: true, degraded: true });
      expect(ready.checks['anomaly:quarantine'].detail).toContain(poisoned);

      // The poisoned bucket's endpoint gets dirty again: the job still finishes, nothing new is counted.
      await t.server.ctx.kv.sadd('anomaly:dirtyKeys', poisoned);
      const again = await t.svc.runBaselineJob();
      expect(again).toMatchObject({ quarantined: 0, remaining: 0, failed: 0 });
      expect(await metric()).toBe(1);
    });
  });
}
