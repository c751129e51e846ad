/**
 * The fault store's contract, the same on SQLite and PostgreSQL: versioned changes, create/update
 * semantics, expiry by applied_at, active intervals, executor reports across executor restarts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/platform/backends/sql/migrations.js';
import type { SqlStore } from '../../src/platform/backends/sql/db.js';
import { PolicyExistsError, PolicyNotFoundError } from '../../src/faults/errors.js';
import { validatePolicy, type FaultPolicy } from '../../src/faults/policy/index.js';
import { FaultStore, faultMigrations } from '../../src/faults/store.js';
import { sqlCases } from '../support/backends.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

function policy(name: string, selector?: { service?: string; namespace?: string }, extra: { spec?: Record<string, unknown>; fault?: Record<string, unknown> } = {}): FaultPolicy {
  return validatePolicy({
    metadata: { name },
    spec: { ...(selector ? { selector } : {}), rules: [{ match: { path: { prefix: '/' } }, fault: { percentage: 100, abort: { httpStatus: 503 }, ...extra.fault } }], ...extra.spec },
  }).policy;
}

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`fault store contract (${c.name})`, () => {
    let sql: SqlStore;
    let store: FaultStore;
    let now = T0;

    beforeEach(async () => {
      sql = await c.open!();
      await migrate(sql, [{ module: 'faults', migrations: faultMigrations }]);
      now = T0;
      store = new FaultStore(sql, () => now);
    });
    afterEach(async () => {
      await sql?.close();
    });

    it('versions every change globally and stamps the stored policy', async () => {
      expect(await store.version()).toBe(0);
      const a = await store.put(policy('b-policy'));
      expect(a.created).toBe(true);
      expect(a.policy.metadata).toEqual({ name: 'b-policy', version: '1', applied_at: T0 });
      now += 1000;
      await store.put(policy('a-policy'));
      const again = await store.put(policy('b-policy', { service: 'cart' }));
      expect(again.created).toBe(false);
      expect(again.policy.metadata.version).toBe('3');
      await store.delete('a-policy');
      const snap = await store.snapshot();
      expect(snap.version).toBe(4);
      expect(snap.policies.map((p) => [p.metadata.name, p.metadata.version, p.spec.selector?.service])).toEqual([['b-policy', '3', 'cart']]);
    });

    it('lists by name in code-point order (the evaluation order)', async () => {
      for (const n of ['b', 'a', 'B', '_x', 'a-1']) await store.put(policy(n));
      expect((await store.list()).map((p) => p.metadata.name)).toEqual(['B', '_x', 'a', 'a-1', 'b']);
    });

    it('create refuses an existing name, update a missing one, delete a missing one; none of them bumps the version', async () => {
      await store.put(policy('p'), 'create');
      await expect(store.put(policy('p'), 'create')).rejects.toBeInstanceOf(PolicyExistsError);
      await expect(store.put(policy('q'), 'update')).rejects.toBeInstanceOf(PolicyNotFoundError);
      await expect(store.delete('q')).rejects.toBeInstanceOf(PolicyNotFoundError);
      expect(await store.version()).toBe(1);
      expect((await store.get('p'))?.spec.rules[0].fault.abort?.httpStatus).toBe(503);
      expect(await store.get('q')).toBeNull();
    });

    it('concurrent writers get distinct versions', async () => {
      const names = Array.from({ length: 12 }, (_, i) => `p${i}`);
      const results = await Promise.all(names.map((n) => store.put(policy(n))));
      const versions = results.map((r) => Number(r.policy.metadata.version)).sort((a, b) => a - b);
      expect(versions).toEqual(names.map((_, i) => i + 1));
    });

    it('expires a policy by its applied_at + duration_seconds, and a policy whose every rule is timed when its last rule ends', async () => {
      await store.put(policy('timed', undefined, { spec: { duration_seconds: 60 } }));
      await store.put(policy('rule-timed', undefined, { fault: { duration_seconds: 30 } }));
      await store.put(policy('forever'));
      now = T0 + 29_999;
      expect(await store.expire()).toEqual([]);
      now = T0 + 30_000;
      expect(await store.expire()).toEqual(['rule-timed']);
      now = T0 + 120_000;
      expect(await store.expire()).toEqual(['timed']);
      expect((await store.list()).map((p) => p.metadata.name)).toEqual(['forever']);
    });

    it('re-applying restarts the clock', async () => {
      await store.put(policy('timed', undefined, { spec: { duration_seconds: 60 } }));
      now = T0 + 50_000;
      await store.put(policy('timed', undefined, { spec: { duration_seconds: 60 } }));
      now = T0 + 70_000;
      expect(await store.expire()).toEqual([]);
      now = T0 + 110_000;
      expect(await store.expire()).toEqual(['timed']);
    });

    it('answers when policies targeting a service were active', async () => {
      await store.put(policy('front', { service: 'frontend', namespace: 'demo' })); // T0
      now = T0 + 10_000;
      await store.put(policy('all', { service: '*' }));
      now = T0 + 20_000;
      await store.put(policy('cart', { service: 'cart' }));
      now = T0 + 30_000;
      await store.delete('front');
      now = T0 + 40_000;
      // retargeted away from frontend: its interval ends here
      await store.put(policy('all', { service: 'cart' }));
      now = T0 + 50_000;
      await store.put(policy('timed', { service: 'frontend' }, { spec: { duration_seconds: 5 } }));
      now = T0 + 99_000;
      await store.expire();

      expect(await store.activeIntervals({ service: 'frontend', since: T0 - 1 })).toEqual([
        { policy: 'front', from: T0, to: T0 + 30_000 },
        { policy: 'all', from: T0 + 10_000, to: T0 + 40_000 },
        { policy: 'timed', from: T0 + 50_000, to: T0 + 55_000 },
      ]);
      // state carried in from before `since`
      expect(await store.activeIntervals({ service: 'frontend', since: T0 + 35_000 })).toEqual([
        { policy: 'all', from: T0 + 10_000, to: T0 + 40_000 },
        { policy: 'timed', from: T0 + 50_000, to: T0 + 55_000 },
      ]);
      expect(await store.activeIntervals({ service: 'cart', since: T0 })).toEqual([
        { policy: 'all', from: T0 + 10_000, to: null },
        { policy: 'cart', from: T0 + 20_000, to: null },
      ]);
      expect(await store.activeIntervals({ service: 'frontend', namespace: 'prod', since: T0 })).toEqual([
        { policy: 'all', from: T0 + 10_000, to: T0 + 40_000 },
        { policy: 'timed', from: T0 + 50_000, to: T0 + 55_000 },
      ]);
    });

    it('purging history keeps the latest change of every policy', async () => {
      await store.put(policy('a'));
      now += 1000;
      await store.put(policy('a'));
      await store.put(policy('b'));
      now += 1000;
      expect(await store.purgeHistory(now)).toBe(1);
      expect(await store.activeIntervals({ service: 'x', since: now })).toEqual([
        { policy: 'a', from: T0 + 1000, to: null },
        { policy: 'b', from: T0 + 1000, to: null },
      ]);
    });

    it('keeps executor reports, carrying counts over an executor restart', async () => {
      const report = (counts: [string, number, string, number][], version = '1') =>
        store.report({ executor_id: 'ex-1', service: 'frontend', namespace: 'demo', policy_version: version, counters: counts.map(([policy, rule, type, count]) => ({ policy, rule, type, count })) });
      await report([['p', 0, 'abort', 5], ['p', 1, 'delay', 2]]);
      now += 5000;
      await report([['p', 0, 'abort', 9], ['p', 1, 'delay', 2], ['q', 0, 'abort', 1]], '2');
      now += 5000;
      await report([['p', 0, 'abort', 3]], '2'); // restarted: counting from zero again
      const [e] = await store.executors();
      expect(e).toMatchObject({ executor_id: 'ex-1', policy_version: '2', first_seen: T0, last_seen: T0 + 10_000 });
      expect(e.injected).toEqual({ p: { abort: 12, delay: 2 }, q: { abort: 1 } });
      expect(await store.executors(T0 + 10_001)).toEqual([]);
      expect(await store.purgeExecutors(T0 + 10_001)).toBe(1);
    });

    it('a stored policy survives reopening the store', async () => {
      await store.put(policy('keep', { service: 'frontend' }));
      const again = new FaultStore(sql, () => now);
      expect((await again.get('keep'))?.spec.selector).toEqual({ service: 'frontend' });
    });
  });
}
