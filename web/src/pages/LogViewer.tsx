import { useInfiniteQuery, type InfiniteData } from '@tanstack/react-query';
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { api, type ApiError } from '../api/client';
import { apiKey, useApi, type ApiKey } from '../api/useApi';
import { batchPages, batchPaths, LEVEL_FILTERS, type BatchDetailT, type RecordsReplyT } from '../components/batches/api';
import { StatusChip } from '../components/batches/chips';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { Icon, PageHeader, Panel, Spinner } from '../components/ui';
import { fmtCount } from '../format';
import { Link, STICKY, useHref, useNavigate, useUrlQuery } from '../router';

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
  const navigate = useNavigate();
  const q = useUrlQuery();
  const applied: Filters = { ecu: q.get('ecu') ?? '', app: q.get('app') ?? '', ctx: q.get('ctx') ?? '', level: q.get('level') ?? '', text: q.get('text') ?? '', regex: q.get('regex') ?? '' };
  const indexParam = q.get('index');
  const target = indexParam !== null && /^\d{1,12}$/.test(indexParam) ? Number(indexParam) : null;
  const fromIndex = target === null ? undefined : Math.max(0, target - CONTEXT_BEFORE);
  const key = JSON.stringify([applied, fromIndex]);

  const [draft, setDraft] = useState<Filters>(applied);
  const highlighted = useRef<HTMLTableRowElement>(null);
  const scrolledFor = useRef<string | null>(null);

  const detail = useApi<BatchDetailT>(batchPaths.one(id));
  const file = detail.data?.files.find((f) => f.file_id === fileId);

  useEffect(() => setDraft(applied), [key]);

  // One cache entry per file and filter; "load more" appends pages to it.
  const query = { ...applied, from_index: fromIndex };
  const pages = useInfiniteQuery<RecordsReplyT, ApiError, InfiniteData<RecordsReplyT, number>, ApiKey, number>({
    queryKey: apiKey(batchPaths.records(id, fileId), query),
    queryFn: ({ pageParam, signal }) => api<RecordsReplyT>(batchPaths.records(id, fileId), { query: { ...query, offset: pageParam, limit: PAGE }, signal }),
    initialPageParam: 0,
    getNextPageParam: (last) => last.next_offset ?? undefined,
  });
  const error = pages.error;
  const busy = pages.isFetching;
  const current = useMemo(() => {
    const all = pages.data?.pages;
    if (!all) return null;
    return { records: all.flatMap((p) => p.records), next: all[all.length - 1].next_offset, scanned: all.reduce((n, p) => n + p.scanned, 0) };
  }, [pages.data]);

  useLayoutEffect(() => {
    if (current && highlighted.current && scrolledFor.current !== key) {
      scrolledFor.current = key;
      highlighted.current.scrollIntoView({ block: 'center' });
    }
  }, [current, key]);

  const more = () => void pages.fetchNextPage({ cancelRefetch: false });

  const go = (f: Filters, index: number | null) => {
    const qs = new URLSearchParams();
    for (const k of STICKY) {
      const v = q.get(k);
      if (v) qs.set(k, v);
    }
    for (const k of FILTERS) if (f[k].trim()) qs.set(k, f[k].trim());
    if (index !== null) qs.set('index', String(index));
    const s = qs.toString();
    navigate(`${window.location.pathname}${s ? `?${s}` : ''}`, { replace: true });
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
                <button type="button" className="btn" onClick={more} disabled={busy} data-testid="log-more">
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
