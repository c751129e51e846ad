import { describe, expect, it } from 'vitest';
import { FileAggregator, mergeAggregates } from './aggregate.js';
import { defaultRules } from './diagnose/default-rules.js';
import { evaluateRules } from './diagnose/rules.js';
import { parseTextLine } from './parse/text-log.js';
import { sniffFormat } from './parse/sniff.js';

const T0 = Date.UTC(2026, 2, 4, 12, 0, 0);

function aggregate(file: string, lines: string[]) {
  const a = new FileAggregator(file, defaultRules());
  lines.forEach((l, i) => a.add(parseTextLine(l, i, { year: 2026 })));
  return a.finish();
}

describe('file aggregates', () => {
  it('count by level, app and minute, keep error lines and facts with their location', () => {
    const p = aggregate('tcu.log', [
      `ts=${new Date(T0).toISOString()} level=info app=ota msg="download started"`,
      `ts=${new Date(T0 + 30_000).toISOString()} level=error app=ota msg="UDS rx 7F 36 72"`,
      `ts=${new Date(T0 + 61_000).toISOString()} level=warn app=flashd msg="voltage low"`,
    ]);
    expect(p.records).toBe(3);
    expect(p.byLevel).toEqual({ info: 1, error: 1, warn: 1 });
    expect(p.byApp).toEqual({ ota: 2, flashd: 1 });
    expect(p.byMinute).toEqual({ [String(T0)]: { info: 1, error: 1 }, [String(T0 + 60_000)]: { warn: 1 } });
    expect([p.firstTime, p.lastTime]).toEqual([T0, T0 + 61_000]);
    expect(p.errorLines).toEqual([{ file: 'tcu.log', index: 1, time: T0 + 30_000, level: 'error', app: 'ota', ecu: undefined, ctx: undefined, text: 'UDS rx 7F 36 72' }]);
    expect(p.facts).toEqual([
      {
        kind: 'uds_nrc',
        sid: 0x36,
        service: 'TransferData',
        nrc: 0x72,
        nrcName: 'generalProgrammingFailure',
        at: { file: 'tcu.log', index: 1, time: T0 + 30_000, text: 'UDS rx 7F 36 72' },
      },
    ]);
  });

  it('merge partials of several files into the same totals as one file with all lines', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `${new Date(T0 + i * 20_000).toISOString()} ${i % 5 === 0 ? 'ERROR' : 'INFO'} heartbeat ${i}`);
    const whole = mergeAggregates([aggregate('all', lines)]);
    const split = mergeAggregates([aggregate('a', lines.slice(0, 13)), aggregate('b', lines.slice(13, 29)), aggregate('c', lines.slice(29))]);
    expect(split.records).toBe(40);
    expect(split.byLevel).toEqual({ error: 8, info: 32 });
    expect(split.byLevel).toEqual(whole.byLevel);
    expect(split.timeline).toEqual(whole.timeline);
    expect(split.timeline.length).toBe(14);
    expect(split.templates.map((t) => [t.template, t.count])).toEqual([['heartbeat <NUM>', 40]]);
    expect([split.firstTime, split.lastTime]).toEqual([T0, T0 + 39 * 20_000]);
  });

  it('feed the rule engine from merged partials', () => {
    const a = aggregate('a', ['download failed, retrying', 'download attempt 2 started']);
    const b = aggregate('b', ['transfer timeout, retry', 'OTA campaign state: FAILED']);
    const merged = mergeAggregates([a, b]);
    expect(evaluateRules(defaultRules(), merged).map((f) => f.rule)).toEqual(['ota.campaign-failed', 'ota.download-retries']);
  });

  it('bound every list', () => {
    const agg = new FileAggregator('big', defaultRules(), { errorLines: 2, facts: 3, templates: 1, keys: 2 });
    for (let i = 0; i < 10; i++) agg.add({ index: i, level: 'error', app: `app${i}`, message: `DTC P030${i % 10} status 0x08` });
    const p = agg.finish();
    expect(p.errorLines.length).toBe(2);
    expect(p.facts.length).toBe(3);
    expect(p.factCounts.dtc).toBe(10);
    expect(p.factsTruncated).toBe(true);
    expect(p.byApp).toEqual({ app0: 1, app1: 1, '(other)': 8 });
    expect(p.templates.length).toBe(1);
  });
});

describe('sniffFormat', () => {
  it('tells formats apart by their first bytes', () => {
    expect(sniffFormat(Buffer.from('DLT\x01rest', 'latin1'))).toBe('dlt');
    expect(sniffFormat(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(sniffFormat(Buffer.from('PK\x03\x04', 'latin1'))).toBe('zip');
    const tar = Buffer.alloc(512);
    tar.write('ustar', 257, 'latin1');
    tar.write('file.log', 0, 'latin1');
    expect(sniffFormat(tar)).toBe('tar');
    expect(sniffFormat(Buffer.from('2026-03-04 12:00:00 INFO ok\nnext line — ünïcode\n'))).toBe('text');
    expect(sniffFormat(Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x10]))).toBe('unknown');
  });
});
