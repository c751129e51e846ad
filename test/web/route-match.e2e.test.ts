/**
 * The domain page's "Which route serves this URL?" in Chromium against a real server: a snapshot
 * whose routes carry their rules (built as the agent builds them) is ingested, then the form asks for
 * a path and the page shows the route Traefik picks and the router it tried first. Expected routes
 * are worked out by hand: the longer rule is tried first.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { routeInfosFromMappings } from '../../src/slo/agent/routes.js';
import type { Snapshot } from '../../src/slo/snapshot.js';
import { routeMappingsFromYaml } from '../../src/traefik/index.js';
import { chromiumAvailable } from '../e2e/browser.js';
import { webAndBrowser } from '../e2e/web-fixture.js';
import { watchErrors } from '../e2e/page-helpers.js';

const haveChromium = chromiumAvailable();

const MANIFESTS = `
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: { name: storefront, namespace: shop }
spec:
  routes:
    - match: Host(\`shop.example.com\`) && Header(\`X-Canary\`, \`1\`)
      kind: Rule
      services: [{ name: canary, port: 80 }]
    - match: Host(\`shop.example.com\`) && PathPrefix(\`/api\`)
      kind: Rule
      services: [{ name: api, port: 8080 }]
    - match: Host(\`shop.example.com\`)
      kind: Rule
      services: [{ name: web, port: 80 }]
`;

describe.skipIf(!haveChromium)('domain page: which route serves this URL', () => {
  const env = webAndBrowser();

  beforeAll(async () => {
    const snapshot: Snapshot = {
      cluster_id: 'rm',
      agent_id: 'a1',
      seq: 1,
      timestamp: Date.now() - 60_000,
      services: [],
      edges: [],
      ingress: [],
      routes: routeInfosFromMappings(routeMappingsFromYaml(MANIFESTS)),
    };
    const res = await fetch(`${env.web.url}/api/v2/agent/snapshots`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.web.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(snapshot),
    });
    expect(res.status, await res.text()).toBe(200);
  }, 60_000);

  it('shows the route that serves a path, and the router tried before it', async () => {
    const page = await env.browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors = watchErrors(page);
    try {
      await page.goto(`${env.web.url}/slo/domains/shop.example.com?cluster_id=rm`);
      const form = page.getByTestId('route-match-form');
      await form.waitFor({ timeout: 30_000 });
      expect(await form.getByRole('textbox', { name: 'Host' }).inputValue()).toBe('shop.example.com');

      await form.getByRole('textbox', { name: 'Path' }).fill('/checkout');
      await form.getByRole('button', { name: 'Explain' }).click();
      const served = page.getByTestId('route-match-served');
      await served.waitFor({ timeout: 30_000 });
      expect(await served.textContent()).toMatch(/shop\/storefront.*path \/ .*service web:80/);
      const rows = page.getByTestId('route-match-answer').locator('tbody tr');
      // Longer rules are tried first: the canary rule (51 characters) misses its header, the /api rule (46) its PathPrefix.
      expect(await rows.count()).toBe(3);
      expect(await rows.nth(0).textContent()).toMatch(/51No match.*✓ Host\(`shop\.example\.com`\).*✗ Header\(`X-Canary`, `1`\)/);
      expect(await rows.nth(1).textContent()).toMatch(/46No match.*✓ Host\(`shop\.example\.com`\).*✗ PathPrefix\(`\/api`\)/);
      expect(await rows.nth(2).textContent()).toMatch(/24Serves/);

      // The same URL with the canary header (typed in lower case; Traefik canonicalises header names).
      await page.getByText('Headers and client address').click();
      await page.getByRole('textbox', { name: 'Headers' }).fill('x-canary: 1');
      await form.getByRole('button', { name: 'Explain' }).click();
      await page.waitForFunction(() => /service canary:80/.test(document.querySelector('[data-testid="route-match-served"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
      await page.getByRole('textbox', { name: 'Headers' }).fill('');

      await form.getByRole('textbox', { name: 'Path' }).fill('/api/cart');
      await form.getByRole('button', { name: 'Explain' }).click();
      await page.waitForFunction(() => /service api:8080/.test(document.querySelector('[data-testid="route-match-served"]')?.textContent ?? ''), undefined, { timeout: 30_000 });

      await form.getByRole('textbox', { name: 'Path' }).fill('no-slash');
      await form.getByRole('button', { name: 'Explain' }).click();
      await page.getByText(/^path: /).waitFor({ timeout: 30_000 });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
