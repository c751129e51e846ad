/**
 * Ingress route mappings for snapshots: which Traefik `service` label serves which (domain, path).
 * Parsing and naming are src/traefik's; here they become the wire's RouteInfo, from a manifest file
 * (`--routes-file`, re-read when it changes) or from the Kubernetes watchers (kube.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { routeMappingsFromYaml, type ManifestError, type RouteMapping } from '../../traefik/index.js';
import { MAX_RULE_LENGTH, type RouteInfo } from '../snapshot.js';

export interface RouteSource {
  routes(): RouteInfo[];
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/**
 * The router behind a mapping, for the server's "which route serves this URL": left out when a value
 * exceeds what the wire accepts, so the route still ships (as from an agent without rules).
 */
function matcherFields(m: RouteMapping): Pick<RouteInfo, 'router' | 'rule' | 'syntax' | 'priority' | 'entry_points'> {
  if (m.rule === undefined || m.rule.length === 0 || m.rule.length > MAX_RULE_LENGTH) return {};
  if (!m.router || m.router.length > 512) return {};
  if (m.entryPoints.length > 32 || m.entryPoints.some((e) => e.length === 0 || e.length > 128)) return {};
  return {
    router: m.router,
    rule: m.rule,
    syntax: m.syntax,
    ...(m.priority !== undefined && Number.isSafeInteger(m.priority) ? { priority: m.priority } : {}),
    entry_points: m.entryPoints,
  };
}

/** RouteInfo per mapping, minus excluded namespaces and values the wire schema would refuse; deduplicated. */
export function routeInfosFromMappings(mappings: readonly RouteMapping[], excludeNamespaces: readonly string[] = []): RouteInfo[] {
  const out: RouteInfo[] = [];
  const seen = new Set<string>();
  for (const m of mappings) {
    if (excludeNamespaces.includes(m.namespace)) continue;
    const backend = m.backendServices[0];
    const info: RouteInfo = {
      name: m.name,
      namespace: m.namespace,
      domain: m.domain,
      path_prefix: m.pathPrefix || '/',
      service_key: m.traefikService,
      service_name: backend?.name ?? '',
      service_port: typeof backend?.port === 'number' ? backend.port : 0,
      tls: m.tls,
      ...matcherFields(m),
    };
    if (!info.domain || info.domain.length > 253 || info.path_prefix.length > 1024 || !info.service_key || info.service_key.length > 512) continue;
    const key = `${info.service_key}\u0000${info.domain}\u0000${info.path_prefix}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(info);
  }
  return out;
}

/** Routes from a YAML file of IngressRoute / Ingress manifests; re-read when its mtime or size changes. */
export class FileRouteSource implements RouteSource {
  private stamp = '';
  private cached: RouteInfo[] = [];
  lastError: string | undefined;

  constructor(
    readonly file: string,
    private readonly opts: { log: Logger; excludeNamespaces: readonly string[] },
  ) {}

  routes(): RouteInfo[] {
    let stamp: string;
    try {
      const st = statSync(this.file);
      stamp = `${st.mtimeMs}/${st.size}`;
    } catch (err) {
      this.fail(`cannot read routes file ${this.file}: ${(err as Error).message}`);
      return this.cached;
    }
    if (stamp === this.stamp) return this.cached;
    try {
      const problems: string[] = [];
      const mappings = routeMappingsFromYaml(readFileSync(this.file, 'utf8'), { onError: (e: ManifestError) => problems.push(e.message) });
      for (const p of problems) this.opts.log.warn({ file: this.file, problem: p }, 'skipping an invalid object in the routes file');
      this.cached = routeInfosFromMappings(mappings, this.opts.excludeNamespaces);
      this.stamp = stamp;
      this.lastError = undefined;
      this.opts.log.info({ file: this.file, routes: this.cached.length }, 'loaded ingress routes');
    } catch (err) {
      this.stamp = stamp; // do not re-log the same broken file every cycle
      this.fail(`routes file ${this.file}: ${(err as Error).message}`);
    }
    return this.cached;
  }

  private fail(msg: string): void {
    if (msg !== this.lastError) this.opts.log.error(msg);
    this.lastError = msg;
  }
}
