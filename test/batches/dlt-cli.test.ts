/** `vigil dlt convert`: output equal to dlt-convert, headers only, JSON lines, filters, errors. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { convertDltFile, parseDltFilter, type DltConvertOptions } from '../../src/cli/dlt.js';
import { encodeRecord } from '../../src/batches/dlt/index.js';
import { fixturesDir, repoRoot } from '../support/env.js';
import { runCommand } from '../support/run.js';
import { DLT_CONVERT, haveDltConvert, lines, runDltConvert, stripDltWarnings } from './dlt-support.js';

const fixtures = fixturesDir('dlt');
const canRun = haveDltConvert();
const tmp = mkdtempSync(path.join(tmpdir(), 'vigil-dlt-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A file of our own making, so these tests run without the fixtures too. */
const sample = path.join(tmp, 'sample.dlt');
writeFileSync(
  sample,
  Buffer.concat([
    encodeRecord({ counter: 0, extended: { apid: 'APP1', ctid: 'CTX1', subtype: 4 }, args: [{ type: 'string', value: 'engine start' }, { type: 'int', bits: 64, value: 2n ** 63n + 5n }] }),
    encodeRecord({ counter: 1, extended: { apid: 'APP2', ctid: 'CTX1', subtype: 2 }, args: [{ type: 'float', bits: 64, value: 0.1 }, { type: 'bool', value: true }] }),
    encodeRecord({ counter: 2, extended: null, payload: Buffer.from([0x2a, 0, 0, 0, 0xff]) }),
    Buffer.from('garbage'),
    encodeRecord({ counter: 3, extended: { apid: 'APP1', ctid: 'CTX2', subtype: 3 }, args: [{ type: 'raw', value: Buffer.from([1, 2]) }] }),
  ]),
);

async function convert(file: string, opts: Partial<DltConvertOptions> = {}): Promise<{ out: Buffer; result: Awaited<ReturnType<typeof convertDltFile>> }> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  const result = await convertDltFile(file, sink, { mode: 'ascii', filters: [], ...opts });
  return { out: Buffer.concat(chunks), result };
}

const cli = (args: string[]) =>
  runCommand(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), 'dlt', 'convert', ...args], {
    cwd: repoRoot,
    env: { ...process.env, TZ: 'UTC' },
    timeoutMs: 60_000,
    maxBuffer: 1 << 28,
    encoding: 'buffer',
  });

describe('vigil dlt convert', () => {
  it.skipIf(!canRun)('-a and -s equal dlt-convert on the same file', async () => {
    for (const file of [sample, ...(fixtures ? [path.join(fixtures, 'testfile.dlt'), path.join(fixtures, 'edge/vectors.dlt')] : [])]) {
      expect(lines((await convert(file)).out), file).toEqual(lines(await runDltConvert(['-a'], file)));
      expect(lines((await convert(file, { mode: 'headers' })).out), file).toEqual(lines(await runDltConvert(['-s'], file)));
    }
  });

  it('--json prints one object per record with typed arguments', async () => {
    const { out, result } = await convert(sample, { mode: 'json' });
    const objs = out
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(result).toMatchObject({ records: 4, printed: 4 });
    expect(objs.map((o) => o.index)).toEqual([0, 1, 2, 3]);
    expect(objs[0]).toMatchObject({
      apid: 'APP1',
      ctid: 'CTX1',
      type: 'log',
      subtype: 'info',
      verbose: true,
      ecu: 'ECU1',
      counter: 0,
      args: [
        { type: 'string', value: 'engine start' },
        { type: 'int', bits: 64, signed: false, value: '9223372036854775813' },
      ],
      text: 'engine start 9223372036854775813',
    });
    expect(objs[1]).toMatchObject({ subtype: 'error', text: '0.1 1' });
    expect(objs[2]).toMatchObject({ messageId: 42, data: 'ff', text: '42, ff' });
    expect(objs[2].apid).toBeUndefined();
    expect(objs[3]).toMatchObject({ subtype: 'warn', args: [{ type: 'raw', value: '0102' }], text: "01'02" });
  });

  it('--filter keeps matching records and, like dlt-convert, records without extended header', async () => {
    const { out } = await convert(sample, { filters: [parseDltFilter('APP1:')] });
    const got = lines(out);
    const ids = (ls: string[]) => ls.map((l) => / (\d{3}) (\S{4}) (\S{4}) /.exec(l)!.slice(1).join(' '));
    expect(ids(got)).toEqual(['000 ECU1 APP1', '002 ECU1 ----', '003 ECU1 APP1']);
    // numbered over the printed records, as dlt-convert does
    expect(got.map((l) => l.split(' ')[0])).toEqual(['0', '1', '2']);
    const both = lines((await convert(sample, { filters: [parseDltFilter('APP1:CTX2'), parseDltFilter('*:CTX1')] })).out);
    expect(ids(both).map((i) => i.slice(0, 3))).toEqual(['000', '001', '002', '003']);
    expect(() => parseDltFilter('APP1')).toThrow(/APID:CTID/);
    expect(() => parseDltFilter('TOOLONG:X')).toThrow(/APID:CTID/);
  });

  it.skipIf(!canRun || !fixtures)('--filter equals dlt-convert -f with the same filters', async () => {
    const file = path.join(fixtures!, 'testfile.dlt');
    const filterFile = path.join(tmp, 'filter.txt');
    writeFileSync(filterFile, 'LOG TES2\nAPP ----\n');
    const r = await runCommand(DLT_CONVERT, ['-a', '-f', filterFile, file], { env: { ...process.env, TZ: 'UTC' }, encoding: 'buffer' });
    // dlt-convert echoes each filter line (ending in CR) before the messages
    const ref = lines(stripDltWarnings(r.stdout)).filter((l) => !l.endsWith('\r'));
    const ours = lines((await convert(file, { filters: [parseDltFilter('LOG:TES2'), parseDltFilter('APP:*')] })).out);
    expect(ref.length).toBeGreaterThan(10);
    expect(ours).toEqual(ref);
  });

  it('reports garbage on stderr, exits 0, and prints the records', async () => {
    const r = await cli([sample]);
    expect(r.status).toBe(0);
    expect(lines(r.stdout)).toHaveLength(4);
    expect(r.stderr).toContain('skipped 7 bytes that are not DLT records');
    const q = await cli(['-q', '-s', sample]);
    expect(q.status).toBe(0);
    expect(q.stderr).toBe('');
    expect(lines(q.stdout)[0]).toMatch(/^0 2023\/11\/14 22:13:20\.000000 {10}0 000 ECU1 APP1 CTX1 log info V 2 $/);
  });

  it('exits 2 on a usage error and 1 on an unreadable file', async () => {
    const two = await cli(['-a', '--json', sample]);
    expect(two.status).toBe(2);
    expect(two.stderr).toContain('one of -a, -s and --json');
    const missing = await cli([path.join(tmp, 'absent.dlt')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('absent.dlt');
  });

  it('streams a file larger than its read chunks with the same output as one decode', async () => {
    const rec = readFileSync(sample);
    const big = path.join(tmp, 'big.dlt');
    writeFileSync(big, Buffer.concat(Array.from({ length: 20_000 }, () => rec)));
    const { out, result } = await convert(big, { mode: 'headers' });
    expect(result.records).toBe(80_000);
    const l = lines(out);
    expect(l).toHaveLength(80_000);
    expect(l[79_999].startsWith('79999 ')).toBe(true);
  });
});
