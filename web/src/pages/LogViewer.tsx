import { useEffect, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import { useApi } from '../api/useApi';
import { useAuth } from '../auth';
import { batchPages, batchPaths, LEVEL_FILTERS, type BatchDetailT, type LogRecordT, type RecordsReplyT } from '../components/batches/api';
import { StatusChip } from '../components/batches/chips';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { Icon, PageHeader, Panel, Spinner } from '../components/ui';
import { fmtCount } from '../format';
import { Link, useHref, useRouter } from '../router';

const PAGE = 200;
/** Records shown above the one jumped to, for context. */
const CONTEXT_BEFORE = 5;
const FILTERS = ['ecu', 'app', 'ctx', 'level', 'text', 'regex'] as const;
type FilterName = (typeof FILTERS)[number];
type Filters = Record<FilterName, string>;

const levelClass = (l: string | null) => (l ? `lvl-${l.toLowerCase()}` : '');

/**
 * One file's records with dlt-viewer's columns. Filters and paging run on the server; `?index=N`
 * jumps to record N (from_index) and highlights it.
 */
export default function LogViewer({ id, fileId }: { id: string; fileId: string }) {
  const href = useHref();
  const { location, navigate } = useRouter();
  const { epoch } = useAuth();
  const q = location.query;
  const applied: Filters = { ecu: q.get('ecu') ?? '', app: q.get('app') ?? '', ctx: q.get('ctx') ?? '', level: q.get('level') ?? '', text: q.get('text') ?? '', regex: q.get('regex') ?? '' };
  const indexParam = q.get('index');
  const target = indexParam !== null && /^\d{1,12}$/.test(indexParam) ? Number(indexParam) : null;
  const fromIndex = target === null ? undefined : Math.max(0, target - CONTEXT_BEFORE);
  const key = JSON.stringify([applied, fromIndex]);

  const [draft, setDraft] = useState<Filters>(applied);
  const [rows, setRows] = useState<{ key: string; records: LogRecordT[]; next: number | null; scanned: number } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const highlighted = useRef<HTMLTableRowElement>(null);
  const scrolledFor = useRef<string | null>(null);

  const detail = useApi<BatchDetailT>(batchPaths.one(id));
  const file = detail.data?.files.find((f) => f.file_id === fileId);

  useEffect(() => setDraft(applied), [key]);

  const fetchPage = async (offset: number, signal?: AbortSignal): Promise<RecordsReplyT> =>
    api<RecordsReplyT>(batchPaths.records(id, fileId), { query: { ...applied, level: applied.level || undefined, offset, limit: PAGE, from_index: fromIndex }, signal });

  useEffect(() => {
    const ctrl = new AbortController();
    setBusy(true);
    setError(null);
    fetchPage(0, ctrl.signal)
      .then((r) => setRows({ key, records: r.records, next: r.next_offset, scanned: r.scanned }))
      .catch((err: unknown) => {
        if ((err as Error).name === 'AbortError') return;
        setRows(null);
        setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err), batchPaths.records(id, fileId)));
      })
      .finally(() => !ctrl.signal.aborted && setBusy(false));
    return () => ctrl.abort();
  }, [id, fileId, key, epoch]);

  useLayoutEffect(() => {
    if (rows?.key === key && highlighted.current && scrolledFor.current !== key) {
      scrolledFor.current = key;
      highlighted.current.scrollIntoView({ block: 'center' });
    }
  }, [rows, key]);

  const more = async () => {
    if (!rows || rows.next === null) return;
    setBusy(true);
    try {
      const r = await fetchPage(rows.next);
      setRows({ key, records: [...rows.records, ...r.records], next: r.next_offset, scanned: rows.scanned + r.scanned });
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err), batchPaths.records(id, fileId)));
    } finally {
      setBusy(false);
    }
  };

  const go = (f: Filters, index: number | null) => {
    const qs = new URLSearchParams();
    for (const k of ['cluster_id', 'time_range']) {
      const v = q.get(k);
      if (v) qs.set(k, v);
    }
    for (const k of FILTERS) if (f[k].trim()) qs.set(k, f[k].trim());
    if (index !== null) qs.set('index', String(index));
    const s = qs.toString();
    navigate(`${location.path}${s ? `?${s}` : ''}`, { replace: true });
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    go(draft, target);
  };
  const fieldError = error?.status === 400 && error.field && (FILTERS as readonly string[]).includes(error.field) ? (error.field as FilterName) : null;
  const input = (name: Exclude<FilterName, 'level'>, label: string, placeholder: string, wide = false) => (
    <label className={`field ${wide ? 'field-wide' : ''} ${fieldError === name ? 'has-error' : ''}`}>
      <span>{label}</span>
      <input
        name={name}
        className="mono"
        value={draft[name]}
        placeholder={placeholder}
        aria-invalid={fieldError === name}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => setDraft({ ...draft, [name]: e.target.value })}
      />
      {fieldError === name && (
        <span className="field-error" role="alert" data-testid={`${name}-error`}>
          {error!.message}
        </span>
      )}
    </label>
  );

  const current = rows?.key === key ? rows : null;
  const filtered = FILTERS.some((k) => applied[k]);

  return (
    <div className="page" data-page="log-viewer">
      <PageHeader
        crumbs={
          <>
            <Link to={href(batchPages.list)}>Batches</Link>
            <span className="crumb-sep">/</span>
            <Link to={href(batchPages.detail(id))}>{detail.data?.vehicle_id ?? 'batch'}</Link>
            <span className="crumb-sep">/</span>
            <span>log</span>
          </>
        }
        title={
          <span className="title-with-badge">
            <span className="mono">{file?.name ?? 'Log file'}</span> {file && <StatusChip status={file.status} />}
          </span>
        }
        subtitle={file ? `${file.format ?? 'unknown format'} · ${fmtCount(file.records)} records · ${fmtCount(file.errors)} errors` : undefined}
      />

      <Panel>
        <form className="log-filters" onSubmit={submit} data-testid="log-filters">
          {input('ecu', 'ECU', 'ECU1')}
          {input('app', 'App', 'APID')}
          {input('ctx', 'Context', 'CTID')}
          <label className="field">
            <span>Level</span>
            <select className="select" name="level" value={draft.level} onChange={(e) => setDraft({ ...draft, level: e.target.value })}>
              <option value="">any</option>
              {LEVEL_FILTERS.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </label>
          {input('text', 'Text', 'contains…', true)}
          {input('regex', 'Regex (RE2)', '7F [0-9A-F]{2} 7[23]', true)}
          <div className="log-filter-actions">
            <button type="submit" className="btn btn-primary" data-testid="apply-filters">
              <Icon name="search" size={14} /> Apply
            </button>
            {(filtered || target !== null) && (
              <button type="button" className="btn" onClick={() => go({ ecu: '', app: '', ctx: '', level: '', text: '', regex: '' }, null)}>
                Clear
              </button>
            )}
          </div>
        </form>
        {target !== null && (
          <p className="small muted jump-note">
            Jumped to record <strong>#{target}</strong>{' '}
            <button type="button" className="link-btn small" onClick={() => go(applied, null)}>
              show from the start
            </button>
          </p>
        )}
      </Panel>

      <Panel
        title={current ? `${fmtCount(current.records.length)} record${current.records.length === 1 ? '' : 's'} shown${current.next !== null ? ' (more below)' : ''}` : 'Records'}
        actions={busy ? <Spinner small /> : undefined}
        pad={false}
      >
        {error && !fieldError && (current ? <InlineError>{error.message}</InlineError> : <ErrorState error={error} what="this file's records" />)}
        {fieldError && <p className="pad muted">Fix the {fieldError} filter above to see records.</p>}
        {!current && !error ? (
          <Loading label="Reading records…" />
        ) : current && current.records.length === 0 ? (
          <Empty title="No record matches">{filtered ? 'Loosen the filters.' : 'This file has no records.'}</Empty>
        ) : current ? (
          <>
            <div className="table-wrap log-wrap">
              <table className="table log-table" data-testid="log-table">
                <thead>
                  <tr>
                    <th className="num">Index</th>
                    <th>Time</th>
                    <th className="num">Timestamp</th>
                    <th>ECU</th>
                    <th>App</th>
                    <th>Context</th>
                    <th>Type</th>
                    <th>Level</th>
                    <th>Payload</th>
                  </tr>
                </thead>
                <tbody>
                  {current.records.map((r) => {
                    const hit = r.index === target;
                    return (
                      <tr key={r.index} ref={hit ? highlighted : undefined} className={`${levelClass(r.level)} ${hit ? 'highlighted' : ''}`} data-index={r.index} aria-current={hit ? 'true' : undefined}>
                        <td className="num mono">{r.index}</td>
                        <td className="mono nowrap">{r.time ? r.time.replace('T', ' ').replace('Z', '') : ''}</td>
                        <td className="num mono">{r.timestamp === null ? '' : r.timestamp.toFixed(4)}</td>
                        <td className="mono">{r.ecu ?? ''}</td>
                        <td className="mono">{r.app ?? ''}</td>
                        <td className="mono">{r.ctx ?? ''}</td>
                        <td className="mono">{r.type ?? ''}</td>
                        <td className="mono">{r.level ?? ''}</td>
                        <td className="mono payload">{r.payload}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            {current.next !== null && (
              <div className="load-more">
                <button type="button" className="btn" onClick={() => void more()} disabled={busy} data-testid="log-more">
                  {busy && <Spinner small />} Load {PAGE} more
                </button>
              </div>
            )}
          </>
        ) : null}
      </Panel>
    </div>
  );
}
