/**
 * Route mappings from Kubernetes objects: which Traefik `service` label serves which (domain, path).
 *
 * Input: IngressRoute (`traefik.io/v1alpha1`, `traefik.containo.us/v1alpha1`), networking.k8s.io/v1
 * Ingress, optionally TraefikService (to expand weighted/mirroring references) and IngressClass (to
 * decide which Ingresses Traefik serves); every other kind is ignored. `kind: List` / `*List`
 * documents (kubectl get -o yaml) are flattened.
 *
 * Per IngressRoute route, as the kubernetescrd provider does: routes whose `kind` is not `Rule` or
 * whose `match` is empty are skipped; the rule is parsed with the route's `syntax`, else v2 for
 * traefik.containo.us and `defaultSyntax` (v3) for traefik.io — retried with the other syntax if it
 * fails (Traefik v2.10+ also serves traefik.io); each served (domain, path) of the rule yields one
 * mapping per metrics-carrying service: the router-named service for a single Kubernetes service,
 * else each leaf `<ns>-<svc>-<port>`. A route without a host maps to its backend service's name.
 *
 * Per Ingress path, as the kubernetes provider does: `<ns>-<svc>-<port name|number>@kubernetes`, the
 * rule's host (or the service name) and path (or `/`); a rules-less Ingress with a default backend
 * maps `default-backend@kubernetes`.
 *
 * Pure: no I/O. routeMappingsFromYaml parses text; routeMappingsFromObjects takes objects as the
 * Kubernetes API returns them (for the agent's watcher).
 */
import { parseAllDocuments } from 'yaml';
import {
  CRD_PROVIDER,
  crdServiceName,
  ingressRouteRouterName,
  ingressRouterKey,
  ingressRouterKeyWithHash,
  ingressRule,
  ingressServiceName,
  INGRESS_PROVIDER,
  withProvider,
  type CrdServiceRef,
} from './naming.js';
import { routesOfRule, type ServedRoute } from './routes-of-rule.js';
import { tryParseRule, type RuleNode, type RuleSyntax } from './rule-parser.js';

export const INGRESSROUTE_API_VERSIONS = ['traefik.io/v1alpha1', 'traefik.containo.us/v1alpha1'] as const;
export const INGRESS_API_VERSION = 'networking.k8s.io/v1';
const TRAEFIK_INGRESS_CONTROLLER = 'traefik.io/ingress-controller';
const ANNOTATION_INGRESS_CLASS = 'kubernetes.io/ingress.class';
const ANNOTATION_ROUTER = 'traefik.ingress.kubernetes.io/router.';

export type RouteSource = 'ingressroute' | 'ingress';

export interface BackendService {
  name: string;
  namespace: string;
  /** Port number or name as referenced (IngressRoute `port`, Ingress `port.number` / `port.name`). */
  port?: number | string;
  kind: 'Service' | 'TraefikService';
  weight?: number;
}

export interface RouteMapping {
  source: RouteSource;
  apiVersion: string;
  namespace: string;
  /** IngressRoute or Ingress name. */
  name: string;
  /** Index of the route in spec.routes (IngressRoute) or of the path among all rule paths (Ingress). */
  routeIndex: number;
  /** The router rule (`match`, or the rule the Ingress provider builds). */
  rule?: string;
  syntax: RuleSyntax;
  /** The host served, or — when the rule names none — the backend service name. */
  domain: string;
  /** False when `domain` is the service-name fallback. */
  domainFromRule: boolean;
  /** `host`, `wildcard` (`*.example.com`) or `regexp` (a HostRegexp pattern, as written). */
  domainKind?: 'host' | 'wildcard' | 'regexp';
  pathPrefix: string;
  /** The path is exact (Path / pathType Exact), not a prefix. */
  exactPath: boolean;
  /** PathRegexp pattern when the path condition is a regexp (pathPrefix is its literal start). */
  pathRegexp?: string;
  /** Router label value (`…@kubernetescrd` / `…@kubernetes`). */
  router: string;
  /** Service label value under which this route's requests are counted. */
  traefikService: string;
  /** Kubernetes services behind traefikService. */
  backendServices: BackendService[];
  entryPoints: string[];
  tls: boolean;
  priority?: number;
  /** Set when the rule could not be parsed (the mapping then uses the fallback domain and `/`). */
  ruleError?: string;
  /** The rule only parsed with the other syntax than the expected one. */
  syntaxFallback?: boolean;
}

