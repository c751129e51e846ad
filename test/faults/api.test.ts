/**
 * HFI's control-plane API on a running server, on SQLite and PostgreSQL: status codes and bodies
 * as HFI answers them, JSON and YAML bodies, validation naming the field, bad input from issue 10,
 * roles (admin writes, the executor role reads policies and reports only), restart durability.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturesDir } from '../support/env.js';
import { call, faultBackends, json, startFaultServer, yaml, type FaultServer } from './helpers.js';

const hfi = fixturesDir('hfi');

const abortPolicy = (name: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name },
  spec: { selector: { service: 'frontend', namespace: 'demo' }, rules: [{ match: { path: { prefix: '/' } }, fault: { percentage: 100, abort: { httpStatus: 503 } } }], ...extra },
});

for (const backend of faultBackends()) {
  describe.skipIf(!backend.available)(`fault policy API (${backend.name})`, () => {
    let t: FaultServer;
    const db = backend.available ? backend.database() : { flags: {} };
    beforeAll(async () => {
      t = await startFaultServer(db);
    });
    afterAll(async () => {
      await t?.stop();
    });

    it.skipIf(!hfi)('accepts every fixture document as YAML and as JSON, and stores it as HFI returns it', async () => {
      const dir = path.join(hfi!, 'current');
      let count = 0;
      for (const f of readdirSync(dir)) {
        const text = readFileSync(path.join(dir, f), 'utf8');
        const docs = f.endsWith('.json') ? [text] : text.split(/^---$/m);
        for (const doc of docs) {
          const res = await call(t, '/v1/policies', f.endsWith('.json') ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: doc } : yaml(doc));
          expect(res.status, f).toBe(201);
          const body = (await res.json()) as { metadata: { name: string; version: string } };
          expect(body.metadata.version).toMatch(/^\d+$/);
          count++;
        }
      }
      expect(count).toBe(11);
      const list = (await (await call(t, '/v1/policies')).json()) as { policies: { metadata: { name: string } }[] };
      const names = list.policies.map((p) => p.metadata.name);
      expect(names).toEqual([...names].sort());
      expect(names).toEqual(expect.arrayContaining(['abort-policy', 'global-abort', 'legacy-policy', 'frontend-delay']));

      // frontend-delay is in two files: the one applied last is stored, every field of it
      const text = readFileSync(path.join(dir, 'canonical.json'), 'utf8');
      expect((await call(t, '/v1/policies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })).status).toBe(201);
      const stored = (await (await call(t, '/v1/policies/frontend-delay')).json()) as Record<string, unknown>;
      expect(stored).toEqual({ ...JSON.parse(text), metadata: { name: 'frontend-delay', version: expect.stringMatching(/^\d+$/), applied_at: expect.any(Number) } });
    });

    it('POST /v1/policies creates or updates, 201 with the stored policy', async () => {
      const first = await call(t, '/v1/policies', json(abortPolicy('p-upsert')));
      expect(first.status).toBe(201);
      const a = (await first.json()) as { metadata: { version: string; applied_at: number }; spec: unknown };
      expect(a.spec).toEqual(abortPolicy('p-upsert').spec);
      const second = await call(t, '/v1/policies', json(abortPolicy('p-upsert', { max_active_faults: 3 })));
      expect(second.status).toBe(201);
      const b = (await second.json()) as { metadata: { version: string }; spec: { max_active_faults: number } };
      expect(Number(b.metadata.version)).toBeGreaterThan(Number(a.metadata.version));
      expect(b.spec.max_active_faults).toBe(3);
    });

    it('stores and returns every Vigil extension unchanged', async () => {
      const p = {
        metadata: { name: 'p-extensions' },
        spec: {
          rules: [
            { match: { headers: [{ name: 'x-env', regex: '^canary' }] }, fault: { percentage: 0.5, abort: { httpStatus: 429, body: 'slow down', headers: { 'retry-after': '2' } }, delay: { fixed_delay_ms: 5, jitter_ms: 3 } } },
            { match: { method: { prefix: 'P' } }, fault: { percentage: 1, reset: true, response_rate_limit_kbps: 8, header_controlled: true, start_delay_ms: 7, duration_seconds: 9 } },
          ],
          max_active_faults: 4,
          start_delay_ms: 1,
          duration_seconds: 3600,
        },
      };
      expect((await call(t, '/v1/policies', json(p))).status).toBe(201);
      const got = (await (await call(t, '/v1/policies/p-extensions')).json()) as { spec: unknown };
      expect(got.spec).toEqual(p.spec);
      const listed = (await (await call(t, '/v1/policies')).json()) as { policies: { metadata: { name: string }; spec: unknown }[] };
      expect(listed.policies.find((x) => x.metadata.name === 'p-extensions')?.spec).toEqual(p.spec);
    });

    it('POST /v1/policies/create answers 201 with a message, then 409 for the same name', async () => {
      const r = await call(t, '/v1/policies/create', json(abortPolicy('p-create')));
      expect(r.status).toBe(201);
      expect(await r.json()).toMatchObject({ message: 'policy created successfully', policy: { metadata: { name: 'p-create' } } });
      const again = await call(t, '/v1/policies/create', json(abortPolicy('p-create')));
      expect(again.status).toBe(409);
      expect(await again.json()).toMatchObject({ error: 'conflict', field: 'metadata.name' });
    });

    it('PUT /v1/policies/{name} updates, refuses a name mismatch, 404s a missing policy', async () => {
      await call(t, '/v1/policies', json(abortPolicy('p-put')));
      const ok = await call(t, '/v1/policies/p-put', json(abortPolicy('p-put', { start_delay_ms: 50 }), 'PUT'));
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ message: 'policy updated successfully', policy: { spec: { start_delay_ms: 50 } } });
      const mismatch = await call(t, '/v1/policies/p-put', json(abortPolicy('other'), 'PUT'));
      expect(mismatch.status).toBe(400);
      expect(await mismatch.json()).toMatchObject({ error: 'bad_request', field: 'metadata.name' });
      const missing = await call(t, '/v1/policies/nope', json(abortPolicy('nope'), 'PUT'));
      expect(missing.status).toBe(404);
    });

    it('DELETE answers 200 with HFI message, then 404; GET of a missing policy is 404', async () => {
      await call(t, '/v1/policies', json(abortPolicy('p-del')));
      const del = await call(t, '/v1/policies/p-del', { method: 'DELETE' });
      expect(del.status).toBe(200);
      expect(await del.json()).toEqual({ message: 'policy deleted successfully' });
      expect((await call(t, '/v1/policies/p-del', { method: 'DELETE' })).status).toBe(404);
      const get = await call(t, '/v1/policies/p-del');
      expect(get.status).toBe(404);
      expect(await get.json()).toMatchObject({ error: 'not_found' });
    });

    it('GET /v1/policies/status summarises in HFI shape', async () => {
      await call(t, '/v1/policies', json({ metadata: { name: 'p-status' }, spec: { rules: [{ match: { path: { prefix: '/' } }, fault: { percentage: 5, delay: { fixed_delay_ms: 10 }, abort: { httpStatus: 500 } } }] } }));
      const s = (await (await call(t, '/v1/policies/status')).json()) as {
        summary: Record<string, number>;
        policies: { name: string; namespace: string; target_service: string; rules_count: number; fault_types: string[]; active: boolean }[];
      };
      expect(Object.keys(s.summary).sort()).toEqual(['abort_policies', 'active_policies', 'delay_policies', 'total_policies']);
      expect(s.summary.total_policies).toBe(s.policies.length);
      expect(s.policies.find((p) => p.name === 'p-status')).toMatchObject({ namespace: '', target_service: '', rules_count: 1, fault_types: ['abort', 'delay'], active: true });
    });

    it('GET /v1/health is public', async () => {
      const r = await call(t, '/v1/health', { token: null });
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ status: 'healthy' });
    });

    it.skipIf(!hfi)('converts a legacy policy and says so in a Warning header', async () => {
      const text = readFileSync(path.join(hfi!, 'legacy', 'production-delay.yaml'), 'utf8');
      const r = await call(t, '/v1/policies', yaml(text));
      expect(r.status).toBe(201);
      expect(((await r.json()) as { spec: { rules: { fault: { delay: unknown } }[] } }).spec.rules[0].fault.delay).toEqual({ fixed_delay_ms: 1000 });
      expect(r.headers.get('warning')).toMatch(/^299 vigil ".*fixed_delay.*fixed_delay_ms: 1000"/);
      const created = await call(t, '/v1/policies/create', yaml(readFileSync(path.join(hfi!, 'legacy', 'delay-policy.yaml'), 'utf8').replace('delay-policy', 'legacy-create')));
      expect(((await created.json()) as { warnings: string[] }).warnings[0]).toContain('fixed_delay');
    });

    describe('bad input', () => {
      const expect400 = async (res: Response, field?: string, message?: RegExp) => {
        expect(res.status).toBe(400);
        const body = (await res.json()) as { error: string; message: string; field?: string };
        expect(body.error).toBeTruthy();
        if (field) expect(body.field).toBe(field);
        if (message) expect(body.message).toMatch(message);
      };

      it.skipIf(!hfi)('legacy/invalid-policy.yaml is refused naming metadata.name', async () => {
        await expect400(await call(t, '/v1/policies', yaml(readFileSync(path.join(hfi!, 'legacy', 'invalid-policy.yaml'), 'utf8'))), 'metadata.name');
      });

      it('malformed YAML and JSON', async () => {
        await expect400(await call(t, '/v1/policies', yaml('metadata:\n  name: x\nspec: [\n')), undefined, /malformed YAML at line/);
        const r = await call(t, '/v1/policies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"metadata": {' });
        expect(r.status).toBe(400);
        expect(await r.json()).toHaveProperty('error');
      });

      it('unknown fields are refused, naming them', async () => {
        const p = abortPolicy('typo') as Record<string, unknown>;
        (p.spec as { rules: { fault: Record<string, unknown> }[] }).rules[0].fault.percentag = 5;
        await expect400(await call(t, '/v1/policies', json(p)), 'spec.rules[0].fault.percentag', /unknown field "percentag"/);
        expect((await call(t, '/v1/policies/typo')).status).toBe(404);
      });

      it('a bad value names its JSON path', async () => {
        const p = abortPolicy('bad-pct');
        p.spec.rules[0].fault.percentage = 100.5;
        await expect400(await call(t, '/v1/policies', json(p)), 'spec.rules[0].fault.percentage');
        await expect400(await call(t, '/v1/policies', yaml('metadata: {name: x}\nspec: {rules: [{match: {path: {regex: "("}}, fault: {percentage: 1, abort: {httpStatus: 500}}}]}\n')), 'spec.rules[0].match.path.regex');
      });

      it('a policy of 10 MiB is 413, and nothing is stored', async () => {
        const p = abortPolicy('huge') as { spec: { rules: { fault: { abort: Record<string, unknown> } }[] } };
        p.spec.rules[0].fault.abort.body = 'x'.repeat(10 * 1024 * 1024);
        const r = await call(t, '/v1/policies', json(p));
        expect(r.status).toBe(413);
        expect(await r.json()).toMatchObject({ error: 'payload_too_large', message: `request body exceeds the ${2 * 1024 * 1024}-byte limit` });
        expect((await call(t, '/v1/policies/huge')).status).toBe(404);
      });

      it('10 000 rules is 400 naming the limit', async () => {
        const rule = { match: { path: { prefix: '/' } }, fault: { percentage: 1, abort: { httpStatus: 500 } } };
        const p = { metadata: { name: 'many' }, spec: { rules: Array.from({ length: 10_000 }, () => rule) } };
        await expect400(await call(t, '/v1/policies', json(p)), 'spec.rules', /limit is 1000/);
      });

      it('a catastrophic regex is accepted (RE2 is linear) and the server keeps answering', async () => {
        const p = { metadata: { name: 'redos' }, spec: { rules: [{ match: { path: { regex: '(a+)+$' } }, fault: { percentage: 100, abort: { httpStatus: 500 } } }] } };
        expect((await call(t, '/v1/policies', json(p))).status).toBe(201);
        expect((await call(t, '/v1/health')).status).toBe(200);
      });

      it('more than one document in one request is refused', async () => {
        const one = 'metadata: {name: a}\nspec: {rules: [{match: {path: {prefix: /}}, fault: {percentage: 1, abort: {httpStatus: 500}}}]}\n';
        await expect400(await call(t, '/v1/policies', yaml(`${one}---\n${one.replace('name: a', 'name: b')}`)), undefined, /one policy per request/);
      });
    });

    describe('roles', () => {
      it('writes need admin: anonymous 401, viewer and executor 403', async () => {
        expect((await call(t, '/v1/policies', { ...json(abortPolicy('r1')), token: null })).status).toBe(401);
        expect((await call(t, '/v1/policies', { ...json(abortPolicy('r1')), token: await t.token('viewer') })).status).toBe(403);
        expect((await call(t, '/v1/policies/x', { method: 'DELETE', token: await t.token('executor') })).status).toBe(403);
      });

      it('an executor reads policies and reports, and may read nothing else', async () => {
        const ex = await t.token('executor');
        expect((await call(t, '/v1/policies', { token: ex })).status).toBe(200);
        expect((await call(t, '/v1/policies/status', { token: ex })).status).toBe(200);
        const report = { executor_id: 'ex-roles', service: 'frontend', namespace: 'demo', policy_version: '1', counters: [] };
        expect((await call(t, '/v1/executors/report', { ...json(report), token: ex })).status).toBe(200);
        expect((await call(t, '/api/v1/faults/summary', { token: ex })).status).toBe(403);
        expect((await call(t, '/v1/executors', { token: ex })).status).toBe(403);
        expect((await call(t, '/api/v1/jobs', { token: ex })).status).toBe(403);
        // and nobody but an executor (or admin) reports
        expect((await call(t, '/v1/executors/report', { ...json(report), token: await t.token('viewer') })).status).toBe(403);
      });
    });

    it('executor reports feed /v1/executors and the summary', async () => {
      const base = { service: 'frontend', namespace: 'demo', policy_version: '1' };
      await call(t, '/v1/executors/report', json({ ...base, executor_id: 'ex-a', counters: [{ policy: 'p-upsert', rule: 0, type: 'abort', count: 7 }] }));
      await call(t, '/v1/executors/report', json({ ...base, executor_id: 'ex-b', counters: [{ policy: 'p-upsert', rule: 0, type: 'abort', count: 3 }, { policy: 'p-upsert', rule: 0, type: 'delay', count: 1 }] }));
      const ex = (await (await call(t, '/v1/executors')).json()) as { executors: { executor_id: string; connected: boolean; in_sync: boolean }[] };
      expect(ex.executors.filter((e) => e.executor_id.startsWith('ex-')).map((e) => e.executor_id).sort()).toEqual(['ex-a', 'ex-b', 'ex-roles']);
      expect(ex.executors.every((e) => e.connected)).toBe(true);
      const s = (await (await call(t, '/api/v1/faults/summary')).json()) as { policies: { name: string; injected: Record<string, number>; total: number; executors: number }[] };
      expect(s.policies.find((p) => p.name === 'p-upsert')).toMatchObject({ injected: { abort: 10, delay: 1 }, total: 11, executors: 2 });
    });

    it('a report with a bad counter is 400', async () => {
      const r = await call(t, '/v1/executors/report', json({ executor_id: 'x', service: 's', namespace: 'n', policy_version: '1', counters: [{ policy: 'p', rule: 0, type: 'abort', count: -1 }] }));
      expect(r.status).toBe(400);
    });

    it('active-intervals names the policies that targeted a service', async () => {
      const r = (await (await call(t, '/api/v1/faults/active-intervals?service=frontend&namespace=demo&since=0')).json()) as { intervals: { policy: string; to: number | null }[] };
      expect(r.intervals.find((i) => i.policy === 'p-del')?.to).toEqual(expect.any(Number));
      expect(r.intervals.find((i) => i.policy === 'p-upsert')?.to).toBeNull();
      expect((await call(t, '/api/v1/faults/active-intervals?service=frontend&since=yesterday')).status).toBe(400);
      expect((await call(t, '/api/v1/faults/active-intervals')).status).toBe(400);
    });

    it('a server restart loses no policy and keeps the version', async () => {
      const before = (await (await call(t, '/v1/policies')).json()) as { policies: { metadata: { name: string; version: string } }[] };
      await t.stop();
      t = await startFaultServer(db);
      const after = (await (await call(t, '/v1/policies')).json()) as typeof before;
      expect(after.policies).toEqual(before.policies);
      const next = (await (await call(t, '/v1/policies', json(abortPolicy('after-restart')))).json()) as { metadata: { version: string } };
      expect(Number(next.metadata.version)).toBeGreaterThan(Math.max(...before.policies.map((p) => Number(p.metadata.version))));
    });
  });
}
