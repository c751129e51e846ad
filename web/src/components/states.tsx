import type { ReactNode } from 'react';
import type { ApiError } from '../api/client';
import { useAuth } from '../auth';
import { Spinner } from './ui';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <Spinner />
      <span>{label}</span>
    </div>
  );
}

export function Empty({ title = 'No data yet', children }: { title?: string; children?: ReactNode }) {
  return (
    <div className="state state-empty" data-state="empty">
      <div className="state-icon" aria-hidden>
        ∅
      </div>
      <div className="state-title">{title}</div>
      <div className="state-text">
        {children ?? (
          <>
            No data yet — is an agent shipping? Start one with <code>vigil agent</code> (or <code>vigil up</code> for the demo fleet).
          </>
        )}
      </div>
    </div>
  );
}

/** A failed request, explained: sign-in for 401, the role for 403, a missing module for an unknown route. */
export function ErrorState({ error, onRetry, what = 'this data' }: { error: ApiError; onRetry?: () => void; what?: string }) {
  const { openSignIn, who } = useAuth();
  let title: string;
  let text: ReactNode;
  let action: ReactNode = onRetry ? (
    <button type="button" className="btn" onClick={onRetry}>
      Retry
    </button>
  ) : null;
  if (error.status === 401) {
    title = 'Sign in required';
    text = `The server needs a token to show ${what}.`;
    action = (
      <button type="button" className="btn btn-primary" onClick={() => openSignIn()}>
        Sign in
      </button>
    );
  } else if (error.status === 403) {
    title = 'Not allowed';
    text = (
      <>
        Your token{who?.role ? ` (role ${who.role})` : ''} may not view {what}. {error.message}
      </>
    );
  } else if (error.routeMissing) {
    title = 'Not available on this server yet';
    text = (
      <>
        The server does not serve <code>{error.path}</code> yet, so {what} cannot be shown. Update Vigil or check back once the module ships.
      </>
    );
  } else if (error.status === 404) {
    title = 'Not found';
    text = error.message;
  } else if (error.status === 0) {
    title = 'Server unreachable';
    text = error.message;
  } else {
    title = `The server answered ${error.status}`;
    text = error.message;
  }
  return (
    <div className="state state-error" role="alert" data-state="error" data-status={error.status}>
      <div className="state-icon" aria-hidden>
        !
      </div>
      <div className="state-title">{title}</div>
      <div className="state-text">{text}</div>
      {action && <div className="state-action">{action}</div>}
    </div>
  );
}

/** Inline error line (for forms and refresh failures above existing data). */
export function InlineError({ children }: { children: ReactNode }) {
  return (
    <div className="inline-error" role="alert">
      {children}
    </div>
  );
}
