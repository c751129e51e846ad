/**
 * The dashboard's addresses in Chromium against the mock API (test/e2e/mock-api.ts): the phone
 * menu, back and forward, the parameters that follow the user, deep links with their query string,
 * path parameters with escapes, and an address that is no page.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumAvailable } from '../e2e/browser.js';
import { webAndBrowser } from '../e2e/web-fixture.js';
import { installMockApi } from '../e2e/mock-api.js';
import { settled, watchErrors } from '../e2e/page-helpers.js';

const haveChromium = chromiumAvailable();

const query = (page: Page) => new URL(page.url()).searchParams;
const path = (page: Page) => new URL(page.url()).pathname;

describe.skipIf(!haveChromium)('dashboard routing', () => {
  const env = webAndBrowser();

  it('on a phone, choosing a page closes the menu; the cluster follows; back and forward return', async () => {
    const context = await env.browser.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const page = await context.newPage();
      const errors = watchErrors(page);
      await installMockApi(page);
      await page.goto(`${env.web.url}/`);
      await page.getByRole('heading', { level: 1, name: 'Domains' }).waitFor();
      expect(path(page)).toBe('/slo/domains');
      await page.waitForFunction(() => new URLSearchParams(location.search).get('cluster_id') === 'prod-tokyo');

      const nav = page.getByRole('navigation', { name: 'Main' });
      await expect(nav.isVisible()).resolves.toBe(false);
      await page.getByTestId('menu-button').click();
      await nav.getByRole('link', { name: 'Mesh' }).click();
      await page.getByRole('heading', { level: 1, name: 'Mesh' }).waitFor();
      await nav.waitFor({ state: 'hidden' });
      await expect(page.getByTestId('menu-button').getAttribute('aria-expanded')).resolves.toBe('false');
      expect(path(page)).toBe('/slo/mesh');
      expect(query(page).get('cluster_id')).toBe('prod-tokyo');

      await page.goBack();
      await page.getByRole('heading', { level: 1, name: 'Domains' }).waitFor();
      expect(path(page)).toBe('/slo/domains');
      await page.goForward();
      await page.getByRole('heading', { level: 1, name: 'Mesh' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('deep links keep their query string, links carry it on, and escapes in a path mean what they say', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const page = await context.newPage();
      const errors = watchErrors(page);
      await installMockApi(page);
      await page.goto(`${env.web.url}/slo/mesh/shop/cart?time_range=7d`);
      await page.getByRole('heading', { level: 1, name: /cart/ }).waitFor();
      await settled(page);
      await expect(page.getByRole('radio', { name: '7d' }).getAttribute('aria-checked')).resolves.toBe('true');

      // The service's ingress route opens its domain page on that path, in the same range and cluster.
      await page.getByRole('link', { name: 'shop.example.com/api/cart' }).click();
      await page.getByRole('heading', { level: 1, name: /shop\.example\.com/ }).waitFor();
      expect(path(page)).toBe('/slo/domains/shop.example.com');
      expect(Object.fromEntries(query(page))).toEqual({ cluster_id: 'prod-tokyo', time_range: '7d', path: '/api/cart' });
      await expect(page.getByRole('tab', { name: '/api/cart' }).getAttribute('aria-selected')).resolves.toBe('true');

      // "%25" is a percent sign in the name, asked of the API as such.
      const asked = page.waitForRequest((r) => new URL(r.url()).pathname.startsWith('/api/v2/slo/domains/50'));
      await page.goto(`${env.web.url}/slo/domains/${encodeURIComponent('50%.example.com')}`);
      await page.getByRole('heading', { level: 1, name: '50%.example.com' }).waitFor();
      expect(new URL((await asked).url()).pathname).toBe('/api/v2/slo/domains/50%25.example.com');
      await page.locator('main [data-state="error"][data-status="404"]').waitFor();

      // A malformed escape is no page at all (the server refuses such an address itself; a script may still push it).
      await page.evaluate(() => history.pushState(null, '', '/slo/domains/%E0%A4%A'));
      await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
