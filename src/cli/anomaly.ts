/**
 * `vigil anomaly check|baseline|backfill|list`: clients of a running server's anomaly API.
 * The server is --server (or VIGIL_SERVER_URL, default the configured local port); the token is
 * --token, else VIGIL_TOKEN, else the configured admin token (VIGIL_ADMIN_TOKEN / auth.adminToken),
 * else the one `vigil up` keeps in <dataDir>/admin-token.
 *
 * Exit codes of `check`: 0 normal, 1 error, 2 usage, 3 anomalous (with --fail-on-anomaly),
 * 4 cannot determine (no baseline good enough: a script must not read it as "normal").
 * `backfill` reads Tempo itself (anomaly.tempo.* or --tempo-url) in slices, with a progress bar,
 * and sends what it finds to POST /api/v1/anomaly/summaries.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { parseDuration } from '../config/load.js';
import { resolveAnomalySettings, fmtMs, TempoClient, type SearchWindow, type TraceSummary } from '../anomaly/index.js';
import { UsageError, examples } from './common.js';
import { apiClient, table, withClientOptions } from './client.js';

/** `vigil anomaly check` exit codes beyond 0 (normal), 1 (error) and 2 (usage). */
export const EXIT_ANOMALY = 3;
export const EXIT_CANNOT_DETERMINE = 4;

/** Where output goes (tests replace it). */
export const io = {
  out: (s: string) => void process.stdout.write(s),
  err: (s: string) => void process.stderr.write(s),
  isTTY: () => !!process.stderr.isTTY,
  now: () => Date.now(),
};

/** "2024-06-10T14:00:00+08:00", epoch ms, or "15m" (that long ago). */
function parseInstant(v: string, name: string): number {
  if (/^\d{10,16}$/.test(v)) return Number(v);
  if (/^[0-9]+(ms|s|m|h|d)$/.test(v)) return io.now() - parseDuration(v);
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new UsageError(`${name} must be an ISO time, epoch milliseconds or a duration ago such as 2h, got "${v}"`);
  return t;
}

