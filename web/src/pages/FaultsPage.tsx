import { useEffect, useMemo, useState } from 'react';
import { stringify } from 'yaml';
import { ApiError } from '../api/client';
import { useApi } from '../api/useApi';
import { useAuth } from '../auth';
import { faultPaths, type ExecutorView, type FaultPolicy, type FaultSummary, type PoliciesReply, type PolicyStatusReply } from '../components/faults/api';
import { NEW_POLICY_YAML, PolicyEditor } from '../components/faults/PolicyEditor';
import { QuickFaultForm } from '../components/faults/QuickFaultForm';
import { useSendPolicy } from '../components/faults/useSendPolicy';
import { countdown, percentWords, ruleWords, selectorWords, targetService } from '../components/faults/words';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { Icon, PageHeader, Panel, StatusBadge } from '../components/ui';
import { fmtAgo, fmtCount } from '../format';
import { servicePath } from '../links';
import { Link, useHref } from '../router';

/** Injected counts and executor versions move every few seconds; policies rarely. */
const SUMMARY_POLL_MS = 3000;
const POLICIES_POLL_MS = 10_000;

/** The text a policy is edited as: what the user wrote, without the server's metadata. */
const policyYaml = (p: FaultPolicy) => stringify({ metadata: { name: p.metadata.name }, spec: p.spec });

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(id);
  }, [everyMs]);
  return now;
}

function ConfirmDelete({ name, onClose, onDeleted }: { name: string; onClose: () => void; onDeleted: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const send = useSendPolicy();
  const remove = async () => {
    setBusy(true);
    try {
      await send.mutateAsync({ method: 'DELETE', path: faultPaths.one(name) });
      onDeleted();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !busy && onClose()}>
      <div className="modal" role="alertdialog" aria-modal="true" aria-labelledby="delete-policy-title" data-testid="confirm-delete">
        <div className="modal-head">
          <h2 id="delete-policy-title">Delete policy {name}?</h2>
        </div>
        <p className="modal-reason">Executors stop injecting its faults within a second. Its history stays on the SLO charts.</p>
        {error && (
          <div className="inline-error" role="alert">
            {error}
          </div>
        )}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose} disabled={busy} autoFocus>
            Cancel
          </button>
          <button type="button" className="btn btn-danger" onClick={() => void remove()} disabled={busy} data-testid="confirm-delete-button">
            Delete
          </button>
        </div>
      </div>
    </div>
  );
}

