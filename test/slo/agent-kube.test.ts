/**
 * Kubernetes discovery through @kubernetes/client-node against a stand-in API server: pods become
 * scrape targets (annotations, Linkerd proxy port) with pod metadata; IngressRoutes (traefik.io, with
 * traefik.containo.us not installed) and Ingresses become routes; watch events update both; and a full
 * agent cycle scrapes pods the API server points at (the demo fleet).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podTargets, workloadName } from '../../src/slo/agent/pods.js';
import { Agent } from '../../src/slo/agent/agent.js';
import { startDemoFleet, type DemoFleet } from '../../src/simulate/index.js';
import { requireAll } from '../support/env.js';

const log = pino({ level: 'silent' });

// @kubernetes/client-node 1.x runs on every supported Node (>= 20.19). Should it fail to load, the API
// tests below skip and say why, except under VIGIL_TEST_REQUIRE_ALL=1, where the load test fails.
let kube: typeof import('../../src/slo/agent/kube.js') | undefined;
let client: typeof import('@kubernetes/client-node') | undefined;
let loadError: string | undefined;
try {
  kube = await import('../../src/slo/agent/kube.js');
  client = await import('@kubernetes/client-node');
} catch (err) {
  kube = undefined;
  client = undefined;
  loadError = `@kubernetes/client-node failed to load on Node ${process.versions.node}: ${(err as Error).message}`;
  if (!requireAll) console.warn(`[skip] Kubernetes API tests: ${loadError}`);
}

describe.skipIf(loadError !== undefined && !requireAll)('Kubernetes client', () => {
  it('loads on this Node', () => {
    expect(loadError).toBeUndefined();
    expect(typeof kube?.PodDiscovery).toBe('function');
  });
});

function pod(name: string, opts: { ns?: string; ip?: string; annotations?: Record<string, string>; linkerd?: boolean; owner?: string; hash?: string; phase?: string; port?: number }): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.ns ?? 'shop',
      resourceVersion: '1',
      annotations: opts.annotations ?? {},
      labels: opts.hash ? { 'pod-template-hash': opts.hash } : {},
      ...(opts.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.owner, uid: 'u', controller: true }] } : {}),
    },
    spec: {
      containers: [
        { name: 'app', image: 'app', ports: [{ containerPort: opts.port ?? 8080 }] },
        ...(opts.linkerd ? [{ name: 'linkerd-proxy', image: 'proxy', ports: [{ containerPort: 4191 }] }] : []),
      ],
    },
    status: { phase: opts.phase ?? 'Running', podIP: opts.ip ?? '10.42.0.7', startTime: new Date('2025-01-01T00:00:00Z') },
  };
}

describe('pod targets', () => {
  it('follow prometheus.io annotations and the Linkerd proxy, with namespace / deployment / pod', () => {
    const p = pod('web-7d9f8c6b5-x2k4q', {
      owner: 'web-7d9f8c6b5',
      hash: '7d9f8c6b5',
      linkerd: true,
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': 'stats' },
    });
    expect(podTargets(p)).toEqual([
      { id: 'shop/web-7d9f8c6b5-x2k4q/http://10.42.0.7:9102/stats', url: 'http://10.42.0.7:9102/stats', meta: { namespace: 'shop', deployment: 'web', pod: 'web-7d9f8c6b5-x2k4q' }, startedAt: Date.parse('2025-01-01T00:00:00Z') },
      { id: 'shop/web-7d9f8c6b5-x2k4q/http://10.42.0.7:4191/metrics', url: 'http://10.42.0.7:4191/metrics', meta: { namespace: 'shop', deployment: 'web', pod: 'web-7d9f8c6b5-x2k4q' }, startedAt: Date.parse('2025-01-01T00:00:00Z') },
    ]);
  });

  it('skip pods not running, without an IP, unannotated and unmeshed, or in excluded namespaces', () => {
    expect(podTargets(pod('a', { phase: 'Pending', linkerd: true }))).toEqual([]);
    expect(podTargets(pod('b', {}))).toEqual([]);
    expect(podTargets(pod('c', { linkerd: true, ns: 'kube-system' }), { excludeNamespaces: ['kube-system'] })).toEqual([]);
    expect(podTargets(pod('d', { annotations: { 'prometheus.io/scrape': 'true' }, port: 9000 })).map((t) => t.url)).toEqual(['http://10.42.0.7:9000/metrics']);
    expect(podTargets(pod('e', { linkerd: true, ip: 'fd00::7' })).map((t) => t.url)).toEqual(['http://[fd00::7]:4191/metrics']);
  });

  it('name the workload from the owner', () => {
    expect(workloadName(pod('api-5c4b8d9f7b-qwert', { owner: 'api-5c4b8d9f7b', hash: '5c4b8d9f7b' }))).toBe('api');
    expect(workloadName(pod('lonely', {}))).toBe('lonely');
  });
});

interface FakeApi {
  url: string;
  pods: V1Pod[];
  /** Send a watch event to every open pod watch. */
  podEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', p: V1Pod): void;
  close(): Promise<void>;
}

