/**
 * Differential test: seeded random records of every shape (header flags, ids with NULs, all
 * message types, every argument type, corrupt argument lengths, payloads past dlt-convert's text
 * buffer, hex/bin-coded integers dlt-convert misprints) rendered by us (`-a`, strict) and by
 * dlt-convert run now, compared line for line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDltBuffer, TextSink, renderAsciiLine, renderHeaderLine } from '../../src/batches/dlt/index.js';
import { SCOD_BIN, SCOD_HEX } from '../../src/batches/dlt/arguments.js';
import { haveDltConvert, lines, runDltConvert } from './dlt-support.js';
import { seededRandom } from '../../src/simulate/random.js';

const rng = seededRandom;

function generate(seed: number, count: number): Buffer {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: T[]): T => xs[int(xs.length)];
  const bytes = (n: number, alphabet?: number[]) => Buffer.from(Array.from({ length: n }, () => (alphabet ? pick(alphabet) : int(256))));
  const text = (n: number) => bytes(n, [...Buffer.from('abcXYZ 019_-.:/°\r\n\t', 'utf8'), 0, 1, 0x7f, 0xff]);
  const id = () => pick([Buffer.from('APP1'), Buffer.from('AB\0\0'), Buffer.from('\0\0\0\0'), Buffer.from('A\0C\0'), bytes(4, [0x41, 0x42, 0x5a, 0x30])]);

  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const be = r() < 0.3;
    const u16 = (v: number) => {
      const b = Buffer.alloc(2);
      if (be) b.writeUInt16BE(v & 0xffff);
      else b.writeUInt16LE(v & 0xffff);
      return b;
    };
    const u32 = (v: number) => {
      const b = Buffer.alloc(4);
      if (be) b.writeUInt32BE(v >>> 0);
      else b.writeUInt32LE(v >>> 0);
      return b;
    };
    const typeInfo = u32;
    const tyle = () => pick([1, 2, 3, 4, 5, 1, 2, 3, 4, 0, 6]);
    const vari = () => (r() < 0.15 ? 0x800 : 0);
    const arg = (): Buffer => {
      switch (int(10)) {
        case 0: {
          const s = text(int(5) === 0 ? int(12000) : int(40));
          const len = r() < 0.05 ? int(200) : s.length;
          const v = vari();
          const name = v ? Buffer.concat([u16(3), Buffer.from('nm\0')]) : Buffer.alloc(0);
          return Buffer.concat([typeInfo(0x200 | v | pick([0, 0x8000])), u16(len), name.subarray(0, v ? 2 : 0), v ? name.subarray(2) : Buffer.alloc(0), s]);
        }
        case 1:
          return Buffer.concat([typeInfo(0x10 | 1), Buffer.from([pick([0, 1, 2, 255])])]);
        case 2:
        case 3: {
          const t = tyle();
          const size = [0, 1, 2, 4, 8, 16, 0][t] ?? 0;
          const v = vari();
          const fixp = r() < 0.1 ? 0x1000 : 0;
          const head = v ? Buffer.concat([u16(3), u16(2), Buffer.from('nm\0'), Buffer.from('u\0')]) : Buffer.alloc(0);
          const fx = fixp ? bytes(4 + (t === 4 ? 8 : t === 5 ? 16 : 4)) : Buffer.alloc(0);
          return Buffer.concat([typeInfo(pick([0x20, 0x40]) | t | v | fixp), head, fx, bytes(size)]);
        }
        case 4: {
          const t = tyle();
          const size = [0, 1, 2, 4, 8, 16, 0][t] ?? 0;
          return Buffer.concat([typeInfo(0x40 | t | pick([SCOD_HEX, SCOD_BIN]) | vari()), bytes(size)]);
        }
        case 5: {
          const t = tyle();
          const size = [0, 1, 2, 4, 8, 16, 0][t] ?? 0;
          const v = vari();
          const head = v ? Buffer.concat([u16(3), u16(2), Buffer.from('nm\0'), Buffer.from('u\0')]) : Buffer.alloc(0);
          // random bit patterns: NaN payloads, infinities, subnormals
          return Buffer.concat([typeInfo(0x80 | t | v), head, bytes(size)]);
        }
        case 6: {
          const n = int(6) === 0 ? int(4000) : int(20);
          const len = r() < 0.05 ? n + int(50) : n;
          return Buffer.concat([typeInfo(0x400), u16(len), bytes(n)]);
        }
        case 7: {
          const s = text(int(20));
          return Buffer.concat([typeInfo(0x2000), u16(s.length), s]);
        }
        case 8:
          return typeInfo(int(2 ** 32) & ~0x200);
        default:
          return bytes(int(6));
      }
    };

    let htyp = 0x20 | (be ? 0x02 : 0);
    if (r() < 0.1) htyp = (htyp & 0x1f) | (int(8) << 5);
    const extras: Buffer[] = [];
    if (r() < 0.8) {
      htyp |= 0x04;
      extras.push(id());
    }
    if (r() < 0.2) {
      htyp |= 0x08;
      extras.push(bytes(4));
    }
    if (r() < 0.8) {
      htyp |= 0x10;
      extras.push(bytes(4));
    }
    let payload: Buffer;
    if (r() < 0.85) {
      htyp |= 0x01;
      const verbose = r() < 0.7;
      const mstp = r() < 0.9 ? int(4) : int(8);
      const mtin = r() < 0.9 ? int(7) : int(16);
      const msin = (verbose ? 1 : 0) | (mstp << 1) | (mtin << 4);
      if (verbose) {
        const args = Array.from({ length: int(5) }, arg);
        const noar = r() < 0.1 ? int(8) : args.length;
        payload = Buffer.concat(args);
        extras.push(Buffer.from([msin, noar]), id(), id());
      } else {
        const service = mstp === 3 ? pick([1, 3, 5, 0x13, 0x14, 0x15, 0, 0xf04, int(2 ** 32)]) : int(2 ** 32);
        const body = int(8) === 0 ? bytes(int(4000)) : bytes(int(12));
        payload = r() < 0.05 ? bytes(int(4)) : Buffer.concat([u32(service), body]);
        extras.push(Buffer.from([msin, int(3)]), id(), id());
      }
    } else {
      payload = Buffer.concat([u32(int(2 ** 32)), bytes(int(30))]);
    }
    const extra = Buffer.concat(extras);
    // keep payload bytes free of storage markers so framing is not what is tested here
    const body = Buffer.from(Buffer.concat([extra, payload]).toString('latin1').replaceAll('DLT\x01', 'DLT\x00'), 'latin1');
    const len = 4 + body.length;
    if (len > 0xffff) continue;
    const storage = Buffer.alloc(16);
    storage.write('DLT\x01', 'latin1');
    storage.writeUInt32LE(int(2 ** 32), 4);
    storage.writeInt32LE(r() < 0.05 ? int(2 ** 32) - 2 ** 31 : int(1_000_000), 8);
    id().copy(storage, 12);
    out.push(storage, Buffer.from([htyp, int(256), len >> 8, len & 0xff]), body);
  }
  return Buffer.concat(out);
}

const canRun = haveDltConvert();
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-dlt-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!canRun)('rendering equals dlt-convert on random records', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}`, async () => {
      const data = generate(seed, 3000);
      const file = path.join(dir, `random-${seed}.dlt`);
      writeFileSync(file, data);
      const records = decodeDltBuffer(data);
      expect(records.length).toBeGreaterThan(2900);
      const a = new TextSink();
      const s = new TextSink();
      for (const rec of records) {
        renderAsciiLine(a, rec);
        renderHeaderLine(s, rec);
      }
      const ours = lines(a.peek());
      const ref = lines(await runDltConvert(['-a'], file));
      expect(ours.length).toBe(ref.length);
      const diffs = ours.flatMap((l, i) => (l === ref[i] ? [] : [`ours: ${l.slice(0, 300)}\nref:  ${ref[i].slice(0, 300)}`]));
      expect(diffs.slice(0, 5)).toEqual([]);
      expect(lines(s.peek())).toEqual(lines(await runDltConvert(['-s'], file)));
    });
  }
});