function ExecutorsTable({ executors, version }: { executors: ExecutorView[]; version: number }) {
  const href = useHref();
  if (!executors.length) {
    return (
      <Empty title="No executor connected">
        Run <code>vigil executor --upstream … --service … --namespace … --server … --token …</code> in front of a service; it appears here after its first report.
      </Empty>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table compact" data-testid="executors-table">
        <thead>
          <tr>
            <th>Executor</th>
            <th>Service</th>
            <th>Enforces</th>
            <th>Last report</th>
            <th className="num">Injected</th>
          </tr>
        </thead>
        <tbody>
          {executors.map((e) => {
            const injected = Object.values(e.injected).reduce((s, byType) => s + Object.values(byType).reduce((a, n) => a + n, 0), 0);
            return (
              <tr key={e.executor_id} data-executor={e.executor_id}>
                <td className="mono">{e.executor_id}</td>
                <td>
                  <Link to={href(servicePath(`${e.namespace}/${e.service}`))}>
                    {e.namespace}/{e.service}
                  </Link>
                </td>
                <td>
                  <span className="mono">v{e.policy_version || '—'}</span>{' '}
                  {!e.connected ? <StatusBadge status="unknown" label="disconnected" /> : e.in_sync ? <StatusBadge status="healthy" label="current" /> : <StatusBadge status="warning" label={`behind v${version}`} />}
                </td>
                <td className="nowrap">{fmtAgo(e.last_seen)}</td>
                <td className="num">{fmtCount(injected)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export default function FaultsPage() {
  const { isAdmin, openSignIn } = useAuth();
  const href = useHref();
  const now = useNow(1000);
  const policies = useApi<PoliciesReply>(faultPaths.policies, undefined, { pollMs: POLICIES_POLL_MS });
  const status = useApi<PolicyStatusReply>(faultPaths.status, undefined, { pollMs: POLICIES_POLL_MS });
  const summary = useApi<FaultSummary>(faultPaths.summary, undefined, { pollMs: SUMMARY_POLL_MS });
  const [editor, setEditor] = useState<{ name: string | null; text: string } | null>(null);
  const [quick, setQuick] = useState(false);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const expiries = useMemo(() => new Map((status.data?.policies ?? []).map((l) => [l.name, l.expires_at])), [status.data]);
  const counts = useMemo(() => new Map((summary.data?.policies ?? []).map((c) => [c.name, c])), [summary.data]);
  const executorsOf = (p: FaultPolicy) =>
    (summary.data?.executors ?? []).filter((e) => {
      const s = p.spec.selector;
      const hit = (want: string | undefined, have: string) => want === undefined || want === '' || want === '*' || want === have;
      return e.connected && hit(s?.service, e.service) && hit(s?.namespace, e.namespace);
    });

  // The change itself made the tables stale (useSendPolicy); here it is only reported.
  const changed = (what: string) => setNotice(what);

  const list = policies.data?.policies ?? [];
  const actions = isAdmin ? (
    <>
      <button type="button" className="btn" onClick={() => setQuick((q) => !q)} aria-expanded={quick}>
        <Icon name="bolt" size={14} /> Quick fault
      </button>
      <button type="button" className="btn btn-primary" onClick={() => setEditor({ name: null, text: NEW_POLICY_YAML })} data-testid="new-policy">
        New policy (YAML)
      </button>
    </>
  ) : (
    <button type="button" className="btn" onClick={() => openSignIn('Fault policies need an admin token.')}>
      <Icon name="key" size={14} /> Sign in as admin to change policies
    </button>
  );

  return (
    <div className="page" data-page="faults">
      <PageHeader
        title="Faults"
        subtitle="Abort and delay policies the executors apply in front of your services (HFI-compatible), the version each executor enforces, and what they injected."
        actions={<div className="fault-actions">{actions}</div>}
      />
      {notice && (
        <div className="notice" role="status" data-testid="faults-notice">
          {notice}{' '}
          <button type="button" className="link-btn small" onClick={() => setNotice(null)}>
            dismiss
          </button>
        </div>
      )}
      {quick && isAdmin && (
        <Panel title="Quick fault">
          <QuickFaultForm
            onDone={(name) => {
              setQuick(false);
              changed(`faultinjectionpolicy.hfi.dev "${name}" applied`);
            }}
          />
        </Panel>
      )}
      {editor && isAdmin && (
        <Panel title={editor.name ? `Edit ${editor.name}` : 'New policy'}>
          <PolicyEditor
            initial={editor.text}
            editing={editor.name}
            onCancel={() => setEditor(null)}
            onDone={(name, warnings) => {
              setEditor(null);
              changed(`faultinjectionpolicy.hfi.dev "${name}" applied${warnings.length ? ` — ${warnings.join('; ')}` : ''}`);
            }}
          />
        </Panel>
      )}
      <Panel title={`Policies${policies.data ? ` · ${list.length}` : ''}${summary.data ? ` · version ${summary.data.version}` : ''}`} pad={false}>
        {policies.loading && !policies.data ? (
          <Loading label="Loading policies…" />
        ) : policies.error && !policies.data ? (
          <ErrorState error={policies.error} onRetry={policies.reload} what="fault policies" />
        ) : !list.length ? (
          <Empty title="No fault policy">
            Nothing is being injected. {isAdmin ? 'Create one with the buttons above, or' : 'An admin can create one here or with'} <code>vigil fault apply -f policy.yaml</code>.
          </Empty>
        ) : (
          <div className="table-wrap">
            {policies.error && <InlineError>Refresh failed: {policies.error.message}. Showing the last answer.</InlineError>}
            <table className="table fault-policies" data-testid="policies-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Selector</th>
                  <th>Rules</th>
                  <th className="num">%</th>
                  <th>Expires</th>
                  <th className="num">Version</th>
                  <th className="num">Injected</th>
                  <th>Executors</th>
                  {isAdmin && <th />}
                </tr>
              </thead>
              <tbody>
                {list.map((p) => {
                  const target = targetService(p);
                  const c = counts.get(p.metadata.name);
                  const execs = executorsOf(p);
                  return (
                    <tr key={p.metadata.name} data-policy={p.metadata.name}>
                      <td className="mono">{p.metadata.name}</td>
                      <td>
                        {target ? (
                          <Link to={href(servicePath(`${target.namespace}/${target.name}`))} title="SLO page of the service this policy targets">
                            {selectorWords(p)}
                          </Link>
                        ) : (
                          <span title="a wildcard selector: every matching service">{selectorWords(p)}</span>
                        )}
                      </td>
                      <td>
                        <ul className="fault-rules">
                          {p.spec.rules.map((r, i) => (
                            <li key={i}>{ruleWords(r)}</li>
                          ))}
                        </ul>
                      </td>
                      <td className="num">{percentWords(p)}</td>
                      <td className="nowrap" data-testid="expiry">
                        {countdown(expiries.get(p.metadata.name), now)}
                      </td>
                      <td className="num mono">{p.metadata.version ?? '—'}</td>
                      <td className="num" data-testid="injected" title={c ? Object.entries(c.injected).map(([t, n]) => `${t} ${n}`).join(', ') : undefined}>
                        {fmtCount(c?.total ?? 0)}
                      </td>
                      <td data-testid="policy-executors">
                        {execs.length ? execs.map((e) => (
                          <div key={e.executor_id} className="nowrap small">
                            <span className="mono">{e.executor_id}</span> <span className={e.in_sync ? 'muted' : 'text-warning'}>v{e.policy_version}</span>
                          </div>
                        )) : <span className="muted small">none connected</span>}
                      </td>
                      {isAdmin && (
                        <td className="nowrap fault-row-actions">
                          <button type="button" className="btn btn-sm" onClick={() => setEditor({ name: p.metadata.name, text: policyYaml(p) })} aria-label={`Edit ${p.metadata.name}`}>
                            Edit
                          </button>{' '}
                          <button type="button" className="btn btn-sm btn-danger" onClick={() => setConfirm(p.metadata.name)} aria-label={`Delete ${p.metadata.name}`}>
                            Delete
                          </button>
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      <Panel title={`Executors${summary.data ? ` · ${summary.data.executors.filter((e) => e.connected).length} connected` : ''}`} pad={false}>
        {summary.loading && !summary.data ? (
          <Loading label="Loading executors…" />
        ) : summary.error && !summary.data ? (
          <ErrorState error={summary.error} onRetry={summary.reload} what="executors" />
        ) : summary.data ? (
          <ExecutorsTable executors={summary.data.executors} version={summary.data.version} />
        ) : null}
      </Panel>
      {confirm && (
        <ConfirmDelete
          name={confirm}
          onClose={() => setConfirm(null)}
          onDeleted={() => {
            setConfirm(null);
            changed(`faultinjectionpolicy.hfi.dev "${confirm}" deleted`);
          }}
        />
      )}
    </div>
  );
}
