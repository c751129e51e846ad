/**
 * Time buckets and baseline keys (pure).
 *
 * A bucket is the local hour of day (0–23) and the day type (weekday/weekend) of an instant in the
 * configured IANA time zone. Intl does the zone arithmetic, so DST transitions are handled: on a
 * spring-forward day the skipped local hour simply never occurs, on a fall-back day the repeated
 * hour receives two UTC hours of traffic.
 *
 * Keys are `{service}|{endpoint}|{hour}|{dayType}`; aggregates use `*` for hour (all hours of a day
 * type) or for both (everything). `%` and `|` inside names are percent-escaped so a key always has
 * exactly four parts and parses back to the names it was built from.
 */
import { ValidationError } from './errors.js';
import type { Bucket, DayType } from './types.js';

export const DAY_TYPES: readonly DayType[] = ['weekday', 'weekend'];
export const DEFAULT_TIME_ZONE = 'Asia/Taipei';
/** Day numbers (0 = Sunday … 6 = Saturday) counted as weekend unless configured otherwise. */
export const DEFAULT_WEEKEND_DAYS: readonly number[] = [0, 6];

export function isDayType(v: unknown): v is DayType {
  return v === 'weekday' || v === 'weekend';
}

// ---------------------------------------------------------------- time zones

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: 'numeric', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The canonical name of an IANA time zone, or a ValidationError naming `field`.
 * `Asia/Taipei`, `america/new_york` (case-insensitive) and `UTC` are accepted; `Mars/Base` is not.
 */
export function validateTimeZone(timeZone: unknown, field = 'timeZone'): string {
  if (typeof timeZone !== 'string' || timeZone.trim() === '') {
    throw new ValidationError(field, `${field} must be an IANA time zone name such as "Asia/Taipei"`);
  }
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: timeZone.trim() }).resolvedOptions().timeZone;
  } catch {
    throw new ValidationError(field, `${field} "${timeZone}" is not a known IANA time zone (e.g. "Asia/Taipei", "Europe/Berlin")`);
  }
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/**
 * Local hour and day of week are constant within any UTC quarter hour for every zone offset in
 * use since 1973 (all are multiples of 15 minutes, and so are the instants of their transitions),
 * so results are memoised per (zone, quarter hour). Before that some zones used odd local-mean-time
 * offsets; those instants are always computed.
 */
const QUARTER_MS = 15 * 60 * 1000;
/** The range of a JavaScript Date (and of Intl). */
export const MAX_EPOCH_MS = 8.64e15;
const CACHE_FROM_MS = Date.UTC(1973, 0, 1);
const CACHE_MAX = 50_000;
const slotCache = new Map<string, Map<number, number>>();

/** Local hour (0–23) and day of week (0 = Sunday) of an instant in a zone. */
export function localHourAndDay(epochMs: number, timeZone: string): { hour: number; weekday: number } {
  if (!Number.isFinite(epochMs) || Math.abs(epochMs) > MAX_EPOCH_MS) {
    throw new ValidationError('timestamp', 'timestamp must be a finite number of ms within ±8.64e15 (the range of a JavaScript Date)');
  }
  const cacheable = epochMs >= CACHE_FROM_MS;
  let zoneCache: Map<number, number> | undefined;
  const slot = Math.floor(epochMs / QUARTER_MS);
  if (cacheable) {
    zoneCache = slotCache.get(timeZone);
    if (!zoneCache) slotCache.set(timeZone, (zoneCache = new Map()));
    const hit = zoneCache.get(slot);
    if (hit !== undefined) return { hour: hit >> 3, weekday: hit & 7 };
  }
  let hour = -1;
  let weekday = -1;
  for (const p of formatter(timeZone).formatToParts(epochMs)) {
    if (p.type === 'hour') hour = Number(p.value) % 24;
    else if (p.type === 'weekday') weekday = WEEKDAYS[p.value] ?? -1;
  }
  if (hour < 0 || weekday < 0) throw new Error(`cannot determine local time of ${epochMs} in ${timeZone}`);
  if (zoneCache) {
    if (zoneCache.size >= CACHE_MAX) zoneCache.clear();
    zoneCache.set(slot, (hour << 3) | weekday);
  }
  return { hour, weekday };
}

