/**
 * A policy as the mesh's own fault filter: an Istio VirtualService `fault` block, or Envoy
 * `envoy.filters.http.fault` filters. Pure. Each export comes with notes on what the target cannot
 * express, so a user switching never loses a behaviour without being told.
 */
import type { FaultPolicy, FaultRule, StringMatcher } from './policy/index.js';

export interface Exported {
  document: unknown;
  /** What the target cannot express, one sentence each. */
  notes: string[];
}

/** Vigil's regexes search (unanchored); Istio's and Envoy's must match the whole value. */
const fullMatch = (re: string) => `.*(?:${re}).*`;

function commonNotes(p: FaultPolicy, target: string): string[] {
  const notes: string[] = [];
  const each = (what: string, test: (r: FaultRule) => boolean) => {
    const idx = p.spec.rules.map((r, i) => (test(r) ? i : -1)).filter((i) => i >= 0);
    if (idx.length) notes.push(`${what} (rule${idx.length > 1 ? 's' : ''} ${idx.join(', ')})`);
  };
  each(`abort.body and abort.headers are not expressible in ${target}; its abort answers with an empty body`, (r) => Boolean(r.fault.abort?.body || r.fault.abort?.headers));
  each(`delay.jitter_ms is not expressible in ${target}; the fixed delay is exported`, (r) => Boolean(r.fault.delay?.jitter_ms));
  each(`reset (close without a response) is not expressible in ${target}; left out`, (r) => Boolean(r.fault.reset));
  each(`start_delay_ms is not expressible in ${target}; the fault starts at once`, (r) => Boolean(r.fault.start_delay_ms ?? p.spec.start_delay_ms));
  each(`a rule with both delay and abort draws its percentage once in Vigil; ${target} draws delay and abort independently`, (r) => Boolean(r.fault.delay && r.fault.abort && r.fault.percentage < 100));
  if (p.spec.duration_seconds || p.spec.rules.some((r) => r.fault.duration_seconds)) notes.push(`duration_seconds has no ${target} equivalent: delete the resource when the fault should end`);
  if (p.spec.rules.some((r) => r.match.path?.regex || r.match.method?.regex || r.match.headers?.some((h) => h.regex)))
    notes.push(`regexes are wrapped in .*(?:…).* because ${target} matches the whole value and Vigil searches`);
  return notes;
}

// ---------------------------------------------------------------- Istio

function istioString(m: StringMatcher): Record<string, string> {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  return { regex: fullMatch(m.regex ?? '') };
}

/** One VirtualService: an HTTP route per rule, in order (Istio takes the first match, as Vigil does), then the default route. */
export function toIstio(p: FaultPolicy, opts: { host?: string; namespace?: string } = {}): Exported {
  const notes = commonNotes(p, 'Istio');
  const sel = p.spec.selector;
  const wild = (v: string | undefined) => v === undefined || v === '' || v === '*';
  let host = opts.host ?? (wild(sel?.service) ? undefined : sel!.service);
  if (!host) {
    host = 'SERVICE';
    notes.push('the selector targets every service; a VirtualService names its hosts: replace SERVICE (or pass --istio-host), one VirtualService per service');
  }
  const namespace = opts.namespace ?? (wild(sel?.namespace) ? undefined : sel!.namespace);
  const route = () => [{ destination: { host } }];
  const http: unknown[] = [];
  p.spec.rules.forEach((r, i) => {
    const f = r.fault;
    const match: Record<string, unknown> = {};
    if (r.match.method) match.method = istioString(r.match.method);
    if (r.match.path) match.uri = istioString(r.match.path);
    if (r.match.headers?.length) match.headers = Object.fromEntries(r.match.headers.map((h) => [h.name.toLowerCase(), istioString(h)]));
    const fault: Record<string, unknown> = {};
    const percentage = { value: f.percentage };
    if (f.delay) fault.delay = { percentage, fixedDelay: `${f.delay.fixed_delay_ms}ms` };
    if (f.abort) fault.abort = { percentage, httpStatus: f.abort.httpStatus };
    if (f.response_rate_limit_kbps !== undefined) notes.push(`rule ${i}: response_rate_limit_kbps is not expressible in Istio; left out`);
    if (f.header_controlled) notes.push(`rule ${i}: header-controlled faults need Envoy's header_abort/header_delay, which Istio does not expose; left out`);
    if (!fault.delay && !fault.abort) {
      notes.push(`rule ${i} has no delay or abort Istio can express; exported without a fault`);
    }
    http.push({ name: `${p.metadata.name}-rule-${i}`, match: [match], ...(fault.delay || fault.abort ? { fault } : {}), route: route() });
  });
  http.push({ name: 'default', route: route() });
  if (p.spec.max_active_faults !== undefined) notes.push('max_active_faults is not expressible in Istio (Envoy has it: export --to envoy)');
  const document = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: p.metadata.name, ...(namespace ? { namespace } : {}) },
    spec: { hosts: [host], http },
  };
  return { document, notes };
}

