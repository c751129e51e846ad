import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

export type ThemeName = 'light' | 'dark';
const KEY = 'vigil.theme';

/** Colours charts need (canvas cannot read CSS variables by itself). Mirrors styles.css. */
export interface Palette {
  name: ThemeName;
  text: string;
  muted: string;
  border: string;
  grid: string;
  panel: string;
  accent: string;
  healthy: string;
  warning: string;
  critical: string;
  unknown: string;
  series: string[];
}

const light: Palette = {
  name: 'light',
  text: '#1d2330',
  muted: '#6a7282',
  border: '#dfe3ea',
  grid: '#eceff4',
  panel: '#ffffff',
  accent: '#3b6cf6',
  healthy: '#1e9e5a',
  warning: '#d48806',
  critical: '#d93a3a',
  unknown: '#9aa3b2',
  series: ['#3b6cf6', '#12a594', '#e5734a', '#8e5bd9', '#d4a017', '#e0508c', '#4a9fd8', '#6d8a2e'],
};

const dark: Palette = {
  name: 'dark',
  text: '#e3e7ee',
  muted: '#8d96a7',
  border: '#2a303b',
  grid: '#222833',
  panel: '#161a21',
  accent: '#6b93ff',
  healthy: '#3cc47c',
  warning: '#f0aa3c',
  critical: '#f26464',
  unknown: '#6c7585',
  series: ['#6b93ff', '#2cc7b3', '#f2875f', '#a77ff0', '#e8c04a', '#f06fa5', '#62b4ec', '#94b84a'],
};

interface ThemeValue {
  theme: ThemeName;
  palette: Palette;
  toggle: () => void;
}

const ThemeContext = createContext<ThemeValue | null>(null);

function stored(): ThemeName | null {
  try {
    const t = localStorage.getItem(KEY);
    return t === 'light' || t === 'dark' ? t : null;
  } catch {
    return null;
  }
}

const systemTheme = (): ThemeName => (window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');

export function ThemeProvider({ children }: { children: ReactNode }) {
  const [theme, setTheme] = useState<ThemeName>(() => stored() ?? systemTheme());

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  // Follow the system while the user has not chosen.
  useEffect(() => {
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    if (!mq) return;
    const onChange = () => {
      if (!stored()) setTheme(mq.matches ? 'dark' : 'light');
    };
    mq.addEventListener('change', onChange);
    return () => mq.removeEventListener('change', onChange);
  }, []);

  const toggle = useCallback(() => {
    setTheme((t) => {
      const next = t === 'dark' ? 'light' : 'dark';
      try {
        localStorage.setItem(KEY, next);
      } catch {
        /* not remembered */
      }
      return next;
    });
  }, []);

  const value = useMemo(() => ({ theme, palette: theme === 'dark' ? dark : light, toggle }), [theme, toggle]);
  return <ThemeContext.Provider value={value}>{children}</ThemeContext.Provider>;
}

export function useTheme(): ThemeValue {
  const t = useContext(ThemeContext);
  if (!t) throw new Error('useTheme outside ThemeProvider');
  return t;
}
