import { describe, expect, it } from 'vitest';
import { PolicyFeed, type PolicySnapshot } from './feed.js';

/** A store whose version the test moves by hand. */
function fakeStore() {
  const s = { version: 0, reads: 0 };
  return {
    s,
    version: async () => s.version,
    snapshot: async (): Promise<PolicySnapshot> => {
      s.reads++;
      return { version: s.version, policies: [] };
    },
  };
}

describe('PolicyFeed', () => {
  it('pushes each newer version to every listener once, never an older one', async () => {
    const st = fakeStore();
    const feed = new PolicyFeed({ ...st, pollMs: 3_600_000 });
    const a: number[] = [];
    const b: number[] = [];
    const subA = await feed.subscribe({ send: (x) => a.push(x.version) });
    expect(subA.first.version).toBe(0);
    st.s.version = 2;
    const subB = await feed.subscribe({ send: (x) => b.push(x.version) });
    expect(subB.first.version).toBe(2);
    feed.poke();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(a).toEqual([2]);
    expect(b).toEqual([]);
    const reads = st.s.reads;
    feed.poke(); // nothing changed: no snapshot read, nothing sent
    await new Promise((r) => setImmediate(r));
    expect(st.s.reads).toBe(reads);
    expect(a).toEqual([2]);
    feed.stop();
  });

  it('a poke while a poll runs polls once more afterwards', async () => {
    const st = fakeStore();
    const answers: ((v: number) => void)[] = [];
    let manual = false;
    const version = () => (manual ? new Promise<number>((r) => answers.push(r)) : Promise.resolve(st.s.version));
    const feed = new PolicyFeed({ snapshot: st.snapshot, version, pollMs: 3_600_000 });
    const got: number[] = [];
    await feed.subscribe({ send: (x) => got.push(x.version) });
    manual = true;
    feed.poke(); // poll 1 asks for the version
    st.s.version = 1;
    feed.poke(); // a change lands while poll 1 waits
    answers[0](0); // poll 1 read the version from before the change
    for (let i = 0; i < 20 && answers.length < 2; i++) await new Promise((r) => setImmediate(r));
    expect(answers).toHaveLength(2);
    answers[1](1);
    for (let i = 0; i < 20 && got.length === 0; i++) await new Promise((r) => setImmediate(r));
    expect(got).toEqual([1]);
    feed.stop();
  });

  it('stops polling when the last listener leaves', async () => {
    const st = fakeStore();
    const feed = new PolicyFeed({ ...st, pollMs: 3_600_000 });
    const sub = await feed.subscribe({ send: () => {} });
    expect(feed.listenerCount).toBe(1);
    sub.unsubscribe();
    expect(feed.listenerCount).toBe(0);
    feed.stop();
  });
});
