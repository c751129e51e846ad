/**
 * The request "which route serves this URL" evaluates, from what a person types: `vigil routes match`
 * flags and the GET /api/v2/slo/routes/match query are the same fields, read the same way here.
 */
import { parseIP, remoteAddrIP } from './ip.js';
import { canonicalHeaderKey, type RouteRequest } from './rule-match.js';

export type RouteRequestField = 'path' | 'header' | 'client_ip';

/** A request Traefik could not receive, or a field that cannot be read; `field` names it (`header.2` for the third header). */
export class BadRouteRequest extends Error {
  constructor(
    readonly field: `${RouteRequestField}` | `header.${number}`,
    message: string,
  ) {
    super(message);
  }

  /** The field without an index: path, header or client_ip. */
  get kind(): RouteRequestField {
    return this.field.startsWith('header') ? 'header' : (this.field as RouteRequestField);
  }
}

export interface RouteRequestSpec {
  host: string;
  /** Path as sent, percent-encoding kept; a `?query` is split off as Traefik's URL parsing would. */
  path: string;
  /** Default GET. */
  method?: string;
  /** Headers as `Name=value` or `Name: value`, repeatable. */
  headers?: readonly string[];
  /** Client address for ClientIP rules: `ip`, `ip:port` or `[v6]:port`. */
  clientIp?: string;
}

/** `Name=value` or `Name: value`, keyed as Go's Header.Set would (canonical name); `index` names it in an error. */
export function parseHeaderSpec(spec: string, index = 0): [string, string] {
  const m = /^([^=:\s]+)\s*[=:]\s?(.*)$/s.exec(spec);
  if (!m) throw new BadRouteRequest(`header.${index}`, `a header is "Name=value" or "Name: value", got "${spec.slice(0, 60)}"`);
  return [canonicalHeaderKey(m[1]!), m[2]!];
}

/** The request the spec describes; throws BadRouteRequest for one Traefik would refuse or a field that cannot be read. */
export function routeRequestOf(spec: RouteRequestSpec): RouteRequest {
  if (!spec.path.startsWith('/')) throw new BadRouteRequest('path', `path must start with "/", got "${spec.path.slice(0, 40)}"`);
  const at = spec.path.indexOf('?');
  const path = at < 0 ? spec.path : spec.path.slice(0, at);
  // Traefik answers 400 to a malformed escape before any router sees the request.
  if (/%(?![0-9A-Fa-f]{2})/.test(path)) throw new BadRouteRequest('path', 'path has a "%" not followed by two hex digits (Traefik answers 400 Bad Request)');
  const headers: Record<string, string[]> = {};
  for (const [i, h] of (spec.headers ?? []).entries()) {
    const [k, v] = parseHeaderSpec(h, i);
    (headers[k] ??= []).push(v);
  }
  if (spec.clientIp !== undefined && !parseIP(remoteAddrIP(spec.clientIp))) {
    throw new BadRouteRequest('client_ip', `client address must be an IP, ip:port or [v6]:port, got "${spec.clientIp.slice(0, 60)}"`);
  }
  return {
    host: spec.host,
    path,
    query: at < 0 ? '' : spec.path.slice(at + 1),
    method: spec.method ?? 'GET',
    headers,
    ...(spec.clientIp !== undefined ? { clientIP: spec.clientIp } : {}),
  };
}
