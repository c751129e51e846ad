/**
 * Shared shapes of the latency-anomaly capability. Pure types, no runtime code.
 * Times are UTC epoch milliseconds; bucketing into hours and day types uses the configured IANA zone.
 */

export type DayType = 'weekday' | 'weekend';

/** The time bucket of a baseline: local hour of day (0–23) and day type in the configured zone. */
export interface Bucket {
  hour: number;
  dayType: DayType;
}

/**
 * One observation to learn from: a trace (its root span) or, optionally, one SERVER span.
 * `endpoint` is normalised by the store before it becomes part of a key.
 */
export interface TraceSummary {
  /** 32 lower-case hex digits (Tempo's shortened ids are left-padded with zeros). */
  traceId: string;
  /** Set for span-level summaries (SERVER spans); de-duplication then uses traceId:spanId. */
  spanId?: string;
  service: string;
  endpoint: string;
  startMs: number;
  durationMs: number;
}

/** Learned statistics of one bucket (or of an aggregate), as stored in the base:{key} hash. */
export interface BaselineStats {
  p50: number;
  p95: number;
  mad: number;
  sampleCount: number;
  /** Epoch ms of the recomputation that produced these numbers. */
  updatedAt: number;
}
