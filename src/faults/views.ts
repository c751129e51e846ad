/** Read models of the fault store: HFI's status view, the injected-count summary, rules in words. */
import type { PolicySnapshot } from './feed.js';
import type { FaultPolicy, FaultRule, StringMatcher } from './policy/index.js';
import { expiryOf, type ExecutorInfo } from './store.js';

export function faultTypes(p: FaultPolicy): string[] {
  const types = new Set<string>();
  for (const r of p.spec.rules) {
    if (r.fault.abort) types.add('abort');
    if (r.fault.delay) types.add('delay');
    if (r.fault.reset) types.add('reset');
    if (r.fault.response_rate_limit_kbps !== undefined) types.add('rate_limit');
    if (r.fault.header_controlled) types.add('header');
  }
  return [...types];
}

/** When the policy stops applying (epoch ms), or null. */
export function expiresAt(p: FaultPolicy): number | null {
  return p.metadata.applied_at === undefined ? null : expiryOf(p, p.metadata.applied_at);
}

/** GET /v1/policies/status, in HFI's shape. */
export function policyStatus(policies: FaultPolicy[], now: number) {
  const lines = policies.map((p) => {
    const exp = expiresAt(p);
    return {
      name: p.metadata.name,
      namespace: p.spec.selector?.namespace ?? '',
      target_service: p.spec.selector?.service ?? '',
      rules_count: p.spec.rules.length,
      fault_types: faultTypes(p),
      active: exp === null || exp > now,
      version: p.metadata.version ?? '',
      expires_at: exp,
    };
  });
  return {
    summary: {
      total_policies: lines.length,
      abort_policies: lines.filter((l) => l.fault_types.includes('abort')).length,
      delay_policies: lines.filter((l) => l.fault_types.includes('delay')).length,
      active_policies: lines.filter((l) => l.active).length,
    },
    policies: lines,
  };
}

export interface ExecutorView extends ExecutorInfo {
  connected: boolean;
  /** Enforces the current version. */
  in_sync: boolean;
}

/** GET /api/v1/faults/summary: injected counts per policy (over all executors) and per executor. */
export function summarize(snap: PolicySnapshot, executors: ExecutorInfo[], now: number, staleMs: number) {
  const current = String(snap.version);
  const views: ExecutorView[] = executors.map((e) => ({ ...e, connected: now - e.last_seen <= staleMs, in_sync: e.policy_version === current }));
  const per = new Map<string, { name: string; exists: boolean; injected: Record<string, number>; total: number; executors: number }>();
  for (const p of snap.policies) per.set(p.metadata.name, { name: p.metadata.name, exists: true, injected: {}, total: 0, executors: 0 });
  for (const e of views) {
    for (const [policy, byType] of Object.entries(e.injected)) {
      const s = per.get(policy) ?? { name: policy, exists: false, injected: {}, total: 0, executors: 0 };
      per.set(policy, s);
      s.executors++;
      for (const [type, n] of Object.entries(byType)) {
        s.injected[type] = (s.injected[type] ?? 0) + n;
        s.total += n;
      }
    }
  }
  return {
    version: snap.version,
    generated_at: now,
    policies: [...per.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    executors: views,
  };
}

function matcherWords(m: StringMatcher): string {
  if (m.exact !== undefined) return `= "${m.exact}"`;
  if (m.prefix !== undefined) return `starts with "${m.prefix}"`;
  return `~ /${m.regex}/`;
}

/** "GET path = "/" → abort 503 (100%)". */
export function ruleInWords(r: FaultRule): string {
  const when: string[] = [];
  if (r.match.method) when.push(r.match.method.exact ?? `method ${matcherWords(r.match.method)}`);
  if (r.match.path) when.push(`path ${matcherWords(r.match.path)}`);
  for (const h of r.match.headers ?? []) when.push(`header ${h.name} ${matcherWords(h)}`);
  const f = r.fault;
  const what: string[] = [];
  if (f.delay) what.push(`delay ${f.delay.fixed_delay_ms} ms${f.delay.jitter_ms ? ` (+ up to ${f.delay.jitter_ms} ms)` : ''}`);
  if (f.abort) what.push(`abort ${f.abort.httpStatus}`);
  if (f.reset) what.push('reset the connection');
  if (f.response_rate_limit_kbps !== undefined) what.push(`throttle to ${f.response_rate_limit_kbps} kbps`);
  if (f.header_controlled) what.push('the fault the request headers ask for');
  const timing: string[] = [];
  if (f.start_delay_ms) timing.push(`after ${f.start_delay_ms} ms`);
  if (f.duration_seconds) timing.push(`for ${f.duration_seconds} s`);
  return `${when.join(' ')} → ${what.join(', then ')} (${f.percentage}%${timing.length ? `, ${timing.join(', ')}` : ''})`;
}

export function selectorWords(p: FaultPolicy): string {
  const s = p.spec.selector;
  const v = (x: string | undefined) => (x === undefined || x === '' ? '*' : x);
  return `${v(s?.namespace)}/${v(s?.service)}`;
}
