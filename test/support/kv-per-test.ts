import { afterEach } from 'vitest';
import type { KvStore } from '../../src/platform/backends/kv/index.js';
import type { KvCase } from './backends.js';

/**
 * Inside a `describe` of one KV case: `open()` gives a store for the test at hand; every store opened
 * is closed after each test, whether it passed or not.
 */
export function kvPerTest(c: KvCase): () => Promise<KvStore> {
  const opened: KvStore[] = [];
  afterEach(async () => {
    for (const kv of opened.splice(0)) await kv.close();
  });
  return async () => {
    const kv = await c.open!();
    opened.push(kv);
    return kv;
  };
}
