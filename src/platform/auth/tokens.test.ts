import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlStore } from '../backends/sql/db.js';
import { migrate } from '../backends/sql/migrations.js';
import { TokenService, authMigrations } from './tokens.js';

describe('token verification', () => {
  let queries: { sql: string; params: readonly unknown[] }[];
  let store: SqlStore;
  let tokens: TokenService;
  beforeEach(async () => {
    queries = [];
    const db = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: new Database(':memory:') }),
      log: (e) => void queries.push({ sql: e.query.sql, params: e.query.parameters }),
    });
    store = { kind: 'sqlite', db, ping: async () => void (await sql`select 1`.execute(db)), close: () => db.destroy() };
    await migrate(store, [{ module: 'platform', migrations: authMigrations }]);
    tokens = new TokenService(store);
  });
  afterEach(() => store.close());

  it('a known id with a wrong secret takes the same path as an unknown id: one lookup by hash, no id in it', async () => {
    const { token, info } = await tokens.create({ name: 'v', role: 'viewer' });
    const wrongSecret = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const unknownId = token.replace(info.id, 'f'.repeat(12));
    queries = [];
    expect(await tokens.verify(wrongSecret)).toBeNull();
    const known = queries.splice(0);
    expect(await tokens.verify(unknownId)).toBeNull();
    const unknown = queries.splice(0);
    expect(known).toHaveLength(1);
    expect(unknown.map((q) => q.sql)).toEqual(known.map((q) => q.sql));
    for (const q of [...known, ...unknown]) expect(q.params).not.toContain(info.id);
    expect(await tokens.verify(token)).toMatchObject({ tokenId: info.id, role: 'viewer' });
  });

  it('revoked tokens and tokens given in configuration', async () => {
    const { token, info } = await tokens.create({ name: 'a', role: 'admin' });
    const configured = await tokens.create({ name: 'cfg', role: 'admin', token: 'any-shape-secret-from-config' });
    expect(await tokens.verify('any-shape-secret-from-config')).toMatchObject({ tokenId: configured.info.id });
    expect(await tokens.revoke(info.id)).toBe(true);
    expect(await tokens.verify(token)).toBeNull();
  });
});
