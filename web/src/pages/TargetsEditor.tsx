import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError } from '../api/client';
import { API } from '../api/paths';
import { SLO_WINDOWS } from '../api/ranges';
import type { PutTargetsBody as PutTargetsRequest, SloTarget as SLOTarget, SloTargetKey as SLOTargetKey, SloWindow as SLOWindow, TargetsResponse } from '../../../src/slo/server/schemas';
import { invalidatePaths, useApi } from '../api/useApi';
import { useAuth } from '../auth';
import { ErrorState, InlineError, Loading } from '../components/states';
import { Panel, Spinner } from '../components/ui';

interface Scope {
  scope: 'domain' | 'route';
  key: string;
  label: string;
}

interface Draft {
  availability: string;
  p95: string;
  p99: string;
}

const emptyDraft: Draft = { availability: '', p95: '', p99: '' };
const draftKey = (s: { scope: string; key: string }, w: SLOWindow) => `${s.scope}|${s.key}|${w}`;
const toText = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));

/** Targets of a domain and its routes, editable by admins (PUT /api/v2/slo/targets). */
export function TargetsEditor({ domain, paths, clusterId }: { domain: string; paths: string[]; clusterId: string }) {
  const { isAdmin, who, openSignIn } = useAuth();
  const { data, error, loading, reload } = useApi<TargetsResponse>(API.targets, { cluster_id: clusterId });
  const queryClient = useQueryClient();
  const put = useMutation({
    mutationFn: (body: PutTargetsRequest) => api<TargetsResponse>(API.targets, { method: 'PUT', query: { cluster_id: clusterId }, body }),
    // Targets decide the statuses and budgets the domain pages show: those are read again too.
    onSuccess: () => invalidatePaths(queryClient, API.targets, API.domains),
  });
  const saving = put.isPending;
  const [win, setWin] = useState<SLOWindow>('30d');
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  const pathsKey = paths.join('\n');
  const scopes: Scope[] = useMemo(
    () => [
      { scope: 'domain', key: domain, label: 'Whole domain' },
      ...(pathsKey ? pathsKey.split('\n') : []).map((p) => ({ scope: 'route' as const, key: `${domain}${p}`, label: p })),
    ],
    [domain, pathsKey],
  );

  const stored = useMemo(() => {
    const m = new Map<string, SLOTarget>();
    for (const t of data?.targets ?? []) m.set(draftKey(t, t.window), t);
    return m;
  }, [data]);

  const fromStored = useMemo(() => {
    const next: Record<string, Draft> = {};
    for (const s of scopes) {
      for (const w of SLO_WINDOWS) {
        const t = stored.get(draftKey(s, w));
        next[draftKey(s, w)] = t
          ? { availability: toText(t.availability_target), p95: toText(t.p95_latency_target), p99: toText(t.p99_latency_target) }
          : emptyDraft;
      }
    }
    return next;
  }, [stored, scopes]);

  // Reset the drafts to what the server holds whenever it answers.
  useEffect(() => setDrafts(fromStored), [fromStored]);

  const dirty = scopes.some((s) => {
    const k = draftKey(s, win);
    const t = stored.get(k);
    const d = drafts[k] ?? emptyDraft;
    const orig = t ? { availability: toText(t.availability_target), p95: toText(t.p95_latency_target), p99: toText(t.p99_latency_target) } : emptyDraft;
    return d.availability !== orig.availability || d.p95 !== orig.p95 || d.p99 !== orig.p99;
  });

  const set = (k: string, field: keyof Draft, v: string) => {
    setSaved(false);
    setDrafts((d) => ({ ...d, [k]: { ...(d[k] ?? emptyDraft), [field]: v } }));
  };

  const save = async () => {
    setSaveError(null);
    setSaved(false);
    const body: PutTargetsRequest = { targets: [], remove: [] };
    for (const s of scopes) {
      const k = draftKey(s, win);
      const d = drafts[k] ?? emptyDraft;
      const key: SLOTargetKey = { scope: s.scope, key: s.key, window: win };
      const blank = !d.availability.trim() && !d.p95.trim() && !d.p99.trim();
      if (blank) {
        if (stored.has(k)) body.remove!.push(key);
        continue;
      }
      const a = Number(d.availability);
      const p95 = Number(d.p95);
      const p99 = d.p99.trim() ? Number(d.p99) : null;
      if (!d.availability.trim() || !Number.isFinite(a) || a <= 0 || a > 100) return setSaveError(`${s.label}: availability target must be a percentage above 0 and at most 100.`);
      if (!d.p95.trim() || !Number.isFinite(p95) || p95 <= 0) return setSaveError(`${s.label}: p95 target must be a number of milliseconds above 0.`);
      if (p99 !== null && (!Number.isFinite(p99) || p99 <= 0)) return setSaveError(`${s.label}: p99 target must be a number of milliseconds above 0 (or empty).`);
      body.targets.push({ ...key, availability_target: a, p95_latency_target: p95, p99_latency_target: p99 });
    }
    try {
      await put.mutateAsync(body);
      setSaved(true);
    } catch (err) {
      const e = err as ApiError;
      setSaveError(
        e.status === 403
          ? `Your role (${who?.role ?? 'anonymous'}) may not change targets: ${e.message}`
          : `${e.message}${e.field ? ` (field ${e.field})` : ''}`,
      );
    }
  };

  const defaults = data?.defaults;
  const windowPicker = (
    <div className="segmented small" role="radiogroup" aria-label="Target window">
      {SLO_WINDOWS.map((w) => (
        <button key={w} type="button" role="radio" aria-checked={w === win} className={w === win ? 'on' : ''} onClick={() => setWin(w)}>
          {w}
        </button>
      ))}
    </div>
  );

  return (
    <Panel title="SLO targets" actions={windowPicker} className="targets-panel">
      {loading && !data ? (
        <Loading label="Loading targets…" />
      ) : error && !data ? (
        <ErrorState error={error} onRetry={reload} what="the SLO targets" />
      ) : (
        <>
          <table className="table compact targets-table">
            <thead>
              <tr>
                <th>Scope</th>
                <th className="num">Availability %</th>
                <th className="num">P95 ms</th>
                <th className="num">P99 ms</th>
                <th>Last change</th>
              </tr>
            </thead>
            <tbody>
              {scopes.map((s) => {
                const k = draftKey(s, win);
                const d = drafts[k] ?? emptyDraft;
                const t = stored.get(k);
                // What applies when the field is empty: the domain's target for this window, else the default.
                const inherit = s.scope === 'route' ? stored.get(draftKey({ scope: 'domain', key: domain }, win)) : undefined;
                const ph = {
                  availability: toText(inherit?.availability_target ?? defaults?.availability_target),
                  p95: toText(inherit?.p95_latency_target ?? defaults?.p95_latency_target),
                  p99: t ? '—' : toText(inherit ? inherit.p99_latency_target : defaults?.p99_latency_target) || '—',
                };
                return (
                  <tr key={k}>
                    <td className={s.scope === 'route' ? 'mono' : 'strong'}>{s.label}</td>
                    {(['availability', 'p95', 'p99'] as const).map((f) => (
                      <td key={f} className="num">
                        <input
                          className="num-input"
                          inputMode="decimal"
                          aria-label={`${s.label} ${f} target`}
                          disabled={!isAdmin}
                          value={d[f]}
                          placeholder={ph[f] || 'inherit'}
                          onChange={(e) => set(k, f, e.target.value)}
                        />
                      </td>
                    ))}
                    <td className="muted small">{t?.updated_at ? `${new Date(t.updated_at).toLocaleString()}${t.updated_by ? ` by ${t.updated_by}` : ''}` : t ? 'set' : 'inherited'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <div className="targets-foot">
            <span className="muted small">
              Empty fields inherit (route → domain → default
              {defaults ? ` ${defaults.availability_target}% · ${defaults.p95_latency_target} ms over ${defaults.window}` : ''}). Values apply to the {win} window.
            </span>
            <div className="toolbar-spacer" />
            {saved && !dirty && <span className="text-healthy small">Saved.</span>}
            {isAdmin ? (
              <>
                <button type="button" className="btn btn-sm btn-ghost" disabled={!dirty || saving} onClick={() => setDrafts(fromStored)}>
                  Reset
                </button>
                <button type="button" className="btn btn-sm btn-primary" disabled={!dirty || saving} onClick={save}>
                  {saving && <Spinner small />} Save targets
                </button>
              </>
            ) : (
              <span className="small muted">
                Only admins can edit targets.{' '}
                <button type="button" className="link-btn" onClick={() => openSignIn('Sign in with an admin token to edit SLO targets.')}>
                  Sign in as admin
                </button>
              </span>
            )}
          </div>
          {saveError && <InlineError>{saveError}</InlineError>}
        </>
      )}
    </Panel>
  );
}