export interface RouteMappingOptions {
  /** Syntax of traefik.io IngressRoutes without `syntax`, and of Ingress rules. Default 'v3'. */
  defaultSyntax?: RuleSyntax;
  /** Retry a rule that fails to parse with the other syntax. Default true. */
  syntaxFallback?: boolean;
  /**
   * Traefik's providers' `ingressClass` setting. IngressRoutes are kept when their
   * `kubernetes.io/ingress.class` annotation equals it (or, when unset, is empty or `traefik`).
   * Ingresses likewise by annotation; by `spec.ingressClassName` when it names an IngressClass with
   * controller traefik.io/ingress-controller among the objects — or, with no IngressClass among them,
   * when it equals this option (default `traefik`).
   */
  ingressClass?: string;
  /** Namespace of objects that have none. Default 'default'. */
  defaultNamespace?: string;
  /** Receives problems with individual objects, which are then skipped. Without it they throw. */
  onError?: (error: ManifestError) => void;
}

export class ManifestError extends Error {
  /** Where: `documents[2].spec.routes[0].services` (YAML) or `objects[2]…` (objects). */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ManifestError';
    this.path = path;
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function objAt(o: Obj, key: string, path: string): Obj | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new ManifestError(`${path}.${key}`, 'must be an object');
  return v;
}

function listAt(o: Obj, key: string, path: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ManifestError(`${path}.${key}`, 'must be a list');
  return v;
}

function portOf(v: unknown, path: string): number | string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') return /^[0-9]+$/.test(v) ? Number(v) : v;
  throw new ManifestError(path, 'must be a port number or name');
}

interface Located {
  obj: Obj;
  path: string;
}

function flatten(objects: readonly unknown[], prefix: string): Located[] {
  const out: Located[] = [];
  objects.forEach((o, i) => {
    if (!isObj(o)) return;
    const path = `${prefix}[${i}]`;
    const kind = str(o.kind) ?? '';
    if ((kind === 'List' || kind.endsWith('List')) && Array.isArray(o.items)) {
      o.items.forEach((item, j) => {
        if (isObj(item)) out.push({ obj: item, path: `${path}.items[${j}]` });
      });
      return;
    }
    out.push({ obj: o, path });
  });
  return out;
}

function meta(o: Obj, path: string, options: RouteMappingOptions): { name: string; namespace: string; annotations: Record<string, string> } {
  const m = objAt(o, 'metadata', path) ?? {};
  const name = str(m.name) || str(m.generateName);
  if (!name) throw new ManifestError(`${path}.metadata.name`, 'is required');
  const annotations: Record<string, string> = {};
  const a = objAt(m, 'annotations', `${path}.metadata`);
  if (a) for (const [k, v] of Object.entries(a)) if (typeof v === 'string') annotations[k] = v;
  return { name, namespace: str(m.namespace) || options.defaultNamespace || 'default', annotations };
}

function otherSyntax(s: RuleSyntax): RuleSyntax {
  return s === 'v2' ? 'v3' : 'v2';
}

function parseWithFallback(rule: string, syntax: RuleSyntax, fallback: boolean): { ast?: RuleNode; syntax: RuleSyntax; error?: string; fellBack?: boolean } {
  const first = tryParseRule(rule, { syntax });
  if (first.ok) return { ast: first.ast, syntax };
  if (fallback) {
    const second = tryParseRule(rule, { syntax: otherSyntax(syntax) });
    if (second.ok) return { ast: second.ast, syntax: second.syntax, fellBack: true };
  }
  return { syntax, error: first.error.message };
}

