import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryKv, RedisKv, SqliteKv, type KvStore } from '../../src/platform/backends/kv/index.js';
import { openSql, type SqlStore } from '../../src/platform/backends/sql/db.js';
import { LocalBlobStore, type BlobStore } from '../../src/platform/backends/blob/index.js';
import { S3BlobStore } from '../../src/platform/backends/blob/s3.js';
import { startLocalS3, type LocalS3 } from './s3rver.js';
import { engineUrl } from './env.js';
import type { Registry } from 'prom-client';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { MemoryBus, NatsBus, type Bus } from '../../src/platform/backends/bus/index.js';
import { ManualTimers } from './manual-timers.js';

export const uniqueId = (p: string) => `${p}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

export interface KvCase {
  name: string;
  /** Undefined when the engine is not configured (the suite skips and says why). `now` is the store's clock where one can be injected. */
  open?: (opts?: { now?: () => number }) => Promise<KvStore>;
  /** TTLs run on the engine's own clock (Redis), which a test cannot move: it waits, bounded, for the expiry instead. */
  engineClock?: true;
}

/** Both implementations of the KV port; Redis ones get a fresh key prefix per call. */
export function kvCases(): KvCase[] {
  const redisUrl = engineUrl('REDIS');
  return [
    { name: 'memory', open: async (o = {}) => new MemoryKv({ prefix: 'test:', now: o.now }) },
    // a fresh temp file per call: the durable embedded default
    { name: 'sqlite', open: async (o = {}) => new SqliteKv({ file: path.join(mkdtempSync(path.join(tmpdir(), 'vigil-kv-')), 'kv.db'), prefix: 'test:', now: o.now }) },
    { name: 'redis', engineClock: true, open: redisUrl ? async () => new RedisKv(redisUrl, { prefix: `${uniqueId('t')}:` }).connect() : undefined },
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

export interface BlobCase {
  name: string;
  open: () => Promise<BlobStore>;
  /** Stops what the case started (the local S3 server); call once in afterAll. */
  cleanup: () => Promise<void>;
}

/** Both implementations of the blob port: a fresh temp directory, and s3rver on loopback under a fresh key prefix per call. */
export function blobCases(): BlobCase[] {
  let s3: Promise<LocalS3> | undefined;
  const dirs: string[] = [];
  return [
    {
      name: 'local',
      open: () => LocalBlobStore.open(dirs[dirs.push(mkdtempSync(path.join(tmpdir(), 'vigil-blob-'))) - 1]),
      cleanup: async () => {
        for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
      },
    },
    {
      name: 's3 (s3rver)',
      open: async () => S3BlobStore.open((await (s3 ??= startLocalS3())).url(uniqueId('t')), {}),
      cleanup: async () => {
        if (s3) await (await s3).close();
      },
    },
  ];
}

export interface BusHarness {
  bus: Bus;
  /** The same broker seen from another process (memory: the same bus, with its own metrics registry ignored). */
  peer(opts?: { registry?: Registry }): Promise<Bus>;
  /** Let time pass: the in-process bus advances its manual clock; on NATS real time passes and callers poll. */
  advance(ms: number): Promise<void>;
  /** Close every bus opened here and, on NATS, delete this harness's streams. */
  dispose(): Promise<void>;
}

export interface BusCase {
  name: string;
  /** Undefined when the engine is not configured (the suite skips and says why). */
  open?: (opts?: { registry?: Registry }) => Promise<BusHarness>;
}

/** Both implementations of the bus port; NATS ones get a fresh stream and subject prefix per call. */
export function busCases(): BusCase[] {
  const natsUrl = engineUrl('NATS');
  return [
    {
      name: 'memory',
      open: async (opts = {}) => {
        const timers = new ManualTimers();
        const bus = new MemoryBus({ registry: opts.registry, timers });
        return { bus, peer: async () => bus, advance: (ms) => timers.advance(ms), dispose: () => bus.close() };
      },
    },
    {
      name: 'nats',
      open: natsUrl
        ? async (opts = {}) => {
            const prefix = uniqueId('t').replaceAll('_', '-');
            const buses = [await NatsBus.connect(natsUrl, { prefix, registry: opts.registry })];
            return {
              bus: buses[0],
              peer: async (p = {}) => buses[buses.push(await NatsBus.connect(natsUrl, { prefix, registry: p.registry })) - 1],
              advance: async () => {},
              dispose: async () => {
                for (const b of buses) await b.close();
                await deleteStreams(natsUrl, `${prefix}_`);
              },
            };
          }
        : undefined,
    },
  ];
}

/** Delete the JetStream streams whose names start with prefix (test clean-up). */
export async function deleteStreams(url: string, prefix: string): Promise<void> {
  const nc = await natsConnect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}
