/**
 * Go `time.ParseDuration` syntax ("1000ms", "1s", "1m30s", "1.5s"), which HFI's legacy
 * `delay.fixed_delay` used. Returns milliseconds, or null when the text is not a duration.
 */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export function parseGoDuration(text: string): number | null {
  if (text.length === 0 || text.length > 64) return null;
  let s = text;
  let sign = 1;
  if (s[0] === '+' || s[0] === '-') {
    sign = s[0] === '-' ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  let total = 0;
  let pos = 0;
  PART.lastIndex = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) return null;
    total += Number(m[1]) * UNIT_MS[m[2]];
    pos = PART.lastIndex;
  }
  // Rounded to the nanosecond, so "1.1s" is 1100 ms and not 1100.0000000000002.
  return pos === 0 ? null : (sign * Math.round(total * 1e6)) / 1e6;
}
