/**
 * The diagnosis report: one JSON document per batch, built from the merged aggregate and the
 * findings (pure). Its shape is the `BatchReport` schema in schemas.ts.
 */
import type { BatchAggregate } from './aggregate.js';
import type { Finding } from './diagnose/rules.js';
import { DTC_SYSTEM_NAMES } from './diagnose/dtc.js';
import { hex2 } from './diagnose/uds.js';

export interface ReportFile {
  file_id: string;
  name: string;
  size: number;
  format: string | null;
  status: string;
  error: string | null;
  records: number;
  first_time: number | null;
  last_time: number | null;
  errors: number;
}

export interface DtcRow {
  code: string;
  system: string;
  count: number;
  confirmed: boolean;
  status_bits: string[];
  first_seen: number | null;
  files: string[];
}

export interface NrcRow {
  sid: string;
  service: string;
  nrc: string;
  name: string;
  count: number;
  first_seen: number | null;
  files: string[];
}

export interface LlmSummary {
  model: string;
  text: string;
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
}

export interface BatchReport {
  batch: { batch_id: string; vehicle_id: string; vin: string; status: string; labels: Record<string, string>; created_at: number; completed_at: number | null };
  summary: { files: number; failed_files: number; records: number; errors: number; fatals: number; findings: number; first_time: number | null; last_time: number | null; headline: string };
  files: ReportFile[];
  timeline: { minute: number; counts: Record<string, number> }[];
  by_level: Record<string, number>;
  by_ecu: Record<string, number>;
  by_app: Record<string, number>;
  findings: Finding[];
  dtcs: DtcRow[];
  nrcs: NrcRow[];
  top_templates: { template: string; count: number; examples: string[] }[];
  error_lines: BatchAggregate['errorLines'];
  llm: (LlmSummary & { status: 'ok' }) | { status: 'disabled' | 'failed'; reason?: string };
  generated_at: number;
}

export interface ReportInput {
  batch: BatchReport['batch'];
  files: ReportFile[];
  aggregate: BatchAggregate;
  findings: Finding[];
  llm: BatchReport['llm'];
  now: number;
}

export function buildReport(input: ReportInput): BatchReport {
  const { aggregate: a, findings, files } = input;
  const failed = files.filter((f) => f.status === 'failed').length;
  return {
    batch: input.batch,
    summary: {
      files: files.length,
      failed_files: failed,
      records: a.records,
      errors: a.errorCount,
      fatals: a.fatalCount,
      findings: findings.length,
      first_time: a.firstTime,
      last_time: a.lastTime,
      headline: headline(findings, failed),
    },
    files,
    timeline: a.timeline.map((t) => ({ minute: t.minute, counts: t.counts as Record<string, number> })),
    by_level: a.byLevel as Record<string, number>,
    by_ecu: a.byEcu,
    by_app: a.byApp,
    findings,
    dtcs: dtcTable(a),
    nrcs: nrcTable(a),
    top_templates: a.templates.slice(0, 50),
    error_lines: a.errorLines.slice(0, 100),
    llm: input.llm,
    generated_at: input.now,
  };
}

function headline(findings: Finding[], failedFiles: number): string {
  const parts: string[] = [];
  if (findings.length === 0) parts.push('No known failure pattern found');
  else {
    const top = findings[0]!;
    parts.push(`${findings.length} finding${findings.length === 1 ? '' : 's'}; most severe: ${top.title} (${top.severity}, ${top.count}×)`);
  }
  if (failedFiles > 0) parts.push(`${failedFiles} file${failedFiles === 1 ? '' : 's'} could not be parsed`);
  return parts.join('; ');
}

function dtcTable(a: BatchAggregate): DtcRow[] {
  const rows = new Map<string, DtcRow>();
  for (const f of a.facts) {
    if (f.kind !== 'dtc') continue;
    let r = rows.get(f.code);
    if (!r) {
      r = { code: f.code, system: DTC_SYSTEM_NAMES[f.code[0] as 'P'], count: 0, confirmed: false, status_bits: [], first_seen: null, files: [] };
      rows.set(f.code, r);
    }
    r.count++;
    r.confirmed ||= f.confirmed;
    for (const b of f.statusBits ?? []) if (!r.status_bits.includes(b)) r.status_bits.push(b);
    if (f.at.time !== undefined && (r.first_seen === null || f.at.time < r.first_seen)) r.first_seen = f.at.time;
    if (!r.files.includes(f.at.file)) r.files.push(f.at.file);
  }
  return [...rows.values()].sort((x, y) => Number(y.confirmed) - Number(x.confirmed) || y.count - x.count || (x.code < y.code ? -1 : 1));
}

function nrcTable(a: BatchAggregate): NrcRow[] {
  const rows = new Map<string, NrcRow>();
  for (const f of a.facts) {
    if (f.kind !== 'uds_nrc') continue;
    const key = `${f.sid}:${f.nrc}`;
    let r = rows.get(key);
    if (!r) {
      r = { sid: f.sid >= 0 ? hex2(f.sid) : '?', service: f.service, nrc: hex2(f.nrc), name: f.nrcName, count: 0, first_seen: null, files: [] };
      rows.set(key, r);
    }
    r.count++;
    if (f.at.time !== undefined && (r.first_seen === null || f.at.time < r.first_seen)) r.first_seen = f.at.time;
    if (!r.files.includes(f.at.file)) r.files.push(f.at.file);
  }
  return [...rows.values()].sort((x, y) => y.count - x.count || (x.nrc < y.nrc ? -1 : 1));
}
