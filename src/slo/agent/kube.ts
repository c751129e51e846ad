/**
 * Kubernetes sources of the agent, through @kubernetes/client-node 1.x list/watch informers:
 *  - pods → scrape targets (`prometheus.io/scrape|port|path|scheme` annotations, and the Linkerd proxy
 *    admin port 4191 of meshed pods), with namespace / deployment / pod metadata;
 *  - IngressRoutes (traefik.io/v1alpha1 and traefik.containo.us/v1alpha1, with TraefikServices) and
 *    networking.k8s.io/v1 Ingresses (with IngressClasses) → route mappings (src/traefik/manifests).
 * A resource whose API is not served (CRD not installed: 404) is re-probed every few minutes; other
 * errors restart the informer with backoff.
 *
 * client-node 1.x (node-fetch) runs on every Node the project supports (>= 20.19). Its informer
 * (`ListWatch`) does not reject `start()` when the list fails: it reports list and watch failures
 * through the `error` event and then stops, and it emits `connect` before listing. So a source counts
 * as available only once a list has succeeded and no error followed, and each restart gets a fresh
 * informer whose predecessor's late events (e.g. the abort of its watch) are ignored.
 */
import { STATUS_CODES } from 'node:http';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  NetworkingV1Api,
  makeInformer,
  type Informer,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { routeMappingsFromObjects, type ManifestError } from '../../traefik/index.js';
import type { RouteInfo } from '../snapshot.js';
import { podTargets, type DiscoveredTarget } from './pods.js';
import { routeInfosFromMappings } from './routes.js';

export { LINKERD_ADMIN_PORT, podTargets, workloadName, type DiscoveredTarget } from './pods.js';

type ListFn<T extends KubernetesObject> = () => Promise<KubernetesListObject<T>>;

