/** Display formatting. Every function renders null/undefined/NaN as an em dash. */

const DASH = '—';
const bad = (v: number | null | undefined): v is null | undefined => v === null || v === undefined || !Number.isFinite(v);

/** 99.95 → "99.95%"; 100 → "100%"; small values keep 2 decimals. */
export function fmtPct(v: number | null | undefined, digits = 2): string {
  if (bad(v)) return DASH;
  if (v === 100) return '100%';
  return `${v.toFixed(digits)}%`;
}

/** Availability gets 3 decimals when it is above 99.9 (where the interesting differences are). */
export function fmtAvail(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  if (v === 100) return '100%';
  return `${v.toFixed(v >= 99.9 ? 3 : 2)}%`;
}

/** 0.42 → "0.42 ms", 145.3 → "145 ms", 2310 → "2.31 s". */
export function fmtMs(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  const a = Math.abs(v);
  if (a >= 60_000) return `${(v / 60_000).toFixed(1)} min`;
  if (a >= 1000) return `${(v / 1000).toFixed(a >= 10_000 ? 1 : 2)} s`;
  if (a >= 10) return `${Math.round(v)} ms`;
  if (a >= 1) return `${v.toFixed(1)} ms`;
  if (a === 0) return '0 ms';
  return `${v.toFixed(2)} ms`;
}

/** Requests per second: "0.05/s", "12.3/s", "1.2k/s". */
export function fmtRps(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  return `${fmtNum(v)}/s`;
}

/** Compact number: 0.05, 12.3, 1.2k, 3.4M. */
export function fmtNum(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  if (a >= 1) return v.toFixed(1);
  if (a === 0) return '0';
  // Small rates (a quiet path over a long window) keep two significant digits instead of reading 0.00.
  if (a < 0.01) return v.toPrecision(2);
  return v.toFixed(2);
}

export function fmtCount(v: number | null | undefined): string {
  if (bad(v)) return DASH;
  return Math.round(v).toLocaleString('en-US');
}

export function fmtTime(ms: number | null | undefined): string {
  if (bad(ms)) return DASH;
  const d = new Date(ms);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function fmtAgo(ms: number | null | undefined, now = Date.now()): string {
  if (bad(ms)) return DASH;
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export const statusLabel: Record<string, string> = {
  healthy: 'Healthy',
  warning: 'Warning',
  critical: 'Critical',
  unknown: 'No data',
  insufficient_data: 'Too little data',
};

/** Sort rank: worst first. */
export const statusRank: Record<string, number> = { critical: 0, warning: 1, healthy: 2, insufficient_data: 3, unknown: 4 };

/** Covered time: "45 s", "14 min", "3.5 h", "6 d". */
export function fmtSpan(seconds: number | null | undefined): string {
  if (bad(seconds)) return DASH;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${Number((seconds / 3600).toFixed(1))} h`;
  return `${Number((seconds / 86400).toFixed(1))} d`;
}

/** What a status was judged on: "based on 14 min / 612 requests". */
export function fmtBasis(m: { covered_seconds?: number; total_requests?: number } | undefined): string {
  if (!m || m.covered_seconds === undefined) return '';
  return `based on ${fmtSpan(m.covered_seconds)} / ${fmtCount(m.total_requests ?? 0)} requests`;
}

/** A burn rate: "2.40×", "∞" when infinite (failures against a 100 % target), "—" without traffic. */
export function fmtBurn(rate: number | null | undefined, infinite?: boolean): string {
  if (infinite) return '∞';
  if (bad(rate)) return DASH;
  return `${rate.toFixed(2)}×`;
}
