import { describe, expect, it } from 'vitest';
import { LocalFaultSlots, RemoteFaultSlots, SlotLedger, type SlotRequest } from './fault-slots.js';

describe('SlotLedger', () => {
  it('caps faults in progress across policies and per policy, and gives a holder’s slots back when it goes', () => {
    const l = new SlotLedger(3);
    expect(l.tryAcquire(1, 'a', 2)).toBe(true);
    expect(l.tryAcquire(2, 'a', 2)).toBe(true);
    expect(l.tryAcquire(1, 'a', 2)).toBe(false); // the policy's cap
    expect(l.tryAcquire(2, 'b', undefined)).toBe(true);
    expect(l.tryAcquire(1, 'c', undefined)).toBe(false); // the executor's cap
    expect(l.active).toBe(3);
    l.release(1, 'a');
    expect(l.active).toBe(2);
    expect(l.tryAcquire(1, 'a', 2)).toBe(true);
    l.releaseAll(2); // holder 2 held one of 'a' and one of 'b'
    expect(l.active).toBe(1);
    expect(l.tryAcquire(3, 'a', 2)).toBe(true);
    expect(l.tryAcquire(3, 'a', 2)).toBe(false);
  });

  it('ignores a release of what a holder does not hold', () => {
    const l = new SlotLedger(undefined);
    l.tryAcquire(1, 'a', 1);
    l.release(2, 'a');
    l.release(1, 'b');
    expect(l.active).toBe(1);
    expect(l.tryAcquire(2, 'a', 1)).toBe(false);
  });
});

describe('LocalFaultSlots', () => {
  it('a slot released twice frees one place only', () => {
    const s = new LocalFaultSlots(1);
    const a = s.acquire('p', undefined)!;
    expect(s.acquire('p', undefined)).toBeNull();
    a.release();
    a.release();
    expect(s.active).toBe(0);
    expect(s.acquire('p', undefined)).not.toBeNull();
    expect(s.acquire('q', undefined)).toBeNull();
  });
});

describe('RemoteFaultSlots', () => {
  it('without any cap counts locally and sends nothing', () => {
    const sent: SlotRequest[] = [];
    const s = new RemoteFaultSlots(false, (m) => sent.push(m));
    const slot = s.acquire('p', undefined);
    expect(slot).not.toBeInstanceOf(Promise);
    expect(s.active).toBe(1);
    (slot as { release(): void }).release();
    expect(s.active).toBe(0);
    expect(sent).toEqual([]);
  });

  it('with a cap asks the primary, and gives the slot back to it', async () => {
    const sent: SlotRequest[] = [];
    const s = new RemoteFaultSlots(false, (m) => sent.push(m));
    const granted = s.acquire('p', 2);
    const refused = s.acquire('p', 2);
    expect(sent).toEqual([
      { type: 'slot-acquire', id: 1, policy: 'p', policyMax: 2 },
      { type: 'slot-acquire', id: 2, policy: 'p', policyMax: 2 },
    ]);
    s.answer({ type: 'slot', id: 2, granted: false });
    s.answer({ type: 'slot', id: 1, granted: true });
    const slot = await granted;
    expect(await refused).toBeNull();
    expect(s.active).toBe(1);
    slot!.release();
    expect(sent.at(-1)).toEqual({ type: 'slot-release', policy: 'p' });
    expect(s.active).toBe(0);
  });

  it('the executor-wide cap alone makes it ask, and a primary that cannot be asked means no fault', async () => {
    const s = new RemoteFaultSlots(true, (_m, onError) => onError());
    expect(await s.acquire('p', undefined)).toBeNull();
    expect(s.active).toBe(0);
  });
});
