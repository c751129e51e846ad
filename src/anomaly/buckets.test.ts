import { describe, expect, it } from 'vitest';
import { seededRandom } from '../simulate/random.js';
import {
  baselineKey,
  bucketOf,
  hourRangeLabel,
  localHourAndDay,
  parseBaselineKey,
  parseDayType,
  parseHour,
  validateTimeZone,
} from './buckets.js';
import { ValidationError } from './errors.js';

const at = (iso: string) => Date.parse(iso);
const H = 3600_000;

/** Local hours seen, in order, for every UTC hour from `fromIso` for `n` hours. */
function hoursFrom(fromIso: string, n: number, tz: string): number[] {
  return Array.from({ length: n }, (_, i) => bucketOf(at(fromIso) + i * H, tz).hour);
}

describe('bucketOf in Asia/Taipei (UTC+8, no DST)', () => {
  it('turns Friday 23:59 into a weekday and Saturday 00:00 into a weekend', () => {
    // 2024-01-05 is a Friday; 16:00Z is Saturday 00:00 in Taipei
    expect(bucketOf(at('2024-01-05T15:59:59Z'), 'Asia/Taipei')).toEqual({ hour: 23, dayType: 'weekday' });
    expect(bucketOf(at('2024-01-05T16:00:00Z'), 'Asia/Taipei')).toEqual({ hour: 0, dayType: 'weekend' });
    expect(bucketOf(at('2024-01-07T15:59:00Z'), 'Asia/Taipei')).toEqual({ hour: 23, dayType: 'weekend' });
    expect(bucketOf(at('2024-01-07T16:00:00Z'), 'Asia/Taipei')).toEqual({ hour: 0, dayType: 'weekday' });
    expect(bucketOf(at('2024-01-03T06:30:00Z'), 'Asia/Taipei')).toEqual({ hour: 14, dayType: 'weekday' });
  });

  it('counts every local hour once a day', () => {
    expect(hoursFrom('2024-01-02T16:00:00Z', 24, 'Asia/Taipei')).toEqual(Array.from({ length: 24 }, (_, h) => h));
  });
});

describe('bucketOf across DST', () => {
  it('America/New_York spring forward (2024-03-10): 02:00 never happens', () => {
    expect(bucketOf(at('2024-03-10T06:59:59Z'), 'America/New_York').hour).toBe(1); // 01:59:59 EST
    expect(bucketOf(at('2024-03-10T07:00:00Z'), 'America/New_York').hour).toBe(3); // 03:00 EDT
    // local day 00:00 EST (05:00Z) → next 00:00 EDT (04:00Z next day) is 23 UTC hours
    const hours = hoursFrom('2024-03-10T05:00:00Z', 23, 'America/New_York');
    expect(hours).not.toContain(2);
    expect(new Set(hours).size).toBe(23);
    expect(bucketOf(at('2024-03-10T12:00:00Z'), 'America/New_York').dayType).toBe('weekend'); // Sunday
  });

  it('America/New_York fall back (2024-11-03): 01:00 happens twice', () => {
    expect(bucketOf(at('2024-11-03T05:30:00Z'), 'America/New_York').hour).toBe(1); // 01:30 EDT
    expect(bucketOf(at('2024-11-03T06:30:00Z'), 'America/New_York').hour).toBe(1); // 01:30 EST
    const hours = hoursFrom('2024-11-03T04:00:00Z', 25, 'America/New_York');
    expect(hours.filter((h) => h === 1)).toHaveLength(2);
    expect(new Set(hours).size).toBe(24);
  });

  it('Europe/Berlin spring forward (2024-03-31) and fall back (2024-10-27)', () => {
    expect(bucketOf(at('2024-03-31T00:59:00Z'), 'Europe/Berlin').hour).toBe(1); // 01:59 CET
    expect(bucketOf(at('2024-03-31T01:00:00Z'), 'Europe/Berlin').hour).toBe(3); // 03:00 CEST
    expect(bucketOf(at('2024-10-27T00:30:00Z'), 'Europe/Berlin').hour).toBe(2); // 02:30 CEST
    expect(bucketOf(at('2024-10-27T01:30:00Z'), 'Europe/Berlin').hour).toBe(2); // 02:30 CET
    // Sunday 31 March ends at 22:00Z (CEST): Monday is a weekday
    expect(bucketOf(at('2024-03-31T21:59:00Z'), 'Europe/Berlin')).toEqual({ hour: 23, dayType: 'weekend' });
    expect(bucketOf(at('2024-03-31T22:00:00Z'), 'Europe/Berlin')).toEqual({ hour: 0, dayType: 'weekday' });
  });

  it('memoised results agree with Intl at random instants in several zones', () => {
    const zones = ['Asia/Taipei', 'America/New_York', 'Europe/Berlin', 'Asia/Kathmandu', 'Australia/Lord_Howe'];
    const rnd = seededRandom(12345);
    for (let i = 0; i < 500; i++) {
      const t = Date.UTC(2020, 0, 1) + rnd() * 6 * 365 * 24 * H;
      for (const tz of zones) {
        const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', hour: 'numeric', weekday: 'short' }).formatToParts(t);
        const hour = Number(parts.find((p) => p.type === 'hour')!.value);
        const wd = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.find((p) => p.type === 'weekday')!.value);
        expect(localHourAndDay(t, tz)).toEqual({ hour, weekday: wd });
        expect(localHourAndDay(t, tz)).toEqual({ hour, weekday: wd }); // second call is served from the cache
      }
    }
  });

  it('honours configured weekend days', () => {
    // Friday in Jerusalem with a Friday+Saturday weekend
    expect(bucketOf(at('2024-01-05T10:00:00Z'), 'Asia/Jerusalem', [5, 6]).dayType).toBe('weekend');
    expect(bucketOf(at('2024-01-07T10:00:00Z'), 'Asia/Jerusalem', [5, 6]).dayType).toBe('weekday');
  });
});

