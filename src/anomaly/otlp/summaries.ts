/** Decoded spans → trace summaries (the endpoint of a span, root and SERVER spans). */
import { UNNAMED_ENDPOINT } from '../normalize.js';
import type { TraceSummary } from '../types.js';
import { SPAN_KIND, type AttributeValue, type SpanRecord } from './spans.js';

const BARE_METHOD = /^(?:HTTP\s+)?(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|TRACE|CONNECT|_OTHER)$/i;

function pathOf(attrs: Record<string, AttributeValue>): string | undefined {
  const direct = attrs['url.path'] ?? attrs['http.target'];
  if (typeof direct === 'string' && direct !== '') return direct.split(/[?#]/)[0];
  const full = attrs['url.full'] ?? attrs['http.url'];
  if (typeof full === 'string') {
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(full);
    if (m) return m[1] || '/';
  }
  return undefined;
}

/**
 * The endpoint of a span: its name, as Tempo's rootTraceName would show it, except that a bare
 * HTTP method name ("GET", "HTTP GET", "HTTP") or an empty name is completed with http.route, or
 * failing that the URL path (normalised later), so that all GETs of a service do not share a baseline.
 */
export function endpointOf(span: Pick<SpanRecord, 'name' | 'attributes'>): string {
  const name = span.name.trim();
  const bare = BARE_METHOD.exec(name);
  if (name !== '' && name !== 'HTTP' && !bare) return name;
  const a = span.attributes;
  const m = a['http.request.method'] ?? a['http.method'] ?? bare?.[1];
  const method = typeof m === 'string' ? m.toUpperCase() : undefined;
  const route = typeof a['http.route'] === 'string' && a['http.route'] !== '' ? (a['http.route'] as string) : pathOf(a);
  if (route) return method ? `${method} ${route}` : route;
  if (typeof a['rpc.service'] === 'string' && typeof a['rpc.method'] === 'string') return `${a['rpc.service']}/${a['rpc.method']}`;
  return name || UNNAMED_ENDPOINT;
}

export interface SummarizeOptions {
  /** Also emit a span-level summary for every non-root SERVER span (default false). */
  serverSpans?: boolean;
}

/** Nanoseconds since the epoch → milliseconds (microsecond precision kept). */
export const nanosToMs = (ns: bigint): number => Number(ns / 1000n) / 1000;

/**
 * Root spans (no parent) → trace summaries; with serverSpans, each non-root SERVER span → a
 * span-level summary (spanId set, so it is de-duplicated per span, not per trace).
 */
export function summarize(spans: readonly SpanRecord[], opts: SummarizeOptions = {}): TraceSummary[] {
  const out: TraceSummary[] = [];
  for (const s of spans) {
    const root = s.parentSpanId === '';
    if (!root && !(opts.serverSpans && s.kind === SPAN_KIND.SERVER)) continue;
    const summary: TraceSummary = {
      traceId: s.traceId,
      service: s.service,
      endpoint: endpointOf(s),
      startMs: nanosToMs(s.startTimeUnixNano),
      durationMs: nanosToMs(s.endTimeUnixNano - s.startTimeUnixNano),
    };
    if (!root) summary.spanId = s.spanId;
    out.push(summary);
  }
  return out;
}