type RouteServiceRef = CrdServiceRef & { weight?: number };

interface Leaf {
  label: string;
  backends: BackendService[];
  /** Fallback domain when the rule names no host. */
  fallbackDomain: string;
}

type TraefikServiceIndex = Map<string, Obj>;

/** Leaf load-balancer services of a TraefikService (weighted children, or a mirroring's main service). */
function expandTraefikService(index: TraefikServiceIndex, namespace: string, name: string, depth: number): { label: string; backend: BackendService }[] | undefined {
  const ts = index.get(`${namespace}/${name}`);
  if (!ts || depth > 8) return undefined;
  const spec = isObj(ts.spec) ? ts.spec : {};
  const refs: Obj[] = [];
  if (isObj(spec.weighted) && Array.isArray(spec.weighted.services)) refs.push(...spec.weighted.services.filter(isObj));
  else if (isObj(spec.mirroring)) refs.push(spec.mirroring);
  const out: { label: string; backend: BackendService }[] = [];
  for (const r of refs) {
    const refName = str(r.name);
    if (!refName) continue;
    const kind = str(r.kind) === 'TraefikService' ? 'TraefikService' : 'Service';
    const ns = str(r.namespace) || namespace;
    if (kind === 'TraefikService' && !refName.includes('@')) {
      const nested = expandTraefikService(index, ns, refName, depth + 1);
      if (nested) {
        out.push(...nested);
        continue;
      }
    }
    const ref: CrdServiceRef = { name: refName, port: portOf(r.port, 'port'), namespace: str(r.namespace), kind };
    out.push({
      label: withProvider(crdServiceName(namespace, ref), CRD_PROVIDER),
      backend: { name: refName, namespace: ns, port: ref.port, kind, ...(typeof r.weight === 'number' ? { weight: r.weight } : {}) },
    });
  }
  return out;
}