async function fakeApiServer(objects: { pods: V1Pod[]; ingressroutes: unknown[]; ingresses: unknown[] }): Promise<FakeApi> {
  const podWatches = new Set<ServerResponse>();
  const list = (res: ServerResponse, kind: string, items: unknown[]) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind, apiVersion: 'v1', metadata: { resourceVersion: '10' }, items }));
  };
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const watch = u.searchParams.get('watch') === 'true';
    if (watch) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      if (u.pathname === '/api/v1/pods') {
        podWatches.add(res);
        res.on('close', () => podWatches.delete(res));
      }
      return; // other watches: stay open, quiet
    }
    switch (u.pathname) {
      case '/api/v1/pods':
        return list(res, 'PodList', objects.pods);
      case '/apis/traefik.io/v1alpha1/ingressroutes':
        return list(res, 'IngressRouteList', objects.ingressroutes);
      case '/apis/traefik.io/v1alpha1/traefikservices':
        return list(res, 'TraefikServiceList', []);
      case '/apis/networking.k8s.io/v1/ingresses':
        return list(res, 'IngressList', objects.ingresses);
      case '/apis/networking.k8s.io/v1/ingressclasses':
        return list(res, 'IngressClassList', []);
      default: // traefik.containo.us is not installed here
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pods: objects.pods,
    podEvent(type, p) {
      for (const w of podWatches) w.write(JSON.stringify({ type, object: p }) + '\n');
    },
    close: () => {
      for (const w of podWatches) w.destroy();
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

function kubeConfig(url: string): KubeConfig {
  const kc = new client!.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'agent', token: 'sa-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'agent' }],
    currentContext: 'fake',
  });
  return kc;
}

