/** The executor against a real Vigil control plane: HFI's own policy files, applied over the API, enforced at once. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/faults/executor/index.js';
import { fixturesDir } from '../support/env.js';
import { executorWith, request, startUpstream, tempDir, type Upstream } from './executor-support.js';
import { parsePolicyDocuments } from '../../src/faults/policy/index.js';
import { call, faultBackends, json, startFaultServer, yaml, type FaultServer } from './helpers.js';
import { waitFor } from '../support/wait.js';

const hfi = fixturesDir('hfi');

for (const backend of faultBackends()) {
  describe.runIf(backend.available && !!hfi)(`executor with the control plane (${backend.name})`, () => {
    let server: FaultServer;
    let up: Upstream;
    let ex: Executor;

    beforeAll(async () => {
      server = await startFaultServer(backend.database());
      up = await startUpstream();
      ex = await executorWith(up.url, {
        server: new URL(server.url),
        token: await server.token('executor'),
        stateFile: path.join(tempDir(), 'state.json'),
        reportIntervalMs: 200,
      });
      await waitFor('the policy stream', () => ex.policies.status().connected);
    });

    afterAll(async () => {
      await ex?.stop(1000);
      await up?.close();
      await server?.stop();
    });

    it('enforces HFI\'s abort-policy.yaml as soon as it is applied, and stops when it is deleted', async () => {
      expect((await request(ex.url + '/')).status).toBe(200);
      const applied = await call(server, '/v1/policies', yaml(readFileSync(path.join(hfi!, 'current/abort-policy.yaml'), 'utf8')));
      expect(applied.status).toBe(201);
      await waitFor('the pushed policy', () => ex.policies.status().ruleCount === 1);
      const a = await request(ex.url + '/');
      expect(a.status).toBe(503);
      expect(a.body).toBe('Fault injection: Service unavailable');
      expect((await request(ex.url + '/', { method: 'POST' })).status).toBe(200);
      expect(ex.metrics.injectedCounts()).toEqual([{ policy: 'abort-policy', rule: 0, type: 'abort', count: 1 }]);

      // the server hears the count and the version in force from the executor's report
      const version = ex.policies.status().version;
      await waitFor('the report to reach the server', async () => {
        const r = (await (await call(server, '/v1/executors')).json()) as { executors?: { executor_id?: string; policy_version?: string }[] };
        return JSON.stringify(r).includes('test-executor') && JSON.stringify(r).includes(version);
      });

      expect((await call(server, '/v1/policies/abort-policy', { method: 'DELETE' })).status).toBe(200);
      await waitFor('the deletion', () => ex.policies.status().ruleCount === 0);
      expect((await request(ex.url + '/')).status).toBe(200);
    });

    it('enforces only the policies whose selector names it (HFI\'s multi-document file plus one for another service)', async () => {
      const { policies } = parsePolicyDocuments(readFileSync(path.join(hfi!, 'current/service-targeted-policy.yaml'), 'utf8'));
      const elsewhere = { metadata: { name: 'checkout-abort' }, spec: { selector: { service: 'checkout', namespace: 'demo' }, rules: [{ match: { path: { prefix: '/' } }, fault: { percentage: 100, abort: { httpStatus: 500 } } }] } };
      for (const p of [...policies, elsewhere]) expect((await call(server, '/v1/policies', json(p))).status).toBe(201);
      // frontend-delay (frontend/demo), global-abort (*/*), namespace-delay (*/demo), legacy-policy (no selector); not checkout-abort
      await waitFor('all five policies', () => ex.policies.status().policyCount === 5);
      expect(ex.policies.status().ruleCount).toBe(4);
    });
  });
}
