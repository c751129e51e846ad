/**
 * Names Traefik gives routers and services, i.e. the values of the `router` and `service` labels of
 * its metrics (`traefik_service_requests_total{service="…"}`), for the two Kubernetes providers.
 *
 * kubernetescrd (IngressRoute; pkg/provider/kubernetes/crd/kubernetes_http.go):
 *  - router = Normalize(namespace + "-" + ingressRouteName + "-" + hex(sha256(match))[0:20])
 *    (makeServiceKey formats `%s-%.10x`: the first 10 bytes of the hash; makeID joins with "-");
 *  - a route with one Kubernetes service → a load-balancer service named like the router;
 *  - a route with several services → a weighted service named like the router, over leaf services
 *    named Normalize(ns + "-" + svc + "-" + port) (fullServiceName; no port → ns-svc); the leaves
 *    carry the metrics;
 *  - a TraefikService reference → Normalize(ns + "-" + name), or `name@provider` across providers.
 *  Label values carry the provider suffix `@kubernetescrd`.
 *
 * kubernetes (Ingress; pkg/provider/kubernetes/ingress/kubernetes.go):
 *  - service = Normalize(ns + "-" + backendService + "-" + (port.name || port.number));
 *  - router = TrimPrefix(Normalize(ns + "-" + ingressName + "-" + host + path), "-"), with
 *    `-` + hex(sha256(rule))[0:20] appended when several paths of one Ingress produce the same key
 *    (makeRouterKeyWithHash);
 *  - default backend: router `default-router`, service `default-backend`.
 *  Label values carry `@kubernetes`.
 *
 * Normalize (pkg/provider/configuration.go): runs of characters that are neither letters nor digits
 * become one `-`, and leading/trailing ones are dropped.
 */
import { createHash } from 'node:crypto';

export const CRD_PROVIDER = 'kubernetescrd';
export const INGRESS_PROVIDER = 'kubernetes';

/** Traefik's provider.Normalize. */
export function normalizeName(name: string): string {
  return (name.match(/[\p{L}\p{N}]+/gu) ?? []).join('-');
}

/** First 20 hex digits of sha256(rule): the suffix Traefik appends to IngressRoute router names. */
export function ruleHash(rule: string): string {
  return createHash('sha256').update(rule, 'utf8').digest('hex').slice(0, 20);
}

/** `name@provider`, unless name already names a provider. */
export function withProvider(name: string, provider: string): string {
  return name.includes('@') ? name : `${name}@${provider}`;
}

/** Router (and single-service service) name of an IngressRoute route, without the provider suffix. */
export function ingressRouteRouterName(namespace: string, ingressRouteName: string, match: string): string {
  const key = `${ingressRouteName}-${ruleHash(match)}`;
  return normalizeName(namespace ? `${namespace}-${key}` : key);
}

export interface CrdServiceRef {
  name: string;
  /** Port number or port name, as written in the IngressRoute. */
  port?: number | string;
  namespace?: string;
  /** `Service` (default) or `TraefikService`. */
  kind?: string;
}

/** fullServiceName: the name Traefik gives a service referenced from an IngressRoute (no provider suffix). */
export function crdServiceName(parentNamespace: string, ref: CrdServiceRef): string {
  const crossProvider = ref.name.includes('@');
  const namespace = crossProvider ? (ref.namespace ?? '') : ref.namespace || parentNamespace;
  const port = ref.kind === 'TraefikService' ? undefined : ref.port;
  if (port !== undefined && port !== 0 && port !== '') return normalizeName(`${namespace}-${ref.name}-${port}`);
  if (!crossProvider) return normalizeName(`${namespace}-${ref.name}`);
  const at = ref.name.lastIndexOf('@');
  const name = ref.name.slice(0, at);
  const provider = ref.name.slice(at + 1);
  if (provider === CRD_PROVIDER) return normalizeName(`${namespace}-${name}`);
  return `${normalizeName(name)}@${provider}`;
}

export interface CrdRouteNames {
  /** Router label value. */
  router: string;
  /** Name of the service the router points at (the weighted one for several services). */
  routerService: string;
  /**
   * Service label values under which the route's traffic is counted: the router-named service for a
   * single Kubernetes service, else one per referenced service (TraefikServices are not expanded here).
   */
  leafServices: string[];
}

/** Router and service label values of one IngressRoute route. */
export function ingressRouteRouteNames(namespace: string, ingressRouteName: string, route: { match: string; services: readonly CrdServiceRef[] }): CrdRouteNames {
  const router = ingressRouteRouterName(namespace, ingressRouteName, route.match);
  const services = route.services;
  if (services.length === 1) {
    const only = services[0];
    if ((only.kind ?? 'Service') === 'Service') {
      const label = withProvider(router, CRD_PROVIDER);
      return { router: label, routerService: label, leafServices: [label] };
    }
    const label = withProvider(crdServiceName(namespace, only), CRD_PROVIDER);
    return { router: withProvider(router, CRD_PROVIDER), routerService: label, leafServices: [label] };
  }
  return {
    router: withProvider(router, CRD_PROVIDER),
    routerService: withProvider(router, CRD_PROVIDER),
    leafServices: services.map((s) => withProvider(crdServiceName(namespace, s), CRD_PROVIDER)),
  };
}

/** Ingress backend service name (no provider suffix): port name when set, else port number. */
export function ingressServiceName(namespace: string, serviceName: string, port: { name?: string; number?: number }): string {
  const portString = port.name ? port.name : String(port.number ?? 0);
  return normalizeName(`${namespace}-${serviceName}-${portString}`);
}

/** Ingress router key before conflict resolution (no provider suffix). */
export function ingressRouterKey(namespace: string, ingressName: string, host: string, path: string): string {
  return normalizeName(`${namespace}-${ingressName}-${host}${path}`).replace(/^-/, '');
}

/** makeRouterKeyWithHash: used for every router of an Ingress whose key is shared by several paths. */
export function ingressRouterKeyWithHash(key: string, rule: string): string {
  return `${key}-${ruleHash(rule)}`;
}

export type IngressPathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

/**
 * The rule the kubernetes (Ingress) provider builds for one path: Host(`h`) or, for `*.h`,
 * HostRegexp (v3: `^[a-zA-Z0-9-]+\.h$`; v2: `{subdomain:[a-zA-Z0-9-]+}.h`), and'ed with
 * Path (pathType Exact) or PathPrefix (else; ImplementationSpecific may use the
 * `traefik.ingress.kubernetes.io/router.pathmatcher` annotation's matcher).
 */
export function ingressRule(host: string, path: string, pathType?: string, options: { pathMatcher?: string; syntax?: 'v2' | 'v3' } = {}): string {
  const rules: string[] = [];
  if (host) {
    if (host.startsWith('*.')) {
      if (options.syntax === 'v2') rules.push('HostRegexp(`' + host.replace('*.', '{subdomain:[a-zA-Z0-9-]+}.') + '`)');
      else rules.push('HostRegexp(`^' + host.replace(/[\\.+*?()|[\]{}^$]/g, (c) => '\\' + c).replace('\\*\\.', '[a-zA-Z0-9-]+\\.') + '$`)');
    } else {
      rules.push('Host(`' + host + '`)');
    }
  }
  if (path) {
    let matcher = 'PathPrefix';
    if (!pathType || pathType === 'ImplementationSpecific') {
      if (options.pathMatcher) matcher = options.pathMatcher;
    } else if (pathType === 'Exact') {
      matcher = 'Path';
    }
    rules.push(`${matcher}(\`${path}\`)`);
  }
  return rules.join(' && ');
}
