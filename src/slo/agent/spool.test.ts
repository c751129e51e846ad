import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'vigil-spool-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const body = (n: number, size = 100) => Buffer.alloc(size, n % 256);

describe('snapshot spool', () => {
  it('hands snapshots out oldest first and forgets them when acknowledged', () => {
    const s = new Spool({ dir: tempDir(), maxBytes: 10_000, initialSeq: () => 0 });
    for (let i = 0; i < 3; i++) s.push(s.nextSeq(), body(i));
    expect(s.seqs()).toEqual([0, 1, 2]);
    expect(s.peek()!.seq).toBe(0);
    s.ack(0);
    expect(s.peek()).toEqual({ seq: 1, body: body(1) });
    expect(s.depth).toBe(2);
    expect(s.bytes).toBe(200);
  });

  it('is bounded: when full the oldest are dropped and counted', () => {
    const dir = tempDir();
    const s = new Spool({ dir, maxBytes: 350, initialSeq: () => 0 });
    for (let i = 0; i < 5; i++) s.push(s.nextSeq(), body(i));
    expect(s.seqs()).toEqual([2, 3, 4]);
    expect(s.dropped).toBe(2);
    expect(s.bytes).toBeLessThanOrEqual(350);
    expect(readdirSync(dir).filter((f) => f.startsWith('snap-'))).toHaveLength(3);
  });

  it('survives a restart: unacknowledged snapshots come back in order, seqs are never reused', () => {
    const dir = tempDir();
    const a = new Spool({ dir, maxBytes: 10_000, initialSeq: () => 0 });
    for (let i = 0; i < 4; i++) a.push(a.nextSeq(), body(i));
    a.ack(0);
    a.nextSeq(); // reserved (4) but the agent died before spooling it
    const b = new Spool({ dir, maxBytes: 10_000, initialSeq: () => 0 });
    expect(b.seqs()).toEqual([1, 2, 3]);
    expect(b.peek()).toEqual({ seq: 1, body: body(1) });
    expect(b.nextSeq()).toBe(5);
  });

  it('continues after the highest spooled seq even if the seq file is lost, and starts fresh ones from the clock', () => {
    const dir = tempDir();
    const a = new Spool({ dir, maxBytes: 10_000, initialSeq: () => 0 });
    for (let i = 0; i < 3; i++) a.push(a.nextSeq(), body(i));
    rmSync(path.join(dir, 'next-seq'));
    expect(new Spool({ dir, maxBytes: 10_000, initialSeq: () => 0 }).nextSeq()).toBe(3);
    const fresh = new Spool({ dir: tempDir(), maxBytes: 10_000 });
    expect(fresh.nextSeq()).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 5);
  });

  it('ignores stray files and removes leftovers of interrupted writes', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'README'), 'x');
    writeFileSync(path.join(dir, 'snap-00000000000000000007.json.gz.123.tmp'), 'partial');
    const s = new Spool({ dir, maxBytes: 10_000, initialSeq: () => 0 });
    expect(s.depth).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['README']);
  });

  it('keeps working in memory without a directory', () => {
    const s = new Spool({ dir: '', maxBytes: 250, initialSeq: () => 10 });
    for (let i = 0; i < 3; i++) s.push(s.nextSeq(), body(i));
    expect(s.persistent).toBe(false);
    expect(s.seqs()).toEqual([11, 12]);
    expect(s.dropped).toBe(1);
  });
});
