/**
 * Text log lines in the shapes vehicles and their backends write: syslog (RFC 3164 and 5424),
 * logfmt (`level=error msg=…`), JSON lines, and plain lines that start with an ISO or epoch
 * timestamp. Each line becomes a LogLine; a line we cannot read is still a message (never dropped).
 */

export const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'verbose'] as const;
export type Level = (typeof LEVELS)[number];

export interface LogLine {
  index: number;
  /** Epoch ms, when the line says. */
  time?: number;
  level?: Level;
  ecu?: string;
  app?: string;
  ctx?: string;
  message: string;
}

const LEVEL_WORDS: Record<string, Level> = {
  fatal: 'fatal', crit: 'fatal', critical: 'fatal', emerg: 'fatal', emergency: 'fatal', alert: 'fatal', panic: 'fatal', f: 'fatal',
  error: 'error', err: 'error', e: 'error', severe: 'error',
  warn: 'warn', warning: 'warn', w: 'warn',
  info: 'info', notice: 'info', information: 'info', informational: 'info', i: 'info',
  debug: 'debug', d: 'debug', dbg: 'debug',
  trace: 'verbose', verbose: 'verbose', v: 'verbose', finest: 'verbose',
};

export function normalizeLevel(word: string | undefined): Level | undefined {
  if (!word) return undefined;
  return LEVEL_WORDS[word.toLowerCase()];
}

/** syslog severities 0–7 as levels (emerg…debug). */
const SYSLOG_SEVERITY: Level[] = ['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'];

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };

const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (?:-|\[.*?\]) ?(.*)$/;
const RFC3164 = /^(?:<(\d{1,3})>)?([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\S+) ([^:[\s]+)(?:\[\d+\])?: ?(.*)$/;
const ISO_START = /^\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)\]?\s+(.*)$/;
const EPOCH_START = /^\[?(\d{10}(?:\.\d{1,9})?|\d{13})\]?\s+(.*)$/;
const LEVEL_PREFIX = /^[[(<]?(FATAL|CRIT(?:ICAL)?|ERROR|ERR|WARN(?:ING)?|INFO|NOTICE|DEBUG|TRACE|VERBOSE|[FEWIDV])[\])>:]?\s+(.*)$/i;
const LOGFMT_PAIR = /([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)/g;

export interface TextParseOptions {
  /** Year for syslog lines, which carry none (the batch's creation year). */
  year: number;
  /** Offset of local-time stamps without a zone, minutes east of UTC (default 0 = UTC). */
  utcOffsetMinutes?: number;
}

export function parseTextLine(line: string, index: number, opts: TextParseOptions): LogLine {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.startsWith('{')) {
    const json = parseJsonLine(text, index);
    if (json) return json;
  }
  let m = RFC5424.exec(text);
  if (m) {
    const pri = Number(m[1]);
    const time = Date.parse(m[2]!);
    return { index, time: Number.isFinite(time) ? time : undefined, level: SYSLOG_SEVERITY[pri & 7], ecu: dash(m[3]), app: dash(m[4]), message: m[7]! };
  }
  m = RFC3164.exec(text);
  if (m && MONTHS[m[2]!.toLowerCase()] !== undefined) {
    const time = Date.UTC(opts.year, MONTHS[m[2]!.toLowerCase()]!, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - (opts.utcOffsetMinutes ?? 0) * 60_000;
    const rest = m[9]!;
    const lv = LEVEL_PREFIX.exec(rest);
    const level = m[1] !== undefined ? SYSLOG_SEVERITY[Number(m[1]) & 7] : lv ? normalizeLevel(lv[1]) : undefined;
    return { index, time, level, ecu: m[7], app: m[8], message: lv && m[1] === undefined ? lv[2]! : rest };
  }
  if (text.includes('=') && /\b(level|lvl|severity|msg)=/.test(text)) {
    const fields: Record<string, string> = {};
    for (const p of text.matchAll(LOGFMT_PAIR)) fields[p[1]!.toLowerCase()] = unquote(p[2]!);
    const time = parseTime(fields.ts ?? fields.time ?? fields.timestamp, opts);
    return {
      index,
      time,
      level: normalizeLevel(fields.level ?? fields.lvl ?? fields.severity),
      ecu: fields.ecu,
      app: fields.app ?? fields.service ?? fields.component,
      ctx: fields.ctx ?? fields.context ?? fields.logger,
      message: fields.msg ?? fields.message ?? text,
    };
  }
  let time: number | undefined;
  let rest = text;
  m = ISO_START.exec(text);
  if (m) {
    time = parseTime(m[1], opts);
    rest = m[2]!;
  } else if ((m = EPOCH_START.exec(text))) {
    time = parseTime(m[1], opts);
    rest = m[2]!;
  }
  const lv = LEVEL_PREFIX.exec(rest);
  if (lv) return { index, time, level: normalizeLevel(lv[1]), message: lv[2]! };
  return { index, time, message: rest };
}

function parseJsonLine(text: string, index: number): LogLine | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const o = obj as Record<string, unknown>;
  const str = (...keys: string[]) => {
    for (const k of keys) {
      const v = o[k];
      if (typeof v === 'string') return v;
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    }
    return undefined;
  };
  const rawTime = o.time ?? o.ts ?? o.timestamp ?? o['@timestamp'];
  const time = typeof rawTime === 'number' ? epochToMs(rawTime) : typeof rawTime === 'string' ? parseTime(rawTime, { year: 1970 }) : undefined;
  // pino writes numeric levels (10 trace … 60 fatal)
  const numLevel = typeof o.level === 'number' ? (['verbose', 'debug', 'info', 'warn', 'error', 'fatal'] as Level[])[Math.min(5, Math.max(0, Math.floor(o.level / 10) - 1))] : undefined;
  return {
    index,
    time,
    level: numLevel ?? normalizeLevel(str('level', 'lvl', 'severity')),
    ecu: str('ecu', 'host', 'hostname'),
    app: str('app', 'service', 'component', 'name'),
    ctx: str('ctx', 'context', 'logger'),
    message: str('msg', 'message') ?? text,
  };
}

function parseTime(value: string | undefined, opts: TextParseOptions): number | undefined {
  if (!value) return undefined;
  if (/^\d{10}(\.\d+)?$|^\d{13}$/.test(value)) return epochToMs(Number(value));
  const iso = value.replace(',', '.').replace(' ', 'T');
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(iso);
  const t = Date.parse(hasZone ? iso : `${iso}Z`);
  if (!Number.isFinite(t)) return undefined;
  return hasZone ? t : t - (opts.utcOffsetMinutes ?? 0) * 60_000;
}

/** Seconds or milliseconds since the epoch, told apart by magnitude. */
function epochToMs(n: number): number | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined;
  return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
}

const dash = (s: string | undefined) => (s === undefined || s === '-' ? undefined : s);
const unquote = (s: string) => (s.startsWith('"') && s.endsWith('"') && s.length >= 2 ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s);
