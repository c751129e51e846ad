import { describe, expect, it } from 'vitest';
import { allFilesDone, assertCompletable, assertTransition, BatchStateError, canTransition, progressPercent } from './state.js';

describe('batch state machine', () => {
  it('walks the happy path in order and nowhere else', () => {
    const path = ['pending', 'uploaded', 'scattering', 'scattered', 'gathering', 'gathered', 'diagnosing', 'completed'] as const;
    for (let i = 0; i + 1 < path.length; i++) expect(canTransition(path[i]!, path[i + 1]!)).toBe(true);
    expect(canTransition('pending', 'scattering')).toBe(false);
    expect(canTransition('scattering', 'gathering')).toBe(false);
    expect(canTransition('completed', 'pending')).toBe(false);
  });

  it('fails from every working state, and retries from failed', () => {
    for (const s of ['uploaded', 'scattering', 'scattered', 'gathering', 'gathered', 'diagnosing'] as const) expect(canTransition(s, 'failed')).toBe(true);
    expect(canTransition('pending', 'failed')).toBe(false);
    expect(canTransition('completed', 'failed')).toBe(false);
    expect(canTransition('failed', 'uploaded')).toBe(true);
  });

  it('says why a move is refused', () => {
    expect(() => assertTransition('b1', 'pending', 'completed')).toThrow(new BatchStateError('b1', 'pending', 'completed'));
    expect(() => assertCompletable('b1', 'pending', 0)).toThrow(/no files/);
    expect(() => assertCompletable('b1', 'uploaded', 3)).toThrow(/already uploaded/);
    expect(() => assertCompletable('b1', 'pending', 1)).not.toThrow();
  });
});

describe('progress', () => {
  it('never divides by zero and reaches 100 only when completed', () => {
    expect(progressPercent('pending', { total: 0, processed: 0, failed: 0 })).toBe(0);
    expect(progressPercent('scattering', { total: 4, processed: 1, failed: 1 })).toBe(45);
    expect(progressPercent('diagnosing', { total: 4, processed: 3, failed: 1 })).toBe(97);
    expect(progressPercent('completed', { total: 4, processed: 3, failed: 1 })).toBe(100);
  });

  it('counts a duplicate outcome without overshooting', () => {
    expect(progressPercent('scattering', { total: 2, processed: 3, failed: 0 })).toBe(90);
  });

  it('opens the barrier when every file has an outcome, failed ones included', () => {
    expect(allFilesDone({ total: 3, processed: 2, failed: 0 })).toBe(false);
    expect(allFilesDone({ total: 3, processed: 2, failed: 1 })).toBe(true);
    expect(allFilesDone({ total: 3, processed: 4, failed: 0 })).toBe(true);
    expect(allFilesDone({ total: 0, processed: 0, failed: 0 })).toBe(false);
  });
});