/** A short, stable description of a client error (ApiException messages embed the response headers). */
export function describeKubeError(err: unknown): string {
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (code !== undefined) {
    let body = e?.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // keep the text
      }
    }
    const detail = typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string' ? (body as { message: string }).message : typeof body === 'string' ? body.slice(0, 200) : undefined;
    const reason = detail || (typeof e?.message === 'string' && !e.message.startsWith('HTTP-Code:') ? e.message : '') || STATUS_CODES[code] || 'error';
    return `HTTP ${code}: ${reason}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

function statusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  return typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}

/** An informer that restarts itself after errors and treats "API not served" as an empty list. */
class Watched<T extends KubernetesObject> {
  private informer: (Informer<T> & ObjectCache<T>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private delay = 5000;
  available = false;
  lastError: string | undefined;

  constructor(
    private readonly kc: KubeConfig,
    readonly path: string,
    private readonly listFn: ListFn<T>,
    private readonly log: Logger,
  ) {}

  /** Resolves once the first list has succeeded or failed (a failure schedules a retry). */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const previous = this.informer;
    this.informer = undefined;
    this.available = false;
    await previous?.stop().catch(() => {});
    if (this.stopped) return;
    const list: ListFn<T> = async () => {
      const res = await this.listFn();
      if (this.informer === informer && !this.stopped) {
        this.available = true;
        this.lastError = undefined;
        this.delay = 5000;
      }
      return res;
    };
    const informer = makeInformer<T>(this.kc, this.path, list);
    this.informer = informer;
    informer.on('error', (err?: unknown) => {
      if (this.informer === informer) this.onError(err);
    });
    try {
      await informer.start();
    } catch (err) {
      if (this.informer === informer) this.onError(err);
    }
  }

  list(): readonly T[] {
    return this.available && this.informer ? this.informer.list() : [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.available = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const informer = this.informer;
    this.informer = undefined;
    await informer?.stop().catch(() => {});
  }

  private onError(err: unknown): void {
    if (this.stopped) return;
    const notServed = statusOf(err) === 404;
    this.available = false;
    const msg = describeKubeError(err);
    if (msg !== this.lastError) {
      if (notServed) this.log.info({ path: this.path }, 'kubernetes API not served here; will check again later');
      else this.log.warn({ path: this.path, err: msg }, 'kubernetes list/watch failed; retrying');
    }
    this.lastError = msg;
    const delay = notServed ? 300_000 : this.delay;
    if (!notServed) this.delay = Math.min(this.delay * 2, 60_000);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) void this.start();
    }, delay);
    this.timer.unref?.();
  }
}

/** Load a KubeConfig the usual way (in-cluster service account, else KUBECONFIG / ~/.kube/config). */
export function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

export class PodDiscovery {
  private readonly pods: Watched<V1Pod>;

  constructor(
    kc: KubeConfig,
    private readonly opts: { log: Logger; excludeNamespaces: readonly string[] },
  ) {
    const core = kc.makeApiClient(CoreV1Api);
    this.pods = new Watched<V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces(), opts.log);
  }

  start(): Promise<void> {
    return this.pods.start();
  }

  stop(): Promise<void> {
    return this.pods.stop();
  }

  get lastError(): string | undefined {
    return this.pods.available ? undefined : this.pods.lastError;
  }

  targets(): DiscoveredTarget[] {
    return this.pods.list().flatMap((p) => podTargets(p, { excludeNamespaces: this.opts.excludeNamespaces }));
  }
}

const CRD_GROUPS = [
  { group: 'traefik.io', version: 'v1alpha1' },
  { group: 'traefik.containo.us', version: 'v1alpha1' },
];

/** IngressRoutes (both API groups) and Ingresses, watched; mapped to routes on demand. */
export class KubeRouteSource {
  private readonly watched: { kind: string; apiVersion: string; w: Watched<KubernetesObject> }[] = [];
  private cache: { version: string; routes: RouteInfo[] } | undefined;

  constructor(
    kc: KubeConfig,
    private readonly opts: { log: Logger; excludeNamespaces: readonly string[] },
  ) {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const net = kc.makeApiClient(NetworkingV1Api);
    for (const { group, version } of CRD_GROUPS) {
      for (const [plural, kind] of [
        ['ingressroutes', 'IngressRoute'],
        ['traefikservices', 'TraefikService'],
      ] as const) {
        const list = () => custom.listClusterCustomObject({ group, version, plural }) as Promise<KubernetesListObject<KubernetesObject>>;
        this.watched.push({ kind, apiVersion: `${group}/${version}`, w: new Watched(kc, `/apis/${group}/${version}/${plural}`, list, opts.log) });
      }
    }
    this.watched.push({
      kind: 'Ingress',
      apiVersion: 'networking.k8s.io/v1',
      w: new Watched(kc, '/apis/networking.k8s.io/v1/ingresses', () => net.listIngressForAllNamespaces(), opts.log),
    });
    this.watched.push({
      kind: 'IngressClass',
      apiVersion: 'networking.k8s.io/v1',
      w: new Watched(kc, '/apis/networking.k8s.io/v1/ingressclasses', () => net.listIngressClass(), opts.log),
    });
  }

  async start(): Promise<void> {
    await Promise.all(this.watched.map((x) => x.w.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.watched.map((x) => x.w.stop()));
  }

  /** Current objects, with kind/apiVersion filled in (list responses omit them on items). */
  objects(): KubernetesObject[] {
    const out: KubernetesObject[] = [];
    for (const { kind, apiVersion, w } of this.watched) for (const o of w.list()) out.push({ ...o, kind, apiVersion });
    return out;
  }

  routes(): RouteInfo[] {
    const objs = this.objects();
    const version = objs.map((o) => `${o.apiVersion}/${o.metadata?.namespace}/${o.metadata?.name}@${o.metadata?.resourceVersion}`).join('|');
    if (this.cache?.version === version) return this.cache.routes;
    const mappings = routeMappingsFromObjects(objs, {
      onError: (e: ManifestError) => this.opts.log.warn({ err: e.message }, 'skipping an invalid route object'),
    });
    const routes = routeInfosFromMappings(mappings, this.opts.excludeNamespaces);
    this.cache = { version, routes };
    return routes;
  }
}