// ---------------------------------------------------------------- Envoy

function envoyString(m: StringMatcher): Record<string, unknown> {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  return { safe_regex: { regex: fullMatch(m.regex ?? '') } };
}

/** Envoy's FractionalPercent: decimals kept to a millionth. */
const fraction = (pct: number) => ({ numerator: Math.round(pct * 10_000), denominator: 'MILLION' });

/**
 * One `envoy.filters.http.fault` filter per rule, for the HTTP filter chain. Envoy runs every fault
 * filter in the chain (each with its own draw), not the first that matches as Vigil does.
 */
export function toEnvoy(p: FaultPolicy): Exported {
  const notes = commonNotes(p, 'Envoy');
  if (p.spec.rules.length > 1) notes.push('Envoy applies every fault filter whose headers match, each with its own draw; Vigil applies only the first matching rule');
  if (p.spec.rules.some((r) => r.match.path?.exact !== undefined)) notes.push("Envoy's :path includes the query string, so an exact path does not match a request with a query; Vigil matches without it");
  const sel = p.spec.selector;
  if ((sel?.service && sel.service !== '*') || (sel?.namespace && sel.namespace !== '*')) notes.push('the selector has no filter equivalent: add the filters to the listener of the targeted service only');
  const filters = p.spec.rules.map((r, i) => {
    const f = r.fault;
    const headers: unknown[] = [];
    if (r.match.method) headers.push({ name: ':method', string_match: envoyString(r.match.method) });
    if (r.match.path) headers.push({ name: ':path', string_match: envoyString(r.match.path) });
    for (const h of r.match.headers ?? []) headers.push({ name: h.name.toLowerCase(), string_match: envoyString(h) });
    const percentage = fraction(f.percentage);
    const config: Record<string, unknown> = { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' };
    if (f.delay) config.delay = { fixed_delay: `${f.delay.fixed_delay_ms / 1000}s`, percentage };
    else if (f.header_controlled) config.delay = { header_delay: {}, percentage };
    if (f.abort) config.abort = { http_status: f.abort.httpStatus, percentage };
    else if (f.header_controlled) config.abort = { header_abort: {}, percentage };
    if (f.response_rate_limit_kbps !== undefined) config.response_rate_limit = { fixed_limit: { limit_kbps: Math.max(1, Math.round(f.response_rate_limit_kbps)) }, percentage };
    if (headers.length) config.headers = headers;
    if (p.spec.max_active_faults !== undefined) {
      config.max_active_faults = p.spec.max_active_faults;
      if (i === 0 && p.spec.rules.length > 1) notes.push('max_active_faults is per filter in Envoy, per policy in Vigil');
    }
    return { name: 'envoy.filters.http.fault', typed_config: config };
  });
  return { document: { http_filters: filters }, notes };
}
