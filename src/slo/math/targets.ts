/**
 * Which objective applies where (pure). Targets are stored per (scope, key, window); an entity
 * looks them up along a chain from the most specific scope to the least, and falls back to the
 * server's default.
 *
 *   route   key = domain + path_prefix ("shop.example.com/api", root "shop.example.com/")
 *   domain  key = domain
 *   service key = "namespace/name"
 *
 * Chains: a route → [route, domain, service of the route]; a domain → [domain]; a mesh service →
 * [service]. Each window (1d, 7d, 30d) resolves independently; the default applies to its own window
 * only. The PRIMARY target (status, error budget, burn rates) is the one from the most specific scope
 * that has any target, its longest window winning; the default when none.
 */
import { SLO_WINDOWS, type SloWindow, type TargetSpec } from './slo.js';

export type TargetScope = 'domain' | 'route' | 'service';
export type TargetSource = TargetScope | 'default';

export interface StoredTarget extends TargetSpec {
  scope: TargetScope;
  key: string;
  window: SloWindow;
}

export interface EffectiveTarget extends TargetSpec {
  window: SloWindow;
  source: TargetSource;
}

export type TargetsByWindow = Partial<Record<SloWindow, TargetSpec & { source: TargetSource }>>;

export interface ResolvedTargets {
  byWindow: TargetsByWindow;
  primary: EffectiveTarget;
}

export const routeKey = (domain: string, pathPrefix: string) => `${domain}${pathPrefix.startsWith('/') ? '' : '/'}${pathPrefix}`;
export const serviceKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** Stored targets indexed by scope and key. */
export class TargetIndex {
  private byKey = new Map<string, StoredTarget[]>();
  constructor(
    targets: StoredTarget[],
    readonly defaults: TargetSpec & { window: SloWindow },
  ) {
    for (const t of targets) {
      const k = `${t.scope}\u0000${t.key}`;
      const list = this.byKey.get(k);
      if (list) list.push(t);
      else this.byKey.set(k, [t]);
    }
  }

  private of(scope: TargetScope, key: string): StoredTarget[] {
    return this.byKey.get(`${scope}\u0000${key}`) ?? [];
  }

  private fallback?: ResolvedTargets;

  resolve(chain: { scope: TargetScope; key: string }[]): ResolvedTargets {
    // Nothing configured along the chain (the common case): one shared default answer.
    if (chain.every((l) => !this.byKey.has(`${l.scope}\u0000${l.key}`))) {
      const d = this.defaults;
      return (this.fallback ??= { byWindow: { [d.window]: spec(d, 'default') }, primary: { ...spec(d, 'default'), window: d.window } });
    }
    const byWindow: TargetsByWindow = {};
    let primary: EffectiveTarget | undefined;
    for (const link of chain) {
      const found = this.of(link.scope, link.key);
      for (const t of found) if (!byWindow[t.window]) byWindow[t.window] = spec(t, link.scope);
      if (!primary && found.length) {
        const longest = [...found].sort((a, b) => SLO_WINDOWS.indexOf(b.window) - SLO_WINDOWS.indexOf(a.window))[0];
        primary = { ...spec(longest, link.scope), window: longest.window };
      }
    }
    const d = this.defaults;
    if (!byWindow[d.window]) byWindow[d.window] = spec(d, 'default');
    primary ??= { ...spec(d, 'default'), window: d.window };
    return { byWindow, primary };
  }

  route(domain: string, pathPrefix: string, service?: { namespace: string; name: string }): ResolvedTargets {
    const chain: { scope: TargetScope; key: string }[] = [
      { scope: 'route', key: routeKey(domain, pathPrefix) },
      { scope: 'domain', key: domain },
    ];
    if (service?.namespace && service.name) chain.push({ scope: 'service', key: serviceKey(service.namespace, service.name) });
    return this.resolve(chain);
  }

  domain(domain: string): ResolvedTargets {
    return this.resolve([{ scope: 'domain', key: domain }]);
  }

  service(namespace: string, name: string): ResolvedTargets {
    return this.resolve([{ scope: 'service', key: serviceKey(namespace, name) }]);
  }
}

function spec(t: TargetSpec, source: TargetSource): TargetSpec & { source: TargetSource } {
  return {
    availability_target: t.availability_target,
    p95_latency_target: t.p95_latency_target,
    p99_latency_target: t.p99_latency_target ?? null,
    source,
  };
}