const ingressRoute = {
  apiVersion: 'traefik.io/v1alpha1',
  kind: 'IngressRoute',
  metadata: { name: 'storefront', namespace: 'shop', resourceVersion: '3' },
  spec: { entryPoints: ['websecure'], routes: [{ match: 'Host(`shop.example.com`) && PathPrefix(`/cart`)', kind: 'Rule', services: [{ name: 'cart', port: 8080 }] }], tls: {} },
};
const ingress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'docs', namespace: 'web', resourceVersion: '4', annotations: { 'kubernetes.io/ingress.class': 'traefik' } },
  spec: { rules: [{ host: 'docs.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'docs', port: { number: 80 } } } }] } }] },
};

describe.skipIf(!kube)('Kubernetes discovery through the API', () => {
  let api: FakeApi;
  beforeAll(async () => {
    api = await fakeApiServer({
      pods: [pod('web-7d9f8c6b5-x2k4q', { owner: 'web-7d9f8c6b5', hash: '7d9f8c6b5', linkerd: true }), pod('tap-abcde', { ns: 'linkerd-viz', linkerd: true })],
      ingressroutes: [ingressRoute],
      ingresses: [ingress],
    });
  });
  afterAll(async () => api?.close());

  it('lists and watches pods', async () => {
    const d = new kube!.PodDiscovery(kubeConfig(api.url), { log, excludeNamespaces: ['linkerd-viz'] });
    await d.start();
    try {
      expect(d.targets().map((t) => [t.url, t.meta])).toEqual([['http://10.42.0.7:4191/metrics', { namespace: 'shop', deployment: 'web', pod: 'web-7d9f8c6b5-x2k4q' }]]);
      api.podEvent('ADDED', { ...pod('orders-6f7d8c9b5-abcde', { owner: 'orders-6f7d8c9b5', hash: '6f7d8c9b5', linkerd: true, ip: '10.42.0.9' }), metadata: { ...pod('orders-6f7d8c9b5-abcde', { owner: 'orders-6f7d8c9b5', hash: '6f7d8c9b5' }).metadata, resourceVersion: '11' } });
      await expect.poll(() => d.targets().map((t) => t.meta.deployment).sort(), { timeout: 10_000 }).toEqual(['orders', 'web']);
      api.podEvent('DELETED', { ...pod('web-7d9f8c6b5-x2k4q', {}), metadata: { ...pod('web-7d9f8c6b5-x2k4q', {}).metadata, resourceVersion: '12' } });
      await expect.poll(() => d.targets().map((t) => t.meta.deployment), { timeout: 10_000 }).toEqual(['orders']);
    } finally {
      await d.stop();
    }
  });

  it('maps IngressRoutes and Ingresses to routes, tolerating an API group that is not installed', async () => {
    const r = new kube!.KubeRouteSource(kubeConfig(api.url), { log, excludeNamespaces: [] });
    await r.start();
    try {
      const routes = r.routes();
      expect(routes.map((x) => [x.domain, x.path_prefix, x.service_name, x.tls])).toEqual([
        ['shop.example.com', '/cart', 'cart', true],
        ['docs.example.com', '/', 'docs', false],
      ]);
      expect(routes[0].service_key).toMatch(/^shop-storefront-[0-9a-f]{20}@kubernetescrd$/);
      expect(routes[1].service_key).toBe('web-docs-80@kubernetes');
    } finally {
      await r.stop();
    }
  });
});

describe.skipIf(!kube)('agent with an unreachable Kubernetes API', () => {
  it('keeps running, says why in its status, and still scrapes static targets', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    const scraped: string[] = [];
    const exposition = 'response_total{direction="inbound",target_addr="10.42.0.5:8080",target_port="8080",tls="true",status_code="200",classification="success"} 1\n';
    const agent = new Agent({
      clusterId: 'k8s', agentId: 'a', serverUrl: 'http://127.0.0.1:1', token: '', intervalMs: 3_600_000, scrapeTimeoutMs: 1000,
      seriesTtlMs: 600_000, targets: [{ url: 'http://static.test/metrics', namespace: 'shop', deployment: 'web' }], kubernetes: kubeConfig(url),
      otelPrefix: 'otel_', excludeNamespaces: [], spoolDir: '', spoolMaxBytes: 1 << 20, log, sink: () => {},
      fetch: (async (input: string | URL | Request) => {
        scraped.push(String(input));
        return new Response(exposition, { headers: { 'content-type': 'text/plain; version=0.0.4' } });
      }) as typeof fetch,
    });
    await agent.start();
    try {
      await expect.poll(() => agent.status().discoveryError, { timeout: 10_000 }).toMatch(/ECONNREFUSED|connect/i);
      await expect.poll(() => scraped.length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(scraped[0]).toBe('http://static.test/metrics');
      expect(agent.status().targets.map((t) => [t.source, t.up])).toEqual([['static', true]]);
    } finally {
      await agent.stop(0);
    }
  });
});

describe.skipIf(!kube)('agent with Kubernetes discovery', () => {
  let fleet: DemoFleet;
  let api: FakeApi;
  beforeAll(async () => {
    fleet = await startDemoFleet({ port: 0, seed: 3, speed: 1, clock: 'manual', startTime: Date.UTC(2025, 0, 2, 12) });
    const port = new URL(fleet.url).port;
    // Pods whose annotations point at the demo fleet's proxy endpoints.
    const pods = fleet.targets
      .filter((t) => t.url.includes('/linkerd/'))
      .map((t) =>
        pod(t.pod, {
          ns: t.namespace,
          ip: '127.0.0.1',
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': port, 'prometheus.io/path': new URL(t.url).pathname },
          owner: t.pod.slice(0, t.pod.lastIndexOf('-')),
        }),
      );
    api = await fakeApiServer({ pods, ingressroutes: [], ingresses: [] });
  });
  afterAll(async () => {
    await api?.close();
    await fleet?.stop();
  });

  it('scrapes what the API server lists, with pod metadata from it', async () => {
    const snapshots: import('../../src/slo/snapshot.js').Snapshot[] = [];
    const agent = new Agent({
      clusterId: 'k8s',
      agentId: 'a',
      serverUrl: 'http://127.0.0.1:1',
      token: '',
      intervalMs: 3_600_000,
      scrapeTimeoutMs: 5000,
      seriesTtlMs: 600_000,
      targets: [],
      kubernetes: kubeConfig(api.url),
      otelPrefix: 'otel_',
      excludeNamespaces: ['linkerd', 'linkerd-viz', 'kube-system'],
      spoolDir: '',
      spoolMaxBytes: 1 << 20,
      log,
      sink: (s) => snapshots.push(s),
    });
    await agent.start(); // first cycle right away
    try {
      await expect.poll(() => snapshots.length, { timeout: 10_000 }).toBeGreaterThan(0);
      const before = fleet.truth();
      fleet.advance(30_000);
      const r = await agent.runCycle();
      const after = fleet.truth();
      const status = agent.status();
      // excluded namespace linkerd-viz: its pod is not even scraped
      expect(status.targets.map((t) => t.meta.namespace).sort()).not.toContain('linkerd-viz');
      expect(status.targets.every((t) => t.source === 'kubernetes' && t.up)).toBe(true);
      const got = Object.fromEntries(r.snapshot.services.map((s) => [`${s.namespace}/${s.name}`, s.requests.reduce((a, x) => a + x.count, 0)]));
      const want = Object.fromEntries(Object.entries(after.services).map(([id, s]) => [id, s.requests - before.services[id].requests]));
      expect(got).toEqual(want);
    } finally {
      await agent.stop(0);
    }
  });
});
