/**
 * kill -9 of `vigil up` under OTLP and snapshot traffic, then a restart on the same data directory:
 * everything that was answered 2xx is still there (spans in the anomaly windows and the dedup state,
 * snapshots in the SLO store). Runs on the embedded backends, and on PostgreSQL + Redis when configured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { fleetSnapshot } from '../support/slo-fixtures.js';
import { engineUrl, repoRoot } from '../support/env.js';
import { uniqueId } from '../support/backends.js';
import { waitFor } from '../support/wait.js';

const ADMIN = `vgl_crash_${uniqueId('t')}_token`;
const SERVICE = 'crashsvc';
const ENDPOINTS = 6;
const SPANS_PER_BATCH = 20;
/** Batches sent at most: keeps every endpoint's window (1000 durations) from trimming acknowledged spans. */
const MAX_BATCHES = 240;
const CLUSTER = 'crash-cluster';

interface Vigil {
  child: ChildProcess;
  url: string;
}

function startVigil(dataDir: string, extraArgs: string[]): Promise<Vigil> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'up',
      '--no-demo',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--log-level',
      'error',
      '--set',
      'anomaly.baselineInterval=1s',
      // Durations judged anomalous are normally held back for an hour before they count; here every
      // acknowledged one must count at once so the windows can be compared with what was sent.
      '--set',
      'anomaly.learnAnomaliesAfter=1ms',
      ...extraArgs,
    ],
    { cwd: repoRoot, env: { ...process.env, VIGIL_ADMIN_TOKEN: ADMIN }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code, signal) => reject(new Error(`vigil up exited (${code ?? signal}) before listening: ${err.slice(-2000)}`)));
  });
}

function killHard(v: Vigil): Promise<void> {
  return new Promise((resolve) => {
    if (v.child.exitCode !== null || v.child.signalCode !== null) return resolve();
    v.child.once('exit', () => resolve());
    v.child.kill('SIGKILL');
  });
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** One OTLP/JSON batch of root SERVER spans, one trace each, all on one endpoint. */
function otlpBatch(b: number, t0: number) {
  const endpoint = `GET /crash/e${b % ENDPOINTS}`;
  const traceIds: string[] = [];
  const spans = Array.from({ length: SPANS_PER_BATCH }, (_, i) => {
    const traceId = hex(0xc0ffee, 8) + hex(b, 12) + hex(i, 12);
    traceIds.push(traceId);
    const start = BigInt(t0 + b * 100 + i) * 1_000_000n;
    return {
      traceId,
      spanId: hex(b * 1000 + i + 1, 16),
      name: endpoint,
      kind: 2,
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(start + BigInt(5 + (i % 40)) * 1_000_000n),
    };
  });
  const body = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: SERVICE } }] }, scopeSpans: [{ spans }] }] };
  return { endpoint, traceIds, body: JSON.stringify(body) };
}

