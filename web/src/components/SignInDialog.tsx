import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useAuth } from '../auth';
import { Icon, Spinner } from './ui';

export function SignInDialog() {
  const { dialog, closeSignIn, signIn } = useAuth();
  const [token, setTokenText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (dialog.open) {
      setError(null);
      setTokenText('');
      window.setTimeout(() => input.current?.focus(), 0);
    }
  }, [dialog.open]);

  useEffect(() => {
    if (!dialog.open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') closeSignIn();
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
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="signin-title">
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
