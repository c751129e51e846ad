import type { ReactNode } from 'react';
import { Link, useHref } from '../router';
import { PageHeader, Panel } from '../components/ui';

const PAGES: Record<'faults' | 'batches', { title: string; summary: string; will: ReactNode[]; meanwhile: ReactNode }> = {
  faults: {
    title: 'Faults',
    summary: 'Fault injection: controlled aborts and delays in front of a service, to rehearse how your SLOs respond.',
    will: [
      'List, create and delete abort/delay policies (by service, path, header and percentage) — admin only.',
      <>Show which executors (the <code>vigil executor</code> proxy) received each policy and when.</>,
      'Chart every injected fault from the executors’ Prometheus metrics.',
      'Put the injected faults beside the SLOs they hurt on the Domains and Mesh pages.',
    ],
    meanwhile: <>Policies will be files applied with <code>vigil fault …</code> or the <code>/v1/policies</code> API, which arrive with this capability.</>,
  },
  batches: {
    title: 'Batches',
    summary: 'Log batch diagnosis: devices upload batches of log files (DLT, text) that are parsed in parallel, aggregated and diagnosed.',
    will: [
      'List batches with their state (uploading, parsing, aggregating, diagnosed, failed).',
      'Show live progress per file while workers parse them.',
      'Show the report: error counts by application and context, timelines and the diagnosis.',
      'Download the original files and the report.',
    ],
    meanwhile: <>Uploads will go through <code>vigil batch …</code> and <code>/api/v1/batches</code> once this capability ships.</>,
  },
};

export default function NotBuiltPage({ which }: { which: keyof typeof PAGES }) {
  const p = PAGES[which];
  const href = useHref();
  return (
    <div className="page" data-page={which}>
      <PageHeader title={p.title} subtitle={p.summary} />
      <Panel>
        <div className="not-built">
          <span className="pill pill-warning">not built yet</span>
          <p className="not-built-lead">
            This capability is <strong>not built yet</strong> in this version of Vigil. When it ships, this page will:
          </p>
          <ul className="checklist">
            {p.will.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ul>
          <p className="muted">{p.meanwhile}</p>
          <p>
            Meanwhile: <Link to={href('/slo/domains')}>SLO domains</Link> · <Link to={href('/slo/mesh')}>service mesh</Link> ·{' '}
            <Link to={href('/anomalies')}>latency anomalies</Link>
          </p>
        </div>
      </Panel>
    </div>
  );
}
