import type { ErrorBody as ApiErrorBody } from '../../../src/platform/schemas';

const TOKEN_KEY = 'vigil.token';

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lives for this page only */
  }
}

/** A failed request: HTTP status (0 for network failures) and the server's error body when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path: string,
    readonly field?: string,
  ) {
    super(message);
  }

  /** The route does not exist on this server (a module not shipped yet), as opposed to an unknown entity. */
  get routeMissing(): boolean {
    return this.status === 404 && /^no route /.test(this.message);
  }
}

type Listener = (e: ApiError) => void;
const unauthorizedListeners = new Set<Listener>();

/** Called on every 401, so the shell can open the sign-in dialog. */
export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

/** Query parameters; an array is sent as the parameter repeated (`header=a&header=b`). */
export type Query = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (Array.isArray(v)) for (const item of v as readonly string[]) qs.append(k, item);
    else if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  }
  const s = qs.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Use this token instead of the stored one (sign-in verification). */
  token?: string | null;
  /** Do not broadcast a 401 (sign-in verification). */
  quiet401?: boolean;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const url = withQuery(path, opts.query);
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = opts.token !== undefined ? opts.token : getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Cannot reach the Vigil server. Is it running?', path);
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const body = (data ?? {}) as Partial<ApiErrorBody>;
    const e = new ApiError(
      res.status,
      body.error ?? `http_${res.status}`,
      body.message ?? (res.statusText || `HTTP ${res.status}`),
      path,
      body.field,
    );
    if (res.status === 401 && !opts.quiet401) for (const l of unauthorizedListeners) l(e);
    throw e;
  }
  if (data === undefined && text) throw new ApiError(res.status, 'bad_response', `${path} did not answer JSON`, path);
  return data as T;
}
