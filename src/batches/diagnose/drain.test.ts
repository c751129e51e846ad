import { describe, expect, it } from 'vitest';
import { DrainMiner, maskMessage, mergeTemplateCounts } from './drain.js';

describe('maskMessage', () => {
  it('replaces numbers, hex, addresses, byte strings and uuids by typed placeholders', () => {
    expect(maskMessage('retry 3 of 5 after 250ms')).toBe('retry <NUM> of <NUM> after <NUM>');
    expect(maskMessage('NRC 0x72 from 10.0.0.12:13400')).toBe('NRC <HEX> from <IP>');
    expect(maskMessage('rx 7F 36 73 00 11')).toBe('rx <BYTES>');
    expect(maskMessage('campaign 1b4e28ba-2fa1-11d2-883f-0016d3cca427 started')).toBe('campaign <UUID> started');
    // digits inside identifiers are kept: ECU names and DTC codes are not numbers
    expect(maskMessage('ECU1 reports P0301')).toBe('ECU1 reports P0301');
  });
});

describe('DrainMiner', () => {
  it('groups messages that differ in variable tokens into one template with a wildcard', () => {
    const m = new DrainMiner();
    m.add('user alice logged in');
    m.add('user bob logged in');
    m.add('user carol logged in');
    m.add('connected to 10.0.0.1');
    m.add('connected to 10.0.0.2');
    const t = m.templates();
    expect(t).toEqual([
      { template: 'user <*> logged in', count: 3, examples: ['user alice logged in', 'user bob logged in', 'user carol logged in'] },
      { template: 'connected to <IP>', count: 2, examples: ['connected to 10.0.0.1', 'connected to 10.0.0.2'] },
    ]);
  });

  it('keeps messages of different lengths and different leading words apart', () => {
    const m = new DrainMiner();
    m.add('flash block 1 written');
    m.add('flash block 2 written ok');
    m.add('erase block 3 written');
    expect(m.clusterCount).toBe(3);
  });

  it('does not merge dissimilar messages of equal length below the threshold', () => {
    const m = new DrainMiner({ similarity: 0.5 });
    m.add('download request accepted by ECU');
    m.add('download failure reported by gateway');
    // same first token routes both into one leaf, but only 2 of 5 tokens agree
    expect(m.clusterCount).toBe(2);
  });

  it('caps examples and counts every message', () => {
    const m = new DrainMiner({ maxExamples: 2 });
    for (let i = 0; i < 10; i++) m.add(`heartbeat ${i}`);
    expect(m.templates()).toEqual([{ template: 'heartbeat <NUM>', count: 10, examples: ['heartbeat 0', 'heartbeat 1'] }]);
  });

  it('merges partial template counts from several files', () => {
    const merged = mergeTemplateCounts([
      [{ template: 'a <NUM>', count: 2, examples: ['a 1'] }, { template: 'b', count: 5, examples: ['b'] }],
      [{ template: 'a <NUM>', count: 4, examples: ['a 2'] }],
    ]);
    expect(merged).toEqual([
      { template: 'a <NUM>', count: 6, examples: ['a 1', 'a 2'] },
      { template: 'b', count: 5, examples: ['b'] },
    ]);
  });
});
