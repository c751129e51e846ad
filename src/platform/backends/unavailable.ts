/**
 * A backend (SQL store, KV, bus) cannot be reached right now: the operation may succeed if retried
 * later. The HTTP layer answers 503 with Retry-After; nothing was acknowledged.
 */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: string,
    cause: unknown,
  ) {
    super(`${backend} unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'BackendUnavailableError';
  }
}

// Socket-level failures (node), and what pg / ioredis say when a connection is gone or refused.
const NET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EAI_AGAIN']);
const CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /is not queryable/,
  /^Connection is closed\.?$/,
  /^Stream isn't writeable/,
  /^Reached the max retries per request limit/,
  /^Command timed out/,
  /^connect ECONNREFUSED/,
];

/**
 * Whether an error means "the engine is unreachable" rather than "this request is wrong":
 * PostgreSQL SQLSTATE class 08 (connection exception) and 57P01–57P03 (shutdown, cannot connect
 * now), 53300 (too many connections), SQLite BUSY (another writer held the file past busy_timeout),
 * socket errors and the drivers' own connection messages.
 */
export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  if (err instanceof BackendUnavailableError) return true;
  const e = err as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (NET_CODES.has(code)) return true;
  if (/^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT') return true;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return CONNECTION_MESSAGES.some((re) => re.test(msg));
}

/** Rethrow a connection-class error as BackendUnavailableError; anything else unchanged. */
export function asUnavailable(backend: string, err: unknown): unknown {
  return isConnectionError(err) && !(err instanceof BackendUnavailableError) ? new BackendUnavailableError(backend, err) : err;
}
