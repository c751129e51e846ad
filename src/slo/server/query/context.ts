/**
 * What every SLO answer is built with: the repository, the options, the clock, and the reads several
 * endpoints share (targets, current rates, the previous window, budget and burn counts).
 */
import { BURN_SPANS_MS, NO_MINIMUM, WINDOW_MS, addCounts, scaleGolden, type Counts, type SampleMinimum, type SloWindow } from '../../math/slo.js';
import { TargetIndex } from '../../math/targets.js';
import { DAY, HOUR, coveredSeconds, floorTo, trailingHours, summaryWindow, trailingMinutes, type TimeRange, type Window } from '../../math/time.js';
import { EntityMap, type LoadOpts } from '../entities.js';
import type { EntityKind } from '../tables.js';
import type { Filters, SloRepository, Unrolled } from '../repository.js';
import type { Db } from '../tx.js';
import { ClusterRequired, UnknownCluster } from '../errors.js';
import { CURRENT_RATE_MS, round, type QueryOptions } from './shared.js';

/** What readRange hands an answer: the time it is computed for and the cluster's data over its window. */
export interface RangeRead {
  now: number;
  w: Window;
  u: Unrolled;
  dataFrom: number | null;
  seconds: number;
}

export class ReadContext {
  readonly now: () => number;

