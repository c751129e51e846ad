/**
 * The web dashboard in a real browser against a fresh real server (no agent has shipped anything):
 * navigation, page states, theme and token sign-in. A fresh server is what a newcomer sees first:
 * every page must show data, an empty state or how to connect an agent — never an error state, and
 * the SLO pages fire no request that cannot be answered (a read without a cluster).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumAvailable, ensureWebBuilt, launchBrowser, screenshotPath, startWebServer, type WebServer } from './browser.js';

const haveChromium = chromiumAvailable();

/** Sidebar entries and what each page must show. */
const PAGES = [
  { nav: 'Domains', path: '/slo/domains', heading: 'Domains' },
  { nav: 'Mesh', path: '/slo/mesh', heading: 'Mesh' },
  { nav: 'Anomalies', path: '/anomalies', heading: 'Anomalies' },
  { nav: 'Faults', path: '/faults', heading: 'Faults' },
  { nav: 'Batches', path: '/batches', heading: 'Batches' },
] as const;

/** Collects uncaught page errors, so a page that throws fails the test. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  return errors;
}

/** Wait until no loading indicator is left on the page. */
async function settled(page: Page) {
  await page.waitForFunction(() => document.querySelectorAll('.state-loading').length === 0, undefined, { timeout: 15_000 });
}

/** SLO reads the page sent (path and query), and every API answer of 400 or more. */
function watchApi(page: Page): { sloReads: string[]; failed: string[] } {
  const out = { sloReads: [] as string[], failed: [] as string[] };
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (/^\/api\/v2\/slo\/(domains|mesh)/.test(u.pathname)) out.sloReads.push(u.pathname + u.search);
  });
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (r.status() >= 400 && /^\/(api|v1)\//.test(u.pathname)) out.failed.push(`${r.status()} ${u.pathname}${u.search}`);
  });
  return out;
}

/** An error state on the page fails the test with what it said. */
async function expectNoErrorState(page: Page, where: string) {
  const shown = await page.locator('main [data-state="error"]').allTextContents();
  expect(shown, `${where} shows an error state`).toEqual([]);
}

