import { useMutation } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import { API } from '../api/paths';
import type { AnomaliesResponse, CheckBody as AnomalyCheckRequest, CheckResponse as AnomalyCheckResponse, AnomalyEvent, AvailableKey, AvailableResponse, DayType } from '../../../src/anomaly/schemas';
import { useApi } from '../api/useApi';
import { useAuth } from '../auth';
import { baseTooltip } from '../charts';
import { EChart, type ChartEvent, type ChartOption } from '../components/EChart';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { Icon, PageHeader, Panel, Spinner, StatusBadge } from '../components/ui';
import { fmtAgo, fmtCount, fmtMs } from '../format';
import { useQueryParam } from '../router';
import { useTheme, type Palette } from '../theme';

const HOURS = Array.from({ length: 24 }, (_, h) => h);
const DAY_TYPES: DayType[] = ['weekday', 'weekend'];
const hh = (h: number) => String(h).padStart(2, '0');
const FEED_POLL_MS = 5000;
/** Samples an exact bucket needs before the check uses it alone (server default). */
const MIN_SAMPLES = 50;

const fallbackText: Record<string, string> = {
  exact: 'exact hour bucket',
  neighbours: 'neighbouring hours pooled',
  dayType: 'all hours of this day type',
  all: 'all hours and days',
  none: 'no baseline',
};

function heatmapOption(p: Palette, keys: AvailableKey[]): ChartOption {
  const cells = keys.map((k) => ({
    value: [k.hour, DAY_TYPES.indexOf(k.dayType), Math.round(k.p95 * 10) / 10],
    key: k,
    itemStyle: k.sampleCount < MIN_SAMPLES ? { opacity: 0.45 } : undefined,
  }));
  const vals = keys.map((k) => k.p95);
  const min = vals.length ? Math.min(...vals) : 0;
  const max = vals.length ? Math.max(...vals) : 1;
  const dark = p.name === 'dark';
  return {
    backgroundColor: 'transparent',
    animation: false,
    grid: { left: 8, right: 12, top: 8, bottom: 52, containLabel: true },
    tooltip: {
      ...baseTooltip(p),
      formatter: (x: { data: { key: AvailableKey } }) => {
        const k = x.data.key;
        return [
          `<b>${k.dayType} ${hh(k.hour)}:00–${hh((k.hour + 1) % 24)}:00</b>`,
          `p95 ${fmtMs(k.p95)} · p50 ${fmtMs(k.p50)}${k.mad !== undefined ? ` · MAD ${fmtMs(k.mad)}` : ''}`,
          `${fmtCount(k.sampleCount)} samples${k.sampleCount < MIN_SAMPLES ? ` (fewer than ${MIN_SAMPLES}: neighbours used)` : ''}`,
          k.updatedAt ? `updated ${fmtAgo(k.updatedAt)}` : '',
          '<span style="opacity:.7">click to check a request in this bucket</span>',
        ]
          .filter(Boolean)
          .join('<br/>');
      },
    },
    xAxis: {
      type: 'category',
      data: HOURS.map(hh),
      splitArea: { show: false },
      axisLabel: { color: p.muted, fontSize: 10 },
      axisLine: { lineStyle: { color: p.border } },
      axisTick: { show: false },
      name: 'hour of day',
      nameLocation: 'middle',
      nameGap: 24,
      nameTextStyle: { color: p.muted, fontSize: 10 },
    },
    yAxis: { type: 'category', data: DAY_TYPES, inverse: true, axisLabel: { color: p.text, fontSize: 11 }, axisLine: { show: false }, axisTick: { show: false } },
    visualMap: {
      min,
      max: max > min ? max : min + 1,
      calculable: false,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 180,
      itemWidth: 10,
      text: [fmtMs(max), fmtMs(min)],
      textStyle: { color: p.muted, fontSize: 10 },
      inRange: { color: dark ? ['#12304a', '#1f6f8b', '#e0b33a', '#f26464'] : ['#e3f0fb', '#7fb8e6', '#f0c050', '#d93a3a'] },
    },
    series: [
      {
        type: 'heatmap',
        data: cells,
        label: { show: true, fontSize: 9, color: dark ? '#e8ecf2' : '#1d2330', formatter: (x: { data: { key: AvailableKey } }) => { const v = x.data.key.p95; return v >= 1000 ? `${(v / 1000).toFixed(1)}s` : String(Math.round(v)); } },
        itemStyle: { borderColor: p.panel, borderWidth: 2, borderRadius: 3 },
        emphasis: { itemStyle: { borderColor: p.text, borderWidth: 1 } },
      },
    ],
  };
}