  constructor(
    readonly repo: SloRepository,
    readonly opts: QueryOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  async targetIndex(db: Db, cluster: string): Promise<TargetIndex> {
    return new TargetIndex(await this.repo.targets(db, cluster), this.opts.defaults);
  }

  get minStatus(): SampleMinimum {
    return this.opts.minStatus ?? NO_MINIMUM;
  }

  /** The sample minimum as the answers state it (next to every status). */
  minimumOut() {
    return { requests: this.minStatus.requests, covered_seconds: this.minStatus.coveredSeconds };
  }

  /**
   * One read transaction over `range`'s summary window ending now, with what every answer that judges
   * statuses starts from: the unrolled snapshots, where the cluster's data starts and the covered seconds.
   */
  readRange<T>(cluster: string, range: TimeRange, body: (db: Db, at: RangeRead) => Promise<T>): Promise<T> {
    const now = this.now();
    const w = summaryWindow(range, now);
    return this.repo.read(async (db) => {
      const u = await this.repo.unrolled(db, cluster);
      const dataFrom = await this.repo.firstDataAt(db, cluster);
      return body(db, { now, w, u, dataFrom, seconds: coveredSeconds(w.from, now, dataFrom) });
    });
  }

  /** The fields every answer that judges statuses starts with (schemas.ts `answerHead` and `coverage`). */
  judgedHead(cluster: string, range: TimeRange, { now, w, dataFrom, seconds }: Pick<RangeRead, 'now' | 'w' | 'dataFrom' | 'seconds'>) {
    return {
      cluster_id: cluster,
      time_range: range,
      generated_at: now,
      window: { from: w.from, to: now },
      data_from: dataFrom,
      covered_seconds: round(seconds, 3) ?? 0,
      status_minimum: this.minimumOut(),
    };
  }

  /**
   * Requests per second over the last CURRENT_RATE_MS (raw rows, minute-aligned like the burn
   * windows), per entity key; `rate(key)` null when the span has no covered time yet.
   */
  async currentRates(db: Db, kind: EntityKind, cluster: string, filters: Filters, now: number, dataFrom: number | null) {
    const w = trailingMinutes(CURRENT_RATE_MS, now);
    const seconds = coveredSeconds(w.from, now, dataFrom);
    const counts = await this.repo.rawCountsSince(db, kind, cluster, [w.from], filters);
    return (key: string | null): number | null => {
      if (!(seconds > 0)) return null;
      if (key !== null) return (counts.get(key)?.counts[0].requests ?? 0) / seconds;
      let r = 0;
      for (const c of counts.values()) r += c.counts[0].requests;
      return r / seconds;
    };
  }

  /**
   * Entities over `pw` (previous window, hour-aligned start, end anywhere): whole hours from the
   * rollups, the trailing partial hour from raw rows while they are kept, else that hour pro rata.
   */
  async previousEntities(db: Db, kind: EntityKind, cluster: string, pw: Window, u: Unrolled, filters: Filters, opts: LoadOpts, now: number): Promise<EntityMap> {
    if (pw.grain === 'minute') return this.repo.windowEntities(db, kind, cluster, pw, u, filters, opts);
    const h = floorTo(pw.to, HOUR);
    const out = new EntityMap(kind);
    for (const e of (await this.repo.windowEntities(db, kind, cluster, { ...pw, to: h }, u, filters, opts)).values()) out.merge(e, opts);
    if (pw.to > h) {
      const rawKept = this.opts.rawRetentionMs === undefined || h >= now - this.opts.rawRetentionMs;
      if (rawKept) {
        for (const e of (await this.repo.windowEntities(db, kind, cluster, { from: h, to: pw.to, seconds: 0, grain: 'minute' }, u, filters, opts)).values()) out.merge(e, opts);
      } else {
        const f = (pw.to - h) / HOUR;
        for (const e of (await this.repo.windowEntities(db, kind, cluster, { from: h, to: h + HOUR, seconds: 0, grain: 'hour' }, u, filters, opts)).values()) {
          out.merge({ ...e, g: scaleGolden(e.g, f) }, opts);
        }
      }
    }
    return out;
  }

  /** Budget counts per needed window, per route key (domain SEP path). */
  async budgetCounts(db: Db, cluster: string, windows: Set<SloWindow>, u: Unrolled, filters: Filters, now: number) {
    const out = new Map<SloWindow, Map<string, Counts>>();
    for (const w of windows) {
      const counts = await this.repo.windowCounts(db, 'ingress', cluster, trailingHours(WINDOW_MS[w], now), u, filters);
      out.set(w, new Map([...counts].map(([k, v]) => [k, v.counts])));
    }
    return out;
  }

  /** Burn alerts need slo.minBurnRequests requests and the status' covered time (see burnRates). */
  get burnMinimum(): SampleMinimum {
    return { requests: this.opts.minBurnRequests, coveredSeconds: this.minStatus.coveredSeconds };
  }

  /** Counts per burn-rate span: exact raw minutes under a day, hour-aligned rollups from a day on. */
  async burnCounts(db: Db, cluster: string, u: Unrolled, filters: Filters, now: number): Promise<(span: number, key: string | null) => Counts> {
    const short = BURN_SPANS_MS.filter((x) => x < DAY);
    const long = BURN_SPANS_MS.filter((x) => x >= DAY);
    const raw = await this.repo.rawCountsSince(
      db,
      'ingress',
      cluster,
      short.map((x) => trailingMinutes(x, now).from),
      filters,
    );
    const rolled = new Map<number, Map<string, { counts: Counts }>>();
    for (const x of long) rolled.set(x, await this.repo.windowCounts(db, 'ingress', cluster, trailingHours(x, now), u, filters));
    return (span, key) => {
      const total: Counts = { requests: 0, failures: 0 };
      const add = (c: Counts) => addCounts(total, c);
      if (span < DAY) {
        const i = short.indexOf(span);
        if (key === null) for (const e of raw.values()) add(e.counts[i]);
        else if (raw.get(key)) add(raw.get(key)!.counts[i]);
      } else {
        const m = rolled.get(span)!;
        if (key === null) for (const e of m.values()) add(e.counts);
        else if (m.get(key)) add(m.get(key)!.counts);
      }
      return total;
    };
  }
}

/**
 * The cluster a read is about: the given one (UnknownCluster when it never shipped a snapshot, unless
 * `allowUnknown`), or — omitted — the only cluster there is; otherwise ClusterRequired.
 */
export async function resolveCluster(repo: SloRepository, given: string | undefined, allowUnknown = false): Promise<string> {
  const known = await repo.clusterIds();
  if (given !== undefined && given !== '') {
    if (!allowUnknown && !known.includes(given)) throw new UnknownCluster(given);
    return given;
  }
  if (known.length === 1) return known[0];
  throw new ClusterRequired(known);
}
