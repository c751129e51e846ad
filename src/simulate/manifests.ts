/** The demo fleet's IngressRoute manifests (pure): what `vigil agent --routes-file` reads. */
import { stringify } from 'yaml';
import { ROUTES, routeMatch, SERVICES } from './model.js';

export function fleetManifestsYaml(): string {
  const groups = new Map<string, typeof ROUTES>();
  for (const r of ROUTES) {
    const k = `${r.namespace}/${r.ingressRoute}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const docs: string[] = [];
  for (const routes of groups.values()) {
    const first = routes[0];
    const tls = routes.every((r) => r.tls);
    const doc = {
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'IngressRoute',
      metadata: { name: first.ingressRoute, namespace: first.namespace },
      spec: {
        entryPoints: [tls ? 'websecure' : 'web'],
        routes: routes.map((r) => ({
          match: routeMatch(r),
          kind: 'Rule',
          services: [{ name: r.service, port: SERVICES.find((s) => s.namespace === r.namespace && s.name === r.service)!.port }],
        })),
        ...(tls ? { tls: { secretName: `${first.domain.replace(/\./g, '-')}-tls` } } : {}),
      },
    };
    docs.push(stringify(doc));
  }
  return `# Demo fleet ingress routes (vigil simulate)\n---\n${docs.join('---\n')}`;
}