describe.skipIf(!haveChromium)('web dashboard (anonymous read allowed)', () => {
  let web: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let api: ReturnType<typeof watchApi>;

  beforeAll(async () => {
    await ensureWebBuilt();
    web = await startWebServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    errors = watchErrors(page);
    api = watchApi(page);
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await web?.stop();
  });

  it('opens on the SLO domains page', async () => {
    await page.goto(`${web.url}/`);
    await page.getByRole('heading', { level: 1, name: 'Domains' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/slo/domains');
    await expect(page.title()).resolves.toBe('Vigil');
    await expect(page.locator('.brand-name').textContent()).resolves.toBe('Vigil');
    await settled(page);
    // No agent yet: the page says how to connect one (was "The server answered 400 — cluster_id is required").
    const connect = page.locator('main [data-state="no-agent"]');
    await connect.waitFor();
    await expect(connect.textContent()).resolves.toMatch(/vigil token create --role agent --cluster \S+/);
    await expect(connect.textContent()).resolves.toMatch(/VIGIL_AGENT_TOKEN=<agent token> vigil agent --server-url http:\/\/127\.0\.0\.1:\d+ --cluster-id/);
    await expectNoErrorState(page, '/slo/domains');
    // … and asked nothing it cannot answer: no SLO read without a cluster.
    expect(api.sloReads).toEqual([]);
    expect(api.failed).toEqual([]);
    await page.screenshot({ path: screenshotPath('web-shell.png') });
  });

  it('walks every navigation item', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const p of PAGES) {
      await nav.getByRole('link', { name: p.nav }).click();
      await page.getByRole('heading', { level: 1, name: p.heading, exact: true }).waitFor();
      expect(new URL(page.url()).pathname).toBe(p.path);
      await expect(nav.getByRole('link', { name: p.nav }).getAttribute('aria-current')).resolves.toBe('page');
      await settled(page);
      if ('notBuilt' in p) {
        await expect(page.locator('main').textContent()).resolves.toContain('not built yet');
      } else {
        const states = await page.locator('main [data-state], main canvas, main table').count();
        expect(states, `${p.path} shows data or an empty state`).toBeGreaterThan(0);
        await expectNoErrorState(page, p.path);
      }
      if (p.path.startsWith('/slo/')) await page.locator('main [data-state="no-agent"]').waitFor();
      await page.screenshot({ path: screenshotPath(`web-${p.path.split('/').pop()}.png`) });
    }
    // Back and forward work with the history-API router.
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Faults', exact: true }).waitFor();
    await page.goForward();
    await page.getByRole('heading', { level: 1, name: 'Batches', exact: true }).waitFor();
  });

  it('serves deep links through the SPA fallback', async () => {
    await page.goto(`${web.url}/slo/domains/shop.example.com?time_range=7d`);
    await page.getByRole('heading', { level: 1, name: /shop\.example\.com/ }).waitFor();
    await settled(page);
    await expect(page.getByRole('radio', { name: '7d' }).getAttribute('aria-checked')).resolves.toBe('true');
    await page.locator('main [data-state="no-agent"]').waitFor();
    await expectNoErrorState(page, 'a domain page');
    await page.goto(`${web.url}/no/such/page`);
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
  });

  it('toggles dark mode and remembers it', async () => {
    await page.goto(`${web.url}/slo/domains`);
    await page.getByRole('heading', { level: 1, name: 'Domains' }).waitFor();
    const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
    await expect(theme()).resolves.toBe('light');
    await page.getByTestId('theme-toggle').click();
    await expect(theme()).resolves.toBe('dark');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Domains' }).waitFor();
    await expect(theme()).resolves.toBe('dark');
    await settled(page);
    await page.screenshot({ path: screenshotPath('web-shell-dark.png') });
  });

  it('signs in with a token through the dialog, shows the role, and signs out', async () => {
    await page.locator('header.topbar').getByRole('button', { name: 'Sign in', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Sign in to Vigil' });
    await dialog.waitFor();

    await dialog.getByLabel('Bearer token').fill('vgl_not_a_real_token_123456');
    await dialog.getByRole('button', { name: 'Sign in', exact: true }).click();
    await dialog.getByRole('alert').waitFor();
    await expect(dialog.getByRole('alert').textContent()).resolves.toMatch(/does not know this token/);

    await dialog.getByLabel('Bearer token').fill(web.adminToken);
    await page.screenshot({ path: screenshotPath('web-signin.png') });
    await dialog.getByRole('button', { name: 'Sign in', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect(page.getByTestId('role').textContent()).resolves.toBe('admin');
    await expect(page.evaluate(() => localStorage.getItem('vigil.token'))).resolves.toBe(web.adminToken);

    // The token survives a reload.
    await page.reload();
    await page.getByTestId('role').waitFor();
    await expect(page.getByTestId('role').textContent()).resolves.toBe('admin');
    await settled(page);
    await page.screenshot({ path: screenshotPath('web-shell-admin.png') });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('header.topbar').getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await expect(page.evaluate(() => localStorage.getItem('vigil.token'))).resolves.toBeNull();
  });

  it('threw no uncaught errors on any page, and no SLO page sent a read it could not answer', () => {
    expect(errors).toEqual([]);
    expect(api.sloReads).toEqual([]);
  });
});

describe.skipIf(!haveChromium)('web dashboard (token required)', () => {
  let web: WebServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await ensureWebBuilt();
    web = await startWebServer({ 'auth.anonymousRead': false });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' })).newPage();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
  });

  it('asks for a token at once, follows the system theme, and shows data pages after sign-in', async () => {
    const errors = watchErrors(page);
    // The dashboard's own files must load without a token, or the user sees a blank page.
    const refused: string[] = [];
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (r.status() >= 400 && !/^\/(api|v1|v2)\//.test(u.pathname)) refused.push(`${r.status()} ${u.pathname}`);
    });
    await page.goto(`${web.url}/anomalies`);
    await page.locator('header.topbar').waitFor({ timeout: 10_000 }).catch(() => undefined);
    expect(refused, 'static files of the dashboard (assets, favicon) must be public when anonymous read is off').toEqual([]);
    const dialog = page.getByRole('dialog', { name: 'Sign in to Vigil' });
    await dialog.waitFor();
    await expect(page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe('dark');
    await expect(dialog.textContent()).resolves.toMatch(/needs a token/);

    // Dismissed, the page explains why it shows nothing (401: sign in; 404: module not shipped yet).
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await settled(page);
    expect(await page.locator('main [data-state="error"]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('web-token-required.png') });

    await page.locator('header.topbar').getByRole('button', { name: 'Sign in', exact: true }).click();
    await dialog.getByLabel('Bearer token').fill(web.adminToken);
    await dialog.getByRole('button', { name: 'Sign in', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect(page.getByTestId('role').textContent()).resolves.toBe('admin');
    await settled(page);
    expect(await page.locator('[data-status="401"]').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