interface CheckForm {
  service: string;
  endpoint: string;
  when: string;
  durationMs: string;
  pin: boolean;
  hour: number;
  dayType: DayType;
}

/** Wall-clock fields of an instant in an IANA zone. */
function zonedParts(ms: number, timeZone: string): Record<string, number> {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  return Object.fromEntries(f.formatToParts(ms).filter((p) => p.type !== 'literal').map((p) => [p.type, Number(p.value)]));
}

/** "2024-06-10T14:30" (a datetime-local value) of an instant, in the bucket zone (not the browser's). */
function zonedInputValue(ms: number, timeZone: string): string {
  const p = zonedParts(ms, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour % 24)}:${two(p.minute)}`;
}

/** A datetime-local value read as wall-clock time in `timeZone` → epoch ms (NaN when not a date). */
function zonedInputToEpoch(value: string, timeZone: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(value);
  if (!m) return NaN;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // The zone's offset at the guess, applied twice so a DST change between guess and answer is followed.
  let t = wall;
  for (let i = 0; i < 2; i++) {
    const p = zonedParts(t, timeZone);
    const seen = Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
    t = wall - (seen - t);
  }
  return t;
}

/** "Jun 10, 14:30:05 Asia/Taipei": an absolute time in the bucket zone, named. */
function fmtZoned(ms: number, timeZone: string): string {
  return `${new Date(ms).toLocaleString('en-GB', { timeZone, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })} ${timeZone}`;
}

function Verdict({ r }: { r: AnomalyCheckResponse }) {
  const state = r.cannotDetermine ? 'unknown' : r.isAnomaly ? 'critical' : 'healthy';
  const label = r.cannotDetermine ? 'Cannot determine' : r.isAnomaly ? 'Anomaly' : 'Normal';
  const b = r.baseline;
  const scaleMax = Math.max(r.durationMs, r.threshold ?? 0, b?.p95 ?? 0) * 1.1 || 1;
  const pos = (v: number) => `${Math.min(100, (v / scaleMax) * 100)}%`;
  return (
    <div className={`verdict verdict-${state}`} data-testid="check-result">
      <div className="verdict-head">
        <StatusBadge status={state} label={label} />
        <span className="muted small">
          {r.service} · <span className="mono">{r.endpoint}</span> · {r.bucket.dayType} {hh(r.bucket.hour)}:00 ({r.timeZone})
        </span>
      </div>
      {b && (
        <p className="muted small" data-testid="check-basis">
          Based on {fmtCount(b.sampleCount)} traces · baseline updated {fmtAgo(Date.now() - (r.baselineAgeMs ?? Date.now() - b.updatedAt))}
        </p>
      )}
      <p className="verdict-text">{r.explanation}</p>
      {b && r.threshold !== null && (
        <div className="gauge" aria-hidden>
          <div className="gauge-track">
            <span className="gauge-band" style={{ left: pos(b.p50), width: `calc(${pos(b.p95)} - ${pos(b.p50)})` }} />
            <span className="gauge-mark mark-threshold" style={{ left: pos(r.threshold) }} title="threshold" />
            <span className={`gauge-value ${r.isAnomaly ? 'bad' : ''}`} style={{ left: pos(r.durationMs) }} />
          </div>
          <div className="gauge-legend">
            <span>
              <i className="sw sw-band" /> p50–p95 {fmtMs(b.p50)}–{fmtMs(b.p95)}
            </span>
            <span>
              <i className="sw sw-threshold" /> threshold {fmtMs(r.threshold)}
            </span>
            <span>
              <i className={`sw sw-value ${r.isAnomaly ? 'bad' : ''}`} /> this request {fmtMs(r.durationMs)}
            </span>
          </div>
        </div>
      )}
      <dl className="facts">
        <dt>Baseline</dt>
        <dd>{b ? `p50 ${fmtMs(b.p50)} · p95 ${fmtMs(b.p95)} · MAD ${fmtMs(b.mad)} · ${fmtCount(b.sampleCount)} samples` : '—'}</dd>
        <dt>Source</dt>
        <dd>
          {fallbackText[r.fallbackLevel] ?? r.fallbackLevel}
          {r.baselineSource && <code className="source">{r.baselineSource}</code>}
        </dd>
        {r.thresholdDetail && (
          <>
            <dt>Rule</dt>
            <dd>
              max({r.thresholdDetail.factor} × p95 = {fmtMs(r.thresholdDetail.p95Term)}, p50 + {r.thresholdDetail.k} × MAD = {fmtMs(r.thresholdDetail.madTerm)})
            </dd>
          </>
        )}
      </dl>
    </div>
  );
}

function Feed({ service, endpoint, timeZone }: { service: string; endpoint: string; timeZone: string }) {
  const [onlySelected, setOnlySelected] = useState(false);
  const query = onlySelected ? { service, endpoint, limit: 100 } : { limit: 100 };
  const { data, error, loading, reload, updatedAt } = useApi<AnomaliesResponse>(API.anomalies, query, { pollMs: FEED_POLL_MS });
  const [open, setOpen] = useState<string | null>(null);
  const seen = useRef<Set<string> | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const list: AnomalyEvent[] = data?.anomalies ?? [];

  useEffect(() => {
    if (!data) return;
    const ids = data.anomalies.map((a) => a.id);
    if (seen.current) setFresh(new Set(ids.filter((id) => !seen.current!.has(id))));
    seen.current = new Set(ids);
    // Every answer, even one equal to the last (the cache keeps that one's identity): nothing is fresh then.
  }, [data, updatedAt]);

  const actions = (
    <>
      <span className={`live ${error ? 'live-down' : ''}`} title={error ? `last poll failed: ${error.message}` : undefined}>
        <span className="live-dot" /> {error ? 'polling failed' : 'live'} · every {FEED_POLL_MS / 1000} s
      </span>
      <label className="check small">
        <input type="checkbox" checked={onlySelected} disabled={!service} onChange={(e) => setOnlySelected(e.target.checked)} /> only {service ? `${service} ${endpoint}` : 'the selected endpoint'}
      </label>
    </>
  );

  return (
    <Panel title="Live anomaly feed" actions={actions} pad={false} className="feed-panel">
      {loading && !data ? (
        <Loading label="Loading anomalies…" />
      ) : error && !data ? (
        <ErrorState error={error} onRetry={reload} what="the anomaly feed" />
      ) : list.length === 0 ? (
        <Empty title="No anomalies detected">
          Nothing above its threshold {onlySelected ? 'for this endpoint ' : ''}yet. Anomalies appear here within seconds of the traces being ingested — if none ever do, check that
          traces are being shipped.
        </Empty>
      ) : (
        <>
          {error && <InlineError>Polling failed: {error.message}</InlineError>}
          <table className="table compact feed" data-testid="anomaly-feed">
            <thead>
              <tr>
                <th>Detected</th>
                <th>Service · endpoint</th>
                <th className="num">Duration</th>
                <th className="num">Threshold</th>
                <th>Explanation</th>
                <th>Trace</th>
              </tr>
            </thead>
            <tbody>
              {list.map((a) => (
                <tr key={a.id} className={fresh.has(a.id) ? 'fresh' : ''} onClick={() => setOpen(open === a.id ? null : a.id)}>
                  <td className="nowrap" title={`started ${fmtZoned(a.startMs, timeZone)}, detected ${fmtZoned(a.detectedAt, timeZone)}`}>
                    {fmtAgo(a.detectedAt)}
                  </td>
                  <td>
                    <div className="strong">{a.service}</div>
                    <div className="mono small muted">{a.endpoint}</div>
                  </td>
                  <td className="num text-critical strong">{fmtMs(a.durationMs)}</td>
                  <td className="num">
                    {fmtMs(a.threshold)}
                    <div className="small muted">{a.threshold > 0 ? `${(a.durationMs / a.threshold).toFixed(1)}×` : ''}</div>
                  </td>
                  <td className={`explain ${open === a.id ? 'open' : ''}`}>{a.explanation}</td>
                  <td className="nowrap">
                    {a.traceUrl ? (
                      <a href={a.traceUrl} target="_blank" rel="noreferrer" onClick={(e) => e.stopPropagation()} className="mono small">
                        {a.traceId.slice(0, 10)}… <Icon name="external" size={11} />
                      </a>
                    ) : (
                      <span className="mono small muted" title={a.traceId}>
                        {a.traceId.slice(0, 10)}…
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Panel>
  );
}

export default function AnomaliesPage() {
  const { palette } = useTheme();
  const { who, openSignIn } = useAuth();
  const [svc, setSvc] = useQueryParam('service', '');
  const [ep, setEp] = useQueryParam('endpoint', '');
  const { data, error, loading, reload } = useApi<AvailableResponse>(API.available, undefined, { pollMs: 60_000 });
  const keys = useMemo(() => data?.keys ?? [], [data]);

  const services = useMemo(() => [...new Set(keys.map((k) => k.service))].sort(), [keys]);
  const service = svc && services.includes(svc) ? svc : (services[0] ?? '');
  const endpointStats = useMemo(() => {
    const m = new Map<string, { endpoint: string; buckets: number; samples: number; minP95: number; maxP95: number }>();
    for (const k of keys) {
      if (k.service !== service) continue;
      const e = m.get(k.endpoint) ?? { endpoint: k.endpoint, buckets: 0, samples: 0, minP95: Infinity, maxP95: 0 };
      e.buckets++;
      e.samples += k.sampleCount;
      e.minP95 = Math.min(e.minP95, k.p95);
      e.maxP95 = Math.max(e.maxP95, k.p95);
      m.set(k.endpoint, e);
    }
    return [...m.values()].sort((a, b) => b.samples - a.samples);
  }, [keys, service]);
  const endpoint = ep && endpointStats.some((e) => e.endpoint === ep) ? ep : (endpointStats[0]?.endpoint ?? '');
  const cellKeys = useMemo(() => keys.filter((k) => k.service === service && k.endpoint === endpoint), [keys, service, endpoint]);
  const option = useMemo(() => heatmapOption(palette, cellKeys), [palette, cellKeys]);

  // One zone everywhere on this page: the server's bucket zone, by name (not the browser's).
  const timeZone = data?.timeZone ?? 'UTC';
  const [form, setForm] = useState<CheckForm>({ service: '', endpoint: '', when: '', durationMs: '', pin: false, hour: 12, dayType: 'weekday' });
  const [result, setResult] = useState<AnomalyCheckResponse | null>(null);
  const [checkError, setCheckError] = useState<ApiError | Error | null>(null);
  // A question, not a change: nothing cached goes stale.
  const check = useMutation({ mutationFn: (body: AnomalyCheckRequest) => api<AnomalyCheckResponse>(API.anomalyCheck, { method: 'POST', body }) });
  const checking = check.isPending;

  // Follow the selection until the user types their own service.
  useEffect(() => {
    setForm((f) => (f.service === '' || services.includes(f.service) ? { ...f, service, endpoint } : f));
  }, [service, endpoint, services]);

  // A heatmap cell is a question about that bucket: fill the form and answer it at once, so the
  // verdict on screen is never the previous bucket's.
  const onCell = (e: ChartEvent) => {
    const k = (e.data as { key?: AvailableKey } | undefined)?.key;
    if (!k) return;
    const next: CheckForm = { ...form, service: k.service, endpoint: k.endpoint, pin: true, hour: k.hour, dayType: k.dayType, durationMs: form.durationMs || String(Math.round(k.p95 * 2.5)) };
    setForm(next);
    void runCheck(next);
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void runCheck(form);
  };

  const runCheck = async (form: CheckForm) => {
    setCheckError(null);
    setResult(null);
    const dur = Number(form.durationMs);
    if (!form.service.trim()) return setCheckError(new Error('Enter the service name.'));
    if (!form.durationMs.trim() || !Number.isFinite(dur) || dur < 0) return setCheckError(new Error('Duration must be a number of milliseconds, 0 or more.'));
    const ms = form.when ? zonedInputToEpoch(form.when, timeZone) : Date.now();
    if (!Number.isFinite(ms)) return setCheckError(new Error('The start time is not a valid date.'));
    const body: AnomalyCheckRequest = { service: form.service.trim(), endpoint: form.endpoint, timestampNano: (BigInt(Math.round(ms)) * 1_000_000n).toString(), durationMs: dur };
    if (form.pin) {
      body.hour = form.hour;
      body.dayType = form.dayType;
    }
    try {
      setResult(await check.mutateAsync(body));
    } catch (err) {
      setCheckError(err as Error);
    }
  };

  const formEndpoints = useMemo(() => [...new Set(keys.filter((k) => k.service === form.service).map((k) => k.endpoint))].sort(), [keys, form.service]);

  const checkErrorText = (() => {
    if (!checkError) return null;
    if (!(checkError instanceof ApiError)) return checkError.message;
    if (checkError.status === 401) return 'The check needs a token. Sign in first.';
    if (checkError.status === 403) return `Your role (${who?.role ?? 'anonymous'}) may not run checks: ${checkError.message}`;
    if (checkError.routeMissing) return 'This server does not offer POST /v1/anomaly/check yet.';
    return `${checkError.message}${checkError.field ? ` (field ${checkError.field})` : ''}`;
  })();

  return (
    <div className="page" data-page="anomalies">
      <PageHeader
        title="Anomalies"
        subtitle={
          <>
            Time-aware latency baselines per service, endpoint, hour and day type, learned from traces. A request is anomalous when it takes longer than max(2 × p95, p50 + 10 × MAD) of its
            bucket{data?.timeZone ? ` (hours in ${data.timeZone})` : ''}.
          </>
        }
      />

      <div className="anomaly-grid">
        <Panel
          title="Baseline p95 by hour and day type"
          className="heatmap-panel"
          actions={
            services.length > 0 && (
              <>
                <select className="select" aria-label="Service" value={service} onChange={(e) => (setSvc(e.target.value), setEp(null))}>
                  {services.map((s) => (
                    <option key={s}>{s}</option>
                  ))}
                </select>
                <select className="select endpoint-select" aria-label="Endpoint" value={endpoint} onChange={(e) => setEp(e.target.value)}>
                  {endpointStats.map((s) => (
                    <option key={s.endpoint}>{s.endpoint}</option>
                  ))}
                </select>
              </>
            )
          }
        >
          {loading && !data ? (
            <Loading label="Loading baselines…" />
          ) : error && !data ? (
            <ErrorState error={error} onRetry={reload} what="the learned baselines" />
          ) : keys.length === 0 ? (
            <Empty>No baselines learned yet — is an agent shipping traces? Vigil learns from Tempo (search polling) or OTLP traces sent to the server.</Empty>
          ) : (
            <>
              <EChart option={option} height={200} onClick={onCell} ariaLabel={`p95 heatmap of ${service} ${endpoint}`} />
              <div className="endpoint-list">
                <table className="table compact">
                  <thead>
                    <tr>
                      <th>Endpoints of {service}</th>
                      <th className="num">Buckets</th>
                      <th className="num">Samples</th>
                      <th className="num">p95 range</th>
                    </tr>
                  </thead>
                  <tbody>
                    {endpointStats.map((s) => (
                      <tr key={s.endpoint} className={s.endpoint === endpoint ? 'selected' : ''}>
                        <td>
                          <button type="button" className="link-btn mono" onClick={() => setEp(s.endpoint)}>
                            {s.endpoint}
                          </button>
                        </td>
                        <td className="num">{s.buckets}/48</td>
                        <td className="num">{fmtCount(s.samples)}</td>
                        <td className="num">
                          {fmtMs(s.minP95)} – {fmtMs(s.maxP95)}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </Panel>

        <Panel title="Check a request" className="check-panel">
          <form className="check-form" onSubmit={submit}>
            <label className="field">
              <span>Service</span>
              <input list="svc-options" value={form.service} onChange={(e) => setForm({ ...form, service: e.target.value })} placeholder="e.g. checkout" />
              <datalist id="svc-options">
                {services.map((s) => (
                  <option key={s} value={s} />
                ))}
              </datalist>
            </label>
            <label className="field">
              <span>Endpoint</span>
              <input list="ep-options" value={form.endpoint} onChange={(e) => setForm({ ...form, endpoint: e.target.value })} placeholder="e.g. GET /cart/{id}" className="mono" />
              <datalist id="ep-options">
                {formEndpoints.map((s) => (
                  <option key={s} value={s} />
                ))}
              </datalist>
            </label>
            <div className="field-row">
              <label className="field">
                <span>Started at ({timeZone})</span>
                <input
                  type="datetime-local"
                  value={form.when || zonedInputValue(Date.now() - (Date.now() % 60_000), timeZone)}
                  disabled={form.pin}
                  onChange={(e) => setForm({ ...form, when: e.target.value })}
                />
              </label>
              <label className="field">
                <span>Duration (ms)</span>
                <input inputMode="decimal" value={form.durationMs} onChange={(e) => setForm({ ...form, durationMs: e.target.value })} placeholder="e.g. 850" />
              </label>
            </div>
            <div className="field-row pin-row">
              <label className="check small">
                <input type="checkbox" checked={form.pin} onChange={(e) => setForm({ ...form, pin: e.target.checked })} /> pin the bucket
              </label>
              <select className="select" aria-label="Hour" disabled={!form.pin} value={form.hour} onChange={(e) => setForm({ ...form, hour: Number(e.target.value) })}>
                {HOURS.map((h) => (
                  <option key={h} value={h}>
                    {hh(h)}:00
                  </option>
                ))}
              </select>
              <select className="select" aria-label="Day type" disabled={!form.pin} value={form.dayType} onChange={(e) => setForm({ ...form, dayType: e.target.value as DayType })}>
                {DAY_TYPES.map((d) => (
                  <option key={d}>{d}</option>
                ))}
              </select>
            </div>
            <div className="form-actions">
              <span className="muted small">Tip: click a heatmap cell to check against that bucket.</span>
              <button type="submit" className="btn btn-primary" disabled={checking}>
                {checking && <Spinner small />} Check
              </button>
            </div>
          </form>
          {checkErrorText && (
            <InlineError>
              {checkErrorText}{' '}
              {checkError instanceof ApiError && checkError.status === 401 && (
                <button type="button" className="link-btn" onClick={() => openSignIn()}>
                  Sign in
                </button>
              )}
            </InlineError>
          )}
          {result && <Verdict r={result} />}
        </Panel>
      </div>

      <Feed service={service} endpoint={endpoint} timeZone={timeZone} />
    </div>
  );
}
