/**
 * The Tempo search client: HTTP with an injectable fetch, retrying network errors, 429 and 5xx with
 * exponential backoff and jitter (honouring Retry-After), a timeout per request. A window that comes
 * back with exactly `limit` traces was truncated by Tempo: the client warns and searches both
 * halves, recursively up to a depth bound.
 */
import {
  TempoResponseError,
  buildHeaders,
  buildSearchUrl,
  isTruncated,
  parseSearchResponse,
  splitWindow,
  type SearchWindow,
  type TempoAuth,
  type TempoSearchParse,
} from './tempo.js';
import type { TraceSummary } from './types.js';

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
}
