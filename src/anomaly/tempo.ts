/**
 * Tempo search polling: GET {tempo}/api/search?start=&end=&limit=[&q=|&tags=] (unix seconds).
 *
 * The parsing, URL and window helpers are pure; TempoClient does the HTTP with an injectable fetch,
 * retrying network errors, 429 and 5xx with exponential backoff and jitter (honouring Retry-After).
 * A window that comes back with exactly `limit` traces was truncated by Tempo: the client warns and
 * searches both halves, recursively up to a depth bound.
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

/** The window a poll at nowMs looks at: the last lookbackMs, in whole seconds. */
export function pollWindow(nowMs: number, lookbackMs: number): SearchWindow {
  const end = Math.ceil(nowMs / 1000);
  return { start: end - Math.max(1, Math.ceil(lookbackMs / 1000)), end };
}

// ---------------------------------------------------------------- client

export interface TempoClientOptions {
  baseUrl: string;
  tenant?: string;
  auth?: TempoAuth;
  /** Traces per request (default 1000). */
  limit?: number;
  q?: string;
  tags?: string;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff (default 500 ms), doubled per retry, capped at maxBackoffMs (default 10 s), ±50 % jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** How many times a truncated window may be halved (default 6: 120 s → ~2 s). */
  maxSplitDepth?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onWarn?: (message: string) => void;
}

export interface SearchAllResult extends TempoSearchParse {
  requests: number;
  /** Windows that were still truncated at the split limit (some traces were missed there). */
  truncatedWindows: SearchWindow[];
  warnings: string[];
}

const RETRYABLE = (status: number) => status === 429 || status >= 500;

export class TempoClient {
  private readonly opts: Required<Omit<TempoClientOptions, 'tenant' | 'auth' | 'q' | 'tags' | 'onWarn'>> &
    Pick<TempoClientOptions, 'tenant' | 'auth' | 'q' | 'tags' | 'onWarn'>;
  private readonly headers: Record<string, string>;

  constructor(options: TempoClientOptions) {
    new URL(options.baseUrl); // throws on a malformed URL
    this.opts = {
      limit: 1000,
      retries: 3,
      backoffMs: 500,
      maxBackoffMs: 10_000,
      timeoutMs: 10_000,
      maxSplitDepth: 6,
      fetch: (...a) => globalThis.fetch(...a),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      random: Math.random,
      ...options,
    };
    this.headers = buildHeaders({ tenant: options.tenant, auth: options.auth });
  }

  private backoff(attempt: number, retryAfter: string | null): number {
    const ra = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) * 1000 : NaN;
    if (Number.isFinite(ra)) return Math.min(ra, this.opts.maxBackoffMs * 3);
    const base = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** attempt);
    return base * (0.5 + this.opts.random() / 2);
  }

  /** One search request (with retries) for one window. */
  async search(window: SearchWindow): Promise<TempoSearchParse & { requests: number }> {
    const url = buildSearchUrl(this.opts.baseUrl, window, { limit: this.opts.limit, q: this.opts.q, tags: this.opts.tags });
    let lastErr: unknown;
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      let retryAfter: string | null = null;
      try {
        const res = await this.opts.fetch(url, { headers: this.headers, signal: AbortSignal.timeout(this.opts.timeoutMs) });
        if (res.ok) {
          const text = await res.text();
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            throw new TempoResponseError(`Tempo search returned a non-JSON body: ${text.slice(0, 120)}`, res.status);
          }
          return { ...parseSearchResponse(json), requests: attempt + 1 };
        }
        const snippet = (await res.text().catch(() => '')).slice(0, 200);
        const err = new TempoResponseError(`Tempo search ${res.status} ${res.statusText}: ${snippet}`.trim(), res.status);
        if (!RETRYABLE(res.status)) throw err;
        retryAfter = res.headers.get('retry-after');
        lastErr = err;
      } catch (err) {
        if (err instanceof TempoResponseError) throw err;
        lastErr = err; // network error or timeout: retry
      }
      if (attempt < this.opts.retries) await this.opts.sleep(this.backoff(attempt, retryAfter));
    }
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }

  /** Search a window; truncated windows are split in halves (depth-bounded) and searched again. */
  async searchAll(window: SearchWindow): Promise<SearchAllResult> {
    const result: SearchAllResult = {
      summaries: [],
      traceCount: 0,
      rootNotYetReceived: 0,
      invalid: 0,
      requests: 0,
      truncatedWindows: [],
      warnings: [],
    };
    const byId = new Map<string, TraceSummary>();
    const warn = (m: string) => {
      result.warnings.push(m);
      this.opts.onWarn?.(m);
    };
    const visit = async (w: SearchWindow, depth: number): Promise<void> => {
      const r = await this.search(w);
      result.requests += r.requests;
      if (isTruncated(r, this.opts.limit)) {
        const halves = depth < this.opts.maxSplitDepth ? splitWindow(w) : null;
        if (halves) {
          warn(`Tempo returned exactly limit=${this.opts.limit} traces for ${w.start}–${w.end}; splitting the window`);
          await visit(halves[0], depth + 1);
          await visit(halves[1], depth + 1);
          return;
        }
        warn(
          `Tempo returned exactly limit=${this.opts.limit} traces for ${w.start}–${w.end} and the window cannot be split further; ` +
            `some traces were missed (raise the limit or narrow the query)`,
        );
        result.truncatedWindows.push(w);
      }
      result.traceCount += r.traceCount;
      result.rootNotYetReceived += r.rootNotYetReceived;
      result.invalid += r.invalid;
      for (const s of r.summaries) byId.set(s.traceId, s);
    };
    await visit(window, 0);
    result.summaries = [...byId.values()];
    return result;
  }

  /** The poller's step: search the last lookbackMs before nowMs. */
  poll(nowMs: number, lookbackMs: number): Promise<SearchAllResult> {
    return this.searchAll(pollWindow(nowMs, lookbackMs));
  }
}
