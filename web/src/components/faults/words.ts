/** Policies in words for the table: selector, rules, expiry. */
import type { FaultPolicy, FaultRule, StringMatcher } from '../../../../src/faults/policy/types.js';

const isWild = (v: string | undefined) => v === undefined || v === '' || v === '*';

export function selectorWords(p: FaultPolicy): string {
  const s = p.spec.selector;
  return `${isWild(s?.namespace) ? '*' : s!.namespace}/${isWild(s?.service) ? '*' : s!.service}`;
}

/** The SLO page of the one service a policy targets, or null when its selector has a wildcard. */
export function targetService(p: FaultPolicy): { namespace: string; name: string } | null {
  const s = p.spec.selector;
  if (!s || isWild(s.service) || isWild(s.namespace)) return null;
  return { namespace: s.namespace!, name: s.service! };
}

function matcher(m: StringMatcher): string {
  if (m.exact !== undefined) return `= ${m.exact}`;
  if (m.prefix !== undefined) return `${m.prefix}*`;
  return `~ /${m.regex ?? ''}/`;
}

/** "GET / → abort 503", "any request → delay 500 ms". */
export function ruleWords(r: FaultRule): string {
  const when: string[] = [];
  const m = r.match;
  if (m.method) when.push(m.method.exact ?? `method ${matcher(m.method)}`);
  if (m.path) when.push(m.path.exact ?? (m.path.prefix !== undefined ? `${m.path.prefix}*` : matcher(m.path)));
  for (const h of m.headers ?? []) when.push(`${h.name} ${matcher(h)}`);
  const f = r.fault;
  const what: string[] = [];
  if (f.delay) what.push(`delay ${f.delay.fixed_delay_ms} ms${f.delay.jitter_ms ? ` ±${f.delay.jitter_ms}` : ''}`);
  if (f.abort) what.push(`abort ${f.abort.httpStatus}`);
  if (f.reset) what.push('reset');
  if (f.response_rate_limit_kbps !== undefined) what.push(`throttle ${f.response_rate_limit_kbps} kbps`);
  if (f.header_controlled) what.push('fault from request headers');
  const timing = [f.start_delay_ms ? `after ${f.start_delay_ms} ms` : '', f.duration_seconds ? `for ${f.duration_seconds} s` : ''].filter(Boolean);
  return `${when.length ? when.join(' ') : 'any request'} → ${what.join(' then ') || 'nothing'}${timing.length ? ` (${timing.join(', ')})` : ''}`;
}

/** Percentages of the rules: "100%" or "10–50%". */
export function percentWords(p: FaultPolicy): string {
  const ps = p.spec.rules.map((r) => r.fault.percentage);
  const lo = Math.min(...ps);
  const hi = Math.max(...ps);
  return lo === hi ? `${lo}%` : `${lo}–${hi}%`;
}

/** "expires in 4m 05s", "expired", or "never". */
export function countdown(expiresAt: number | null | undefined, now: number): string {
  if (expiresAt === null || expiresAt === undefined) return 'never';
  const s = Math.ceil((expiresAt - now) / 1000);
  if (s <= 0) return 'expiring';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `in ${h}h ${String(m).padStart(2, '0')}m` : m > 0 ? `in ${m}m ${String(sec).padStart(2, '0')}s` : `in ${sec}s`;
}
