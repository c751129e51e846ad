/**
 * The demo fleet's shape (pure): 11 meshed services in 3 namespaces behind a meshed Traefik, 3 domains
 * and 8 ingress routes, a call graph, and per-service traffic character. Pod names and IPs are derived
 * from the seed.
 */
import { ingressRouteRouteNames } from '../traefik/index.js';
import { hash32, Rng } from './random.js';

export interface ServiceDef {
  namespace: string;
  name: string;
  port: number;
  replicas: number;
  /** Median server-side latency (ms) and log-normal sigma. */
  medianMs: number;
  sigma: number;
  /** Baseline 5xx and 4xx ratios. */
  errorRate: number;
  clientErrorRate: number;
}

export interface CallDef {
  from: string;
  to: string;
  /** Calls per inbound request of `from`. */
  perRequest: number;
}

export interface RouteDef {
  /** IngressRoute name and namespace (= the backend's namespace). */
  ingressRoute: string;
  namespace: string;
  domain: string;
  path: string;
  service: string;
  /** Requests per second at the diurnal mean. */
  rps: number;
  /** Method mix [method, weight]. */
  methods: [string, number][];
  tls: boolean;
}

export const SERVICES: ServiceDef[] = [
  { namespace: 'shop', name: 'web', port: 8080, replicas: 2, medianMs: 28, sigma: 0.55, errorRate: 0.0003, clientErrorRate: 0.02 },
  { namespace: 'shop', name: 'api-gateway', port: 8080, replicas: 2, medianMs: 35, sigma: 0.6, errorRate: 0.00045, clientErrorRate: 0.03 },
  { namespace: 'shop', name: 'checkout', port: 8080, replicas: 1, medianMs: 140, sigma: 0.5, errorRate: 0.0006, clientErrorRate: 0.01 },
  { namespace: 'shop', name: 'orders', port: 8080, replicas: 1, medianMs: 55, sigma: 0.6, errorRate: 0.0003, clientErrorRate: 0.02 },
  { namespace: 'shop', name: 'cart', port: 8080, replicas: 1, medianMs: 12, sigma: 0.45, errorRate: 0.00015, clientErrorRate: 0.01 },
  { namespace: 'shop', name: 'payments', port: 8443, replicas: 1, medianMs: 190, sigma: 0.5, errorRate: 0.0015, clientErrorRate: 0.02 },
  { namespace: 'shop', name: 'inventory', port: 8080, replicas: 1, medianMs: 18, sigma: 0.5, errorRate: 0.00015, clientErrorRate: 0.005 },
  { namespace: 'accounts', name: 'users', port: 8080, replicas: 1, medianMs: 30, sigma: 0.5, errorRate: 0.0003, clientErrorRate: 0.04 },
  { namespace: 'accounts', name: 'auth', port: 8080, replicas: 2, medianMs: 9, sigma: 0.4, errorRate: 0.00015, clientErrorRate: 0.05 },
  { namespace: 'media', name: 'cdn-origin', port: 8080, replicas: 1, medianMs: 6, sigma: 0.7, errorRate: 0.00015, clientErrorRate: 0.03 },
  { namespace: 'media', name: 'images', port: 8080, replicas: 1, medianMs: 45, sigma: 0.65, errorRate: 0.00045, clientErrorRate: 0.01 },
];

export const INGRESS_NAMESPACE = 'traefik';
export const INGRESS_DEPLOYMENT = 'traefik';
export const MONITORING_NAMESPACE = 'linkerd-viz';

/** Service-to-service calls, in an order where every caller comes before its callees. */
export const CALLS: CallDef[] = [
  { from: 'shop/web', to: 'shop/api-gateway', perRequest: 0.8 },
  { from: 'shop/web', to: 'accounts/auth', perRequest: 0.3 },
  { from: 'shop/checkout', to: 'shop/cart', perRequest: 1.0 },
  { from: 'shop/checkout', to: 'shop/payments', perRequest: 0.9 },
  { from: 'shop/checkout', to: 'shop/orders', perRequest: 0.9 },
  { from: 'shop/checkout', to: 'accounts/auth', perRequest: 0.5 },
  { from: 'media/cdn-origin', to: 'media/images', perRequest: 0.3 },
  { from: 'shop/api-gateway', to: 'shop/cart', perRequest: 0.4 },
  { from: 'shop/api-gateway', to: 'shop/orders', perRequest: 0.3 },
  { from: 'shop/api-gateway', to: 'accounts/users', perRequest: 0.3 },
  { from: 'shop/api-gateway', to: 'shop/inventory', perRequest: 0.5 },
  { from: 'shop/orders', to: 'shop/inventory', perRequest: 0.6 },
  { from: 'shop/orders', to: 'shop/payments', perRequest: 0.2 },
];

