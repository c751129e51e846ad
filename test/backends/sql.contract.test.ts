import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql as raw } from 'kysely';
import type { SqlStore } from '../../src/platform/backends/sql/db.js';
import { migrate } from '../../src/platform/backends/sql/migrations.js';
import { platformMigrations } from '../../src/platform/runtime.js';
import { TokenService } from '../../src/platform/auth/tokens.js';
import { SqlLease } from '../../src/platform/lease.js';
import { sqlCases } from '../support/backends.js';
import { waitFor } from '../support/wait.js';

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`SQL port contract: ${c.name}`, () => {
    let store: SqlStore;
    beforeAll(async () => {
      store = await c.open!();
    });
    afterAll(async () => {
      await store?.close();
    });

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let extra: any;
    it('applies versioned migrations once, and again is a no-op', async () => {
      const first = await migrate(store, [platformMigrations]);
      expect(first).toEqual(['platform/001_tokens', 'platform/002_leases', 'platform/003_token_hash_index']);
      expect(await migrate(store, [platformMigrations])).toEqual([]);
      extra = { module: 'zz', migrations: [{ id: '001_t', up: async (db: SqlStore['db']) => void (await db.schema.createTable('zz_t').addColumn('id', 'integer').execute()) }] };
      expect(await migrate(store, [platformMigrations, extra])).toEqual(['zz/001_t']);
    });

    it('a failing migration is reported by name and leaves no half-applied state', async () => {
      const bad = {
        module: 'bad',
        migrations: [
          {
            id: '001_half',
            async up(db: SqlStore['db']) {
              await db.schema.createTable('bad_half').addColumn('id', 'integer').execute();
              throw new Error('boom');
            },
          },
        ],
      };
      await expect(migrate(store, [platformMigrations, extra, bad])).rejects.toThrow(/bad\/001_half failed: boom/);
      // SQLite and PostgreSQL both have transactional DDL: the table must not exist.
      const probe = raw`select count(*) as n from bad_half`.execute(store.db);
      await expect(probe).rejects.toThrow();
    });

    it('stores big epoch milliseconds and reads them back as numbers', async () => {
      const tokens = new TokenService(store);
      const { info } = await tokens.create({ name: 'x', role: 'viewer' });
      const [row] = await tokens.list();
      expect(typeof row.createdAt).toBe('number');
      expect(row.createdAt).toBe(info.createdAt);
    });

    it('tokens: create, verify, role binding, revoke', async () => {
      const tokens = new TokenService(store);
      const a = await tokens.create({ name: 'agent-a', role: 'agent', clusterId: 'cluster-a' });
      expect(a.token).toMatch(/^vgl_[0-9a-f]{12}_/);
      expect(await tokens.verify(a.token)).toMatchObject({ role: 'agent', clusterId: 'cluster-a', name: 'agent-a' });
      expect(await tokens.verify(a.token + 'x')).toBeNull();
      expect(await tokens.verify('vgl_000000000000_nonexistentnonexistent')).toBeNull();
      await expect(tokens.create({ name: 'bad', role: 'agent' })).rejects.toThrow(/cluster/);
      const stored = JSON.stringify(await store.db.selectFrom('auth_tokens').selectAll().execute());
      expect(stored).not.toContain(a.token.slice('vgl_'.length + 12 + 1)); // only a hash is stored, never the secret
      expect(await tokens.revoke(a.info.id)).toBe(true);
      expect(await tokens.revoke(a.info.id)).toBe(false);
      expect(await new TokenService(store).verify(a.token)).toBeNull();
    });

    it('lease: one owner until expiry; the owner renews', async () => {
      let now = 1_000_000;
      const lease = new SqlLease(store, { now: () => now });
      expect(await lease.acquire('job', 'r1', 300)).toBe(true);
      expect(await lease.acquire('job', 'r2', 300)).toBe(false);
      expect(await lease.acquire('job', 'r1', 300)).toBe(true);
      if (store.kind === 'postgres') {
        // Expiry is judged on the database's own (real) clock: wait, bounded, for the lease to run out.
        await waitFor('the renewed lease to run out so that r2 takes it', () => lease.acquire('job', 'r2', 300), 10_000);
      } else {
        // SQLite judges expiry on the injected clock: the renewed lease lasts exactly 300 ms.
        now += 300;
        expect(await lease.acquire('job', 'r2', 300)).toBe(false);
        now += 1;
        expect(await lease.acquire('job', 'r2', 300)).toBe(true);
      }
      expect(await lease.acquire('job', 'r1', 300)).toBe(false);
      await lease.release('job', 'r2');
      expect(await lease.acquire('job', 'r1', 300)).toBe(true);
    });

    it('lease: concurrent contenders never both win', async () => {
      const lease = new SqlLease(store);
      for (let round = 0; round < 10; round++) {
        const wins = await Promise.all(['a', 'b', 'c', 'd'].map((o) => lease.acquire(`race-${round}`, o, 5000)));
        expect(wins.filter(Boolean)).toHaveLength(1);
      }
    });
  });
}
