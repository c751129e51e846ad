/** The demo vehicles `vigil up` uploads: each story ends in a report naming its planted failures. */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoBatches } from '../../src/simulate/demo-batches.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitForBatchStatus } from '../support/batches.js';

describe('demo vehicle batches', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const get = async (p: string) => (await fetch(`${t.url}${p}`, { headers: { authorization: `Bearer ${t.adminToken}` } })).json() as Promise<Record<string, unknown>>;

  it('upload once per data directory and complete with the planted findings', async () => {
    const opts = { serverUrl: t.url, token: t.adminToken, seed: 42, now: Date.UTC(2026, 11, 1), log: pino({ level: 'silent' }) };
    expect(await seedDemoBatches(opts)).toBe(3);
    expect(await seedDemoBatches(opts)).toBe(0);
    const { batches } = (await get('/api/v1/batches')) as { batches: { batch_id: string; vehicle_id: string }[] };
    const rules: Record<string, string[]> = {};
    for (const b of batches) {
      await waitForBatchStatus(t.url, t.adminToken, b.batch_id, 'completed');
      const report = (await get(`/api/v1/batches/${b.batch_id}/report`)) as { findings: { rule: string }[] };
      rules[b.vehicle_id] = report.findings.map((f) => f.rule).sort();
    }
    expect(rules).toEqual({
      'demo-car-01': ['dtc.confirmed', 'ota.campaign-failed', 'ota.download-retries', 'ota.programming-failure'],
      'demo-car-02': ['dtc.confirmed', 'ecu.reset-loop', 'ota.campaign-failed', 'ota.invalid-key'],
      'demo-car-03': [],
    });
  });
});