function ingressRouteMappings(
  loc: Located,
  options: RouteMappingOptions,
  traefikServices: TraefikServiceIndex,
): RouteMapping[] {
  const { obj, path } = loc;
  const apiVersion = str(obj.apiVersion)!;
  const { name, namespace, annotations } = meta(obj, path, options);
  const providerClass = options.ingressClass ?? '';
  const objClass = annotations[ANNOTATION_INGRESS_CLASS] ?? '';
  if (!(providerClass === objClass || (providerClass === '' && objClass === 'traefik'))) return [];

  const spec = objAt(obj, 'spec', path) ?? {};
  const entryPoints = listAt(spec, 'entryPoints', `${path}.spec`).filter((e): e is string => typeof e === 'string');
  const tls = spec.tls !== undefined && spec.tls !== null;
  const groupDefault: RuleSyntax = apiVersion.startsWith('traefik.containo.us/') ? 'v2' : (options.defaultSyntax ?? 'v3');
  const out: RouteMapping[] = [];

  listAt(spec, 'routes', `${path}.spec`).forEach((routeRaw, k) => {
    const rpath = `${path}.spec.routes[${k}]`;
    if (!isObj(routeRaw)) throw new ManifestError(rpath, 'must be an object');
    const kind = str(routeRaw.kind);
    if (kind !== undefined && kind !== 'Rule') return; // Traefik: only "Rule" is supported
    const match = str(routeRaw.match);
    if (!match) return; // Traefik: "Empty match rule"

    const services: RouteServiceRef[] = listAt(routeRaw, 'services', rpath).map((s, j) => {
      const spath = `${rpath}.services[${j}]`;
      if (!isObj(s) || !str(s.name)) throw new ManifestError(`${spath}.name`, 'is required');
      const skind = str(s.kind) ?? 'Service';
      if (skind !== 'Service' && skind !== 'TraefikService') throw new ManifestError(`${spath}.kind`, `unsupported service kind ${skind}`);
      return { name: str(s.name)!, port: portOf(s.port, `${spath}.port`), namespace: str(s.namespace), kind: skind, ...(typeof s.weight === 'number' ? { weight: s.weight } : {}) };
    });
    if (services.length === 0) return; // no service, no service metrics

    const declared = str(routeRaw.syntax);
    const syntax: RuleSyntax = declared === 'v2' || declared === 'v3' ? declared : groupDefault;
    const parsed = parseWithFallback(match, syntax, options.syntaxFallback !== false);
    const served: ServedRoute[] = parsed.ast ? routesOfRule(parsed.ast, parsed.syntax) : [];
    const routes: ServedRoute[] = served.length > 0 ? served : [{ pathPrefix: '/', exact: false }];

    const routerBase = ingressRouteRouterName(namespace, name, match);
    const router = withProvider(routerBase, CRD_PROVIDER);
    const backendOf = (s: RouteServiceRef): BackendService => ({
      name: s.name,
      namespace: s.namespace || namespace,
      ...(s.port !== undefined ? { port: s.port } : {}),
      kind: s.kind === 'TraefikService' ? 'TraefikService' : 'Service',
      ...(s.weight !== undefined ? { weight: s.weight } : {}),
    });
    const leavesOf = (s: RouteServiceRef): Leaf[] => {
      if (s.kind === 'TraefikService' && !s.name.includes('@')) {
        const expanded = expandTraefikService(traefikServices, s.namespace || namespace, s.name, 0);
        if (expanded && expanded.length > 0) {
          return expanded.map((e) => ({ label: e.label, backends: [e.backend], fallbackDomain: e.backend.name }));
        }
      }
      return [{ label: withProvider(crdServiceName(namespace, s), CRD_PROVIDER), backends: [backendOf(s)], fallbackDomain: s.name }];
    };
    let leaves: Leaf[];
    if (services.length === 1 && (services[0].kind ?? 'Service') === 'Service') {
      leaves = [{ label: router, backends: [backendOf(services[0])], fallbackDomain: services[0].name }];
    } else {
      leaves = services.flatMap(leavesOf);
    }

    const seen = new Set<string>();
    for (const leaf of leaves) {
      for (const r of routes) {
        const key = JSON.stringify([leaf.label, r.domain, r.pathPrefix, r.exact, r.pathRegexp]);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({
          source: 'ingressroute',
          apiVersion,
          namespace,
          name,
          routeIndex: k,
          rule: match,
          syntax: parsed.syntax,
          domain: r.domain ?? leaf.fallbackDomain,
          domainFromRule: r.domain !== undefined,
          ...(r.domainKind ? { domainKind: r.domainKind } : {}),
          pathPrefix: r.pathPrefix,
          exactPath: r.exact,
          ...(r.pathRegexp !== undefined ? { pathRegexp: r.pathRegexp } : {}),
          router,
          traefikService: leaf.label,
          backendServices: leaf.backends,
          entryPoints,
          tls,
          ...(typeof routeRaw.priority === 'number' ? { priority: routeRaw.priority } : {}),
          ...(parsed.error ? { ruleError: parsed.error } : {}),
          ...(parsed.fellBack ? { syntaxFallback: true } : {}),
        });
      }
    }
  });
  return out;
}

function shouldProcessIngress(spec: Obj, annotations: Record<string, string>, options: RouteMappingOptions, traefikClasses: Set<string> | undefined): boolean {
  const className = str(spec.ingressClassName);
  if (className !== undefined) {
    if (traefikClasses) return traefikClasses.has(className);
    return className === (options.ingressClass || 'traefik');
  }
  const providerClass = options.ingressClass ?? '';
  const annotation = annotations[ANNOTATION_INGRESS_CLASS] ?? '';
  return providerClass === annotation || (providerClass === '' && annotation === 'traefik');
}

interface IngressBackendRef {
  name: string;
  port: { name?: string; number?: number };
}

