/** The common case as a form: abort or delay the requests of one service, for some percentage. */
import { useState, type FormEvent } from 'react';
import { stringify } from 'yaml';
import { ApiError } from '../../api/client';
import { faultPaths, type FaultPolicy } from './api';
import { useSendPolicy } from './useSendPolicy';

type Kind = 'abort' | 'delay';

/** The policy the form describes (validated by the server, which names any bad field). */
export function quickPolicy(f: { name: string; namespace: string; service: string; method: string; path: string; kind: Kind; status: string; delayMs: string; percentage: string; durationSeconds: string }): FaultPolicy {
  const num = (v: string) => (v.trim() === '' ? NaN : Number(v));
  const match: FaultPolicy['spec']['rules'][number]['match'] = {};
  if (f.method) match.method = { exact: f.method };
  if (f.path.trim()) match.path = { prefix: f.path.trim() };
  const fault: FaultPolicy['spec']['rules'][number]['fault'] = { percentage: num(f.percentage) };
  if (f.kind === 'abort') fault.abort = { httpStatus: num(f.status) };
  else fault.delay = { fixed_delay_ms: num(f.delayMs) };
  const spec: FaultPolicy['spec'] = { selector: { service: f.service.trim() || '*', namespace: f.namespace.trim() || '*' }, rules: [{ match, fault }] };
  if (f.durationSeconds.trim()) spec.duration_seconds = num(f.durationSeconds);
  return { metadata: { name: f.name.trim() }, spec };
}

export function QuickFaultForm({ onDone }: { onDone: (name: string) => void }) {
  const [f, setF] = useState({ name: '', namespace: 'demo', service: 'frontend', method: 'GET', path: '/', kind: 'abort' as Kind, status: '503', delayMs: '500', percentage: '100', durationSeconds: '' });
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const send = useSendPolicy();
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF((cur) => ({ ...cur, [k]: e.target.value }));

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setBusy(true);
    try {
      // NaN becomes null in JSON, so a blank number reaches the server and is named there.
      await send.mutateAsync({ method: 'POST', path: faultPaths.create, yaml: stringify(JSON.parse(JSON.stringify(quickPolicy(f)))) });
      setError(null);
      onDone(f.name.trim());
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err), faultPaths.create));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="quick-fault" onSubmit={(e) => void submit(e)} data-testid="quick-fault">
      <div className="quick-fault-grid">
        <label className="field">
          <span>Name</span>
          <input value={f.name} onChange={set('name')} placeholder="frontend-abort" required pattern="[A-Za-z0-9_-]{1,63}" />
        </label>
        <label className="field">
          <span>Namespace</span>
          <input value={f.namespace} onChange={set('namespace')} placeholder="* (any)" />
        </label>
        <label className="field">
          <span>Service</span>
          <input value={f.service} onChange={set('service')} placeholder="* (any)" />
        </label>
        <label className="field">
          <span>Method</span>
          <select value={f.method} onChange={set('method')}>
            <option value="">any</option>
            {['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Path prefix</span>
          <input value={f.path} onChange={set('path')} className="mono" placeholder="/ (every path)" />
        </label>
        <label className="field">
          <span>Fault</span>
          <select value={f.kind} onChange={set('kind')}>
            <option value="abort">abort</option>
            <option value="delay">delay</option>
          </select>
        </label>
        {f.kind === 'abort' ? (
          <label className="field">
            <span>Status</span>
            <input value={f.status} onChange={set('status')} inputMode="numeric" />
          </label>
        ) : (
          <label className="field">
            <span>Delay (ms)</span>
            <input value={f.delayMs} onChange={set('delayMs')} inputMode="numeric" />
          </label>
        )}
        <label className="field">
          <span>Percentage</span>
          <input value={f.percentage} onChange={set('percentage')} inputMode="decimal" />
        </label>
        <label className="field">
          <span>Expires after (s)</span>
          <input value={f.durationSeconds} onChange={set('durationSeconds')} inputMode="numeric" placeholder="never" />
        </label>
      </div>
      {error && (
        <div className="inline-error" role="alert">
          {error.field && <code>{error.field}</code>} {error.message}
        </div>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          Apply fault
        </button>
      </div>
    </form>
  );
}
