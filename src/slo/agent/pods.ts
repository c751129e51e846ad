/**
 * Pod → scrape targets (pure; only types from @kubernetes/client-node): `prometheus.io/scrape|port|path|scheme`
 * annotations, and the Linkerd proxy admin port 4191 of meshed pods, with namespace / deployment / pod.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { TargetMeta } from './pipeline.js';

export const LINKERD_ADMIN_PORT = 4191;

export interface DiscoveredTarget {
  /** Stable identity: namespace/pod/url. */
  id: string;
  url: string;
  meta: TargetMeta;
  /** Pod start (epoch ms), when known. */
  startedAt?: number;
}

/** Scrape targets of one pod (pure). */
export function podTargets(pod: V1Pod, opts: { excludeNamespaces?: readonly string[] } = {}): DiscoveredTarget[] {
  const md = pod.metadata ?? {};
  const ns = md.namespace ?? 'default';
  const name = md.name ?? '';
  if (!name || opts.excludeNamespaces?.includes(ns)) return [];
  if (pod.status?.phase !== 'Running' || !pod.status.podIP) return [];
  if (md.deletionTimestamp) return [];
  const ip = pod.status.podIP.includes(':') ? `[${pod.status.podIP}]` : pod.status.podIP;
  const meta: TargetMeta = { namespace: ns, deployment: workloadName(pod), pod: name };
  const startedAt = pod.status.startTime ? new Date(pod.status.startTime).getTime() : undefined;
  const ann = md.annotations ?? {};
  const urls = new Set<string>();
  if (ann['prometheus.io/scrape'] === 'true') {
    const port = ann['prometheus.io/port'] ?? firstContainerPort(pod);
    if (port && /^[0-9]+$/.test(port)) {
      const scheme = ann['prometheus.io/scheme'] === 'https' ? 'https' : 'http';
      let p = ann['prometheus.io/path'] || '/metrics';
      if (!p.startsWith('/')) p = '/' + p;
      urls.add(`${scheme}://${ip}:${port}${p}`);
    }
  }
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  if (containers.some((c) => c.name === 'linkerd-proxy') || ann['linkerd.io/proxy-version'] !== undefined) {
    urls.add(`http://${ip}:${LINKERD_ADMIN_PORT}/metrics`);
  }
  return [...urls].map((url) => ({ id: `${ns}/${name}/${url}`, url, meta, ...(startedAt !== undefined && Number.isFinite(startedAt) ? { startedAt } : {}) }));
}

/** Deployment (or StatefulSet, DaemonSet, Job…) owning a pod; the pod name when none. */
export function workloadName(pod: V1Pod): string {
  const md = pod.metadata ?? {};
  const owner = md.ownerReferences?.find((o) => o.controller) ?? md.ownerReferences?.[0];
  if (!owner) return md.name ?? '';
  if (owner.kind === 'ReplicaSet') {
    const hash = md.labels?.['pod-template-hash'];
    if (hash && owner.name.endsWith('-' + hash)) return owner.name.slice(0, -hash.length - 1);
    const m = /^(.+)-[a-z0-9]{5,10}$/.exec(owner.name);
    return m ? m[1] : owner.name;
  }
  return owner.name;
}

function firstContainerPort(pod: V1Pod): string | undefined {
  for (const c of pod.spec?.containers ?? []) {
    if (c.name === 'linkerd-proxy') continue;
    const p = c.ports?.[0]?.containerPort;
    if (p) return String(p);
  }
  return undefined;
}