function ingressBackend(v: unknown, path: string): IngressBackendRef | undefined {
  if (!isObj(v)) throw new ManifestError(path, 'must be an object');
  if (v.resource !== undefined) return undefined; // resource backends are not supported by Traefik
  const service = objAt(v, 'service', path);
  if (!service || !str(service.name)) throw new ManifestError(`${path}.service.name`, 'is required');
  const port = objAt(service, 'port', `${path}.service`) ?? {};
  const number = port.number;
  if (number !== undefined && !(typeof number === 'number' && Number.isInteger(number))) {
    throw new ManifestError(`${path}.service.port.number`, 'must be an integer');
  }
  return { name: str(service.name)!, port: { ...(str(port.name) ? { name: str(port.name) } : {}), ...(typeof number === 'number' ? { number } : {}) } };
}

function ingressMappings(loc: Located, options: RouteMappingOptions, traefikClasses: Set<string> | undefined): RouteMapping[] {
  const { obj, path } = loc;
  const { name, namespace, annotations } = meta(obj, path, options);
  const spec = objAt(obj, 'spec', path) ?? {};
  if (!shouldProcessIngress(spec, annotations, options, traefikClasses)) return [];
  const syntax = options.defaultSyntax ?? 'v3';
  const entryPoints = (annotations[`${ANNOTATION_ROUTER}entrypoints`] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const tls = listAt(spec, 'tls', `${path}.spec`).length > 0 || annotations[`${ANNOTATION_ROUTER}tls`] === 'true';
  const priorityText = annotations[`${ANNOTATION_ROUTER}priority`];
  const priority = priorityText !== undefined && /^-?[0-9]+$/.test(priorityText) ? Number(priorityText) : undefined;
  const pathMatcher = annotations[`${ANNOTATION_ROUTER}pathmatcher`];
  const base = { source: 'ingress' as const, apiVersion: INGRESS_API_VERSION, namespace, name, syntax, entryPoints, tls, ...(priority !== undefined ? { priority } : {}) };

  const rules = listAt(spec, 'rules', `${path}.spec`);
  if (rules.length === 0) {
    if (spec.defaultBackend === undefined || spec.defaultBackend === null) return [];
    const b = ingressBackend(spec.defaultBackend, `${path}.spec.defaultBackend`);
    if (!b) return [];
    return [
      {
        ...base,
        routeIndex: 0,
        rule: 'PathPrefix(`/`)',
        domain: b.name,
        domainFromRule: false,
        pathPrefix: '/',
        exactPath: false,
        router: withProvider('default-router', INGRESS_PROVIDER),
        traefikService: withProvider('default-backend', INGRESS_PROVIDER),
        backendServices: [{ name: b.name, namespace, port: b.port.name ?? b.port.number, kind: 'Service' }],
      },
    ];
  }

  interface Pending {
    key: string;
    mapping: RouteMapping;
  }
  const pending: Pending[] = [];
  let index = 0;
  rules.forEach((ruleRaw, i) => {
    const rpath = `${path}.spec.rules[${i}]`;
    if (!isObj(ruleRaw)) throw new ManifestError(rpath, 'must be an object');
    const host = str(ruleRaw.host) ?? '';
    const http = objAt(ruleRaw, 'http', rpath);
    if (!http) return;
    listAt(http, 'paths', `${rpath}.http`).forEach((paRaw, j) => {
      const ppath = `${rpath}.http.paths[${j}]`;
      if (!isObj(paRaw)) throw new ManifestError(ppath, 'must be an object');
      const b = ingressBackend(paRaw.backend, `${ppath}.backend`);
      const routeIndex = index++;
      if (!b) return;
      const p = str(paRaw.path) ?? '';
      const pathType = str(paRaw.pathType);
      const rule = ingressRule(host, p, pathType, { pathMatcher, syntax });
      const lowerHost = host.toLowerCase();
      pending.push({
        key: ingressRouterKey(namespace, name, host, p),
        mapping: {
          ...base,
          routeIndex,
          rule,
          domain: lowerHost || b.name,
          domainFromRule: lowerHost !== '',
          ...(lowerHost ? { domainKind: lowerHost.startsWith('*.') ? ('wildcard' as const) : ('host' as const) } : {}),
          pathPrefix: p || '/',
          exactPath: p !== '' && pathType === 'Exact',
          router: '',
          traefikService: withProvider(ingressServiceName(namespace, b.name, b.port), INGRESS_PROVIDER),
          backendServices: [{ name: b.name, namespace, port: b.port.name ?? b.port.number, kind: 'Service' }],
        },
      });
    });
  });
  const counts = new Map<string, number>();
  for (const p of pending) counts.set(p.key, (counts.get(p.key) ?? 0) + 1);
  return pending.map(({ key, mapping }) => ({
    ...mapping,
    router: withProvider((counts.get(key) ?? 0) > 1 ? ingressRouterKeyWithHash(key, mapping.rule!) : key, INGRESS_PROVIDER),
  }));
}

function mappings(located: Located[], options: RouteMappingOptions): RouteMapping[] {
  const traefikServices: TraefikServiceIndex = new Map();
  let ingressClasses: Set<string> | undefined;
  for (const { obj } of located) {
    const apiVersion = str(obj.apiVersion) ?? '';
    const kind = str(obj.kind);
    const m = isObj(obj.metadata) ? obj.metadata : {};
    if (kind === 'TraefikService' && (INGRESSROUTE_API_VERSIONS as readonly string[]).includes(apiVersion) && str(m.name)) {
      traefikServices.set(`${str(m.namespace) || options.defaultNamespace || 'default'}/${str(m.name)}`, obj);
    }
    if (kind === 'IngressClass' && apiVersion.startsWith('networking.k8s.io/')) {
      ingressClasses ??= new Set();
      const controller = isObj(obj.spec) ? str(obj.spec.controller) : undefined;
      const name = str(m.name);
      if (name && controller === TRAEFIK_INGRESS_CONTROLLER && (!options.ingressClass || options.ingressClass === name)) ingressClasses.add(name);
    }
  }
  const out: RouteMapping[] = [];
  for (const loc of located) {
    const apiVersion = str(loc.obj.apiVersion) ?? '';
    const kind = str(loc.obj.kind);
    try {
      if (kind === 'IngressRoute' && (INGRESSROUTE_API_VERSIONS as readonly string[]).includes(apiVersion)) {
        out.push(...ingressRouteMappings(loc, options, traefikServices));
      } else if (kind === 'Ingress' && apiVersion === INGRESS_API_VERSION) {
        out.push(...ingressMappings(loc, options, ingressClasses));
      }
    } catch (e) {
      if (e instanceof ManifestError && options.onError) options.onError(e);
      else throw e;
    }
  }
  return out;
}

/**
 * Kubernetes list responses leave `apiVersion` and `kind` off their items: this returns the items
 * with them filled in (items that have them keep theirs), ready for routeMappingsFromObjects.
 */
export function withTypeMeta(items: readonly unknown[], apiVersion: string, kind: string): unknown[] {
  return items.map((item) => (isObj(item) ? { ...item, apiVersion: str(item.apiVersion) ?? apiVersion, kind: str(item.kind) ?? kind } : item));
}

/**
 * Route mappings from Kubernetes objects as returned by the API (plain JS objects, each with
 * apiVersion and kind — see withTypeMeta for list items).
 */
export function routeMappingsFromObjects(objects: readonly unknown[], options: RouteMappingOptions = {}): RouteMapping[] {
  return mappings(flatten(objects, 'objects'), options);
}

/** Route mappings from multi-document YAML (a `--routes-file`). Throws ManifestError on invalid YAML. */
export function routeMappingsFromYaml(text: string, options: RouteMappingOptions = {}): RouteMapping[] {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const objects: unknown[] = [];
  list.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const where = e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
      throw new ManifestError(`documents[${i}]`, `invalid YAML${where}: ${e.message.split('\n')[0]}`);
    }
    objects.push(doc.toJS());
  });
  return mappings(flatten(objects, 'documents'), options);
}
