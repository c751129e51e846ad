import { describe, expect, it } from 'vitest';
import { routeMappingsFromYaml } from '../../traefik/index.js';
import { routeInfosFromMappings } from './routes.js';

const ingressRoute = (match: string, extra = '') => `
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: { name: shop, namespace: shop }
spec:
  entryPoints: [web, websecure]
  routes:
    - match: ${match}
      kind: Rule
      ${extra}
      services: [{ name: web, port: 80 }]
`;

describe('routeInfosFromMappings: what the server needs to match URLs', () => {
  it('ships the router, its rule, syntax, explicit priority and entry points', () => {
    const [r] = routeInfosFromMappings(routeMappingsFromYaml(ingressRoute('Host(`shop.example.com`)', 'priority: 7')));
    expect(r).toMatchObject({ domain: 'shop.example.com', rule: 'Host(`shop.example.com`)', syntax: 'v3', priority: 7, entry_points: ['web', 'websecure'] });
    expect(r.router).toMatch(/^shop-shop-[0-9a-f]{20}@kubernetescrd$/);
  });

  it('a rule longer than 4096 characters ships without the matcher fields, the route still ships', () => {
    const long = `Host(\`shop.example.com\`) && Header(\`X-Long\`, \`${'a'.repeat(4100)}\`)`;
    const routes = routeInfosFromMappings(routeMappingsFromYaml(ingressRoute(long)));
    expect(routes).toHaveLength(1);
    expect(routes[0].domain).toBe('shop.example.com');
    expect(routes[0].rule).toBeUndefined();
    expect(routes[0].router).toBeUndefined();
    expect(routes[0].entry_points).toBeUndefined();
  });
});
