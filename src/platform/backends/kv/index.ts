import path from 'node:path';
import { MemoryKv } from './memory.js';
import { RedisKv } from './redis.js';
import { SqliteKv } from './sqlite.js';
import type { KvStore } from './types.js';

export type { KvStore } from './types.js';
export { MemoryKv } from './memory.js';
export { RedisKv } from './redis.js';
export { SqliteKv } from './sqlite.js';

/** The embedded KV's own file: a separate SQLite file, so span ingest and SQL writes never wait on one write lock. */
export const KV_FILE = 'vigil-kv.db';

/**
 * '' → durable SQLite file in dataDir (the embedded default); 'sqlite:<file>' → that file;
 * 'memory:' → process memory (tests; lost on exit); 'redis://…' / 'rediss://…' → Redis.
 */
export async function openKv(url: string, prefix: string, dataDir = '.'): Promise<KvStore> {
  if (url === 'memory:' || url === 'memory://') return new MemoryKv();
  if (url === '') return new SqliteKv({ file: path.join(dataDir, KV_FILE) });
  if (url.startsWith('sqlite:')) return new SqliteKv({ file: url.replace(/^sqlite:(\/\/)?/, '') });
  if (!/^rediss?:\/\//.test(url)) throw new Error(`redis.url must be empty, memory:, sqlite:<file>, redis://… or rediss://…, got "${url}"`);
  return new RedisKv(url, { prefix }).connect();
}
