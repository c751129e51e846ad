/**
 * A `vigil worker` process for worker-kill.test.ts: the real worker role (startWorker/runWorker) with
 * one test-only module whose consumer records every attempt, works a while, then applies its effect
 * idempotently keyed by message id. Configured through VIGIL_* env like any vigil process.
 */
import { runWorker } from '../../src/cli/worker.js';
import { loadConfig } from '../../src/config/load.js';
import type { VigilModule } from '../../src/platform/module.js';

const name = process.env.TEST_WORKER_NAME ?? 'worker';
const holdMs = Number(process.env.TEST_HOLD_MS ?? 300);

const killTestModule: VigilModule = {
  name: 'killtest',
  migrations: [
    {
      id: '001_effects',
      async up(db) {
        await db.schema.createTable('killtest_attempts').addColumn('msg_id', 'varchar(64)').addColumn('worker', 'varchar(32)').addColumn('attempt', 'integer').execute();
        await db.schema.createTable('killtest_effects').addColumn('msg_id', 'varchar(64)', (c) => c.primaryKey()).addColumn('worker', 'varchar(32)').addColumn('attempt', 'integer').execute();
      },
    },
  ],
  consumers: (ctx) => [
    {
      queue: { name: 'killtest.work', ackWaitMs: 1500, maxDeliver: 10, backoffMs: [100] },
      group: 'killtest',
      async handle(m, signal) {
        const db = ctx.sql.db;
        await db.insertInto('killtest_attempts').values({ msg_id: m.id, worker: name, attempt: m.attempt }).execute();
        // The work takes a while: the window in which a SIGKILL leaves the message unacknowledged.
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, holdMs);
          signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason as Error)), { once: true });
        });
        await db
          .insertInto('killtest_effects')
          .values({ msg_id: m.id, worker: name, attempt: m.attempt })
          .onConflict((oc) => oc.column('msg_id').doNothing())
          .execute();
      },
    },
  ],
};

await runWorker(loadConfig({ env: process.env }), [killTestModule]);
