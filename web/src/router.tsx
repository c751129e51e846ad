/**
 * A tiny history-API router: the location is state, links push, query parameters are the place
 * for shareable page state (cluster_id, time_range, filters).
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from 'react';

export interface Location {
  path: string;
  query: URLSearchParams;
}

interface RouterValue {
  location: Location;
  navigate: (to: string, opts?: { replace?: boolean }) => void;
}

const RouterContext = createContext<RouterValue | null>(null);

function read(): Location {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

export function RouterProvider({ children }: { children: ReactNode }) {
  const [location, setLocation] = useState<Location>(read);

  useEffect(() => {
    const onPop = () => setLocation(read());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const navigate = useCallback((to: string, opts: { replace?: boolean } = {}) => {
    const current = window.location.pathname + window.location.search;
    if (to === current) return;
    if (opts.replace) window.history.replaceState(null, '', to);
    else window.history.pushState(null, '', to);
    setLocation(read());
    if (!opts.replace) window.scrollTo(0, 0);
  }, []);

  const value = useMemo(() => ({ location, navigate }), [location, navigate]);
  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>;
}

export function useRouter(): RouterValue {
  const r = useContext(RouterContext);
  if (!r) throw new Error('useRouter outside RouterProvider');
  return r;
}

/** Query parameters that follow the user from page to page. */
const STICKY = ['cluster_id', 'time_range'];

/** `path` plus the sticky query parameters of the current location, plus `query`. */
export function useHref(): (path: string, query?: Record<string, string | undefined>) => string {
  const { location } = useRouter();
  return useCallback(
    (path: string, query?: Record<string, string | undefined>) => {
      const qs = new URLSearchParams();
      for (const k of STICKY) {
        const v = location.query.get(k);
        if (v) qs.set(k, v);
      }
      for (const [k, v] of Object.entries(query ?? {})) {
        if (v === undefined || v === '') qs.delete(k);
        else qs.set(k, v);
      }
      const s = qs.toString();
      return s ? `${path}?${s}` : path;
    },
    [location.query],
  );
}

/** One query parameter as state: reading it, and setting it with replaceState. */
export function useQueryParam(name: string, fallback: string): [string, (v: string | null) => void] {
  const { location, navigate } = useRouter();
  const value = location.query.get(name) ?? fallback;
  const set = useCallback(
    (v: string | null) => {
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

export function Link({ to, children, ...rest }: { to: string; children: ReactNode } & Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'>) {
  const { navigate } = useRouter();
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || rest.target) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} {...rest} onClick={onClick}>
      {children}
    </a>
  );
}

/** Match `pattern` ("/slo/domains/:domain") against `path`; params are URI-decoded. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.replace(/\/+$/, '').split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) {
      try {
        params[p[i].slice(1)] = decodeURIComponent(s[i]);
      } catch {
        return null;
      }
    } else if (p[i] !== s[i]) return null;
  }
  return params;
}
