/**
 * Our rendering against dlt-convert on every .dlt file of fixtures/dlt: the stored reference
 * outputs (.a.txt, .s.txt) and dlt-convert run now. Where the decoder deliberately differs
 * (documented in src/batches/dlt/decoder.ts and render.ts) the difference itself is asserted.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DltDecoder, TextSink, renderAsciiLine, renderHeaderLine, type DltIssue, type DltRecord } from '../../src/batches/dlt/index.js';
import { fixturesDir } from '../support/env.js';
import { dltFiles, haveDltConvert, lines, runDltConvert, stripDltWarnings } from './dlt-support.js';

const dir = fixturesDir('dlt');
const canRun = dir !== undefined && haveDltConvert();

function decode(file: string): { records: DltRecord[]; issues: DltIssue[] } {
  const issues: DltIssue[] = [];
  const dec = new DltDecoder({ onIssue: (i) => issues.push(i) });
  const records = [...dec.push(readFileSync(file)), ...dec.end()];
  return { records, issues };
}

function render(records: DltRecord[], headersOnly = false): Buffer {
  const s = new TextSink();
  for (const r of records) (headersOnly ? renderHeaderLine : renderAsciiLine)(s, r);
  return Buffer.from(s.peek());
}

/** Files whose expected rendering is not dlt-convert's, and what it is instead. */
const DELIBERATE: Record<string, (ours: string[], ref: string[], issues: DltIssue[]) => void> = {
  // dlt-convert stops at a LEN shorter than the headers and loses the good record after it; we skip the corrupt header and keep it
  'edge/badlen.dlt': (ours, ref, issues) => {
    expect(ref).toHaveLength(2);
    expect(ours).toHaveLength(3);
    expect(ours.slice(0, 2)).toEqual(ref);
    expect(ours[2]).toBe('2' + ref[0].slice(1)); // the last record is a copy of the first
    expect(issues.filter((i) => i.kind === 'bad-length').map((i) => i.offset)).toEqual([90]);
  },
  // a LEN of 200 covers the following records in dlt-convert (it prints record mcnt 3 and nothing after); we resync at the next storage header
  'edge/biglen.dlt': (ours, ref, issues) => {
    expect(ref).toHaveLength(2);
    expect(ref[1]).toContain(' 003 ECU1 ');
    expect(ours).toEqual([ref[0], '1' + ref[0].slice(1), '2' + ref[0].slice(1)]);
    expect(issues.filter((i) => i.kind === 'bad-length').map((i) => i.offset)).toEqual([47]);
  },
};

/** DLT v2 files: dlt-convert 2.18.8 prints nothing; our v1 decoder finds no record and reports the bytes. */
const V2 = new Set(['testfile-v2.dlt', 'dlt-viewer/testfile.dlt']);

describe.skipIf(dir === undefined)('DLT fixtures', () => {
  const files = dir ? dltFiles(dir) : [];

  it('covers every fixture folder', () => {
    expect(files).toContain('testfile.dlt');
    expect(files.some((f) => f.startsWith('edge/'))).toBe(true);
    expect(files.some((f) => f.startsWith('dlt-viewer/'))).toBe(true);
  });

  for (const rel of files) {
    describe(rel, () => {
      const file = path.join(dir!, rel);

      it('equals the stored dlt-convert -a / -s output', () => {
        const { records, issues } = decode(file);
        const stored = ['a', 's'].map((k) => `${file}.${k}.txt`).filter(existsSync);
        if (V2.has(rel)) {
          expect(records).toHaveLength(0);
          expect(issues).toEqual([{ kind: 'garbage', offset: 0, length: readFileSync(file).length }]);
          return;
        }
        expect(stored.length, `${rel} has a stored reference`).toBeGreaterThan(0);
        for (const ref of stored) {
          const headersOnly = ref.endsWith('.s.txt');
          const want = lines(stripDltWarnings(readFileSync(ref)));
          const got = lines(render(records, headersOnly));
          const deliberate = DELIBERATE[rel];
          if (deliberate && !headersOnly) deliberate(got, want, issues);
          else expect(got).toEqual(want);
        }
      });

      it('decodes the same fed in 1-byte, 7-byte and random chunks', () => {
        const data = readFileSync(file);
        const whole = decode(file);
        let seed = 12345;
        const random = () => {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          return 1 + (seed % 97);
        };
        for (const size of [() => 1, () => 7, random]) {
          const issues: DltIssue[] = [];
          const dec = new DltDecoder({ onIssue: (i) => issues.push(i) });
          const records: DltRecord[] = [];
          for (let p = 0; p < data.length; ) {
            const n = size();
            records.push(...dec.push(data.subarray(p, p + n)));
            p += n;
          }
          records.push(...dec.end());
          expect(render(records)).toEqual(render(whole.records));
          expect(records.map((r) => [r.offset, r.truncated])).toEqual(whole.records.map((r) => [r.offset, r.truncated]));
          expect(issues).toEqual(whole.issues);
        }
      });

      it.skipIf(!canRun)('equals dlt-convert -a and -s run now', async () => {
        const { records, issues } = decode(file);
        const refA = lines(await runDltConvert(['-a'], file));
        const refS = lines(await runDltConvert(['-s'], file));
        if (V2.has(rel)) {
          expect(refA).toEqual([]);
          expect(records).toHaveLength(0);
          return;
        }
        const deliberate = DELIBERATE[rel];
        if (deliberate) deliberate(lines(render(records)), refA, issues);
        else {
          expect(lines(render(records))).toEqual(refA);
          expect(lines(render(records, true))).toEqual(refS);
        }
      });
    });
  }

  it('prints hex-coded integers of big-endian records right in DltRecord.text, unlike dlt-convert (-a keeps its byte swap)', () => {
    if (!dir) return;
    const { records } = decode(path.join(dir, 'edge/hex.dlt'));
    const stored = lines(readFileSync(path.join(dir, 'edge/hex.dlt.a.txt')));
    expect(stored[0]).toMatch(/\[0x3412 0xefbeadde 0x0807060504030201\]$/);
    expect(lines(render(records))).toEqual(stored);
    expect(records[0].bigEndian).toBe(true);
    expect(records[0].text).toBe('0x1234 0xdeadbeef 0x0102030405060708');
    expect(records[0].args.map((a) => (a.type === 'int' ? a.value : undefined))).toEqual([0x1234, 0xdeadbeef, 0x0102030405060708n]);
    // little-endian records print the same either way
    expect(records[1].text).toBe(stored[1].replace(/^.*\[(.*)\]$/, '$1'));
  });

  it('reports the garbage it skips in garbage.dlt and the cut record of truncated.dlt', () => {
    if (!dir) return;
    const g = decode(path.join(dir, 'edge/garbage.dlt'));
    expect(g.records).toHaveLength(19);
    expect(g.issues).toEqual([
      { kind: 'garbage', offset: 0, length: 8 },
      { kind: 'garbage', offset: 8 + 56 + 50, length: 13 },
    ]);
    const t = decode(path.join(dir, 'edge/truncated.dlt'));
    expect(t.records).toHaveLength(19);
    expect(t.records[18].truncated).toBe(true);
    expect(t.records.slice(0, 18).every((r) => !r.truncated)).toBe(true);
    expect(t.issues).toHaveLength(1);
    // the last record: 38 bytes of headers + TRAI "func\0" (4 + 2 + 5); the file lacks its last 10
    expect(t.issues[0]).toMatchObject({ kind: 'truncated', available: 39, expected: 49 });
  });
});
