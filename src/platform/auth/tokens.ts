import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ModuleMigration } from '../backends/sql/migrations.js';
import type { SqlStore } from '../backends/sql/db.js';
import { ROLES, type Principal, type Role } from './roles.js';

export const authMigrations: ModuleMigration[] = [
  {
    id: '001_tokens',
    async up(db) {
      await db.schema
        .createTable('auth_tokens')
        .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('cluster_id', 'varchar(64)')
        .addColumn('token_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
    },
  },
  {
    // Tokens are found by their hash (see verify), so the lookup needs an index.
    id: '003_token_hash_index',
    async up(db) {
      await db.schema.createIndex('auth_tokens_hash').on('auth_tokens').column('token_hash').execute();
    },
  },
];

export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  clusterId: string | null;
  createdAt: number;
  revokedAt: number | null;
}

interface Row {
  id: string;
  name: string;
  role: Role;
  cluster_id: string | null;
  token_hash: string;
  created_at: number;
  revoked_at: number | null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** A verified token is cached briefly so hot read paths do not hit SQL per request; revocation applies within this. */
const CACHE_MS = 5_000;

/**
 * Bearer tokens: `vgl_<id>_<secret>`. Only a SHA-256 of the whole token is stored; tokens are random
 * (192 bits) so a slow KDF adds nothing. A token given in config (VIGIL_ADMIN_TOKEN) may have any shape.
 */
export class TokenService {
  private cache = new Map<string, { p: Principal | null; until: number }>();
  /** Bumped by create and revoke: a lookup that started before one must not be cached after it. */
  private generation = 0;

  constructor(private readonly sql: SqlStore) {}

  async create(input: { name: string; role: Role; clusterId?: string | null; token?: string }): Promise<{ token: string; info: TokenInfo }> {
    if (!ROLES.includes(input.role)) throw new Error(`role must be one of ${ROLES.join(', ')}`);
    if (input.role === 'agent' && !input.clusterId) throw new Error('an agent token must be bound to a cluster id');
    const id = randomBytes(6).toString('hex');
    const token = input.token ?? `vgl_${id}_${randomBytes(24).toString('base64url')}`;
    const row: Row = {
      id,
      name: input.name,
      role: input.role,
      cluster_id: input.role === 'agent' ? (input.clusterId ?? null) : null,
      token_hash: sha256(token),
      created_at: Date.now(),
      revoked_at: null,
    };
    await this.sql.db.insertInto('auth_tokens').values(row).execute();
    this.forget(); // a remembered "unknown" for this token must not outlive its creation
    return { token, info: toInfo(row) };
  }

  async list(): Promise<TokenInfo[]> {
    const rows = (await this.sql.db.selectFrom('auth_tokens').selectAll().orderBy('created_at').execute()) as Row[];
    return rows.map(toInfo);
  }

  async revoke(id: string): Promise<boolean> {
    const res = await this.sql.db
      .updateTable('auth_tokens')
      .set({ revoked_at: Date.now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    this.forget();
    return Number(res.numUpdatedRows) > 0;
  }

  async countActive(role?: Role): Promise<number> {
    let q = this.sql.db.selectFrom('auth_tokens').select((eb) => eb.fn.countAll().as('n')).where('revoked_at', 'is', null);
    if (role) q = q.where('role', '=', role);
    const r = (await q.executeTakeFirst()) as { n: number | string } | undefined;
    return Number(r?.n ?? 0);
  }

  /**
   * What verify would answer for a token it looked up within the last CACHE_MS (null: unknown or
   * revoked), or undefined when it must ask the database. Synchronous, so the auth hook of a
   * request whose token was seen moments ago needs no promise.
   */
  cached(token: string): Principal | null | undefined {
    const hit = this.cache.get(token);
    return hit && hit.until > Date.now() ? hit.p : undefined;
  }

  /**
   * The principal of a presented token, or null when unknown or revoked. The lookup is by the hash
   * of the whole token, never by its id part: a token whose id exists but whose secret is wrong
   * takes exactly the path of an unknown one (same query, no row), so timing tells nothing about
   * which ids exist.
   */
  async verify(token: string): Promise<Principal | null> {
    const hit = this.cached(token);
    if (hit !== undefined) return hit;
    const now = Date.now();
    const generation = this.generation;
    const hash = sha256(token);
    const rows = (await this.sql.db.selectFrom('auth_tokens').selectAll().where('token_hash', '=', hash).where('revoked_at', 'is', null).execute()) as Row[];
    const row = rows.find((r) => timingSafeEqual(Buffer.from(r.token_hash), Buffer.from(hash)));
    const p: Principal | null = row ? { tokenId: row.id, name: row.name, role: row.role, clusterId: row.cluster_id } : null;
    if (generation !== this.generation) return p;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, { p, until: now + CACHE_MS });
    return p;
  }

  private forget(): void {
    this.generation++;
    this.cache.clear();
  }
}

function toInfo(r: Row): TokenInfo {
  return { id: r.id, name: r.name, role: r.role, clusterId: r.cluster_id, createdAt: Number(r.created_at), revokedAt: r.revoked_at == null ? null : Number(r.revoked_at) };
}
