import { randomBytes } from 'node:crypto';
import { MemoryKv, RedisKv, type KvStore } from '../../src/platform/backends/kv/index.js';
import { openSql, type SqlStore } from '../../src/platform/backends/sql/db.js';
import { engineUrl } from './env.js';

export const uniqueId = (p: string) => `${p}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

export interface KvCase {
  name: string;
  /** Undefined when the engine is not configured (the suite skips and says why). */
  open?: () => Promise<KvStore>;
}

/** Both implementations of the KV port; Redis ones get a fresh key prefix per call. */
export function kvCases(): KvCase[] {
  const redisUrl = engineUrl('REDIS');
  return [
    { name: 'memory', open: async () => new MemoryKv({ prefix: 'test:' }) },
    { name: 'redis', open: redisUrl ? async () => new RedisKv(redisUrl, { prefix: `${uniqueId('t')}:` }).connect() : undefined },
  ];
}

export interface SqlCase {
  name: string;
  open?: () => Promise<SqlStore>;
  url?: string;
}

/** Both implementations of the SQL port; PostgreSQL ones live in a fresh schema per call. */
export function sqlCases(): SqlCase[] {
  const pgUrl = engineUrl('POSTGRES');
  return [
    { name: 'sqlite', open: () => openSql({ url: 'sqlite::memory:', dataDir: '.' }) },
    {
      name: 'postgres',
      url: pgUrl,
      open: pgUrl ? () => openSql({ url: pgUrl, dataDir: '.', schema: uniqueId('t'), poolSize: 4 }) : undefined,
    },
  ];
}
