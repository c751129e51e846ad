import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tarOf } from '../support/archives.js';
import { defaultRules } from '../../src/batches/diagnose/default-rules.js';
import { parseFile, type ParseInput } from '../../src/batches/parse/parse-file.js';
import { fixturesDir } from '../support/env.js';
import { runCommand } from '../support/run.js';

const limits = { maxDecompressedBytes: 1 << 20, maxMembers: 10, maxLineLength: 4096 };

function input(name: string, data: Buffer, members: { name: string; data: Buffer }[] = []): ParseInput {
  return {
    name,
    open: async () => Readable.from([data]),
    rules: defaultRules(),
    year: 2026,
    limits,
    member: async (n, body) => {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c as Buffer);
      members.push({ name: n, data: Buffer.concat(chunks) });
    },
  };
}


const LOG = 'ts=2026-03-04T12:00:00Z level=error app=ota msg="UDS rx 7F 36 72"\nts=2026-03-04T12:00:05Z level=info app=ota msg="retrying"\n';

describe('parseFile', () => {
  it('aggregates a text log, plain or gzipped, with the same result', async () => {
    const plain = await parseFile(input('a.log', Buffer.from(LOG)));
    const gz = await parseFile(input('a.log', gzipSync(LOG)));
    expect(plain).toMatchObject({ kind: 'parsed', format: 'text' });
    expect(gz).toMatchObject({ kind: 'parsed', format: 'text+gzip' });
    if (plain.kind !== 'parsed' || gz.kind !== 'parsed') throw new Error('not parsed');
    expect(plain.aggregate.records).toBe(2);
    expect(plain.aggregate.errorCount).toBe(1);
    expect(plain.aggregate.factCounts).toEqual({ uds_nrc: 1 });
    expect({ ...gz.aggregate, file: 'x' }).toEqual({ ...plain.aggregate, file: 'x' });
  });

  it('decodes a DLT fixture into records with ECU, app and context', async () => {
    const dir = fixturesDir('dlt');
    if (!dir) return expect.soft(dir, 'dlt fixtures absent').toBeUndefined();
    const out = await parseFile(input('testfile.dlt', readFileSync(path.join(dir, 'testfile.dlt'))));
    expect(out.kind).toBe('parsed');
    if (out.kind !== 'parsed') return;
    // the reference rendering has one line per record
    const refLines = readFileSync(path.join(dir, 'testfile.dlt.a.txt'), 'utf8').split('\n').filter((l) => l.length > 0).length;
    expect(out.aggregate.records).toBe(refLines);
    expect(Object.keys(out.aggregate.byEcu).length).toBeGreaterThan(0);
    expect(Object.keys(out.aggregate.byApp).length).toBeGreaterThan(0);
  });

  it('turns tar and tar.gz members into files, with names that cannot escape', async () => {
    const members: { name: string; data: Buffer }[] = [];
    const t = await tarOf({ 'logs/a.log': LOG, '../../etc/evil.log': 'x\n' });
    expect(await parseFile(input('bundle.tar', t, members))).toEqual({ kind: 'archive', format: 'tar', members: 2 });
    expect(members.map((m) => m.name)).toEqual(['logs/a.log', 'etc/evil.log']);
    expect(members[0]!.data.toString()).toBe(LOG);
    const gzMembers: { name: string; data: Buffer }[] = [];
    expect(await parseFile(input('bundle.tgz', gzipSync(t), gzMembers))).toEqual({ kind: 'archive', format: 'tar+gzip', members: 2 });
  });

  it('reads zip members', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-zip-test-'));
    const zipPath = path.join(dir, 'b.zip');
    writeFileSync(path.join(dir, 'a.log'), LOG);
    const zipped = await runCommand('python3', ['-c', `import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED); z.write(sys.argv[2],'inner/a.log'); z.close()`, zipPath, path.join(dir, 'a.log')]);
    // a zip that could not be written must fail here, not as a puzzling parse result below
    if (zipped.error || zipped.status !== 0) throw zipped.error ?? new Error(`python3 exited ${zipped.status}: ${zipped.stderr}`);
    const members: { name: string; data: Buffer }[] = [];
    expect(await parseFile(input('b.zip', readFileSync(zipPath), members))).toEqual({ kind: 'archive', format: 'zip', members: 1 });
    expect(members).toEqual([{ name: 'inner/a.log', data: Buffer.from(LOG) }]);
  });

  it('fails unknown binaries, gzip bombs, corrupt gzip and too many members with a reason', async () => {
    expect(await parseFile(input('x.bin', Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0, 0])))).toEqual({ kind: 'failed', format: 'unknown', reason: 'unrecognised format' });
    const bomb = gzipSync(Buffer.alloc(4 << 20, 0x61));
    expect(await parseFile(input('bomb.gz', bomb))).toEqual({ kind: 'failed', format: 'text+gzip', reason: `file expands to more than ${1 << 20} bytes` });
    const corrupt = Buffer.concat([gzipSync(LOG).subarray(0, 20), Buffer.alloc(50, 0x33)]);
    const bad = await parseFile(input('bad.gz', corrupt));
    expect(bad.kind).toBe('failed');
    const many = await tarOf(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}.log`, 'x\n'])));
    expect(await parseFile(input('many.tar', many))).toEqual({ kind: 'failed', format: 'tar', reason: 'archive has more than 10 files' });
  });

  it('cuts a huge line without a newline instead of buffering it', async () => {
    const out = await parseFile(input('one-line.log', Buffer.alloc(20_000, 0x41)));
    expect(out.kind).toBe('parsed');
    if (out.kind === 'parsed') expect(out.aggregate.records).toBe(5);
  });
});
