import type { BatchReport, BatchStatus, FileStatus } from './api';
import { isWorking } from './api';

const TONE: Record<BatchStatus | FileStatus, string> = {
  pending: 'idle',
  uploaded: 'working',
  queued: 'working',
  parsing: 'working',
  scattering: 'working',
  scattered: 'working',
  gathering: 'working',
  gathered: 'working',
  diagnosing: 'working',
  parsed: 'done',
  completed: 'done',
  failed: 'failed',
};

export function StatusChip({ status }: { status: BatchStatus | FileStatus }) {
  return (
    <span className={`bchip bchip-${TONE[status] ?? 'idle'}`} data-status={status}>
      {TONE[status] === 'working' && <span className="bchip-pulse" aria-hidden />}
      {status}
    </span>
  );
}

/** The share of a batch's files that have an outcome; striped while workers run. */
export function BatchProgress({ status, percent, label }: { status: BatchStatus; percent: number; label?: string }) {
  const p = Math.max(0, Math.min(100, Number.isFinite(percent) ? percent : 0));
  const tone = status === 'failed' ? 'failed' : status === 'completed' ? 'done' : isWorking(status) ? 'working' : 'idle';
  return (
    <span className="bprogress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(p)} aria-label={label ?? 'progress'}>
      <span className="bprogress-track">
        <span className={`bprogress-fill bprogress-${tone}`} style={{ width: `${p}%` }} />
      </span>
      <span className="bprogress-num">{Math.round(p)}%</span>
    </span>
  );
}

export type Severity = BatchReport['findings'][number]['severity'];

export function SeverityChip({ severity }: { severity: Severity | string }) {
  return <span className={`sev sev-${severity}`}>{severity}</span>;
}
