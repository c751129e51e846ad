/**
 * Last cumulative values of every series of one target, for per-series deltas (pure).
 *
 * Counters live in typed arrays indexed by a slot per series key. A histogram series (its buckets,
 * `_sum` and `_count`) is one entry holding all its members, so a 26-bucket Linkerd histogram costs
 * one Map lookup per scrape instead of 28.
 */

interface Group {
  /** Member ids (the `le` text, or a tag for _sum / _count), in exposition order. */
  ids: string[];
  values: Float64Array;
  seen: number;
}

export class SeriesTable {
  private readonly index = new Map<string, number>();
  private values = new Float64Array(256);
  private seen = new Float64Array(256);
  private free: number[] = [];
  private next = 0;
  private readonly groups = new Map<string, Group>();
  private groupMembers = 0;

  /** Series (counters plus histogram members) remembered. */
  get size(): number {
    return this.index.size + this.groupMembers;
  }

  /**
   * Store `value` as the series' latest value, seen at `now`, and return the previous value, or
   * NaN when the series is new.
   */
  update(key: string, value: number, now: number): number {
    const slot = this.index.get(key);
    if (slot !== undefined) {
      const prev = this.values[slot];
      this.values[slot] = value;
      this.seen[slot] = now;
      return prev;
    }
    const s = this.free.length > 0 ? this.free.pop()! : this.grow();
    this.index.set(key, s);
    this.values[s] = value;
    this.seen[s] = now;
    return NaN;
  }

  /**
   * Store a histogram series' member values and write each member's previous value (NaN when new)
   * into `prevs`. Members are matched by id; the stored layout becomes the given one.
   */
  updateGroup(key: string, ids: readonly string[], values: ArrayLike<number>, n: number, now: number, prevs: Float64Array): void {
    const g = this.groups.get(key);
    if (g === undefined) {
      for (let i = 0; i < n; i++) prevs[i] = NaN;
      this.groups.set(key, { ids: ids.slice(0, n), values: Float64Array.from({ length: n }, (_, i) => values[i]), seen: now });
      this.groupMembers += n;
      return;
    }
    const gi = g.ids;
    const gv = g.values;
    let same = gi.length === n;
    for (let i = 0; i < n; i++) {
      if (i < gi.length && gi[i] === ids[i]) prevs[i] = gv[i];
      else {
        same = false;
        const j = gi.indexOf(ids[i]);
        prevs[i] = j < 0 ? NaN : gv[j];
      }
    }
    g.seen = now;
    if (same) {
      for (let i = 0; i < n; i++) gv[i] = values[i];
      return;
    }
    this.groupMembers += n - gi.length;
    g.ids = ids.slice(0, n);
    g.values = Float64Array.from({ length: n }, (_, i) => values[i]);
  }

  /** Forget series last seen before `cutoff`; returns how many were forgotten. */
  sweep(cutoff: number): number {
    let n = 0;
    for (const [key, slot] of this.index) {
      if (this.seen[slot] < cutoff) {
        this.index.delete(key);
        this.free.push(slot);
        n++;
      }
    }
    for (const [key, g] of this.groups) {
      if (g.seen < cutoff) {
        this.groups.delete(key);
        this.groupMembers -= g.ids.length;
        n += g.ids.length;
      }
    }
    return n;
  }

  clear(): void {
    this.index.clear();
    this.groups.clear();
    this.groupMembers = 0;
    this.free = [];
    this.next = 0;
    this.values = new Float64Array(256);
    this.seen = new Float64Array(256);
  }

  private grow(): number {
    const s = this.next++;
    if (s === this.values.length) {
      const v = new Float64Array(s * 2);
      v.set(this.values);
      this.values = v;
      const t = new Float64Array(s * 2);
      t.set(this.seen);
      this.seen = t;
    }
    return s;
  }
}

/**
 * Prometheus `increase` semantics for one sample: new series → `whenNew` (0 while a target is
 * being primed, else the whole value, since the series started at zero after the last scrape);
 * a value below the previous one → the counter restarted and the delta is the new value.
 * Never negative.
 */
export function counterDelta(prev: number, value: number, whenNew: boolean, restarted: boolean): number {
  if (prev !== prev) return whenNew ? value : 0;
  if (restarted || value < prev) return value;
  return value - prev;
}
