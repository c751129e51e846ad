/** HTTP scraping of one /metrics endpoint, with a timeout and a body size bound. */

export interface ScrapeResult {
  text: string;
  contentType: string | null;
  bytes: number;
}

export class ScrapeError extends Error {
  constructor(
    message: string,
    /** 'timeout' | 'http' | 'network' | 'too_large' */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'ScrapeError';
  }
}

const ACCEPT = 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1';

export async function scrape(
  url: string,
  opts: { timeoutMs: number; maxBytes?: number; fetch?: typeof fetch; signal?: AbortSignal; headers?: Record<string, string> },
): Promise<ScrapeResult> {
  const doFetch = opts.fetch ?? fetch;
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  const maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
  let res: Response;
  try {
    res = await doFetch(url, { headers: { accept: ACCEPT, 'accept-encoding': 'gzip', ...opts.headers }, signal });
  } catch (err) {
    throw asScrapeError(err, timeout, opts.timeoutMs);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new ScrapeError(`HTTP ${res.status} from ${url}`, 'http');
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new ScrapeError(`response of ${declared} bytes exceeds ${maxBytes}`, 'too_large');
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw asScrapeError(err, timeout, opts.timeoutMs);
  }
  if (text.length > maxBytes) throw new ScrapeError(`response exceeds ${maxBytes} bytes`, 'too_large');
  return { text, contentType: res.headers.get('content-type'), bytes: text.length };
}

function asScrapeError(err: unknown, timeout: AbortSignal, timeoutMs: number): ScrapeError {
  if (timeout.aborted) return new ScrapeError(`timed out after ${timeoutMs} ms`, 'timeout');
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const detail = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  return new ScrapeError(detail, 'network');
}
