import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NatsBus } from '../../src/platform/backends/bus/index.js';
import { openSql, type SqlStore } from '../../src/platform/backends/sql/db.js';
import { deleteStreams, uniqueId } from '../support/backends.js';
import { engineUrl, repoRoot } from '../support/env.js';
import { waitFor } from '../support/wait.js';

const natsUrl = engineUrl('NATS');
const fixture = path.join(repoRoot, 'test/platform/worker-kill.fixture.ts');
const QUEUE = { name: 'killtest.work', ackWaitMs: 1500, maxDeliver: 10, backoffMs: [100] };
const N = 30;

interface Worker {
  child: ChildProcess;
  url: Promise<string>;
  exited: Promise<number | null>;
  output: () => string;
}

/** Start one `vigil worker` process (the fixture) with VIGIL_* configuration, as a deployment would. */
function startWorker(name: string, env: Record<string, string>): Worker {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VIGIL_'))) as Record<string, string>;
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { cwd: repoRoot, env: { ...clean, ...env, TEST_WORKER_NAME: name }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /probes and metrics at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`worker ${name} exited (${code}) before it was ready:\n${out}`)));
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, url, exited, output: () => out };
}

describe.skipIf(!natsUrl)('vigil worker on NATS', () => {
  let dir = '';
  const prefix = uniqueId('wk').replaceAll('_', '-');
  const workers: Worker[] = [];
  let sql: SqlStore | undefined;
  let bus: NatsBus | undefined;

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await bus?.close();
    await sql?.close();
    await deleteStreams(natsUrl!, `${prefix}_`);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('two workers; one is SIGKILLed holding messages; every message is handled exactly once in effect', { timeout: 180_000 }, async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-worker-kill-'));
    const dbUrl = `sqlite:${path.join(dir, 'effects.db')}`;
    const env = (name: string) => ({
      VIGIL_NATS_URL: natsUrl!,
      VIGIL_NATS_PREFIX: prefix,
      VIGIL_DATABASE_URL: dbUrl,
      VIGIL_DATA_DIR: path.join(dir, name),
      VIGIL_WORKER_PORT: '0',
      VIGIL_WORKER_CONCURRENCY: '3',
      VIGIL_LOG_LEVEL: 'warn',
      TEST_HOLD_MS: '300',
    });
    // One after the other: the first applies the migrations, the second finds them applied.
    const a = startWorker('A', env('A'));
    workers.push(a);
    await a.url;
    const b = startWorker('B', env('B'));
    workers.push(b);
    const urlB = await b.url;

    bus = await NatsBus.connect(natsUrl!, { prefix });
    await bus.ensureQueue(QUEUE);
    const ids = Array.from({ length: N }, (_, i) => `msg-${String(i).padStart(2, '0')}`);
    for (const id of ids) await bus.publish(QUEUE.name, { id }, { msgId: id });

    sql = await openSql({ url: dbUrl, dataDir: dir });
    const db = sql.db;
    const heldByA = async () => {
      const attempted = (await db.selectFrom('killtest_attempts').select('msg_id').where('worker', '=', 'A').execute()) as { msg_id: string }[];
      const done = new Set(((await db.selectFrom('killtest_effects').select('msg_id').execute()) as { msg_id: string }[]).map((r) => r.msg_id));
      return attempted.map((r) => r.msg_id).filter((id) => !done.has(id));
    };
    await waitFor('worker A to hold a message', async () => (await heldByA()).length > 0, 30_000);
    a.child.kill('SIGKILL');
    expect(await a.exited).toBeNull();
    const held = await heldByA();
    expect(held.length).toBeGreaterThan(0);

    const effects = await waitFor(
      `${N} effects`,
      async () => {
        const rows = (await db.selectFrom('killtest_effects').selectAll().execute()) as { msg_id: string; worker: string; attempt: number }[];
        return rows.length >= N && rows;
      },
      30_000,
    );
    expect(effects.map((r) => r.msg_id).sort()).toEqual(ids);
    // What A held when it died was redelivered, and B finished it.
    for (const id of held) expect(effects.find((r) => r.msg_id === id)).toMatchObject({ worker: 'B', attempt: expect.any(Number) });
    for (const id of held) expect(effects.find((r) => r.msg_id === id)!.attempt).toBeGreaterThanOrEqual(2);
    const attempts = (await db.selectFrom('killtest_attempts').selectAll().execute()) as { msg_id: string; worker: string }[];
    for (const id of held) expect(attempts.filter((r) => r.msg_id === id).map((r) => r.worker)).toEqual(expect.arrayContaining(['A', 'B']));

    const ready = await fetch(`${urlB}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()) as { checks: Record<string, unknown> }).toMatchObject({ checks: { 'bus:nats': { ok: true }, 'sql:sqlite': { ok: true } } });
    const metrics = await (await fetch(`${urlB}/metrics`)).text();
    expect(metrics).toMatch(/vigil_bus_messages_handled_total\{queue="killtest.work"\} [1-9]/);
    expect(metrics).toMatch(/vigil_bus_messages_redelivered_total\{queue="killtest.work"\} [1-9]/);
    expect((await fetch(`${urlB}/healthz`)).status).toBe(200);

    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });
});
