import { useMemo, useState } from 'react';
import { EChart } from '../EChart';
import { Empty } from '../states';
import { Panel, StatCard } from '../ui';
import { fmtCount } from '../../format';
import { Link, useHref } from '../../router';
import { useTheme } from '../../theme';
import { batchPages, type BatchReport } from './api';
import { SeverityChip } from './chips';
import { timelineOption } from './timeline';

type Finding = BatchReport['findings'][number];

/** An epoch-ms time as the logs carry it (UTC), to the second. */
export const fmtUtc = (ms: number | null | undefined): string => (ms === null || ms === undefined || !Number.isFinite(ms) ? '—' : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`);

const EVIDENCE_SHOWN = 5;

function FindingCard({ f, batchId, fileIds }: { f: Finding; batchId: string; fileIds: Map<string, string> }) {
  const href = useHref();
  const [all, setAll] = useState(false);
  const shown = all ? f.evidence : f.evidence.slice(0, EVIDENCE_SHOWN);
  return (
    <li className={`finding finding-${f.severity}`} data-testid="finding" data-rule={f.rule}>
      <div className="finding-head">
        <SeverityChip severity={f.severity} />
        <span className="finding-title">{f.title}</span>
        <span className="finding-count" title="occurrences">
          {fmtCount(f.count)}×
        </span>
      </div>
      <p className="finding-action">
        <span className="muted">Suggested action: </span>
        {f.action}
      </p>
      {f.evidence.length > 0 && (
        <ul className="evidence">
          {shown.map((e, i) => {
            const fileId = fileIds.get(e.file);
            const label = (
              <>
                <span className="mono evidence-where">
                  {e.file} #{e.index}
                </span>
                {e.time !== undefined && <span className="muted small nowrap">{fmtUtc(e.time)}</span>}
                <span className="mono evidence-text">{e.text}</span>
              </>
            );
            return (
              <li key={`${e.file}:${e.index}:${i}`}>
                {fileId ? (
                  <Link to={href(batchPages.file(batchId, fileId), { index: String(e.index) })} className="evidence-link" data-testid="evidence" title="Open this record in the log viewer">
                    {label}
                  </Link>
                ) : (
                  <span className="evidence-link">{label}</span>
                )}
              </li>
            );
          })}
          {f.evidence.length > EVIDENCE_SHOWN && (
            <li>
              <button type="button" className="link-btn small" onClick={() => setAll(!all)}>
                {all ? 'show fewer' : `show all ${f.evidence.length} records`}
              </button>
            </li>
          )}
        </ul>
      )}
    </li>
  );
}

/** A completed batch's report: headline, findings with evidence, timeline, DTC/NRC tables, templates, LLM summary. */
export function ReportView({ report, batchId }: { report: BatchReport; batchId: string }) {
  const { palette } = useTheme();
  const s = report.summary;
  const fileIds = useMemo(() => {
    const m = new Map<string, string>();
    for (const f of report.files) if (!m.has(f.name)) m.set(f.name, f.file_id);
    return m;
  }, [report.files]);
  const option = useMemo(() => timelineOption(palette, report.timeline), [palette, report.timeline]);
  const worst = report.findings[0]?.severity;

  return (
    <>
      <Panel title="Diagnosis" className="report-head">
        <p className={`headline ${worst ? `headline-${worst}` : ''}`} data-testid="headline">
          {s.headline}
        </p>
        <div className="stats">
          <StatCard label="Findings" value={fmtCount(s.findings)} tone={worst === 'critical' ? 'critical' : worst === 'high' ? 'warning' : undefined} />
          <StatCard label="Records" value={fmtCount(s.records)} hint={`${fmtCount(s.files)} files${s.failed_files ? `, ${s.failed_files} unparsed` : ''}`} />
          <StatCard label="Errors" value={fmtCount(s.errors)} hint={`${fmtCount(s.fatals)} fatal`} tone={s.fatals > 0 ? 'critical' : undefined} />
          <StatCard label="Log span (UTC)" value={<span className="small">{fmtUtc(s.first_time)}</span>} hint={<>to {fmtUtc(s.last_time)}</>} />
        </div>
      </Panel>

      {(report.llm.status !== 'disabled' || report.llm.reason) && (
        <Panel title="Summary (LLM)">
          {report.llm.status === 'ok' ? (
            <>
              <p className="llm-text" data-testid="llm-summary">
                {report.llm.text}
              </p>
              <p className="muted small">
                {report.llm.model}
                {report.llm.usage?.total_tokens !== undefined && ` · ${fmtCount(report.llm.usage.total_tokens)} tokens`}
              </p>
            </>
          ) : (
            <p className="muted">No summary: {report.llm.reason ?? 'the model did not answer'}. The findings below come from the rules.</p>
          )}
        </Panel>
      )}

      <Panel title={`Findings (${report.findings.length})`} pad={report.findings.length === 0}>
        {report.findings.length === 0 ? (
          <Empty title="No known failure pattern">No rule matched these logs. The timeline, tables and templates below show what they contain.</Empty>
        ) : (
          <ul className="findings" data-testid="findings">
            {report.findings.map((f) => (
              <FindingCard key={f.rule} f={f} batchId={batchId} fileIds={fileIds} />
            ))}
          </ul>
        )}
      </Panel>

      <Panel title="Records per minute by level">
        {report.timeline.length === 0 ? <Empty title="No timestamps">None of the records carries a time.</Empty> : <EChart option={option} height={240} ariaLabel="records per minute by level" />}
      </Panel>

      <div className="chart-grid">
        <Panel title={`Diagnostic trouble codes (${report.dtcs.length})`} pad={false}>
          {report.dtcs.length === 0 ? (
            <p className="pad muted">No DTC in these logs.</p>
          ) : (
            <div className="table-wrap">
              <table className="table compact" data-testid="dtc-table">
                <thead>
                  <tr>
                    <th>Code</th>
                    <th>System</th>
                    <th>Confirmed</th>
                    <th>Status bits</th>
                    <th className="num">Count</th>
                  </tr>
                </thead>
                <tbody>
                  {report.dtcs.map((d) => (
                    <tr key={d.code}>
                      <td className="mono strong">{d.code}</td>
                      <td>{d.system}</td>
                      <td>{d.confirmed ? <span className="sev sev-high">confirmed</span> : <span className="muted">no</span>}</td>
                      <td className="small">{d.status_bits.length ? d.status_bits.join(', ') : <span className="muted">—</span>}</td>
                      <td className="num">{fmtCount(d.count)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Panel>
        <Panel title={`UDS negative responses (${report.nrcs.length})`} pad={false}>
          {report.nrcs.length === 0 ? (
            <p className="pad muted">No negative response in these logs.</p>
          ) : (
            <div className="table-wrap">
              <table className="table compact" data-testid="nrc-table">
                <thead>
                  <tr>
                    <th>Service</th>
                    <th>NRC</th>
                    <th>Name</th>
                    <th className="num">Count</th>
                  </tr>
                </thead>
                <tbody>
                  {report.nrcs.map((n) => (
                    <tr key={`${n.sid}:${n.nrc}`}>
                      <td>
                        <span className="mono">{n.sid}</span> <span className="muted">{n.service}</span>
                      </td>
                      <td className="mono strong">{n.nrc}</td>
                      <td>{n.name}</td>
                      <td className="num">{fmtCount(n.count)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Panel>
      </div>

      <Panel title="Top message templates" pad={false}>
        {report.top_templates.length === 0 ? (
          <p className="pad muted">No messages to mine.</p>
        ) : (
          <div className="table-wrap">
            <table className="table compact templates-table" data-testid="templates-table">
              <thead>
                <tr>
                  <th className="num">Count</th>
                  <th>Template</th>
                  <th>Example</th>
                </tr>
              </thead>
              <tbody>
                {report.top_templates.slice(0, 20).map((t, i) => (
                  <tr key={i}>
                    <td className="num">{fmtCount(t.count)}</td>
                    <td className="mono template">{t.template}</td>
                    <td className="mono small muted template">{t.examples[0] ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </>
  );
}
