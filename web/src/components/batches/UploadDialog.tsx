import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { api, ApiError } from '../../api/client';
import { invalidatePaths } from '../../api/useApi';
import { useAuth } from '../../auth';
import { Spinner } from '../ui';
import { batchPaths, fmtBytes, uploadFile, type CreateBatchReplyT } from './api';

type UploadState = 'waiting' | 'uploading' | 'stored' | 'duplicate' | 'failed';

interface Item {
  key: string;
  file: File;
  state: UploadState;
  loaded: number;
  error?: string;
}

/** Files upload this many at a time: enough to fill the link, few enough to show steady progress. */
const PARALLEL = 3;

/**
 * Create a batch, upload its files (drag and drop or a file picker) with per-file progress, then
 * complete it. A failed upload can be retried without creating a second batch.
 */
export function UploadDialog({ onClose, onDone }: { onClose: () => void; onDone: (batchId: string) => void }) {
  const { who, openSignIn } = useAuth();
  const [vehicle, setVehicle] = useState('');
  const [vin, setVin] = useState('');
  const [items, setItems] = useState<Item[]>([]);
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const batchId = useRef<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const mayUpload = who?.role === 'admin' || who?.role === 'agent';

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !busy) onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [busy, onClose]);
  useEffect(() => () => abort.current?.abort(), []);

  const add = (files: FileList | File[]) => {
    const list = Array.from(files);
    setItems((cur) => {
      const seen = new Set(cur.map((i) => i.key));
      const fresh = list.map((file) => ({ key: `${file.name}:${file.size}:${file.lastModified}`, file, state: 'waiting' as const, loaded: 0 })).filter((i) => !seen.has(i.key));
      return [...cur, ...fresh];
    });
    setError(null);
  };
  const patch = (key: string, p: Partial<Item>) => setItems((cur) => cur.map((i) => (i.key === key ? { ...i, ...p } : i)));

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setDragging(false);
    if (!busy && e.dataTransfer.files.length) add(e.dataTransfer.files);
  };

  /** Create the batch once, upload what is not stored yet, complete it: its id, or null when files failed. */
  const uploadAll = async (signal: AbortSignal): Promise<string | null> => {
    if (!batchId.current) {
      const created = await api<CreateBatchReplyT>(batchPaths.list, { method: 'POST', body: { vehicle_id: vehicle.trim(), vin: vin.trim() }, signal });
      batchId.current = created.batch_id;
    }
    const id = batchId.current;
    const todo = items.filter((i) => i.state !== 'stored' && i.state !== 'duplicate');
    let failed = 0;
    const worker = async () => {
      for (let next = todo.shift(); next; next = todo.shift()) {
        const item = next;
        patch(item.key, { state: 'uploading', loaded: 0, error: undefined });
        try {
          const r = await uploadFile(id, item.file, (loaded) => patch(item.key, { loaded }), signal);
          patch(item.key, { state: r.duplicate ? 'duplicate' : 'stored', loaded: item.file.size });
        } catch (err) {
          if ((err as Error).name === 'AbortError') throw err;
          failed++;
          patch(item.key, { state: 'failed', error: (err as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, todo.length) }, worker));
    if (failed > 0) {
      setError({ message: `${failed} file${failed === 1 ? '' : 's'} did not upload. Retry them, or remove them and complete the batch.` });
      return null;
    }
    await api(batchPaths.complete(id), { method: 'POST', signal });
    return id;
  };
  const queryClient = useQueryClient();
  const upload = useMutation({
    mutationFn: uploadAll,
    // The new batch belongs in the list (which also refetches a page created while it waited).
    onSettled: () => void invalidatePaths(queryClient, batchPaths.list),
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!vehicle.trim()) return setError({ message: 'Enter the vehicle id.', field: 'vehicle_id' });
    if (!vin.trim()) return setError({ message: 'Enter the VIN.', field: 'vin' });
    if (items.length === 0) return setError({ message: 'Add at least one file.', field: 'file' });
    const ctrl = new AbortController();
    abort.current = ctrl;
    setBusy(true);
    try {
      const id = await upload.mutateAsync(ctrl.signal);
      if (id) onDone(id);
    } catch (err) {
      if ((err as Error).name === 'AbortError') {
        setItems((cur) => cur.map((i) => (i.state === 'uploading' ? { ...i, state: 'waiting', loaded: 0 } : i)));
        return;
      }
      const ae = err instanceof ApiError ? err : null;
      setError({ message: ae?.status === 401 || ae?.status === 403 ? `Uploading needs an agent or admin token: ${ae.message}` : (err as Error).message, field: ae?.field });
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (f: string) => (error?.field === f ? <span className="field-error">{error.message}</span> : null);
  const total = items.reduce((s, i) => s + i.file.size, 0);
  const sent = items.reduce((s, i) => s + (i.state === 'stored' || i.state === 'duplicate' ? i.file.size : i.loaded), 0);
  const anyFailed = items.some((i) => i.state === 'failed');

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !busy && onClose()}>
      <div className="modal upload-modal" role="dialog" aria-modal="true" aria-labelledby="upload-title" data-testid="upload-dialog">
        <form onSubmit={submit}>
          <div className="modal-head">
            <h2 id="upload-title">Upload a batch of logs</h2>
          </div>
          {who && !mayUpload && (
            <p className="modal-reason">
              Uploading needs an <code>agent</code> or <code>admin</code> token.{' '}
              <button type="button" className="link-btn" onClick={() => openSignIn('Sign in with an agent or admin token to upload batches.')}>
                Sign in
              </button>
            </p>
          )}
          <div className="field-row">
            <label className="field">
              <span>Vehicle id</span>
              <input name="vehicle_id" value={vehicle} disabled={busy || batchId.current !== null} onChange={(e) => setVehicle(e.target.value)} placeholder="e.g. car-17" autoComplete="off" />
              {fieldError('vehicle_id')}
            </label>
            <label className="field">
              <span>VIN</span>
              <input name="vin" className="mono" value={vin} disabled={busy || batchId.current !== null} onChange={(e) => setVin(e.target.value)} placeholder="WVWZZZ1JZXW000001" autoComplete="off" />
              {fieldError('vin')}
            </label>
          </div>
          <div
            className={`dropzone ${dragging ? 'over' : ''}`}
            data-testid="dropzone"
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
            onClick={() => !busy && picker.current?.click()}
            role="button"
            tabIndex={0}
            onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), picker.current?.click())}
          >
            <strong>Drop log files here</strong>
            <span className="muted small">or click to choose · DLT, text logs, .gz, .tar, .tar.gz, .zip</span>
            <input
              ref={picker}
              type="file"
              multiple
              hidden
              data-testid="file-input"
              onChange={(e) => {
                if (e.target.files) add(e.target.files);
                e.target.value = '';
              }}
            />
          </div>
          {fieldError('file')}
          {items.length > 0 && (
            <ul className="upload-list" data-testid="upload-list">
              {items.map((i) => {
                const pct = i.file.size ? Math.min(100, (100 * (i.state === 'stored' || i.state === 'duplicate' ? i.file.size : i.loaded)) / i.file.size) : i.state === 'waiting' ? 0 : 100;
                return (
                  <li key={i.key} className={`upload-item upload-${i.state}`} data-state={i.state}>
                    <div className="upload-line">
                      <span className="upload-name mono" title={i.file.name}>
                        {i.file.name}
                      </span>
                      <span className="muted small nowrap">{fmtBytes(i.file.size)}</span>
                      <span className="upload-state small">{i.state === 'duplicate' ? 'already in batch' : i.state}</span>
                      {!busy && i.state !== 'stored' && i.state !== 'duplicate' && (
                        <button type="button" className="link-btn small" aria-label={`Remove ${i.file.name}`} onClick={() => setItems((cur) => cur.filter((x) => x.key !== i.key))}>
                          remove
                        </button>
                      )}
                    </div>
                    <span className="upload-track">
                      <span className="upload-fill" style={{ width: `${pct}%` }} />
                    </span>
                    {i.error && <span className="field-error">{i.error}</span>}
                  </li>
                );
              })}
            </ul>
          )}
          {error && !error.field && (
            <div className="inline-error" role="alert">
              {error.message}
            </div>
          )}
          <div className="modal-actions">
            <span className="muted small upload-total">
              {items.length} file{items.length === 1 ? '' : 's'} · {fmtBytes(sent)} / {fmtBytes(total)}
            </span>
            <button type="button" className="btn" onClick={() => (busy ? abort.current?.abort() : onClose())}>
              {busy ? 'Stop' : 'Cancel'}
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy || items.length === 0} data-testid="upload-submit">
              {busy && <Spinner small />} {anyFailed ? 'Retry and complete' : 'Upload and process'}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
