/**
 * Tempo search, the pure part: GET {tempo}/api/search?start=&end=&limit=[&q=|&tags=] (unix seconds)
 * URLs and headers, parsing of the response, truncation and window splitting. The HTTP client that
 * uses them is tempo-client.ts; the poller (poller.ts) plans which windows to search.
 */
import type { TraceSummary } from './types.js';

/** What Tempo reports as rootServiceName (and rootTraceName) while a trace's root span is missing. */
export const ROOT_SPAN_NOT_YET_RECEIVED = '<root span not yet received>';

export class TempoResponseError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TempoResponseError';
  }
}

export interface TempoSearchParse {
  summaries: TraceSummary[];
  /** Entries in traces[], skipped ones included (compare with the limit). */
  traceCount: number;
  /** Traces skipped because their root span had not been received yet. */
  rootNotYetReceived: number;
  /** Entries skipped for a missing or malformed traceID, service or start time. */
  invalid: number;
}

/** Tempo trace ids drop leading zeros; OTLP's have 32 digits. → 32 lower-case hex digits, or null. */
export function normalizeTraceId(id: unknown): string | null {
  if (typeof id !== 'string' || !/^[0-9a-fA-F]{1,32}$/.test(id) || /^0+$/.test(id)) return null;
  return id.toLowerCase().padStart(32, '0');
}

function nanosToMs(v: unknown): number | null {
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return Number(BigInt(v) / 1000n) / 1000;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v / 1e6;
  return null;
}

/**
 * Parse a /api/search response body (already JSON-parsed). Unknown fields are ignored; a missing
 * durationMs is 0 (proto3 JSON leaves zero values out); a missing rootTraceName is the empty name.
 */
export function parseSearchResponse(body: unknown): TempoSearchParse {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new TempoResponseError('Tempo search response is not a JSON object');
  }
  const traces = (body as Record<string, unknown>).traces;
  if (traces !== undefined && traces !== null && !Array.isArray(traces)) {
    throw new TempoResponseError('Tempo search response: "traces" is not an array');
  }
  const out: TempoSearchParse = { summaries: [], traceCount: 0, rootNotYetReceived: 0, invalid: 0 };
  for (const t of (traces ?? []) as unknown[]) {
    out.traceCount++;
    if (t === null || typeof t !== 'object') {
      out.invalid++;
      continue;
    }
    const r = t as Record<string, unknown>;
    if (r.rootServiceName === ROOT_SPAN_NOT_YET_RECEIVED || r.rootTraceName === ROOT_SPAN_NOT_YET_RECEIVED) {
      out.rootNotYetReceived++;
      continue;
    }
    const traceId = normalizeTraceId(r.traceID);
    const service = typeof r.rootServiceName === 'string' ? r.rootServiceName.trim() : '';
    const startMs = nanosToMs(r.startTimeUnixNano);
    const d = r.durationMs === undefined || r.durationMs === null ? 0 : typeof r.durationMs === 'string' ? Number(r.durationMs) : r.durationMs;
    if (!traceId || service === '' || startMs === null || typeof d !== 'number' || !Number.isFinite(d) || d < 0) {
      out.invalid++;
      continue;
    }
    out.summaries.push({
      traceId,
      service,
      endpoint: typeof r.rootTraceName === 'string' ? r.rootTraceName : '',
      startMs,
      durationMs: d,
    });
  }
  return out;
}

// ---------------------------------------------------------------- requests

/** A search window in unix seconds. */
export interface SearchWindow {
  start: number;
  end: number;
}

export interface SearchQuery {
  limit: number;
  /** TraceQL, e.g. `{ resource.service.name = "cart" }`. Takes precedence over tags. */
  q?: string;
  /** logfmt tags, e.g. `service.name=cart`. */
  tags?: string;
  minDuration?: string;
  maxDuration?: string;
  /** Spans per span set. */
  spss?: number;
}

export type TempoAuth = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

/** {base}/api/search?start=&end=&limit=[&q=|&tags=]… — a path prefix on base (e.g. a proxy) is kept. */
export function buildSearchUrl(baseUrl: string, window: SearchWindow, query: SearchQuery): string {
  const u = new URL(baseUrl);
  u.pathname = u.pathname.replace(/\/+$/, '') + '/api/search';
  const p = u.searchParams;
  p.set('start', String(Math.floor(window.start)));
  p.set('end', String(Math.ceil(window.end)));
  p.set('limit', String(query.limit));
  if (query.q) p.set('q', query.q);
  else if (query.tags) p.set('tags', query.tags);
  if (query.minDuration) p.set('minDuration', query.minDuration);
  if (query.maxDuration) p.set('maxDuration', query.maxDuration);
  if (query.spss !== undefined) p.set('spss', String(query.spss));
  return u.toString();
}

/** Accept, X-Scope-OrgID (tenant) and Authorization (basic or bearer) headers. */
export function buildHeaders(opts: { tenant?: string; auth?: TempoAuth } = {}): Record<string, string> {
  const h: Record<string, string> = { Accept: 'application/json' };
  if (opts.tenant) h['X-Scope-OrgID'] = opts.tenant;
  if (opts.auth?.type === 'basic') {
    h.Authorization = `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`;
  } else if (opts.auth?.type === 'bearer') {
    h.Authorization = `Bearer ${opts.auth.token}`;
  }
  return h;
}

/** Tempo returns at most `limit` traces; exactly `limit` means there may have been more. */
export function isTruncated(resp: Pick<TempoSearchParse, 'traceCount'>, limit: number): boolean {
  return resp.traceCount >= limit;
}

/** Two halves of a window, or null when it is too short (≤ 1 s) to split. */
export function splitWindow(w: SearchWindow): [SearchWindow, SearchWindow] | null {
  if (w.end - w.start <= 1) return null;
  const mid = Math.floor((w.start + w.end) / 2);
  return [
    { start: w.start, end: mid },
    { start: mid, end: w.end },
  ];
}
