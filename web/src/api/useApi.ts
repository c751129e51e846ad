/**
 * Reads through TanStack Query: one cache entry per endpoint and parameters, shared by every
 * component that asks, deduplicated while in flight. A poll never aborts the request in flight (a
 * slow server still completes); a page that goes away cancels what only it was waiting for.
 */
import { useQuery, type QueryClient, type QueryFilters } from '@tanstack/react-query';
import { useCallback, useRef } from 'react';
import { api, ApiError, type Query } from './client';

/** Cache key of a GET: the path and its non-empty query parameters. */
export type ApiKey = readonly ['api', string, Record<string, string | readonly string[]>];

export function apiKey(path: string, query?: Query): ApiKey {
  const params: Record<string, string | readonly string[]> = {};
  for (const [k, v] of Object.entries(query ?? {})) {
    if (Array.isArray(v)) {
      if (v.length > 0) params[k] = [...(v as readonly string[])];
    } else if (v !== undefined && v !== null && v !== '') params[k] = String(v);
  }
  return ['api', path, params];
}

/** Every cached read whose path starts with `prefix`: what a change makes stale. */
export function underPath(prefix: string): QueryFilters {
  return { predicate: (q) => q.queryKey[0] === 'api' && typeof q.queryKey[1] === 'string' && q.queryKey[1].startsWith(prefix) };
}

/** Mark the reads under each prefix stale; the ones on screen refetch now. */
export function invalidatePaths(client: QueryClient, ...prefixes: string[]): Promise<void> {
  return Promise.all(prefixes.map((p) => client.invalidateQueries(underPath(p)))).then(() => undefined);
}

/** The query function of every GET: the path and parameters come from the key. */
export function fetchApi<T>({ queryKey, signal }: { queryKey: readonly unknown[]; signal: AbortSignal }): Promise<T> {
  const [, path, query] = queryKey as ApiKey;
  return api<T>(path, { query, signal }).catch((err: unknown) => {
    if (err instanceof ApiError || (err as Error)?.name === 'AbortError') throw err;
    throw new ApiError(0, 'client', String(err), path);
  });
}

export interface ApiState<T> {
  data: T | undefined;
  error: ApiError | undefined;
  /** True until the first answer (data or error) for the current path arrives. */
  loading: boolean;
  /** True while any request (including a poll) is in flight. */
  refreshing: boolean;
  /** When the last successful answer arrived (epoch ms; 0 before the first). */
  updatedAt: number;
  reload: () => void;
}

export interface ApiOptions {
  /** Refetch every this many ms while the tab is visible. */
  pollMs?: number;
  /** An answer younger than this is served from the cache to a component that mounts (default 0: refetch). */
  freshMs?: number;
}

/**
 * GET `path` with `query`; refetches when either changes, on sign-in/out (see AuthProvider), on
 * reload(), and every `pollMs` when set. Keeps the last data while a refresh runs, and the last
 * error while a retry of a read that never answered runs (no flicker). `path` null = idle.
 */
export function useApi<T>(path: string | null, query?: Query, opts: ApiOptions = {}): ApiState<T> {
  const idle = path === null;
  const key = apiKey(path ?? '', query);
  const q = useQuery<T, ApiError, T, ApiKey>({
    queryKey: key,
    queryFn: fetchApi<T>,
    enabled: !idle,
    refetchInterval: opts.pollMs,
    staleTime: opts.freshMs,
  });
  // TanStack clears the error when a read without data is fetched again; the page keeps explaining
  // the failure until the new answer instead of flashing back to "Loading".
  const kept = useRef<{ hash: string; error: ApiError } | null>(null);
  const hash = JSON.stringify(key);
  if (q.error) kept.current = { hash, error: q.error };
  else if (q.data !== undefined || q.errorUpdatedAt === 0 || kept.current?.hash !== hash) kept.current = null;
  const error = idle ? undefined : (q.error ?? kept.current?.error ?? undefined);
  const refetch = q.refetch;
  // A reload joins a request already in flight rather than aborting it; an idle read stays idle.
  const reload = useCallback(() => {
    if (!idle) void refetch({ cancelRefetch: false });
  }, [idle, refetch]);
  return {
    data: idle ? undefined : q.data,
    error,
    loading: !idle && q.data === undefined && error === undefined,
    refreshing: q.isFetching,
    updatedAt: q.dataUpdatedAt,
    reload,
  };
}
