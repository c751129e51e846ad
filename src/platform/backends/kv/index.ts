import { MemoryKv } from './memory.js';
import { RedisKv } from './redis.js';
import type { KvStore } from './types.js';

export type { KvStore } from './types.js';
export { MemoryKv } from './memory.js';
export { RedisKv } from './redis.js';

export async function openKv(url: string, prefix: string): Promise<KvStore> {
  if (!url) return new MemoryKv();
  if (!/^rediss?:\/\//.test(url)) throw new Error(`redis.url must be redis://… or rediss://…, got "${url}"`);
  return new RedisKv(url, { prefix }).connect();
}