async function crashAndCheck(extraArgs: string[]) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-crash-'));
  const auth = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  let v = await startVigil(dataDir, extraArgs);
  try {
    const t0 = Date.now() - 2 * 3600_000;
    const ackedSpans = new Map<string, string[]>(); // endpoint → acknowledged trace ids
    const ackedSeqs: number[] = [];
    let nextBatch = 0;
    let nextSeq = 1;
    let killed = false;

    const spanSender = async () => {
      while (!killed && nextBatch < MAX_BATCHES) {
        const batch = otlpBatch(nextBatch++, t0);
        const res = await fetch(`${v.url}/v1/traces`, { method: 'POST', headers: auth, body: batch.body }).catch(() => null);
        if (res?.status === 200 && !killed) {
          const list = ackedSpans.get(batch.endpoint) ?? [];
          list.push(...batch.traceIds);
          ackedSpans.set(batch.endpoint, list);
        }
        await res?.arrayBuffer().catch(() => {});
      }
    };
    const snapshotSender = async () => {
      while (!killed && nextSeq < 10_000) {
        const seq = nextSeq++;
        const snap = fleetSnapshot({ cluster: CLUSTER, services: 3, edges: 2, routes: 2 }, seq, Date.now() - 60_000);
        const res = await fetch(`${v.url}/api/v2/agent/snapshots`, { method: 'POST', headers: auth, body: JSON.stringify(snap) }).catch(() => null);
        if (res?.status === 200 && !killed) ackedSeqs.push(seq);
        await res?.arrayBuffer().catch(() => {});
      }
    };
    const senders = [spanSender(), spanSender(), spanSender(), snapshotSender(), snapshotSender()];
    // Kill while requests are in flight, once a fair amount was acknowledged.
    await waitFor('traffic acknowledged', () => [...ackedSpans.values()].flat().length >= 1500 && ackedSeqs.length >= 20, 60_000, 10);
    // Answers that arrive after this point are not counted: the process is being killed under them.
    killed = true;
    await killHard(v);
    await Promise.all(senders);

    v = await startVigil(dataDir, extraArgs);

    // Dedup state: every acknowledged trace id is known, so learning it again is a duplicate.
    const allIds = [...ackedSpans.values()].flat();
    const again = await fetch(`${v.url}/api/v1/anomaly/summaries`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ check: false, summaries: allIds.map((traceId) => ({ traceId, service: SERVICE, endpoint: 'GET /crash/e0', startMs: t0, durationMs: 1 })) }),
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ ingested: 0, duplicates: allIds.length });

    // Windows: the baseline job (run after the restart) sees at least every acknowledged duration.
    for (const [endpoint, ids] of ackedSpans) {
      const q = new URLSearchParams({ service: SERVICE, endpoint, hour: '*', dayType: '*' });
      let count = 0;
      await waitFor(
        `baseline of ${endpoint} with ${ids.length} samples`,
        async () => {
          const res = await fetch(`${v.url}/v1/baseline?${q}`, { headers: auth });
          count = res.status === 200 ? ((await res.json()) as { sampleCount: number }).sampleCount : 0;
          return count >= ids.length;
        },
        60_000,
        200,
      );
      expect(count).toBeGreaterThanOrEqual(ids.length);
    }

    // Snapshots: each acknowledged one is stored (sending it again is a duplicate) and the cluster is listed.
    for (const seq of ackedSeqs) {
      const snap = fleetSnapshot({ cluster: CLUSTER, services: 3, edges: 2, routes: 2 }, seq, Date.now() - 60_000);
      const res = await fetch(`${v.url}/api/v2/agent/snapshots`, { method: 'POST', headers: auth, body: JSON.stringify(snap) });
      expect(await res.json(), `snapshot seq ${seq}`).toMatchObject({ status: 'duplicate' });
    }
    const clusters = (await (await fetch(`${v.url}/api/v2/slo/clusters`, { headers: auth })).json()) as { clusters: { cluster_id: string }[] };
    expect(clusters.clusters.map((c) => c.cluster_id)).toContain(CLUSTER);
  } finally {
    await killHard(v);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('kill -9 of vigil up under traffic loses nothing it acknowledged', () => {
  it('on the embedded backends (SQLite store, SQLite KV)', async () => {
    await crashAndCheck([]);
  }, 240_000);

  const pgUrl = engineUrl('POSTGRES');
  const redisUrl = engineUrl('REDIS');
  it.skipIf(!pgUrl || !redisUrl)('on PostgreSQL + Redis', async () => {
    // a fresh database, so rows of earlier runs cannot satisfy the assertions
    const db = uniqueId('crash').toLowerCase();
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create database "${db}"`);
    try {
      const u = new URL(pgUrl!);
      u.pathname = `/${db}`;
      await crashAndCheck(['--database-url', u.toString(), '--redis-url', redisUrl!, '--set', `redis.prefix=${db}:`]);
    } finally {
      await admin.query(`drop database if exists "${db}" with (force)`).catch(() => {});
      await admin.end();
    }
  }, 240_000);
});