/** The bucket of an instant: local hour and weekday/weekend in `timeZone` (default Sat+Sun weekend). */
export function bucketOf(epochMs: number, timeZone: string, weekendDays: readonly number[] = DEFAULT_WEEKEND_DAYS): Bucket {
  const { hour, weekday } = localHourAndDay(epochMs, timeZone);
  return { hour, dayType: weekendDays.includes(weekday) ? 'weekend' : 'weekday' };
}

// ---------------------------------------------------------------- keys

export type HourPart = number | '*';
export type DayTypePart = DayType | '*';

export interface BaselineKeyParts {
  service: string;
  endpoint: string;
  hour: HourPart;
  dayType: DayTypePart;
}

const escapePart = (s: string) => s.replace(/%/g, '%25').replace(/\|/g, '%7C');
const unescapePart = (s: string) => s.replace(/%7C/gi, '|').replace(/%25/g, '%');

/** `{service}|{endpoint}|{hour}|{dayType}`; hour '*' with a day type, or '*' and '*', for aggregates. */
export function baselineKey(service: string, endpoint: string, hour: HourPart, dayType: DayTypePart): string {
  if (hour !== '*' && !(Number.isInteger(hour) && hour >= 0 && hour <= 23)) throw new RangeError(`hour ${hour} is outside 0–23`);
  if (dayType !== '*' && !isDayType(dayType)) throw new RangeError(`unknown day type ${String(dayType)}`);
  if (hour !== '*' && dayType === '*') throw new RangeError('an hour bucket needs a day type');
  return `${escapePart(service)}|${escapePart(endpoint)}|${hour}|${dayType}`;
}

/** Inverse of baselineKey (without the `dur:`/`base:` prefix); null when the text is not a key. */
export function parseBaselineKey(key: string): BaselineKeyParts | null {
  const parts = key.split('|');
  if (parts.length !== 4) return null;
  const [s, e, h, d] = parts;
  let hour: HourPart;
  if (h === '*') hour = '*';
  else if (/^\d{1,2}$/.test(h) && Number(h) <= 23) hour = Number(h);
  else return null;
  if (d !== '*' && !isDayType(d)) return null;
  if (hour !== '*' && d === '*') return null;
  return { service: unescapePart(s), endpoint: unescapePart(e), hour, dayType: d as DayTypePart };
}

/** The key prefix shared by every bucket of one service+endpoint (for grouping). */
export function seriesId(service: string, endpoint: string): string {
  return `${escapePart(service)}|${escapePart(endpoint)}`;
}

// ---------------------------------------------------------------- validation & labels

/** An hour from JSON or a query string; ValidationError naming `field` unless an integer 0–23. */
export function parseHour(v: unknown, field = 'hour'): number {
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 23) {
    throw new ValidationError(field, `${field} must be an integer hour 0–23, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** 'weekday' or 'weekend' (case-insensitive); ValidationError naming `field` otherwise. */
export function parseDayType(v: unknown, field = 'dayType'): DayType {
  const s = typeof v === 'string' ? v.trim().toLowerCase() : v;
  if (!isDayType(s)) throw new ValidationError(field, `${field} must be "weekday" or "weekend", got ${JSON.stringify(v)}`);
  return s;
}

const hh = (h: number) => `${String(((h % 24) + 24) % 24).padStart(2, '0')}:00`;

/** "14:00–15:00" for hour 14; with a radius, "12:00–17:00" (wrapping midnight: "22:00–03:00"). */
export function hourRangeLabel(hour: number, radius = 0): string {
  return `${hh(hour - radius)}–${hh(hour + radius + 1)}`;
}

export function dayTypeLabel(d: DayType): string {
  return d === 'weekday' ? 'weekdays' : 'weekends';
}
