/**
 * Source dialects the agent understands, detected per metric family by name (pure).
 *
 * | dialect  | families used                                                                  | unit |
 * |----------|--------------------------------------------------------------------------------|------|
 * | linkerd  | `response_total`, `response_latency_ms` (histogram)                              | ms   |
 * | traefik  | `traefik_service_requests_total`, `traefik_service_request_duration_seconds`,   | s    |
 * |          | router variants `traefik_router_*` (used only when a scrape has no service ones) |      |
 * | nginx    | `nginx_ingress_controller_requests`, `…_request_duration_seconds`                | s    |
 *
 * Any of them may arrive through the OpenTelemetry Collector's prometheus exporter, whose names carry
 * a configurable prefix (`otel_` by default) and whose `otel_scope_*` labels are ignored. Entry-point
 * families (`traefik_entrypoint_*`) and everything else are skipped without materialising samples.
 */

export type Dialect = 'linkerd' | 'traefik' | 'nginx';

/** What a sample is, after the dialect prefix is removed. */
export const SampleKind = { Counter: 0, Bucket: 1, Sum: 2, Count: 3 } as const;
export type SampleKind = (typeof SampleKind)[keyof typeof SampleKind];

/** Which family a sample belongs to. */
export const Source = {
  LinkerdResponses: 0,
  LinkerdLatency: 1,
  TraefikServiceRequests: 2,
  TraefikServiceDuration: 3,
  TraefikRouterRequests: 4,
  TraefikRouterDuration: 5,
  NginxRequests: 6,
  NginxDuration: 7,
} as const;
export type Source = (typeof Source)[keyof typeof Source];

export interface SampleRole {
  readonly dialect: Dialect;
  readonly source: Source;
  readonly kind: SampleKind;
  /** Values (bucket bounds and sums) are seconds and become milliseconds. */
  readonly seconds: boolean;
  /** Via the OpenTelemetry Collector exporter (name had the prefix). */
  readonly otel: boolean;
  /** The sample name without `_bucket` / `_sum` / `_count` (prefix kept): a histogram's identity. */
  readonly base: string;
}

interface Base {
  dialect: Dialect;
  source: Source;
  seconds: boolean;
  histogram: boolean;
}

const BASES: Record<string, Base> = {
  response: { dialect: 'linkerd', source: Source.LinkerdResponses, seconds: false, histogram: false },
  response_latency_ms: { dialect: 'linkerd', source: Source.LinkerdLatency, seconds: false, histogram: true },
  traefik_service_requests: { dialect: 'traefik', source: Source.TraefikServiceRequests, seconds: false, histogram: false },
  traefik_service_request_duration_seconds: { dialect: 'traefik', source: Source.TraefikServiceDuration, seconds: true, histogram: true },
  traefik_router_requests: { dialect: 'traefik', source: Source.TraefikRouterRequests, seconds: false, histogram: false },
  traefik_router_request_duration_seconds: { dialect: 'traefik', source: Source.TraefikRouterDuration, seconds: true, histogram: true },
  nginx_ingress_controller_requests: { dialect: 'nginx', source: Source.NginxRequests, seconds: false, histogram: false },
  nginx_ingress_controller_request_duration_seconds: { dialect: 'nginx', source: Source.NginxDuration, seconds: true, histogram: true },
};

/** Sample name (without prefix) → kind, and family names (as declared or as seen untyped) to keep. */
const SAMPLE_NAMES = new Map<string, { base: Base; kind: SampleKind }>();
const FAMILY_NAMES = new Set<string>();
for (const [name, base] of Object.entries(BASES)) {
  FAMILY_NAMES.add(name);
  if (base.histogram) {
    for (const [suffix, kind] of [
      ['_bucket', SampleKind.Bucket],
      ['_sum', SampleKind.Sum],
      ['_count', SampleKind.Count],
    ] as const) {
      SAMPLE_NAMES.set(name + suffix, { base, kind });
      FAMILY_NAMES.add(name + suffix);
    }
  } else if (base.source === Source.NginxRequests) {
    // ingress-nginx declares a counter without the _total suffix
    SAMPLE_NAMES.set(name, { base, kind: SampleKind.Counter });
    SAMPLE_NAMES.set(name + '_total', { base, kind: SampleKind.Counter });
    FAMILY_NAMES.add(name + '_total');
  } else {
    SAMPLE_NAMES.set(name + '_total', { base, kind: SampleKind.Counter });
    FAMILY_NAMES.add(name + '_total');
  }
}

/**
 * Classifies family and sample names for one OpenTelemetry prefix. Results are cached per name, so
 * the per-sample cost is one Map lookup.
 */
export class DialectClassifier {
  private readonly prefix: string;
  private readonly roles = new Map<string, SampleRole | null>();
  private readonly families = new Map<string, boolean>();

  constructor(otelPrefix = 'otel_') {
    this.prefix = otelPrefix;
  }

  /** Should samples of this family be materialised at all? */
  keepFamily(name: string): boolean {
    let keep = this.families.get(name);
    if (keep === undefined) {
      const bare = this.strip(name);
      keep = FAMILY_NAMES.has(bare.name);
      if (this.families.size < 10_000) this.families.set(name, keep);
    }
    return keep;
  }

  /** The role of a sample name, or null when the agent does not use it. */
  role(sampleName: string): SampleRole | null {
    let r = this.roles.get(sampleName);
    if (r === undefined) {
      const bare = this.strip(sampleName);
      const hit = SAMPLE_NAMES.get(bare.name);
      if (hit) {
        const cut = hit.kind === SampleKind.Bucket ? 7 : hit.kind === SampleKind.Sum ? 4 : hit.kind === SampleKind.Count ? 6 : 0;
        const base = hit.base.histogram ? sampleName.slice(0, sampleName.length - cut) : sampleName;
        r = { dialect: hit.base.dialect, source: hit.base.source, kind: hit.kind, seconds: hit.base.seconds, otel: bare.otel, base };
      } else {
        r = null;
      }
      if (this.roles.size < 10_000) this.roles.set(sampleName, r);
    }
    return r;
  }

  private strip(name: string): { name: string; otel: boolean } {
    if (this.prefix !== '' && name.startsWith(this.prefix)) {
      const rest = name.slice(this.prefix.length);
      if (FAMILY_NAMES.has(rest) || SAMPLE_NAMES.has(rest)) return { name: rest, otel: true };
    }
    return { name, otel: false };
  }
}

/** Label names of the OpenTelemetry Collector exporter that never distinguish our series. */
export function isIgnoredLabel(name: string): boolean {
  return name.length > 11 && name.charCodeAt(0) === 111 /* o */ && name.startsWith('otel_scope_');
}
