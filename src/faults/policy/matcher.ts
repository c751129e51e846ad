/**
 * The per-request decision: which fault, if any, a request gets. Pure and allocation-light, since
 * the proxy asks on every request: policies are compiled once per change into a flat list of rules
 * (only those whose selector names this executor's service and namespace and that have not
 * expired), and a decision without jitter or header-picked values is a frozen object shared by all
 * requests that get it.
 *
 * Order: policies by name, then their rules in file order; the first rule whose matcher matches
 * decides. Its percentage draw then injects or not; later rules are not consulted either way.
 */
import { RE2JS } from 're2js';
import { POLICY_LIMITS } from './errors.js';
import type { FaultPolicy, HeaderMatcher, StringMatcher } from './types.js';

export interface RequestFacts {
  method: string;
  /** Without the query string (anything from the first "?" is ignored). */
  path: string;
  /** Lower-case names, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
}

export interface FaultDecision {
  policy: string;
  rule: number;
  delayMs?: number;
  abort?: { status: number; body: string; headers: Record<string, string> };
  reset?: boolean;
  rateLimitKbps?: number;
  startDelayMs?: number;
  /** The policy's cap on its faults in progress at once (the proxy counts the overflow). */
  maxActiveFaults?: number;
}

export interface CompiledPolicies {
  /** `draw` returns a uniform number in [0, 1). Decisions are frozen and may be shared: do not mutate. */
  decide(req: RequestFacts, draw: () => number): FaultDecision | null;
  readonly ruleCount: number;
  /** Epoch ms when a policy or rule compiled here expires (compile again then), or null. */
  readonly nextExpiryAt: number | null;
}

export interface FaultTarget {
  service: string;
  namespace: string;
  /**
   * Honour x-envoy-fault-* request headers on every request no rule matched (for test
   * environments where callers pick their own fault). Off by default.
   */
  headerFaults?: boolean;
}

/** HFI's abort body, kept so clients that look for it keep working. */
export const DEFAULT_ABORT_BODY = 'Fault injection: Service unavailable';
/** The name decisions from `FaultTarget.headerFaults` carry in place of a policy name. */
export const HEADER_FAULTS_POLICY = 'x-envoy-fault-headers';

export const FAULT_HEADERS = {
  abort: 'x-envoy-fault-abort-request',
  abortPercentage: 'x-envoy-fault-abort-request-percentage',
  delay: 'x-envoy-fault-delay-request',
  delayPercentage: 'x-envoy-fault-delay-request-percentage',
  throughput: 'x-envoy-fault-throughput-response',
} as const;

type Test = (value: string) => boolean;

function stringTest(m: StringMatcher): Test {
  if (m.exact !== undefined) {
    const e = m.exact;
    return (v) => v === e;
  }
  if (m.prefix !== undefined) {
    const p = m.prefix;
    return (v) => v.startsWith(p);
  }
  // RE2: linear in the input whatever the pattern, so no request can stall the proxy.
  const re = RE2JS.compile(m.regex ?? '');
  return (v) => re.test(v);
}

function headerTest(m: HeaderMatcher): (h: RequestFacts['headers']) => boolean {
  const name = m.name.toLowerCase();
  const t = stringTest(m);
  return (h) => {
    const v = h[name];
    if (v === undefined) return false;
    if (typeof v === 'string') return t(v);
    for (let i = 0; i < v.length; i++) if (t(v[i])) return true;
    return false;
  };
}

interface CompiledRule {
  policy: string;
  index: number;
  percentage: number;
  method: Test | null;
  path: Test | null;
  headers: ((h: RequestFacts['headers']) => boolean)[];
  /** The decision when nothing varies per request; null when it has jitter or no static action. */
  fixed: FaultDecision | null;
  base: FaultDecision;
  jitterMs: number;
  headerControlled: boolean;
  hasStaticAction: boolean;
}

const selects = (pattern: string | undefined, value: string) => pattern === undefined || pattern === '' || pattern === '*' || pattern === value;

function expiryOf(appliedAt: number | undefined, seconds: number | undefined): number | null {
  // Without applied_at (a policy that did not come from the store) there is no clock to count from.
  if (!seconds || appliedAt === undefined) return null;
  return appliedAt + seconds * 1000;
}

function freezeDecision(d: FaultDecision): FaultDecision {
  if (d.abort) {
    Object.freeze(d.abort.headers);
    Object.freeze(d.abort);
  }
  return Object.freeze(d);
}

