import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { useApi } from '../api/useApi';
import { useAuth } from '../auth';
import { batchPages, batchPaths, BATCH_STATUSES, isWorking, type BatchSummaryT, type ListReplyT } from '../components/batches/api';
import { BatchProgress, StatusChip } from '../components/batches/chips';
import { UploadDialog } from '../components/batches/UploadDialog';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { Icon, PageHeader, Panel, Spinner } from '../components/ui';
import { fmtAgo, fmtTime } from '../format';
import { Link, useHref, useNavigate, useQueryParam } from '../router';

const PAGE = 50;
const NONE: BatchSummaryT[] = [];
const WORKING_POLL_MS = 2000;
/** New batches from vehicles and the CLI show up without a reload. */
const IDLE_POLL_MS = 15_000;

export default function BatchesPage() {
  const href = useHref();
  const navigate = useNavigate();
  const { who, openSignIn } = useAuth();
  const [vehicle, setVehicle] = useQueryParam('vehicle_id', '');
  const [status, setStatus] = useQueryParam('status', '');
  const [vehicleText, setVehicleText] = useState(vehicle);
  const [uploading, setUploading] = useState(false);
  const query = useMemo(() => ({ vehicle_id: vehicle || undefined, status: status || undefined, limit: PAGE }), [vehicle, status]);
  const [working, setWorking] = useState(false);
  const { data, error, loading, reload, refreshing } = useApi<ListReplyT>(batchPaths.list, query, { pollMs: working ? WORKING_POLL_MS : IDLE_POLL_MS });

  // Older pages fetched with "load more"; the first page stays live (polled), these do not.
  const [older, setOlder] = useState<{ key: string; batches: BatchSummaryT[]; next: string | null; error?: string }>({ key: '', batches: [], next: null });
  const [loadingMore, setLoadingMore] = useState(false);
  const filterKey = `${vehicle}|${status}`;
  const olderNow = older.key === filterKey ? older : { key: filterKey, batches: NONE, next: null };

  const rows = useMemo(() => {
    const first = data?.batches ?? [];
    const seen = new Set(first.map((b) => b.batch_id));
    return [...first, ...olderNow.batches.filter((b) => !seen.has(b.batch_id))];
  }, [data, olderNow.batches]);
  const nextCursor = olderNow.batches.length ? olderNow.next : (data?.next_cursor ?? null);

  useEffect(() => setWorking(rows.some((b) => isWorking(b.status))), [rows]);

  const loadMore = async () => {
    if (!nextCursor) return;
    setLoadingMore(true);
    try {
      const r = await api<ListReplyT>(batchPaths.list, { query: { ...query, cursor: nextCursor } });
      setOlder({ key: filterKey, batches: [...olderNow.batches, ...r.batches], next: r.next_cursor });
    } catch (err) {
      setOlder({ ...olderNow, error: (err as Error).message });
    } finally {
      setLoadingMore(false);
    }
  };

  const applyVehicle = (e: FormEvent) => {
    e.preventDefault();
    setVehicle(vehicleText.trim() || null);
  };

  const mayUpload = who?.role === 'admin' || who?.role === 'agent';

  return (
    <div className="page" data-page="batches">
      <PageHeader
        title="Batches"
        subtitle="Log batches uploaded by vehicles: each file is parsed in parallel, the batch is diagnosed, and the report names the failures it found."
        actions={
          <button
            type="button"
            className="btn btn-primary"
            data-testid="open-upload"
            onClick={() => (who && !who.authenticated ? openSignIn('Uploading a batch needs an agent or admin token.') : setUploading(true))}
            title={who?.authenticated && !mayUpload ? 'Uploading needs an agent or admin token' : undefined}
          >
            <Icon name="box" size={14} /> Upload batch
          </button>
        }
      />

      <Panel
        title="Recent batches"
        pad={false}
        actions={
          <>
            {working && (
              <span className="live" title={`refreshing every ${WORKING_POLL_MS / 1000} s while a batch is being processed`}>
                <span className="live-dot" /> live
              </span>
            )}
            <form className="batch-filters" onSubmit={applyVehicle}>
              <label className="search">
                <Icon name="search" size={14} />
                <input aria-label="Vehicle id" placeholder="vehicle id" value={vehicleText} onChange={(e) => setVehicleText(e.target.value)} onBlur={() => setVehicle(vehicleText.trim() || null)} />
              </label>
              <select className="select" aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value || null)}>
                <option value="">any status</option>
                {BATCH_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </form>
            <button type="button" className="icon-btn" onClick={reload} title="Refresh" aria-label="Refresh">
              {refreshing ? <Spinner small /> : <Icon name="refresh" />}
            </button>
          </>
        }
      >
        {loading && !data ? (
          <Loading label="Loading batches…" />
        ) : error && !data ? (
          <ErrorState error={error} onRetry={reload} what="the batches" />
        ) : rows.length === 0 ? (
          <Empty title={vehicle || status ? 'No batch matches' : 'No batches yet'}>
            {vehicle || status ? (
              'Clear the filters to see every batch.'
            ) : (
              <>
                Upload one with the button above, or from a shell: <code>vigil batch upload --vehicle-id car-17 --vin WVWZZZ1JZXW000001 ./logs/</code>
              </>
            )}
          </Empty>
        ) : (
          <>
            {error && <InlineError>Refreshing failed: {error.message}</InlineError>}
            <div className="table-wrap">
              <table className="table batches-table" data-testid="batches-table">
                <thead>
                  <tr>
                    <th>Vehicle</th>
                    <th>VIN</th>
                    <th>Status</th>
                    <th>Progress</th>
                    <th className="num">Files</th>
                    <th>Created</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((b) => (
                    <tr key={b.batch_id} className="clickable" onClick={() => navigate(href(batchPages.detail(b.batch_id)))} data-batch={b.batch_id}>
                      <td>
                        <Link to={href(batchPages.detail(b.batch_id))} className="strong" onClick={(e) => e.stopPropagation()}>
                          {b.vehicle_id}
                        </Link>
                      </td>
                      <td className="mono small">{b.vin}</td>
                      <td>
                        <StatusChip status={b.status} />
                        {b.error && <div className="small text-critical ellipsis" title={b.error}>{b.error}</div>}
                      </td>
                      <td>
                        <BatchProgress status={b.status} percent={b.progress_percent} label={`progress of ${b.vehicle_id}`} />
                      </td>
                      <td className="num">
                        {b.processed_files}/{b.total_files}
                        {b.failed_files > 0 && <div className="small text-critical">{b.failed_files} failed</div>}
                      </td>
                      <td className="nowrap" title={fmtTime(b.created_at)}>
                        {fmtAgo(b.created_at)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {olderNow.error && <InlineError>Loading more failed: {olderNow.error}</InlineError>}
            {nextCursor && (
              <div className="load-more">
                <button type="button" className="btn" onClick={() => void loadMore()} disabled={loadingMore} data-testid="load-more">
                  {loadingMore && <Spinner small />} Load more
                </button>
              </div>
            )}
          </>
        )}
      </Panel>

      {uploading && (
        <UploadDialog
          onClose={() => setUploading(false)}
          onDone={(id) => {
            setUploading(false);
            navigate(href(batchPages.detail(id)));
          }}
        />
      )}
    </div>
  );
}
