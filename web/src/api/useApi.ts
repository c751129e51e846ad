import { useCallback, useEffect, useRef, useState } from 'react';
import { useAuth } from '../auth';
import { api, ApiError, withQuery, type Query } from './client';

export interface ApiState<T> {
  data: T | undefined;
  error: ApiError | undefined;
  /** True until the first answer (data or error) for the current path arrives. */
  loading: boolean;
  /** True while any request (including a poll) is in flight. */
  refreshing: boolean;
  reload: () => void;
}

/**
 * GET `path` with `query`; refetches when either changes, on sign-in/out, on reload(), and every
 * `pollMs` when set. Keeps the last data while a refresh is running (no flicker). `path` null = idle.
 */
export function useApi<T>(path: string | null, query?: Query, opts: { pollMs?: number } = {}): ApiState<T> {
  const { epoch } = useAuth();
  const key = path === null ? null : withQuery(path, query);
  const [state, setState] = useState<{ key: string | null; data?: T; error?: ApiError; done: boolean }>({ key, done: false });
  const [refreshing, setRefreshing] = useState(false);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const keyRef = useRef(key);
  keyRef.current = key;

  useEffect(() => {
    if (key === null || path === null) return;
    const ctrl = new AbortController();
    setRefreshing(true);
    api<T>(path, { query, signal: ctrl.signal })
      .then((data) => {
        if (keyRef.current === key) setState({ key, data, done: true });
      })
      .catch((err: unknown) => {
        if ((err as Error)?.name === 'AbortError') return;
        const e = err instanceof ApiError ? err : new ApiError(0, 'client', String(err), path);
        // A failed poll keeps showing the data it had; the error is still reported.
        if (keyRef.current === key) setState((s) => ({ key, data: s.key === key ? s.data : undefined, error: e, done: true }));
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setRefreshing(false);
      });
    return () => ctrl.abort();
    // `query` is folded into `key`.
  }, [key, epoch, tick]);

  useEffect(() => {
    if (!opts.pollMs || key === null) return;
    const id = window.setInterval(() => {
      if (document.visibilityState !== 'hidden') setTick((t) => t + 1);
    }, opts.pollMs);
    return () => window.clearInterval(id);
  }, [opts.pollMs, key]);

  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: key !== null && (!current || !state.done),
    refreshing,
    reload,
  };
}
