import { useQueryClient, type Query } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, ApiError, getToken, onUnauthorized, setToken } from './api/client';
import { API } from './api/paths';
import type { WhoAmI } from '../../src/platform/schemas';

interface AuthValue {
  who: WhoAmI | null;
  /** whoami itself failed (server unreachable …). */
  whoError: ApiError | null;
  /** Increments on sign-in and sign-out: cached reads are refetched then (streams reconnect on it). */
  epoch: number;
  isAdmin: boolean;
  dialog: { open: boolean; reason?: string };
  openSignIn: (reason?: string) => void;
  closeSignIn: () => void;
  /** Verifies the token against the server; throws an Error with a readable message when rejected. */
  signIn: (token: string) => Promise<WhoAmI>;
  signOut: () => void;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [who, setWho] = useState<WhoAmI | null>(null);
  const [whoError, setWhoError] = useState<ApiError | null>(null);
  const [epoch, setEpoch] = useState(0);
  const [dialog, setDialog] = useState<{ open: boolean; reason?: string }>({ open: false });
  const whoRef = useRef<WhoAmI | null>(null);
  whoRef.current = who;
  /** The user closed the dialog: do not push it at them again on every polled 401 until auth changes. */
  const dismissed = useRef(false);

  const load = useCallback(async () => {
    try {
      const w = await api<WhoAmI>(API.whoami, { quiet401: true });
      setWho(w);
      setWhoError(null);
      if (!w.authenticated && !w.anonymousRead) {
        setDialog({ open: true, reason: 'This server needs a token to show anything.' });
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && getToken()) {
        // The saved token was revoked: forget it and ask again.
        setToken(null);
        setEpoch((e) => e + 1);
        setDialog({ open: true, reason: 'Your saved token was rejected (revoked or unknown). Sign in again.' });
        try {
          setWho(await api<WhoAmI>(API.whoami, { quiet401: true }));
          setWhoError(null);
        } catch (e2) {
          setWhoError(e2 instanceof ApiError ? e2 : null);
        }
        return;
      }
      setWhoError(err instanceof ApiError ? err : new ApiError(0, 'network', String(err), API.whoami));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  // Another token may see other data: every cached read is asked again. One that only ever failed
  // starts over (Loading, then its answer); one with data keeps showing it meanwhile.
  const queryClient = useQueryClient();
  const seenEpoch = useRef(epoch);
  useEffect(() => {
    if (seenEpoch.current === epoch) return;
    seenEpoch.current = epoch;
    const neverAnswered = new Set<Query>(queryClient.getQueryCache().findAll({ predicate: (q) => q.state.data === undefined && q.state.status === 'error' }));
    void queryClient.resetQueries({ predicate: (q) => neverAnswered.has(q) });
    void queryClient.invalidateQueries({ predicate: (q) => !neverAnswered.has(q) });
  }, [epoch, queryClient]);

  useEffect(
    () =>
      onUnauthorized((e) => {
        if (dismissed.current) return;
        const signedIn = whoRef.current?.authenticated;
        setDialog({
          open: true,
          reason: signedIn ? `The server rejected your token: ${e.message}` : 'This page needs a token. Sign in to continue.',
        });
      }),
    [],
  );

  const signIn = useCallback(async (token: string) => {
    const t = token.trim();
    if (!t) throw new Error('Paste a token first.');
    let w: WhoAmI;
    try {
      w = await api<WhoAmI>(API.whoami, { token: t, quiet401: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw new Error('The server does not know this token (or it was revoked).', { cause: err });
      throw err instanceof Error ? err : new Error(String(err));
    }
    if (!w.authenticated) throw new Error('The server did not accept this token.');
    setToken(t);
    dismissed.current = false;
    setWho(w);
    setWhoError(null);
    setEpoch((e) => e + 1);
    setDialog({ open: false });
    return w;
  }, []);

  const signOut = useCallback(() => {
    setToken(null);
    dismissed.current = false;
    setEpoch((e) => e + 1);
    void load();
  }, [load]);

  const value = useMemo<AuthValue>(
    () => ({
      who,
      whoError,
      epoch,
      isAdmin: who?.role === 'admin',
      dialog,
      openSignIn: (reason?: string) => setDialog({ open: true, reason }),
      closeSignIn: () => {
        dismissed.current = true;
        setDialog({ open: false });
      },
      signIn,
      signOut,
    }),
    [who, whoError, epoch, dialog, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
}