/** Processing order of services (callers first). */
export const SERVICE_ORDER = [
  'shop/web',
  'shop/checkout',
  'media/cdn-origin',
  'shop/api-gateway',
  'shop/orders',
  'shop/cart',
  'shop/payments',
  'shop/inventory',
  'accounts/users',
  'accounts/auth',
  'media/images',
];

export const ROUTES: RouteDef[] = [
  { ingressRoute: 'storefront', namespace: 'shop', domain: 'shop.example.com', path: '/', service: 'web', rps: 18, methods: [['GET', 1]], tls: true },
  { ingressRoute: 'storefront', namespace: 'shop', domain: 'shop.example.com', path: '/checkout', service: 'checkout', rps: 2, methods: [['POST', 0.7], ['GET', 0.3]], tls: true },
  { ingressRoute: 'storefront', namespace: 'shop', domain: 'shop.example.com', path: '/api', service: 'api-gateway', rps: 8, methods: [['GET', 0.8], ['POST', 0.2]], tls: true },
  { ingressRoute: 'public-api', namespace: 'shop', domain: 'api.example.com', path: '/v1/orders', service: 'orders', rps: 4, methods: [['GET', 0.6], ['POST', 0.4]], tls: true },
  { ingressRoute: 'accounts-api', namespace: 'accounts', domain: 'api.example.com', path: '/v1/users', service: 'users', rps: 3, methods: [['GET', 0.9], ['PUT', 0.1]], tls: true },
  { ingressRoute: 'accounts-api', namespace: 'accounts', domain: 'api.example.com', path: '/auth', service: 'auth', rps: 4, methods: [['POST', 1]], tls: true },
  { ingressRoute: 'media', namespace: 'media', domain: 'media.example.com', path: '/', service: 'cdn-origin', rps: 12, methods: [['GET', 1]], tls: false },
  { ingressRoute: 'media', namespace: 'media', domain: 'media.example.com', path: '/images', service: 'images', rps: 5, methods: [['GET', 1]], tls: false },
];

/** An unmeshed batch job calls orders directly (no mTLS, no source proxy: no edge). */
export const UNMESHED_CALLS = [{ to: 'shop/orders', rps: 0.5 }];

/** Linkerd proxy latency buckets (ms), as in the proxy's exposition. */
export const LINKERD_BOUNDS = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000];
/**
 * Traefik duration buckets (seconds). Traefik's default is [0.1, 0.3, 1.2, 5]; like many operators the
 * demo sets finer ones (`metrics.prometheus.buckets`), so ingress percentiles are meaningful.
 */
export const TRAEFIK_BOUNDS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10];

export function routeMatch(r: RouteDef): string {
  return r.path === '/' ? `Host(\`${r.domain}\`)` : `Host(\`${r.domain}\`) && PathPrefix(\`${r.path}\`)`;
}

/** The Traefik `service` label of a route's metrics, as src/traefik/naming computes it. */
export function routeServiceKey(r: RouteDef): string {
  const svc = SERVICES.find((s) => s.namespace === r.namespace && s.name === r.service)!;
  return ingressRouteRouteNames(r.namespace, r.ingressRoute, { match: routeMatch(r), services: [{ name: r.service, port: svc.port }] }).leafServices[0];
}

export function routerName(r: RouteDef): string {
  const svc = SERVICES.find((s) => s.namespace === r.namespace && s.name === r.service)!;
  return ingressRouteRouteNames(r.namespace, r.ingressRoute, { match: routeMatch(r), services: [{ name: r.service, port: svc.port }] }).router;
}

export interface PodDef {
  namespace: string;
  deployment: string;
  pod: string;
  ip: string;
  templateHash: string;
  /** Has a Linkerd proxy. */
  meshed: boolean;
}

const HASH_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function kubeSuffix(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HASH_CHARS[Math.floor(rng.next() * HASH_CHARS.length)];
  return s;
}

/** Pods of every workload, deterministic in the seed. */
export function buildPods(seed: number): PodDef[] {
  const rng = new Rng(hash32(seed, 'pods'));
  const out: PodDef[] = [];
  let ipN = 10;
  const add = (namespace: string, deployment: string, replicas: number) => {
    const templateHash = kubeSuffix(rng, 10);
    for (let i = 0; i < replicas; i++) {
      const n = ipN++;
      out.push({
        namespace,
        deployment,
        pod: `${deployment}-${templateHash}-${kubeSuffix(rng, 5)}`,
        ip: `10.42.${Math.floor(n / 250)}.${(n % 250) + 2}`,
        templateHash,
        meshed: true,
      });
    }
  };
  for (const s of SERVICES) add(s.namespace, s.name, s.replicas);
  add(INGRESS_NAMESPACE, INGRESS_DEPLOYMENT, 1);
  add(MONITORING_NAMESPACE, 'prometheus', 1);
  return out;
}
