/**
 * The anomaly feed: every trace the rule flagged, kept in SQL (SQLite or PostgreSQL) for
 * GET /api/v1/anomalies and the web UI, deleted after the retention period by a leader job.
 * The table belongs to this module; nothing else reads it.
 */
import type { Kysely } from 'kysely';
import type { SqlStore } from '../platform/backends/sql/db.js';
import type { ModuleMigration } from '../platform/backends/sql/migrations.js';
import type { DayType, Bucket, BaselineStats } from './types.js';
import type { FallbackLevel } from './rule.js';

export const FEED_TABLE = 'anomaly_events';

/** One detected anomaly, as the API returns it (schemas.ts AnomalyEvent). */
export interface AnomalyEvent {
  /** traceId, or traceId:spanId for a span-level summary: the same trace is stored once. */
  id: string;
  traceId: string;
  spanId?: string;
  service: string;
  /** Normalised endpoint, as in baseline keys. */
  endpoint: string;
  /** Start of the trace, epoch ms. */
  startMs: number;
  durationMs: number;
  threshold: number;
  explanation: string;
  traceUrl?: string;
  /** When Vigil flagged it, epoch ms. */
  detectedAt: number;
  bucket: Bucket;
  fallbackLevel: FallbackLevel;
  /** The baseline the verdict used. */
  baseline?: Pick<BaselineStats, 'p50' | 'p95' | 'mad' | 'sampleCount'>;
  /** Where it came from: otlp, tempo, api. */
  source?: string;
}

interface Row {
  id: string;
  trace_id: string;
  span_id: string | null;
  service: string;
  endpoint: string;
  start_ms: number | bigint;
  duration_ms: number;
  threshold: number;
  explanation: string;
  trace_url: string | null;
  detected_at: number | bigint;
  hour: number;
  day_type: string;
  fallback_level: string;
  p50: number | null;
  p95: number | null;
  mad: number | null;
  sample_count: number | null;
  source: string | null;
}

export const feedMigrations: ModuleMigration[] = [
  {
    id: '001_anomaly_events',
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable(FEED_TABLE)
        .addColumn('id', 'varchar(80)', (c) => c.primaryKey())
        .addColumn('trace_id', 'varchar(32)', (c) => c.notNull())
        .addColumn('span_id', 'varchar(16)')
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('start_ms', 'bigint', (c) => c.notNull())
        .addColumn('duration_ms', 'double precision', (c) => c.notNull())
        .addColumn('threshold', 'double precision', (c) => c.notNull())
        .addColumn('explanation', 'text', (c) => c.notNull())
        .addColumn('trace_url', 'text')
        .addColumn('detected_at', 'bigint', (c) => c.notNull())
        .addColumn('hour', 'integer', (c) => c.notNull())
        .addColumn('day_type', 'varchar(16)', (c) => c.notNull())
        .addColumn('fallback_level', 'varchar(16)', (c) => c.notNull())
        .addColumn('p50', 'double precision')
        .addColumn('p95', 'double precision')
        .addColumn('mad', 'double precision')
        .addColumn('sample_count', 'integer')
        .addColumn('source', 'varchar(16)')
        .execute();
      await db.schema.createIndex('anomaly_events_detected_at').on(FEED_TABLE).column('detected_at').execute();
      await db.schema.createIndex('anomaly_events_series').on(FEED_TABLE).columns(['service', 'endpoint', 'detected_at']).execute();
    },
  },
];

export interface FeedQuery {
  service?: string;
  /** Already normalised. */
  endpoint?: string;
  /** Only events with detectedAt > since (epoch ms). */
  since?: number;
  /** Default 100. */
  limit?: number;
}

const toRow = (e: AnomalyEvent): Row => ({
  id: e.id,
  trace_id: e.traceId,
  span_id: e.spanId ?? null,
  service: e.service,
  endpoint: e.endpoint,
  start_ms: Math.round(e.startMs),
  duration_ms: e.durationMs,
  threshold: e.threshold,
  explanation: e.explanation,
  trace_url: e.traceUrl ?? null,
  detected_at: Math.round(e.detectedAt),
  hour: e.bucket.hour,
  day_type: e.bucket.dayType,
  fallback_level: e.fallbackLevel,
  p50: e.baseline?.p50 ?? null,
  p95: e.baseline?.p95 ?? null,
  mad: e.baseline?.mad ?? null,
  sample_count: e.baseline?.sampleCount ?? null,
  source: e.source ?? null,
});

function fromRow(r: Row): AnomalyEvent {
  const e: AnomalyEvent = {
    id: r.id,
    traceId: r.trace_id,
    service: r.service,
    endpoint: r.endpoint,
    startMs: Number(r.start_ms),
    durationMs: Number(r.duration_ms),
    threshold: Number(r.threshold),
    explanation: r.explanation,
    detectedAt: Number(r.detected_at),
    bucket: { hour: Number(r.hour), dayType: r.day_type as DayType },
    fallbackLevel: r.fallback_level as FallbackLevel,
  };
  if (r.span_id) e.spanId = r.span_id;
  if (r.trace_url) e.traceUrl = r.trace_url;
  if (r.p50 !== null && r.p95 !== null && r.mad !== null && r.sample_count !== null) {
    e.baseline = { p50: Number(r.p50), p95: Number(r.p95), mad: Number(r.mad), sampleCount: Number(r.sample_count) };
  }
  if (r.source) e.source = r.source;
  return e;
}

export class AnomalyFeed {
  constructor(private readonly sql: SqlStore) {}

  /** Store events; an id already stored is left as it is. Returns how many were new. */
  async insertMany(events: readonly AnomalyEvent[]): Promise<number> {
    let inserted = 0;
    for (let i = 0; i < events.length; i += 200) {
      const rows = events.slice(i, i + 200).map(toRow);
      const res = await this.sql.db
        .insertInto(FEED_TABLE)
        .values(rows)
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      inserted += Number(res?.numInsertedOrUpdatedRows ?? 0);
    }
    return inserted;
  }

  /** Newest first. */
  async list(q: FeedQuery = {}): Promise<AnomalyEvent[]> {
    let query = this.sql.db.selectFrom(FEED_TABLE).selectAll();
    if (q.service !== undefined) query = query.where('service', '=', q.service);
    if (q.endpoint !== undefined) query = query.where('endpoint', '=', q.endpoint);
    if (q.since !== undefined) query = query.where('detected_at', '>', Math.floor(q.since));
    const rows = (await query
      .orderBy('detected_at', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit ?? 100)
      .execute()) as Row[];
    return rows.map(fromRow);
  }

  /** Delete events detected before `beforeMs`; returns how many. */
  async purgeBefore(beforeMs: number): Promise<number> {
    const res = await this.sql.db.deleteFrom(FEED_TABLE).where('detected_at', '<', Math.floor(beforeMs)).executeTakeFirst();
    return Number(res?.numDeletedRows ?? 0);
  }
}
