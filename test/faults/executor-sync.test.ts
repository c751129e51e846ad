import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/faults/executor/index.js';
import { FakeClock, FakeControlPlane, executorWith, policy, request, startUpstream, tempDir } from './executor-support.js';
import { waitFor } from '../support/wait.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const abortAll = policy('abort-all', { abort: { httpStatus: 503 } });

async function readyz(ex: Executor) {
  const a = await request(ex.adminUrl + '/readyz');
  return { status: a.status, body: JSON.parse(a.body) as { status: string; policies: { version: string; source: string; rules: number; control_plane_connected: boolean; seconds_since_sync: number | null } } };
}

async function setup() {
  const up = await startUpstream();
  cleanup.push(() => up.close());
  const cp = await new FakeControlPlane().start();
  cleanup.push(() => cp.stop());
  return { up, cp, stateFile: path.join(tempDir(), 'state.json') };
}

describe('executor policy sync', () => {
  it('enforces what the control plane pushes: full_config on connect, then every update at once', async () => {
    const { up, cp, stateFile } = await setup();
    cp.policies = [abortAll];
    const ex = await executorWith(up.url, { server: new URL(cp.url), token: 'T', stateFile });
    cleanup.push(() => ex.stop(1000));
    await waitFor('full_config', () => ex.policies.status().ruleCount === 1);
    expect(cp.authorizations).toEqual(['Bearer T']);
    expect((await request(ex.url + '/')).status).toBe(503);
    cp.push([]);
    await waitFor('the update', () => ex.policies.status().ruleCount === 0);
    expect((await request(ex.url + '/')).status).toBe(200);
    const r = await readyz(ex);
    expect(r.status).toBe(200);
    expect(r.body.policies).toMatchObject({ source: 'control-plane', control_plane_connected: true, seconds_since_sync: 0, rules: 0 });
  });

  it('ignores policies aimed at another service', async () => {
    const { up, cp, stateFile } = await setup();
    const other = policy('other', { abort: { httpStatus: 503 } });
    other.spec.selector = { service: 'checkout', namespace: 'demo' };
    cp.policies = [other];
    const ex = await executorWith(up.url, { server: new URL(cp.url), stateFile });
    cleanup.push(() => ex.stop(1000));
    await waitFor('full_config', () => ex.policies.status().version !== '');
    expect(ex.policies.status().ruleCount).toBe(0);
    expect((await request(ex.url + '/')).status).toBe(200);
  });

  it('keeps a malformed push from replacing the policies in force', async () => {
    const { up, cp, stateFile } = await setup();
    cp.policies = [abortAll];
    const ex = await executorWith(up.url, { server: new URL(cp.url), stateFile });
    cleanup.push(() => ex.stop(1000));
    await waitFor('full_config', () => ex.policies.status().ruleCount === 1);
    cp.push({ not: 'an array' } as unknown as unknown[]);
    cp.push([abortAll, { metadata: {}, spec: {} }]);
    await waitFor('the second update', () => ex.policies.status().policyCount === 1 && cp.policies.length === 2);
    expect((await request(ex.url + '/')).status).toBe(503);
  });

  it('fails open: with the control plane gone it keeps its policies, says how stale they are, and reconnects', async () => {
    const { up, cp, stateFile } = await setup();
    cp.policies = [abortAll];
    const clock = new FakeClock();
    const ex = await executorWith(up.url, { server: new URL(cp.url), stateFile, clock, backoffBaseMs: 100, backoffCapMs: 1000 });
    cleanup.push(() => ex.stop(1000));
    await waitFor('full_config', () => ex.policies.status().ruleCount === 1);
    const version = ex.policies.status().version;
    await cp.stop();
    await waitFor('the stream to drop', () => !ex.policies.status().connected);
    clock.advance(120_000);
    expect((await request(ex.url + '/')).status).toBe(503);
    const r = await readyz(ex);
    expect(r.status).toBe(200);
    expect(r.body.policies).toMatchObject({ version, control_plane_connected: false, rules: 1 });
    expect(r.body.policies.seconds_since_sync).toBeGreaterThanOrEqual(120);
    // many failed attempts later (each backoff capped at 1 s of clock time) it still tries
    for (let i = 0; i < 20; i++) {
      // Backoffs are capped at 1 s; the reporter's (5 s) and the stream watchdog's (90 s) timers are longer.
      const retry = clock.scheduled((ms) => ms <= 1000, `reconnection attempt ${i + 1} to fail and schedule the next`);
      clock.advance(1000);
      await retry;
    }
    const connectionsBefore = cp.connections;
    cp.policies = [];
    await cp.start();
    await waitFor(
      'the reconnection',
      () => {
        clock.advance(1000);
        return ex.policies.status().connected && ex.policies.status().ruleCount === 0;
      },
    );
    expect(cp.connections).toBeGreaterThan(connectionsBefore);
    expect((await request(ex.url + '/')).status).toBe(200);
  });

  it('restarts from its state file when the control plane is unreachable', async () => {
    const { up, cp, stateFile } = await setup();
    cp.policies = [abortAll];
    const first = await executorWith(up.url, { server: new URL(cp.url), stateFile });
    await waitFor('full_config', () => first.policies.status().ruleCount === 1);
    await first.stop(1000);
    await cp.stop();
    const second = await executorWith(up.url, { server: new URL(cp.url), stateFile, backoffBaseMs: 50, backoffCapMs: 200 });
    cleanup.push(() => second.stop(1000));
    expect((await request(second.url + '/')).status).toBe(503);
    const r = await readyz(second);
    expect(r.body.policies).toMatchObject({ source: 'state-file', control_plane_connected: false, rules: 1 });
  });

  it('starts with no policies, and ready, when it has neither control plane nor state file', async () => {
    const { up, stateFile } = await setup();
    const ex = await executorWith(up.url, { server: new URL('http://127.0.0.1:9/'), stateFile, backoffBaseMs: 50, backoffCapMs: 200 });
    cleanup.push(() => ex.stop(1000));
    expect((await request(ex.url + '/')).status).toBe(200);
    const r = await readyz(ex);
    expect(r.status).toBe(200);
    expect(r.body.policies).toMatchObject({ source: 'none', rules: 0, seconds_since_sync: null });
  });

  it('reports cumulative injected counts and the policy version to the control plane', async () => {
    const { up, cp, stateFile } = await setup();
    cp.policies = [abortAll];
    const clock = new FakeClock();
    const ex = await executorWith(up.url, { server: new URL(cp.url), stateFile, clock, reportIntervalMs: 5000 });
    cleanup.push(() => ex.stop(1000));
    await waitFor('full_config', () => ex.policies.status().ruleCount === 1);
    for (let i = 0; i < 3; i++) expect((await request(ex.url + '/')).status).toBe(503);
    expect(cp.reports).toHaveLength(0);
    clock.advance(5000);
    await waitFor('a report', () => cp.reports.length === 1);
    expect(cp.reports[0]).toEqual({
      executor_id: 'test-executor',
      service: 'frontend',
      namespace: 'demo',
      policy_version: ex.policies.status().version,
      counters: [{ policy: 'abort-all', rule: 0, type: 'abort', count: 3 }],
    });
  });
});
