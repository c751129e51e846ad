import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useAuth } from '../auth';
import { Icon, Spinner } from './ui';

/** Keep Tab and Shift+Tab inside the dialog: from its last control to its first and back. */
function trapTab(e: KeyboardEvent, container: HTMLElement): void {
  const focusable = [...container.querySelectorAll<HTMLElement>('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(
    (el) => !el.hasAttribute('disabled') && el.tabIndex >= 0,
  );
  if (focusable.length === 0) return;
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  const active = document.activeElement;
  if (e.shiftKey && (active === first || !container.contains(active))) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (active === last || !container.contains(active))) {
    e.preventDefault();
    first.focus();
  }
}

export function SignInDialog() {
  const { dialog, closeSignIn, signIn } = useAuth();
  const [token, setTokenText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!dialog.open) return;
    setError(null);
    setTokenText('');
    // Focus goes back where it was (the Sign in button) when the dialog closes.
    const before = document.activeElement as HTMLElement | null;
    window.setTimeout(() => input.current?.focus(), 0);
    return () => before?.focus?.();
  }, [dialog.open]);

  useEffect(() => {
    if (!dialog.open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') closeSignIn();
      if (e.key === 'Tab' && box.current) trapTab(e, box.current);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [dialog.open, closeSignIn]);

  if (!dialog.open) return null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(token);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && closeSignIn()}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="signin-title" ref={box}>
        <form onSubmit={submit}>
          <div className="modal-head">
            <Icon name="key" size={18} />
            <h2 id="signin-title">Sign in to Vigil</h2>
          </div>
          {dialog.reason && <p className="modal-reason">{dialog.reason}</p>}
          <label className="field">
            <span>Bearer token</span>
            <input
              ref={input}
              type="password"
              name="token"
              autoComplete="off"
              spellCheck={false}
              placeholder="vgl_…"
              value={token}
              onChange={(e) => {
                setTokenText(e.target.value);
                setError(null);
              }}
            />
          </label>
          <p className="modal-hint">
            Create one with <code>vigil token create --role viewer</code>. The first admin token is printed when the server starts for the first time.
            The token is kept in this browser's local storage.
          </p>
          {error && (
            <div className="inline-error" role="alert">
              {error}
            </div>
          )}
          <div className="modal-actions">
            <button type="button" className="btn" onClick={closeSignIn}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy || !token.trim()}>
              {busy && <Spinner small />} Sign in
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