describe('validateTimeZone', () => {
  it('returns the canonical name of a valid zone', () => {
    expect(validateTimeZone('Asia/Taipei')).toBe('Asia/Taipei');
    expect(validateTimeZone('UTC')).toBe('UTC');
  });

  it('rejects unknown or empty names, naming the field', () => {
    for (const bad of ['Mars/Base', '', 42, undefined]) {
      try {
        validateTimeZone(bad, 'anomaly.timeZone');
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        expect((e as ValidationError).field).toBe('anomaly.timeZone');
        expect((e as Error).message).toContain('anomaly.timeZone');
      }
    }
  });
});

describe('baseline keys', () => {
  it('build service|endpoint|hour|dayType and parse back', () => {
    expect(baselineKey('cart', 'GET /users/{id}', 14, 'weekday')).toBe('cart|GET /users/{id}|14|weekday');
    expect(parseBaselineKey('cart|GET /users/{id}|14|weekday')).toEqual({ service: 'cart', endpoint: 'GET /users/{id}', hour: 14, dayType: 'weekday' });
    expect(parseBaselineKey('cart|GET /|*|weekend')).toEqual({ service: 'cart', endpoint: 'GET /', hour: '*', dayType: 'weekend' });
    expect(parseBaselineKey('cart|GET /|*|*')).toEqual({ service: 'cart', endpoint: 'GET /', hour: '*', dayType: '*' });
  });

  it('escape | and % inside names so keys always have four parts', () => {
    const k = baselineKey('a|b%7C', 'GET /x|y 100%', 0, 'weekend');
    expect(k.split('|')).toHaveLength(4);
    expect(parseBaselineKey(k)).toEqual({ service: 'a|b%7C', endpoint: 'GET /x|y 100%', hour: 0, dayType: 'weekend' });
  });

  it('refuse impossible parts', () => {
    expect(() => baselineKey('s', 'e', 24, 'weekday')).toThrow(RangeError);
    expect(() => baselineKey('s', 'e', 3, '*')).toThrow(RangeError);
    expect(parseBaselineKey('s|e|24|weekday')).toBeNull();
    expect(parseBaselineKey('s|e|3|holiday')).toBeNull();
    expect(parseBaselineKey('s|e|3')).toBeNull();
  });
});

describe('input validation', () => {
  it('parseHour accepts 0–23 from JSON or a query string', () => {
    expect(parseHour(0)).toBe(0);
    expect(parseHour('23')).toBe(23);
    for (const bad of [24, -1, 1.5, 'x', null, '']) {
      expect(() => parseHour(bad)).toThrow(ValidationError);
      try {
        parseHour(bad);
      } catch (e) {
        expect((e as ValidationError).field).toBe('hour');
      }
    }
  });

  it('parseDayType accepts weekday/weekend only', () => {
    expect(parseDayType('Weekend')).toBe('weekend');
    expect(() => parseDayType('holiday')).toThrow(/dayType must be "weekday" or "weekend"/);
  });
});

describe('labels', () => {
  it('format hour ranges, wrapping midnight', () => {
    expect(hourRangeLabel(14)).toBe('14:00–15:00');
    expect(hourRangeLabel(14, 2)).toBe('12:00–17:00');
    expect(hourRangeLabel(23, 2)).toBe('21:00–02:00');
    expect(hourRangeLabel(0, 2)).toBe('22:00–03:00');
    expect(hourRangeLabel(23)).toBe('23:00–00:00');
  });
});