function parseIntArg(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${name} must be an integer ${min}–${max}, got "${v}"`);
  return Number(v);
}

function durationArg(v: string, name: string): number {
  if (!/^[0-9]+(ms|s|m|h|d)$/.test(v) || parseDuration(v) <= 0) throw new UsageError(`${name} must be a duration such as 90m, 7d, got "${v}"`);
  return parseDuration(v);
}

/** "2024-06-10 14:30:05" in the given IANA zone. */
export function localTime(epochMs: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(epochMs);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}

const iso = (sec: number) => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');

// ---------------------------------------------------------------- commands

interface CheckVerdict {
  isAnomaly: boolean;
  cannotDetermine?: boolean;
  service: string;
  endpoint: string;
  durationMs: number;
  bucket: { hour: number; dayType: string };
  timeZone: string;
  threshold: number | null;
  fallbackLevel: string;
  explanation: string;
  baseline: { sampleCount: number; updatedAt: number } | null;
  baselineAgeMs?: number | null;
}

/** "40 s", "12 min", "3 h", "2 d": how long ago, coarse. */
export function fmtAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

interface AvailableKey {
  service: string;
  endpoint: string;
  hour: number;
  dayType: string;
  sampleCount: number;
  p50: number;
  p95: number;
  mad: number;
}

export function registerAnomalyCommands(program: Command): void {
  const anomaly = program.command('anomaly').description('Latency anomaly detection: check a request, inspect baselines, backfill from Tempo');
  examples(anomaly, [
    'vigil anomaly check --service checkout --endpoint "POST /checkout" --duration-ms 2310',
    'vigil anomaly baseline --service checkout',
    'vigil anomaly backfill --since 7d',
    'vigil anomaly list --since 1h',
  ]);

  const check = withClientOptions(anomaly.command('check').description('Is this latency anomalous for its service, endpoint, hour and day type?'))
    .requiredOption('--service <name>', 'service (the root span\'s service.name)')
    .requiredOption('--endpoint <name>', 'endpoint (root span name, e.g. "POST /checkout")')
    .requiredOption('--duration-ms <ms>', 'duration of the request in milliseconds')
    .option('--at <time>', 'when the request started: ISO time, epoch ms, or a duration ago (default now)')
    .option('--hour <0-23>', 'pin the hour bucket instead of deriving it from --at')
    .option('--day-type <weekday|weekend>', 'pin the day type')
    .option('--fail-on-anomaly', `exit ${EXIT_ANOMALY} when the verdict is anomalous (cannot determine always exits ${EXIT_CANNOT_DETERMINE})`)
    .action(async (opts) => {
      const { api } = apiClient(opts);
      const durationMs = Number(opts.durationMs);
      if (!/^\s*\d+(\.\d+)?\s*$/.test(String(opts.durationMs))) throw new UsageError(`--duration-ms must be a number >= 0, got "${opts.durationMs}"`);
      const body: Record<string, unknown> = { service: opts.service, endpoint: opts.endpoint, durationMs };
      if (opts.at) body.timestampMs = parseInstant(opts.at, '--at');
      if (opts.hour !== undefined) body.hour = parseIntArg(opts.hour, '--hour', 0, 23);
      if (opts.dayType !== undefined) body.dayType = opts.dayType;
      const { body: v } = await api.call<CheckVerdict>('POST', '/v1/anomaly/check', body);
      if (opts.json) io.out(JSON.stringify(v, null, 2) + '\n');
      else {
        const verdict = v.cannotDetermine ? 'CANNOT DETERMINE' : v.isAnomaly ? 'ANOMALY' : 'normal';
        const where = `${v.bucket.dayType} ${String(v.bucket.hour).padStart(2, '0')}:00 ${v.timeZone}`;
        const thr = v.threshold === null ? '' : `, threshold ${fmtMs(v.threshold)} ms (${v.fallbackLevel} baseline)`;
        const basis = v.baseline
          ? `based on ${v.baseline.sampleCount} traces, baseline updated ${fmtAge(v.baselineAgeMs ?? io.now() - v.baseline.updatedAt)} ago\n`
          : '';
        io.out(`${verdict}: ${v.service} ${v.endpoint} ${fmtMs(v.durationMs)} ms at ${where}${thr}\n${basis}${v.explanation}\n`);
      }
      if (v.cannotDetermine) process.exitCode = EXIT_CANNOT_DETERMINE;
      else if (opts.failOnAnomaly && v.isAnomaly) process.exitCode = EXIT_ANOMALY;
    });
  check.addHelpText('after', `\nExit codes: 0 normal, 1 error, 2 usage, ${EXIT_ANOMALY} anomalous (with --fail-on-anomaly), ${EXIT_CANNOT_DETERMINE} cannot determine.\n`);
  examples(check, [
    'vigil anomaly check --service checkout --endpoint "POST /checkout" --duration-ms 2310',
    'vigil anomaly check --service cart --endpoint "GET /cart/123" --duration-ms 95 --at 2024-06-10T14:30:00+08:00 --json',
  ]);

  const baseline = withClientOptions(anomaly.command('baseline').description('Show the learned baseline of one bucket, or every bucket of an endpoint'))
    .requiredOption('--service <name>', 'service')
    .option('--endpoint <name>', 'endpoint (ids are normalised, so /users/42 finds /users/{id})')
    .option('--hour <0-23|*>', 'hour bucket (with --day-type); * for all hours of the day type')
    .option('--day-type <weekday|weekend|*>', 'day type')
    .action(async (opts) => {
      const { api } = apiClient(opts);
      if ((opts.hour === undefined) !== (opts.dayType === undefined)) throw new UsageError('--hour and --day-type go together');
      if (opts.hour !== undefined) {
        if (!opts.endpoint) throw new UsageError('--endpoint is required with --hour');
        const qs = new URLSearchParams({ service: opts.service, endpoint: opts.endpoint, hour: opts.hour, dayType: opts.dayType });
        const { status, body } = await api.call<Record<string, unknown>>('GET', `/v1/baseline?${qs}`);
        if (status === 404) throw new Error(`no baseline learned for ${opts.service} ${opts.endpoint} hour ${opts.hour} ${opts.dayType}`);
        if (opts.json) return void io.out(JSON.stringify(body, null, 2) + '\n');
        const b = body as { p50: number; p95: number; mad: number; sampleCount: number; updatedAt: number; endpoint: string; timeZone: string };
        io.out(
          `${opts.service} ${b.endpoint}, ${opts.dayType} hour ${opts.hour} (${b.timeZone}): p50 ${fmtMs(b.p50)} ms, p95 ${fmtMs(b.p95)} ms, ` +
            `MAD ${fmtMs(b.mad)} ms from ${b.sampleCount} traces (updated ${new Date(b.updatedAt).toISOString()})\n`,
        );
        return;
      }
      const qs = new URLSearchParams({ service: opts.service, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) });
      const { body } = await api.call<{ timeZone: string; keys: AvailableKey[] }>('GET', `/v1/available?${qs}`);
      if (opts.json) return void io.out(JSON.stringify(body, null, 2) + '\n');
      if (body.keys.length === 0) return void io.out(`no baselines learned for ${opts.service}${opts.endpoint ? ` ${opts.endpoint}` : ''} yet\n`);
      io.out(`hours in ${body.timeZone}\n`);
      io.out(
        table(
          ['ENDPOINT', 'DAY TYPE', 'HOUR', 'SAMPLES', 'P50 MS', 'P95 MS', 'MAD MS'],
          body.keys.map((k) => [k.endpoint, k.dayType, String(k.hour).padStart(2, '0'), String(k.sampleCount), fmtMs(k.p50), fmtMs(k.p95), fmtMs(k.mad)]),
        ),
      );
    });
  examples(baseline, [
    'vigil anomaly baseline --service checkout --endpoint "POST /checkout"',
    'vigil anomaly baseline --service checkout --endpoint "POST /checkout" --hour 14 --day-type weekday --json',
  ]);

  const backfill = withClientOptions(anomaly.command('backfill').description('Learn from Tempo history in slices (one-shot), with a progress bar'))
    .requiredOption('--since <time>', 'start: a duration ago (7d), an ISO time or epoch ms')
    .option('--until <time>', 'end: ISO time, epoch ms, or a duration ago (default now)')
    .option('--slice <duration>', 'one Tempo search per slice (truncated slices are split further)', '1h')
    .option('--tempo-url <url>', 'Tempo base URL (default anomaly.tempo.url)')
    .option('--check', 'also flag anomalies among the backfilled traces (default: learn only)')
    .option('--dry-run', 'search Tempo and count, send nothing')
    .action(async (opts) => {
      const { api, config } = apiClient(opts, opts.tempoUrl ? { 'anomaly.tempo.url': opts.tempoUrl } : {});
      const settings = resolveAnomalySettings(config);
      if (!settings.tempo) throw new UsageError('no Tempo URL: set anomaly.tempo.url in the config or pass --tempo-url');
      const startSec = Math.floor(parseInstant(opts.since, '--since') / 1000);
      const sliceSec = Math.max(1, Math.floor(durationArg(opts.slice, '--slice') / 1000));
      const endSec = Math.ceil((opts.until ? parseInstant(opts.until, '--until') : io.now()) / 1000);
      if (startSec >= endSec) throw new UsageError(`--since (${iso(startSec)}) must be before --until (${iso(endSec)})`);
      const windows: SearchWindow[] = [];
      for (let s = startSec; s < endSec; s += sliceSec) windows.push({ start: s, end: Math.min(endSec, s + sliceSec) });

      const warnings: string[] = [];
      const tempo = new TempoClient({ ...settings.tempo.client, onWarn: (m) => warnings.push(m) });
      const totals = { traces: 0, ingested: 0, duplicates: 0, invalid: 0, anomalies: 0, notYetReceived: 0, truncated: 0 };
      const tty = io.isTTY() && !opts.json;
      const bar = tty
        ? new cliProgress.SingleBar(
            { format: 'backfill [{bar}] {value}/{total} slices | {traces} traces, {ingested} new | {window} | ETA {eta_formatted}', stream: process.stderr, hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      if (!opts.json) io.err(`backfilling ${iso(startSec)} – ${iso(endSec)} from ${settings.tempo.client.baseUrl} in ${windows.length} slice(s) into ${api.base}\n`);
      bar?.start(windows.length, 0, { traces: 0, ingested: 0, window: '' });
      for (let i = 0; i < windows.length; i++) {
        const w = windows[i];
        let found: TraceSummary[];
        try {
          const r = await tempo.searchAll(w);
          found = r.summaries;
          totals.notYetReceived += r.rootNotYetReceived;
          totals.truncated += r.truncatedWindows.length;
        } catch (err) {
          bar?.stop();
          throw new Error(
            `Tempo search failed for ${iso(w.start)} – ${iso(w.end)}: ${(err as Error).message}. ` +
              `${i} of ${windows.length} slices are done; resume with: vigil anomaly backfill --since ${iso(w.start)} --until ${iso(endSec)}`,
            { cause: err },
          );
        }
        totals.traces += found.length;
        if (!opts.dryRun) {
          for (let j = 0; j < found.length; j += 5000) {
            const { body } = await api.call<{ ingested: number; duplicates: number; invalid: number; anomalies: number }>('POST', '/api/v1/anomaly/summaries', {
              summaries: found.slice(j, j + 5000),
              check: !!opts.check,
            });
            totals.ingested += body.ingested;
            totals.duplicates += body.duplicates;
            totals.invalid += body.invalid;
            totals.anomalies += body.anomalies;
          }
        }
        if (bar) bar.update(i + 1, { traces: totals.traces, ingested: totals.ingested, window: iso(w.start) });
        else if (!opts.json) io.err(`slice ${i + 1}/${windows.length} ${iso(w.start)} – ${iso(w.end)}: ${found.length} traces\n`);
      }
      bar?.stop();
      for (const w of warnings) io.err(`warning: ${w}\n`);
      if (opts.json) return void io.out(JSON.stringify({ slices: windows.length, ...totals, dryRun: !!opts.dryRun }, null, 2) + '\n');
      io.out(
        `${opts.dryRun ? 'found' : 'backfilled'} ${totals.traces} traces in ${windows.length} slices` +
          (opts.dryRun ? '' : `: ${totals.ingested} new, ${totals.duplicates} already known, ${totals.invalid} unusable${opts.check ? `, ${totals.anomalies} anomalies` : ''}`) +
          (totals.notYetReceived ? `; ${totals.notYetReceived} skipped (root span not yet received)` : '') +
          (totals.truncated ? `; ${totals.truncated} windows still truncated at the split limit (raise anomaly.tempo.limit)` : '') +
          '\nbaselines are recomputed by the server within anomaly.baselineInterval\n',
      );
    });
  examples(backfill, [
    'vigil anomaly backfill --since 7d',
    'vigil anomaly backfill --since 2d --until 1d --tempo-url http://tempo:3200 --set anomaly.tempo.tenant=team-a',
    'vigil anomaly backfill --since 2024-06-01T00:00:00Z --until 2024-06-02T00:00:00Z --slice 15m --dry-run',
  ]);

  const list = withClientOptions(anomaly.command('list').description('Recently detected anomalies, newest first'))
    .option('--service <name>', 'only this service')
    .option('--endpoint <name>', 'only this endpoint')
    .option('--since <time>', 'ISO time, epoch ms, or a duration ago such as 1h')
    .option('--limit <n>', 'at most this many (1–1000)', '20')
    .action(async (opts) => {
      const { api } = apiClient(opts);
      const qs = new URLSearchParams();
      if (opts.service) qs.set('service', opts.service);
      if (opts.endpoint) qs.set('endpoint', opts.endpoint);
      if (opts.since) qs.set('since', String(parseInstant(opts.since, '--since')));
      qs.set('limit', String(parseIntArg(opts.limit, '--limit', 1, 1000)));
      const { body } = await api.call<{ anomalies: { detectedAt: number; service: string; endpoint: string; durationMs: number; threshold: number; traceId: string; traceUrl?: string }[] }>(
        'GET',
        `/api/v1/anomalies?${qs}`,
      );
      if (opts.json) return void io.out(JSON.stringify(body, null, 2) + '\n');
      if (body.anomalies.length === 0) return void io.out('no anomalies\n');
      // Times in the server's bucket zone, named, as on the web page and in the verdicts.
      const { body: status } = await api.call<{ timeZone?: string }>('GET', '/api/v1/anomaly/status');
      const tz = status.timeZone ?? 'UTC';
      io.out(
        table(
          [`DETECTED (${tz})`, 'SERVICE', 'ENDPOINT', 'MS', 'THRESHOLD', 'TRACE'],
          body.anomalies.map((a) => [localTime(a.detectedAt, tz), a.service, a.endpoint, fmtMs(a.durationMs), fmtMs(a.threshold), a.traceUrl ?? a.traceId]),
        ),
      );
    });
  examples(list, ['vigil anomaly list --since 1h', 'vigil anomaly list --service checkout --json']);
}
