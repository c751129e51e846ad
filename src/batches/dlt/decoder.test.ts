import { describe, expect, it } from 'vitest';
import { DltDecoder, type DltIssue } from './decoder.js';
import { encodeRecord, type EncodeRecord } from './encode.js';
import { MAX_RECORD_SIZE } from './headers.js';
import type { DltRecord } from './record.js';
import { seededRandom } from '../../simulate/random.js';

const rng = seededRandom;

const rec = (i: number, extra: Partial<EncodeRecord> = {}) =>
  encodeRecord({ counter: i, timestamp: 1000 + i, args: [{ type: 'string', value: `message ${i}` }, { type: 'int', bits: 32, value: i }], ...extra });

function feed(data: Buffer, sizes: () => number): { records: DltRecord[]; issues: DltIssue[]; dec: DltDecoder } {
  const issues: DltIssue[] = [];
  const dec = new DltDecoder({ onIssue: (i) => issues.push(i) });
  const records: DltRecord[] = [];
  for (let p = 0; p < data.length; ) {
    const n = Math.max(1, Math.min(sizes(), data.length - p));
    records.push(...dec.push(data.subarray(p, p + n)));
    p += n;
  }
  records.push(...dec.end());
  return { records, issues, dec };
}

const summary = (rs: DltRecord[]) => rs.map((r) => ({ index: r.index, offset: r.offset, truncated: r.truncated, counter: r.counter, text: r.text }));

describe('DltDecoder', () => {
  const good = [rec(0), rec(1), rec(2, { bigEndian: true }), rec(3, { extended: null, payload: Buffer.from([1, 0, 0, 0, 9]) }), rec(4)];
  const garbage = Buffer.from('xxDLxDLT\x02junkDLT', 'latin1');
  // garbage before, between (with partial and v2 markers) and a truncated last record
  const stream = Buffer.concat([Buffer.from('JUNK'), good[0], good[1], garbage, good[2], good[3], good[4], rec(5).subarray(0, 45)]);

  it('decodes records, resyncs after garbage and reports a truncated last record', () => {
    const { records, issues } = feed(stream, () => stream.length);
    expect(records.map((r) => r.counter)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(records.map((r) => r.text)).toEqual(['message 0 0', 'message 1 1', 'message 2 2', '1, 09', 'message 4 4', '']);
    expect(records[5].truncated).toBe(true);
    const afterFirstTwo = 4 + good[0].length + good[1].length;
    expect(issues).toEqual([
      { kind: 'garbage', offset: 0, length: 4 },
      { kind: 'garbage', offset: afterFirstTwo, length: garbage.length },
      { kind: 'truncated', offset: stream.length - 45, available: 45, expected: good[0].length },
    ]);
  });

  it('gives the same records and issues whatever the chunk boundaries', () => {
    const whole = feed(stream, () => stream.length);
    for (const [name, sizes] of [
      ['1-byte', () => 1],
      ['7-byte', () => 7],
      ['random', ((r) => () => 1 + Math.floor(r() * 40))(rng(42))],
      ['random large', ((r) => () => 1 + Math.floor(r() * 300))(rng(7))],
    ] as const) {
      const got = feed(stream, sizes);
      expect(summary(got.records), name).toEqual(summary(whole.records));
      expect(got.issues, name).toEqual(whole.issues);
    }
  });

  it('drops a header whose LEN is shorter than its headers and keeps the next record', () => {
    const bad = Buffer.from(good[1]);
    bad.writeUInt16BE(5, 18);
    const { records, issues } = feed(Buffer.concat([good[0], bad, good[2]]), () => 1 << 20);
    expect(records.map((r) => r.counter)).toEqual([0, 2]);
    expect(issues[0]).toMatchObject({ kind: 'bad-length', offset: good[0].length, length: 5 });
    expect(issues[1]).toEqual({ kind: 'garbage', offset: good[0].length, length: bad.length });
  });

  it('drops a header whose LEN runs over the next record and keeps that record', () => {
    const big = Buffer.from(good[1]);
    big.writeUInt16BE(big.readUInt16BE(18) + 20, 18);
    const { records, issues } = feed(Buffer.concat([good[0], big, good[2], good[4]]), () => 13);
    expect(records.map((r) => r.counter)).toEqual([0, 2, 4]);
    expect(issues[0]).toMatchObject({ kind: 'bad-length', offset: good[0].length });
  });

  it('accepts a record followed by garbage when no storage header hides inside it', () => {
    const { records, issues } = feed(Buffer.concat([good[0], Buffer.from([0, 1, 2]), good[1]]), () => 5);
    expect(records.map((r) => r.counter)).toEqual([0, 1]);
    expect(issues).toEqual([{ kind: 'garbage', offset: good[0].length, length: 3 }]);
  });

  it('reports a stream cut inside the headers of its last record without a record', () => {
    const { records, issues } = feed(Buffer.concat([good[0], good[1].subarray(0, 30)]), () => 3);
    expect(records.map((r) => r.counter)).toEqual([0]);
    expect(issues).toEqual([{ kind: 'truncated', offset: good[0].length, available: 30, expected: good[1].length }]);
  });

  it('reports a stream of garbage only, and an empty stream, without records', () => {
    expect(feed(Buffer.from('not a dlt file at all'), () => 4).issues).toEqual([{ kind: 'garbage', offset: 0, length: 21 }]);
    const empty = new DltDecoder();
    expect(empty.end()).toEqual([]);
    expect(empty.issues).toBe(0);
  });

  it('keeps at most one record buffered while decoding a ~200 MB stream in odd chunks', () => {
    // a block of typical records, one maximum-size record and some garbage, repeated
    const maxPayload = Buffer.alloc(0xffff - 4 - 4 - 4 - 10, 0x61);
    const biggest = encodeRecord({ counter: 99, extended: { verbose: false }, payload: maxPayload });
    expect(biggest.length).toBe(MAX_RECORD_SIZE);
    const parts: Buffer[] = [];
    for (let i = 0; i < 2000; i++) parts.push(rec(i & 0xff, { args: [{ type: 'string', value: 'x'.repeat(i % 400) }] }));
    parts.push(biggest, Buffer.from('garbage!'));
    const block = Buffer.concat(parts);
    const blocks = Math.ceil((200 * 1024 * 1024) / block.length);
    const r = rng(1);
    const dec = new DltDecoder();
    let records = 0;
    let truncated = 0;
    for (let b = 0; b < blocks; b++) {
      for (let p = 0; p < block.length; ) {
        const n = Math.min(block.length - p, 1 + Math.floor(r() * 256 * 1024));
        for (const rec of dec.push(block.subarray(p, p + n))) {
          records++;
          if (rec.truncated) truncated++;
        }
        expect(dec.retainedBytes).toBeLessThanOrEqual(MAX_RECORD_SIZE + 4);
        p += n;
      }
    }
    records += dec.end().length;
    expect(blocks * block.length).toBeGreaterThan(200 * 1024 * 1024);
    expect(records).toBe(blocks * 2001);
    expect(truncated).toBe(0);
    expect(dec.garbageBytes).toBe(blocks * 8);
    expect(dec.maxRetainedBytes).toBeLessThanOrEqual(MAX_RECORD_SIZE + 4);
    expect(dec.maxRetainedBytes).toBeGreaterThan(0);
  });
});
