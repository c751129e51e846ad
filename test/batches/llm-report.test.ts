/** Diagnosis with the optional LLM: its summary lands in the report; a failing LLM leaves the rule report and says so. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitForBatchStatus } from '../support/batches.js';

async function runBatch(t: TestServer): Promise<{ llm: Record<string, unknown>; findings: { rule: string }[] }> {
  const h = { authorization: `Bearer ${t.adminToken}` };
  const id = ((await (await fetch(`${t.url}/api/v1/batches`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ vehicle_id: 'llm', vin: 'LLM' }) })).json()) as { batch_id: string }).batch_id;
  await fetch(`${t.url}/api/v1/batches/${id}/files?name=tcu.log`, { method: 'POST', headers: { ...h, 'content-type': 'application/octet-stream' }, body: 'level=error msg="UDS rx 7F 36 72"\n' });
  await fetch(`${t.url}/api/v1/batches/${id}/complete`, { method: 'POST', headers: h });
  await waitForBatchStatus(t.url, t.adminToken, id, 'completed');
  return (await (await fetch(`${t.url}/api/v1/batches/${id}/report`, { headers: h })).json()) as { llm: Record<string, unknown>; findings: { rule: string }[] };
}

describe('LLM summary in the report', () => {
  let llm: FakeLlm;
  let down: FakeLlm;
  let t: TestServer;
  let tDown: TestServer;
  beforeAll(async () => {
    llm = await startFakeLlm({ tokens: ['Flash ', 'failed ', 'at block 23.'], apiKey: 'sk-test' });
    down = await startFakeLlm({ status: 500 });
    t = await startTestServer({ flags: { 'diagnosis.llm.url': llm.url, 'diagnosis.llm.model': 'tiny', 'diagnosis.llm.apiKey': 'sk-test' } });
    tDown = await startTestServer({ flags: { 'diagnosis.llm.url': down.url, 'diagnosis.llm.model': 'tiny' } });
  });
  afterAll(async () => {
    await t?.stop();
    await tDown?.stop();
    await llm?.close();
    await down?.close();
  });

  it('is built from the findings and recorded with its usage', async () => {
    const r = await runBatch(t);
    expect(r.llm).toEqual({ status: 'ok', model: 'tiny', text: 'Flash failed at block 23.', usage: { prompt_tokens: 120, completion_tokens: 3, total_tokens: 123 } });
    expect(llm.requests[0]!.messages[1]!.content).toContain('Programming failure while flashing');
  });

  it('falls back to the rule report and says why when the LLM fails', async () => {
    const r = await runBatch(tDown);
    expect(r.llm.status).toBe('failed');
    expect(String(r.llm.reason)).toMatch(/answered 500.*rule engine's alone/);
    expect(r.findings.map((f) => f.rule)).toEqual(['ota.programming-failure']);
  });
});