export function compilePolicies(policies: FaultPolicy[], target: FaultTarget, now: number = Date.now()): CompiledPolicies {
  const sorted = [...policies].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  const rules: CompiledRule[] = [];
  let nextExpiryAt: number | null = null;
  const noteExpiry = (at: number | null) => {
    if (at !== null && at > now && (nextExpiryAt === null || at < nextExpiryAt)) nextExpiryAt = at;
  };
  for (const p of sorted) {
    const sel = p.spec.selector;
    if (!selects(sel?.service, target.service) || !selects(sel?.namespace, target.namespace)) continue;
    const policyExpiry = expiryOf(p.metadata.applied_at, p.spec.duration_seconds);
    if (policyExpiry !== null && policyExpiry <= now) continue;
    noteExpiry(policyExpiry);
    p.spec.rules.forEach((r, index) => {
      const f = r.fault;
      const ruleExpiry = expiryOf(p.metadata.applied_at, f.duration_seconds);
      if (ruleExpiry !== null && ruleExpiry <= now) return;
      noteExpiry(ruleExpiry);
      const base: FaultDecision = { policy: p.metadata.name, rule: index };
      if (f.delay) base.delayMs = f.delay.fixed_delay_ms;
      if (f.abort) base.abort = { status: f.abort.httpStatus, body: f.abort.body ?? DEFAULT_ABORT_BODY, headers: { ...f.abort.headers } };
      if (f.reset) base.reset = true;
      if (f.response_rate_limit_kbps !== undefined) base.rateLimitKbps = f.response_rate_limit_kbps;
      const start = f.start_delay_ms ?? p.spec.start_delay_ms;
      if (start) base.startDelayMs = start;
      if (p.spec.max_active_faults !== undefined) base.maxActiveFaults = p.spec.max_active_faults;
      const hasStaticAction = Boolean(f.delay || f.abort || f.reset || f.response_rate_limit_kbps !== undefined);
      const jitterMs = f.delay?.jitter_ms ?? 0;
      freezeDecision(base);
      rules.push({
        policy: p.metadata.name,
        index,
        percentage: f.percentage,
        method: r.match.method ? stringTest(r.match.method) : null,
        path: r.match.path ? stringTest(r.match.path) : null,
        headers: (r.match.headers ?? []).map(headerTest),
        fixed: hasStaticAction && jitterMs === 0 ? base : null,
        base,
        jitterMs,
        headerControlled: f.header_controlled === true,
        hasStaticAction,
      });
    });
  }

  const headerFaults = target.headerFaults === true;
  const ruleCount = rules.length;

  function decide(req: RequestFacts, draw: () => number): FaultDecision | null {
    let path = req.path;
    const q = path.indexOf('?');
    if (q >= 0) path = path.slice(0, q);
    for (let i = 0; i < ruleCount; i++) {
      const r = rules[i];
      if (r.method !== null && !r.method(req.method)) continue;
      if (r.path !== null && !r.path(path)) continue;
      let ok = true;
      for (let h = 0; h < r.headers.length; h++) {
        if (!r.headers[h](req.headers)) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (r.headerControlled) {
        const picked = fromHeaders(req.headers, r.base, r.percentage, draw);
        if (picked !== undefined) return picked;
        // No fault header on the request: the rule acts as its static action, or does not match.
        if (!r.hasStaticAction) continue;
      }
      // Unbiased: draw() is uniform in [0, 1), so this is true with probability percentage/100.
      if (!(r.percentage > 0 && draw() * 100 < r.percentage)) return null;
      if (r.fixed !== null) return r.fixed;
      return { ...r.base, delayMs: (r.base.delayMs ?? 0) + Math.floor(draw() * r.jitterMs) };
    }
    if (headerFaults) {
      const picked = fromHeaders(req.headers, HEADER_BASE, 100, draw);
      if (picked !== undefined) return picked;
    }
    return null;
  }

  return { decide, ruleCount, nextExpiryAt };
}

const HEADER_BASE: FaultDecision = Object.freeze({ policy: HEADER_FAULTS_POLICY, rule: 0 });

function headerValue(h: RequestFacts['headers'], name: string): string | undefined {
  const v = h[name];
  return typeof v === 'string' ? v : v?.[0];
}

/** A decimal 0–100 header, or undefined when absent or not a number in range. */
function percentageHeader(h: RequestFacts['headers'], name: string): number | undefined {
  const v = headerValue(h, name);
  if (v === undefined || v.length > 32) return undefined;
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) && n >= 0 && n <= 100 ? n : undefined;
}

function integerHeader(h: RequestFacts['headers'], name: string, min: number, max: number): number | undefined {
  const v = headerValue(h, name);
  if (v === undefined || v.length > 16 || !/^\s*\d+\s*$/.test(v)) return undefined;
  const n = Number(v);
  return n >= min && n <= max ? n : undefined;
}

/**
 * The fault a request asks for with Envoy's x-envoy-fault-* headers, capped by the rule's
 * percentage (a header can lower the rate, never raise it). `undefined` when the request asks for
 * nothing valid, `null` when it asked but the draw said no.
 */
function fromHeaders(h: RequestFacts['headers'], base: FaultDecision, percentage: number, draw: () => number): FaultDecision | null | undefined {
  const status = integerHeader(h, FAULT_HEADERS.abort, 200, 599);
  const delay = integerHeader(h, FAULT_HEADERS.delay, 1, POLICY_LIMITS.maxDelayMs);
  const kbps = integerHeader(h, FAULT_HEADERS.throughput, 1, POLICY_LIMITS.maxRateLimitKbps);
  if (status === undefined && delay === undefined && kbps === undefined) return undefined;
  const d = draw() * 100;
  // The headers pick the fault; the rule contributes only where and when (not its static action).
  const out: FaultDecision = { policy: base.policy, rule: base.rule };
  if (base.startDelayMs !== undefined) out.startDelayMs = base.startDelayMs;
  if (base.maxActiveFaults !== undefined) out.maxActiveFaults = base.maxActiveFaults;
  let any = false;
  if (status !== undefined && d < Math.min(percentage, percentageHeader(h, FAULT_HEADERS.abortPercentage) ?? 100)) {
    out.abort = { status, body: base.abort?.body ?? DEFAULT_ABORT_BODY, headers: base.abort?.headers ?? {} };
    any = true;
  }
  if (delay !== undefined && d < Math.min(percentage, percentageHeader(h, FAULT_HEADERS.delayPercentage) ?? 100)) {
    out.delayMs = delay;
    any = true;
  }
  if (kbps !== undefined && d < percentage) {
    out.rateLimitKbps = kbps;
    any = true;
  }
  return any ? out : null;
}
