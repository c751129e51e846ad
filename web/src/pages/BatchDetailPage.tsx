import { useEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import { useApi } from '../api/useApi';
import { useAuth } from '../auth';
import { batchPages, batchPaths, fmtBytes, followEvents, isWorking, type BatchDetailT, type BatchReport, type FileEvent, type ProgressEvent } from '../components/batches/api';
import { BatchProgress, StatusChip } from '../components/batches/chips';
import { fmtUtc, ReportView } from '../components/batches/Report';
import { ErrorState, InlineError, Loading } from '../components/states';
import { PageHeader, Panel, Spinner, StatCard } from '../components/ui';
import { fmtAgo, fmtCount, fmtTime } from '../format';
import { Link, useHref } from '../router';

/** Events arrive in bursts (one per file); the detail is refetched once a burst settles. */
const REFETCH_AFTER_MS = 250;

export default function BatchDetailPage({ id }: { id: string }) {
  const href = useHref();
  const { epoch } = useAuth();
  const detail = useApi<BatchDetailT>(batchPaths.one(id));
  const [live, setLive] = useState<ProgressEvent>({});
  const [liveFiles, setLiveFiles] = useState<Record<string, FileEvent>>({});
  const [llm, setLlm] = useState('');
  const [connected, setConnected] = useState(false);
  const reloadDetail = useRef(detail.reload);
  reloadDetail.current = detail.reload;

  // What the events said since the last detail answer; a fresh answer supersedes it.
  useEffect(() => {
    setLive({});
    setLiveFiles({});
    // On every answer, even one equal to the last (the cache keeps that one's identity).
  }, [detail.data, detail.updatedAt]);

  const status = live.status ?? detail.data?.status;
  const completed = status === 'completed';
  const report = useApi<BatchReport>(completed ? batchPaths.report(id) : null);
  const reloadReport = useRef(report.reload);
  reloadReport.current = report.reload;

  useEffect(() => {
    const ctrl = new AbortController();
    let timer: number | undefined;
    const refetch = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => reloadDetail.current(), REFETCH_AFTER_MS);
    };
    void followEvents(
      batchPaths.events(id),
      ctrl.signal,
      (m) => {
        let data: unknown;
        try {
          data = JSON.parse(m.data);
        } catch {
          return;
        }
        if (m.event === 'llm') {
          const t = (data as { token?: unknown }).token;
          if (typeof t === 'string') setLlm((s) => s + t);
          return;
        }
        if (m.event === 'status' || m.event === 'progress') {
          const p = data as ProgressEvent;
          // The percentage depends on the status: a status event without one makes the last one stale.
          setLive((cur) => ({ ...cur, progress_percent: undefined, ...p }));
          if (p.status === 'diagnosing') setLlm('');
        } else if (m.event === 'file') {
          const f = data as FileEvent;
          setLiveFiles((cur) => ({ ...cur, [f.file_id]: { ...cur[f.file_id], ...f } }));
        } else if (m.event === 'report') {
          reloadReport.current();
        }
        refetch();
      },
      setConnected,
    );
    return () => {
      ctrl.abort();
      window.clearTimeout(timer);
    };
  }, [id, epoch]);

  const d = detail.data;
  const files = useMemo(() => {
    const rows = (d?.files ?? []).map((f) => ({ ...f, ...liveFiles[f.file_id] }));
    const known = new Set(rows.map((f) => f.file_id));
    for (const f of Object.values(liveFiles)) if (!known.has(f.file_id)) rows.push({ parent_id: null, size: 0, sha256: '', format: null, error: null, records: 0, first_time: null, last_time: null, errors: 0, ...f });
    return rows;
  }, [d, liveFiles]);
  const names = useMemo(() => new Map(files.map((f) => [f.file_id, f.name])), [files]);

  if (detail.loading && !d) return <Loading label="Loading the batch…" />;
  if (detail.error && !d)
    return (
      <div className="page">
        <ErrorState error={detail.error} onRetry={detail.reload} what="this batch" />
      </div>
    );
  if (!d || !status) return null;

  const total = live.total_files ?? d.total_files;
  const processed = live.processed_files ?? d.processed_files;
  const failed = live.failed_files ?? d.failed_files;
  const percent = live.progress_percent ?? d.progress_percent;
  const error = live.error ?? d.error;
  const working = isWorking(status);

  return (
    <div className="page" data-page="batch-detail" data-status={status}>
      <PageHeader
        crumbs={
          <>
            <Link to={href(batchPages.list)}>Batches</Link>
            <span className="crumb-sep">/</span>
            <span>{d.vehicle_id}</span>
          </>
        }
        title={
          <span className="title-with-badge">
            {d.vehicle_id} <StatusChip status={status} />
          </span>
        }
        subtitle={
          <>
            VIN <span className="mono">{d.vin}</span> · created {fmtTime(d.created_at)} ({fmtAgo(d.created_at)}) · <span className="mono small">{d.batch_id}</span>
          </>
        }
        actions={
          <span className={`live ${connected ? '' : 'live-down'}`} data-testid="live" title={connected ? 'following the batch’s events' : 'reconnecting to the batch’s events'}>
            <span className="live-dot" /> {connected ? 'live' : 'reconnecting…'}
          </span>
        }
      />

      <div className="stats">
        <div className="stat stat-progress">
          <div className="stat-label">Progress</div>
          <div className="stat-value" data-testid="progress-status">
            {status}
          </div>
          <BatchProgress status={status} percent={percent} label="batch progress" />
        </div>
        <StatCard label="Files" value={`${fmtCount(processed)} / ${fmtCount(total)}`} hint="with an outcome" />
        <StatCard label="Failed files" value={fmtCount(failed)} tone={failed > 0 ? 'warning' : undefined} hint={failed > 0 ? 'listed below with their reason' : 'none'} />
        <StatCard label="Updated" value={<span className="small">{fmtAgo(d.updated_at)}</span>} hint={d.completed_at ? `completed ${fmtTime(d.completed_at)}` : undefined} />
      </div>

      {error && <InlineError>The batch failed: {error}</InlineError>}
      {detail.error && <InlineError>Refreshing failed: {detail.error.message}</InlineError>}

      {status === 'diagnosing' && (
        <Panel title="Diagnosing…" actions={<Spinner small />}>
          {llm ? (
            <p className="llm-text llm-live" data-testid="llm-live">
              {llm}
              <span className="caret-blink" aria-hidden />
            </p>
          ) : (
            <p className="muted">Rules are running over the merged aggregate; a model summary streams here when one is configured.</p>
          )}
        </Panel>
      )}

      <Panel title={`Files (${files.length})`} pad={false}>
        <div className="table-wrap">
          <table className="table compact files-table" data-testid="files-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Format</th>
                <th>Status</th>
                <th className="num">Records</th>
                <th className="num">Errors</th>
                <th className="num">Size</th>
                <th>Time span (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {files.map((f) => (
                <tr key={f.file_id} data-file={f.name} data-state={f.status}>
                  <td className="file-name">
                    {f.status === 'parsed' && f.records > 0 ? (
                      <Link to={href(batchPages.file(d.batch_id, f.file_id))} className="mono" title="Open in the log viewer">
                        {f.name}
                      </Link>
                    ) : (
                      <span className="mono">{f.name}</span>
                    )}
                    {f.parent_id && <div className="small muted">from {names.get(f.parent_id) ?? 'an archive'}</div>}
                    {f.status === 'failed' && f.error && <div className="small text-critical file-reason">{f.error}</div>}
                  </td>
                  <td>{f.format ?? <span className="muted">—</span>}</td>
                  <td>
                    <StatusChip status={f.status} />
                  </td>
                  <td className="num">{fmtCount(f.records)}</td>
                  <td className={`num ${f.errors > 0 ? 'text-critical' : ''}`}>{fmtCount(f.errors)}</td>
                  <td className="num">{fmtBytes(f.size)}</td>
                  <td className="nowrap small">{f.first_time === null ? <span className="muted">—</span> : `${fmtUtc(f.first_time)} → ${fmtUtc(f.last_time).slice(11)}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Panel>

      {completed &&
        (report.data ? (
          <ReportView report={report.data} batchId={d.batch_id} />
        ) : report.error ? (
          report.error instanceof ApiError && report.error.status === 409 ? (
            <Loading label="The report is being written…" />
          ) : (
            <ErrorState error={report.error} onRetry={report.reload} what="the report" />
          )
        ) : (
          <Loading label="Loading the report…" />
        ))}
      {status === 'pending' && (
        <p className="footnote">
          This batch is still open for uploads: it is processed once its uploader completes it (<code>vigil batch upload</code> does; or <code>POST {batchPaths.complete(d.batch_id)}</code>).
        </p>
      )}
      {working && !completed && <p className="footnote">The report appears here when the batch completes; this page follows it live.</p>}
    </div>
  );
}
