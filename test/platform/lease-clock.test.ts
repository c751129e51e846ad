import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/platform/backends/sql/db.js';
import { migrate } from '../../src/platform/backends/sql/migrations.js';
import { SqlLease, leaseMigrations } from '../../src/platform/lease.js';
import { sqlCases, uniqueId } from '../support/backends.js';
import { waitFor } from '../support/wait.js';

const HOUR = 3_600_000;

/** A replica's own clock, off from true time by `skewMs`. */
const skewed = (skewMs: number) => () => Date.now() + skewMs;

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`SQL lease clock: ${c.name}`, () => {
    let store: SqlStore;
    beforeAll(async () => {
      store = await c.open!();
      await migrate(store, [{ module: 'platform', migrations: leaseMigrations }]);
    });
    afterAll(async () => {
      await store?.close();
    });

    if (c.name === 'postgres') {
      // Replicas share one database; their own clocks may be wrong by more than the lease. Expiry is
      // judged on the database's clock, so whichever replica's clock is off, there is one holder.
      it('a contender whose clock runs ahead by more than the lease does not take a held lease', async () => {
        const job = uniqueId('job');
        const a = new SqlLease(store);
        const b = new SqlLease(store, { now: skewed(HOUR) });
        expect(await a.acquire(job, 'a', 5000)).toBe(true);
        expect(await b.acquire(job, 'b', 5000)).toBe(false);
        expect(await a.acquire(job, 'a', 5000)).toBe(true); // the holder renews
        expect(await b.acquire(job, 'b', 5000)).toBe(false);
      });

      it('a holder whose clock runs behind by more than the lease keeps it for the lease, not less', async () => {
        const job = uniqueId('job');
        const a = new SqlLease(store, { now: skewed(-HOUR) });
        const b = new SqlLease(store);
        expect(await a.acquire(job, 'a', 5000)).toBe(true);
        expect(await b.acquire(job, 'b', 5000)).toBe(false);
        expect(await a.acquire(job, 'a', 5000)).toBe(true);
      });

      it('a holder whose clock runs ahead cannot stretch its lease: a dead holder is replaced once the lease has run out', async () => {
        const job = uniqueId('job');
        const dead = new SqlLease(store, { now: skewed(HOUR) });
        const successor = new SqlLease(store, { now: skewed(-HOUR) });
        expect(await dead.acquire(job, 'dead', 200)).toBe(true);
        expect(await successor.acquire(job, 'next', 200)).toBe(false);
        // The holder stops renewing; the successor takes over once 200 ms have passed on the database's clock.
        await waitFor('the successor to hold the lease', () => successor.acquire(job, 'next', 200), 10_000);
        expect(await dead.acquire(job, 'dead', 200)).toBe(false);
      });
    } else {
      // One SQLite file serves one machine with one clock: the lease runs on the local clock, as before.
      it('expiry follows the local clock', async () => {
        const job = uniqueId('job');
        let now = 1_000_000;
        const clock = () => now;
        const a = new SqlLease(store, { now: clock });
        const b = new SqlLease(store, { now: clock });
        expect(await a.acquire(job, 'a', 500)).toBe(true);
        now += 499;
        expect(await b.acquire(job, 'b', 500)).toBe(false);
        expect(await a.acquire(job, 'a', 500)).toBe(true); // renewed: held until 1_000_999
        now += 500;
        expect(await b.acquire(job, 'b', 500)).toBe(false);
        now += 1;
        expect(await b.acquire(job, 'b', 500)).toBe(true);
        expect(await a.acquire(job, 'a', 500)).toBe(false);
        await b.release(job, 'b');
        expect(await a.acquire(job, 'a', 500)).toBe(true);
      });
    }
  });
}
