/**
 * Who may start a fault now: the executor's `--max-active-faults` and each policy's
 * `max_active_faults` (Envoy's max_active_faults: faults in progress at once; beyond it requests
 * pass untouched and the overflow counter moves). The caps hold for the whole executor: with
 * `--workers N` the primary keeps the one ledger and workers ask it for a slot (only when a cap is
 * set: without one no fault waits for a message).
 */

/** A fault in progress; released exactly once when it ends. */
export interface FaultSlot {
  release(): void;
}

export interface FaultSlots {
  /**
   * A slot for a fault of `policy` (whose own cap is `policyMax`), or null when a cap is reached.
   * May answer later: a worker asks its primary.
   */
  acquire(policy: string, policyMax: number | undefined): FaultSlot | null | Promise<FaultSlot | null>;
  /** Faults this process has in progress. */
  readonly active: number;
}

/**
 * The counts the caps are checked against, by holder (a worker, or this process alone): a holder
 * that goes away gives back everything it held.
 */
export class SlotLedger {
  private total = 0;
  private readonly byPolicy = new Map<string, number>();
  private readonly byHolder = new Map<number, Map<string, number>>();

  constructor(private readonly max: number | undefined) {}

  get active(): number {
    return this.total;
  }

  tryAcquire(holder: number, policy: string, policyMax: number | undefined): boolean {
    if (this.max !== undefined && this.total >= this.max) return false;
    const ofPolicy = this.byPolicy.get(policy) ?? 0;
    if (policyMax !== undefined && ofPolicy >= policyMax) return false;
    this.total++;
    this.byPolicy.set(policy, ofPolicy + 1);
    let held = this.byHolder.get(holder);
    if (!held) this.byHolder.set(holder, (held = new Map()));
    held.set(policy, (held.get(policy) ?? 0) + 1);
    return true;
  }

  release(holder: number, policy: string, n = 1): void {
    const held = this.byHolder.get(holder);
    const mine = held?.get(policy) ?? 0;
    const k = Math.min(n, mine);
    if (k === 0) return;
    if (mine === k) held!.delete(policy);
    else held!.set(policy, mine - k);
    if (held!.size === 0) this.byHolder.delete(holder);
    this.total -= k;
    const left = (this.byPolicy.get(policy) ?? 0) - k;
    if (left > 0) this.byPolicy.set(policy, left);
    else this.byPolicy.delete(policy);
  }

  /** Everything `holder` held (a worker that died). */
  releaseAll(holder: number): void {
    const held = this.byHolder.get(holder);
    if (!held) return;
    for (const [policy, n] of [...held]) this.release(holder, policy, n);
  }
}

/** One process, one ledger: the in-process executor and the caps' unit tests. */
export class LocalFaultSlots implements FaultSlots {
  private readonly ledger: SlotLedger;

  constructor(max: number | undefined) {
    this.ledger = new SlotLedger(max);
  }

  get active(): number {
    return this.ledger.active;
  }

  acquire(policy: string, policyMax: number | undefined): FaultSlot | null {
    if (!this.ledger.tryAcquire(0, policy, policyMax)) return null;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.ledger.release(0, policy);
      },
    };
  }
}

/** Worker → primary and back, for RemoteFaultSlots. */
export type SlotRequest = { type: 'slot-acquire'; id: number; policy: string; policyMax?: number } | { type: 'slot-release'; policy: string };
export type SlotAnswer = { type: 'slot'; id: number; granted: boolean };

/**
 * A `--workers` child's slots: with a cap in play it asks the primary's ledger; without one it only
 * counts (no message, no wait). If the primary cannot be asked the fault is not injected (fail open).
 */
export class RemoteFaultSlots implements FaultSlots {
  private local = 0;
  private nextId = 0;
  private readonly pending = new Map<number, (granted: boolean) => void>();

  constructor(
    private readonly globalCap: boolean,
    private readonly send: (m: SlotRequest, onError: () => void) => void,
  ) {}

  get active(): number {
    return this.local;
  }

  acquire(policy: string, policyMax: number | undefined): FaultSlot | null | Promise<FaultSlot | null> {
    if (!this.globalCap && policyMax === undefined) return this.hold(policy, false);
    const id = ++this.nextId;
    return new Promise<FaultSlot | null>((resolve) => {
      this.pending.set(id, (granted) => resolve(granted ? this.hold(policy, true) : null));
      this.send({ type: 'slot-acquire', id, policy, ...(policyMax !== undefined ? { policyMax } : {}) }, () => this.answer({ type: 'slot', id, granted: false }));
    });
  }

  /** The primary's answer to an acquire. */
  answer(m: SlotAnswer): void {
    const done = this.pending.get(m.id);
    this.pending.delete(m.id);
    done?.(m.granted);
  }

  private hold(policy: string, remote: boolean): FaultSlot {
    this.local++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.local--;
        if (remote) this.send({ type: 'slot-release', policy }, () => {});
      },
    };
  }
}
