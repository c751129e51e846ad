/**
 * "Which route serves this URL?" on the domain page: asks GET /api/v2/slo/routes/match for a path of
 * the domain (host prefilled) and shows the route Traefik picks, and why — each router it tries
 * first with the matcher that failed, and those the chosen one shadows or ties with.
 */
import { useState, type FormEvent } from 'react';
import type { RouteMatchResponse, RouterOut } from '../../../src/slo/server/route-match-schemas';
import { API } from '../api/paths';
import { useApi } from '../api/useApi';
import { InlineError } from './states';
import { Panel, Spinner, StatusBadge } from './ui';

const VERDICT: Record<RouterOut['verdict'], { label: string; status: string }> = {
  serves: { label: 'Serves', status: 'healthy' },
  tied: { label: 'Tied', status: 'warning' },
  shadowed: { label: 'Also matches, later', status: 'unknown' },
  no_match: { label: 'No match', status: 'unknown' },
  invalid: { label: 'Invalid rule', status: 'critical' },
};

function Matchers({ r }: { r: RouterOut }) {
  if (r.error) return <span className="small text-critical">{r.error} — Traefik does not install this router</span>;
  return (
    <span className="mono small">
      {r.matchers.map((m, i) => (
        <span key={i} className={m.satisfied ? 'text-healthy' : 'text-critical'} title={m.satisfied ? 'satisfied' : m.negated ? 'matched, but the rule needs it not to' : 'did not match'}>
          {i > 0 && ' '}
          {m.satisfied ? '✓' : '✗'} {m.negated ? '!' : ''}
          {m.matcher}
        </span>
      ))}
    </span>
  );
}

function Answer({ data }: { data: RouteMatchResponse }) {
  const s = data.served;
  return (
    <div data-testid="route-match-answer">
      <p className={s ? '' : 'text-critical'} data-testid="route-match-summary">
        {data.summary}
      </p>
      {s && (
        <p data-testid="route-match-served">
          Route <strong>{s.namespace ? `${s.namespace}/` : ''}{s.name || '(unnamed)'}</strong> · path <span className="mono">{s.path_prefix}</span> · service{' '}
          <span className="mono">
            {s.service_name}
            {s.service_port ? `:${s.service_port}` : ''}
          </span>
        </p>
      )}
      {data.routers.length > 0 && (
        <table className="table compact">
          <thead>
            <tr>
              <th>Router (in Traefik's order)</th>
              <th className="num">Priority</th>
              <th>Verdict</th>
              <th>Matchers</th>
            </tr>
          </thead>
          <tbody>
            {data.routers.map((r) => (
              <tr key={r.router} className={r.verdict === 'serves' ? 'selected' : ''}>
                <td className="mono small" title={r.rule}>
                  {r.router}
                </td>
                <td className="num" title={r.priority_from === 'explicit' ? 'set on the route' : 'length of the rule'}>
                  {r.priority}
                </td>
                <td>
                  <StatusBadge status={VERDICT[r.verdict].status} label={VERDICT[r.verdict].label} />
                </td>
                <td>
                  <Matchers r={r} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(data.routers_omitted > 0 || data.without_rule.count > 0) && (
        <p className="muted small">
          {data.routers_omitted > 0 && `${data.routers_omitted} other router(s) did not match and are not listed. `}
          {data.without_rule.count > 0 && `${data.without_rule.count} route(s) came without a rule (older agent, or known only from metrics) and were not considered.`}
        </p>
      )}
    </div>
  );
}

/** The headers box: one `Name: value` per line, blank lines ignored. */
function headerLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

export function RouteMatchPanel({ domain, clusterId }: { domain: string; clusterId: string }) {
  const [form, setForm] = useState({ host: domain, path: '/', method: 'GET', headers: '', clientIp: '' });
  const [asked, setAsked] = useState<typeof form | null>(null);
  const { data, error, loading } = useApi<RouteMatchResponse>(
    asked ? API.routeMatch : null,
    asked
      ? {
          cluster_id: clusterId,
          host: asked.host,
          path: asked.path,
          method: asked.method,
          header: headerLines(asked.headers),
          client_ip: asked.clientIp.trim(),
        }
      : undefined,
  );
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm((cur) => ({ ...cur, [k]: e.target.value }));
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    setAsked({ ...form });
  };

  return (
    <Panel title="Which route serves this URL?">
      <form className="field-row" onSubmit={submit} data-testid="route-match-form">
        <label className="field" style={{ flex: '0 0 90px' }}>
          <span>Method</span>
          <select value={form.method} onChange={set('method')}>
            {['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'].map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Host</span>
          <input value={form.host} onChange={set('host')} className="mono" required maxLength={300} />
        </label>
        <label className="field" style={{ flex: 2 }}>
          <span>Path (a ?query is honoured)</span>
          <input value={form.path} onChange={set('path')} className="mono" placeholder="/api/cart" required maxLength={4096} aria-label="Path" />
        </label>
        <button type="submit" className="btn btn-primary">
          Explain
        </button>
      </form>
      <details className="route-match-more">
        <summary>Headers and client address (for Header and ClientIP rules)</summary>
        <div className="field-row">
          <label className="field" style={{ flex: 2 }}>
            <span>Headers, one per line (Name: value)</span>
            <textarea value={form.headers} onChange={set('headers')} className="mono" rows={3} placeholder="X-Canary: 1" aria-label="Headers" />
          </label>
          <label className="field">
            <span>Client IP</span>
            <input value={form.clientIp} onChange={set('clientIp')} className="mono" placeholder="10.0.0.7" maxLength={64} aria-label="Client IP" />
          </label>
        </div>
      </details>
      {asked && loading && <Spinner small />}
      {asked && error && <InlineError>{error.field ? `${error.field}: ` : ''}{error.message}</InlineError>}
      {asked && data && <Answer data={data} />}
    </Panel>
  );
}
