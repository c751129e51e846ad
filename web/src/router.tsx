/**
 * Routing through wouter, with the few rules the pages share: query parameters are the place for
 * shareable page state (cluster_id, time_range, filters), two of them follow the user from page to
 * page, and a navigation to another page starts at its top.
 */
import { useCallback, useMemo, type ReactNode } from 'react';
import { Router, useLocation, type AroundNavHandler, type BaseLocationHook } from 'wouter';
import { useBrowserLocation, useSearch as useRawSearch } from 'wouter/use-browser-location';

export { Link, Redirect, Route, Switch } from 'wouter';

/**
 * wouter matches routes against a decodeURI'd path, which turns "%25" into a bare "%" and leaves
 * "%2F" encoded: protect "%" once here, so decodeParam below sees each segment as the URL had it.
 */
const pathLocation: BaseLocationHook = () => {
  const [path, navigate] = useBrowserLocation();
  return [path.replace(/%25/gi, '%2525'), navigate];
};

/** No second history entry for the address already shown; a new page opens at its top. */
const aroundNav: AroundNavHandler = (navigate, to, options) => {
  if (to === window.location.pathname + window.location.search) return;
  navigate(to, options);
  if (!options?.replace) window.scrollTo(0, 0);
};

export function RouterProvider({ children }: { children: ReactNode }) {
  return (
    <Router hook={pathLocation} aroundNav={aroundNav}>
      {children}
    </Router>
  );
}

/** A route parameter as the user meant it; null when its escapes are malformed (no such page). */
export function decodeParam(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** The current path (as the address bar has it). */
export function usePath(): string {
  return useLocation()[0];
}

/** Go to `to` (path and query string); `replace` swaps the current history entry. */
export function useNavigate(): (to: string, opts?: { replace?: boolean }) => void {
  return useLocation()[1];
}

/** The current query parameters (read from the raw query string: wouter's own useSearch decodes it once too often). */
export function useUrlQuery(): URLSearchParams {
  const search = useRawSearch();
  return useMemo(() => new URLSearchParams(search), [search]);
}

/** Query parameters that follow the user from page to page. */
export const STICKY = ['cluster_id', 'time_range'] as const;

/** `path` plus the sticky query parameters of the current location, plus `query`. */
export function useHref(): (path: string, query?: Record<string, string | undefined>) => string {
  const current = useUrlQuery();
  return useCallback(
    (path: string, query?: Record<string, string | undefined>) => {
      const qs = new URLSearchParams();
      for (const k of STICKY) {
        const v = current.get(k);
        if (v) qs.set(k, v);
      }
      for (const [k, v] of Object.entries(query ?? {})) {
        if (v === undefined || v === '') qs.delete(k);
        else qs.set(k, v);
      }
      const s = qs.toString();
      return s ? `${path}?${s}` : path;
    },
    [current],
  );
}

/** One query parameter as state: reading it, and setting it in place (replaceState). */
export function useQueryParam(name: string, fallback: string): [string, (v: string | null) => void] {
  const value = useUrlQuery().get(name) ?? fallback;
  const navigate = useNavigate();
  const set = useCallback(
    (v: string | null) => {
      // From the live address, so two parameters set in one event both stick.
      const qs = new URLSearchParams(window.location.search);
      if (v === null || v === '') qs.delete(name);
      else qs.set(name, v);
      const s = qs.toString();
      navigate(`${window.location.pathname}${s ? `?${s}` : ''}`, { replace: true });
    },
    [name, navigate],
  );
  return [value, set];
}
