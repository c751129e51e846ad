import { describe, expect, it } from 'vitest';
import { defaultRules } from './default-rules.js';
import { extractFacts, type LocatedFact } from './facts.js';
import { combineRules, evaluateRules, LineMatcher, mergeTextCounts, parseRules, RuleFileError } from './rules.js';

/** Facts of some lines of one file, located as the parse workers locate them. */
function factsOf(file: string, lines: [number, string][]): LocatedFact[] {
  const out: LocatedFact[] = [];
  lines.forEach(([time, text], index) => {
    for (const f of extractFacts(text)) out.push({ ...f, at: { file, index, time, text } });
  });
  return out;
}

describe('shipped rules', () => {
  it('parse, and each has a unique id', () => {
    const rules = defaultRules();
    expect(rules.length).toBeGreaterThanOrEqual(10);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  });

  it('name a programming failure with its evidence and action', () => {
    const facts = factsOf('ecu.dlt', [
      [1000, 'RequestDownload accepted'],
      [2000, 'UDS rx 7F 36 72'],
    ]);
    const findings = evaluateRules(defaultRules(), { facts, textCounts: {} });
    expect(findings.map((f) => f.rule)).toEqual(['ota.programming-failure']);
    expect(findings[0]!.evidence).toEqual([{ file: 'ecu.dlt', index: 1, time: 2000, text: 'UDS rx 7F 36 72' }]);
    expect(findings[0]!.severity).toBe('critical');
  });

  it('fire a reset loop only when three resets fall within ten minutes', () => {
    const spread = factsOf('a.log', [
      [0, 'ECU reset type: soft'],
      [11 * 60_000, 'ECU reset type: soft'],
      [22 * 60_000, 'ECU reset type: soft'],
    ]);
    expect(evaluateRules(defaultRules(), { facts: spread, textCounts: {} })).toEqual([]);
    const burst = factsOf('a.log', [
      [0, 'ECU reset type: soft'],
      [60_000, 'ECU reset type: soft'],
      [120_000, 'ECU reset type: soft'],
    ]);
    expect(evaluateRules(defaultRules(), { facts: burst, textCounts: {} }).map((f) => f.rule)).toEqual(['ecu.reset-loop']);
  });

  it('find gaps in the TransferData block sequence within one file', () => {
    const facts = factsOf('flash.log', [
      [0, 'TransferData block 1'],
      [1, 'TransferData block 2'],
      [2, 'TransferData block 4'],
      [3, 'TransferData block 5'],
    ]);
    const f = evaluateRules(defaultRules(), { facts, textCounts: {} });
    expect(f.map((x) => x.rule)).toEqual(['ota.block-sequence-gap']);
    expect(f[0]!.evidence[0]!.index).toBe(2);
  });

  it('count download retries through the line matcher and merge them across files', () => {
    const a = new LineMatcher(defaultRules());
    const b = new LineMatcher(defaultRules());
    a.line('download failed, retrying', { file: 'a', index: 0, time: 1 });
    a.line('download attempt 2 started', { file: 'a', index: 1, time: 2 });
    a.line('unrelated', { file: 'a', index: 2, time: 3 });
    b.line('Transfer timeout, retry 3', { file: 'b', index: 7, time: 4 });
    const merged = mergeTextCounts([a.counts, b.counts]);
    expect(merged['ota.download-retries']!.count).toBe(3);
    const f = evaluateRules(defaultRules(), { facts: [], textCounts: merged });
    expect(f.map((x) => x.rule)).toEqual(['ota.download-retries']);
    expect(f[0]!.evidence.map((e) => e.file)).toEqual(['a', 'a', 'b']);
  });

  it('sort findings by severity then count', () => {
    const facts = factsOf('x', [
      [0, 'SID=0x31 NRC=0x22'],
      [1, 'DTC P0301 status 0x08'],
      [2, 'DTC P0302 status 0x08'],
      [3, 'OTA campaign state: FAILED'],
    ]);
    expect(evaluateRules(defaultRules(), { facts, textCounts: {} }).map((f) => [f.rule, f.count])).toEqual([
      ['ota.campaign-failed', 1],
      ['dtc.confirmed', 2],
      ['ota.conditions-not-correct', 1],
    ]);
  });
});

describe('rules files', () => {
  it('name the field of a bad value', () => {
    const bad = 'rules:\n  - id: x\n    title: t\n    severity: fatal\n    match: { fact: dtc }\n    action: a\n';
    expect(() => parseRules(bad)).toThrow(RuleFileError);
    try {
      parseRules(bad);
    } catch (err) {
      expect((err as RuleFileError).field).toBe('rules[0].severity');
    }
  });

  it('refuse an invalid RE2 pattern and an unknown key', () => {
    expect(() => parseRules("rules:\n  - { id: x, title: t, severity: low, match: { text: '(a' }, action: a }\n")).toThrow(/rules\[0\]\.match\.text/);
    expect(() => parseRules('rules:\n  - { id: x, title: t, severity: low, match: { fact: dtc, colour: red }, action: a }\n')).toThrow(/rules\[0\]\.match/);
  });

  it('accept RE2 syntax and override shipped rules by id', () => {
    const user = parseRules("rules:\n  - { id: dtc.confirmed, title: Mine, severity: info, match: { fact: dtc, confirmed: true }, action: ignore }\n");
    const all = combineRules(defaultRules(), user);
    expect(all.length).toBe(defaultRules().length);
    expect(all.find((r) => r.id === 'dtc.confirmed')!.severity).toBe('info');
  });
});
