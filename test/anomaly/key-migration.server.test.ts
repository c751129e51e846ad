/**
 * A server started on a KV that a version before the anomaly namespace wrote serves the baselines it
 * learned (the module moves the keys on start): on the durable SQLite KV file, and on Redis when configured.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisKv, SqliteKv, type KvStore } from '../../src/platform/backends/kv/index.js';
import { engineUrl } from '../support/env.js';
import { uniqueId } from '../support/backends.js';
import { startAnomalyServer, type AnomalyTestServer } from './helpers.js';

const BUCKET = 'cart|GET /users/{id}|14|weekday';
const HASH = { p50: '129.5', p95: '156', mad: '15', sampleCount: '60', updatedAt: '1704261600000' };

interface Engine {
  name: string;
  available: boolean;
  /** A KV holding the old layout, and the server flags that open the same store. */
  prepare(): Promise<{ kv: KvStore; flags: Record<string, unknown> }>;
}

const redisUrl = engineUrl('REDIS');
const engines: Engine[] = [
  {
    name: 'sqlite KV file',
    available: true,
    prepare: async () => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'vigil-kv-')), 'kv.db');
      return { kv: new SqliteKv({ file }), flags: { 'redis.url': `sqlite:${file}` } };
    },
  },
  {
    name: 'redis',
    available: !!redisUrl,
    prepare: async () => {
      const prefix = `${uniqueId('t')}:`;
      return { kv: await new RedisKv(redisUrl!, { prefix }).connect(), flags: { 'redis.url': redisUrl, 'redis.prefix': prefix } };
    },
  },
];

for (const e of engines) {
  describe.skipIf(!e.available)(`anomaly keys of the previous version (${e.name})`, () => {
    let t: AnomalyTestServer | undefined;
    afterEach(async () => {
      await t?.stop();
      t = undefined;
    });

    it('are served after start and none is left outside the namespace', async () => {
      const { kv, flags } = await e.prepare();
      for (const k of [BUCKET, 'cart|GET /users/{id}|*|weekday', 'cart|GET /users/{id}|*|*']) {
        await kv.hset(`base:${k}`, HASH);
        await kv.sadd('baseKeys', `base:${k}`);
      }
      await kv.hset('svcidx:cart', { 'GET /users/{id}': '60' });
      await kv.pushTrim(`dur:${BUCKET}`, ['100', '101'], 1000);
      await kv.close();

      t = await startAnomalyServer(flags);
      const available = (await (await t.call('/v1/available')).json()) as { keys: { service: string; endpoint: string; hour: number; dayType: string }[] };
      expect(available.keys).toEqual([expect.objectContaining({ service: 'cart', endpoint: 'GET /users/{id}', hour: 14, dayType: 'weekday', p50: 129.5, sampleCount: 60 })]);
      const b = await t.call('/v1/baseline?service=cart&endpoint=GET%20/users/9&hour=14&dayType=weekday');
      expect(b.status).toBe(200);
      expect(await b.json()).toMatchObject({ p95: 156, sampleCount: 60 });
      await t.svc.keyMigration.run(); // the de-duplication ids move while the server runs
      const left = (await t.server.ctx.kv.scanKeys('*')).filter((k) => /^(base|pool|svcidx|dur|seen):|^(dirtyKeys|baseKeys)$/.test(k));
      expect(left).toEqual([]);
      expect(await t.server.ctx.kv.listRange(`anomaly:dur:${BUCKET}`, 0, -1)).toEqual(['101', '100']);
    });
  });
}
