/**
 * Faults visible where SLOs are, in Chromium on a live `vigil up`-like server (no mocks): the demo's
 * load generator sends real requests through a real executor in front of demo/frontend
 * (src/simulate/fault-demo.ts). The test applies HFI's abort policy through the Faults page's YAML
 * editor (after a rejected one whose error points at its line), sees it listed with the executor
 * enforcing it and its injected count rising, sees the service's error rate and its domain path's
 * availability fall with the fault interval shaded, then deletes it through the confirmation dialog
 * and sees successful requests come back. Screenshots go to test-results/.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { fixturesDir } from '../support/env.js';
import { chromiumAvailable, ensureWebBuilt, launchBrowser, screenshotPath } from './browser.js';
import { getJson, startLive, waitFor, type LiveServer } from './live.js';
import { parsePct, settled, watchErrors } from './page-helpers.js';

const haveChromium = chromiumAvailable();
const hfi = fixturesDir('hfi');
const EXECUTOR = 'vigil-up-demo-frontend';

interface ServiceAnswer {
  node: { total_requests: number; error_rate: number | null; status_codes?: { code: string; count: number }[] };
}
interface DomainAnswer {
  routes: { path_prefix: string; summary?: { availability: number | null }; current?: { availability: number | null; total_requests?: number } }[];
}
interface SummaryAnswer {
  policies: { name: string; total: number }[];
  executors: { executor_id: string; connected: boolean; in_sync: boolean; policy_version: string }[];
}
interface IntervalsAnswer {
  intervals: { policy: string; from: number; to: number | null }[];
}

const service = (live: LiveServer) => getJson<ServiceAnswer>(live, '/api/v2/slo/mesh/services/demo/frontend?cluster_id=local&time_range=1h');
const okCount = (a: ServiceAnswer) => a.node.status_codes?.find((c) => c.code === '200')?.count ?? 0;
const injected = async (live: LiveServer) => (await getJson<SummaryAnswer>(live, '/api/v1/faults/summary')).policies.find((p) => p.name === 'abort-policy')?.total ?? 0;

describe.skipIf(!haveChromium || !hfi)('Faults page and faults on the SLO pages (live demo executor)', () => {
  let live: LiveServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  const policyYaml = hfi ? readFileSync(path.join(hfi, 'current', 'abort-policy.yaml'), 'utf8') : '';

  beforeAll(async () => {
    await ensureWebBuilt();
    live = await startLive({ 'simulate.faultDemo': true });
    // Healthy traffic first: the executor has reported and the frontend's successes reached the server.
    await waitFor('the demo executor to report', async () => (await getJson<SummaryAnswer>(live, '/api/v1/faults/summary')).executors.some((e) => e.executor_id === EXECUTOR && e.connected), 30_000);
    await waitFor('successful frontend requests on its SLO API', async () => okCount(await service(live)) > 10, 30_000);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    context.setDefaultTimeout(15_000);
    await context.addInitScript((token) => localStorage.setItem('vigil.token', token), live.adminToken);
    page = await context.newPage();
    errors = watchErrors(page);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await live?.stop();
  });

  it('shows the connected executor and points a rejected policy at its line', async () => {
    await page.goto(`${live.url}/faults`);
    await page.getByRole('heading', { level: 1, name: 'Faults', exact: true }).waitFor();
    await page.getByTestId('executors-table').locator(`tr[data-executor="${EXECUTOR}"]`).waitFor();
    await expect(page.getByTestId('executors-table').textContent()).resolves.toContain('demo/frontend');

    await page.getByTestId('new-policy').click();
    const editor = page.getByTestId('policy-editor');
    // 150 % on line 14 of the fixture: the server names spec.rules[0].fault.percentage.
    await editor.getByLabel('Policy YAML').fill(policyYaml.replace('percentage: 100', 'percentage: 150'));
    await page.getByTestId('policy-save').click();
    const err = page.getByTestId('yaml-error');
    await err.waitFor();
    await expect(err.getAttribute('data-line')).resolves.toBe('14');
    await expect(err.textContent()).resolves.toContain('spec.rules[0].fault.percentage');
    await expect(editor.locator('.fault-gutter-bad').textContent()).resolves.toBe('14');
    await page.screenshot({ path: screenshotPath('faults-yaml-error.png'), fullPage: true });
    expect(await page.locator('tr[data-policy]').count(), 'nothing was stored').toBe(0);
  });

  it('applies the abort policy from the YAML editor and lists it with its executor and a rising count', async () => {
    await page.getByTestId('policy-editor').getByLabel('Policy YAML').fill(policyYaml);
    await page.getByTestId('policy-save').click();
    const row = page.locator('tr[data-policy="abort-policy"]');
    await row.waitFor();
    await expect(page.getByTestId('faults-notice').textContent()).resolves.toContain('faultinjectionpolicy.hfi.dev "abort-policy" applied');
    const cells = await row.locator('td').allTextContents();
    expect(cells[1]).toBe('demo/frontend');
    expect(cells[2]).toContain('GET');
    expect(cells[2]).toContain('abort 503');
    expect(cells[3]).toBe('100%');
    expect(cells[4]).toBe('never');
    // The executor enforces the version the policy was stored at.
    await expect(row.getByTestId('policy-executors').textContent()).resolves.toContain(EXECUTOR);
    await page.waitForFunction(() => Number(document.querySelector('tr[data-policy="abort-policy"] [data-testid="injected"]')?.textContent?.replace(/[^\d]/g, '') || 0) > 0, undefined, { timeout: 20_000 });
    const first = Number((await row.getByTestId('injected').textContent())!.replace(/[^\d]/g, ''));
    // The page polls the summary every few seconds: the count keeps rising while the fault is on.
    await page.waitForFunction(
      (before) => Number(document.querySelector('tr[data-policy="abort-policy"] [data-testid="injected"]')?.textContent?.replace(/[^\d]/g, '') || 0) > before,
      first,
      { timeout: 20_000 },
    );
    const s = await getJson<SummaryAnswer>(live, '/api/v1/faults/summary');
    expect(s.executors.find((e) => e.executor_id === EXECUTOR)?.in_sync).toBe(true);
    await page.screenshot({ path: screenshotPath('faults-policy-applied.png'), fullPage: true });
  });

  it("makes the service's error rate and its domain path's availability fall, with the fault interval shaded", async () => {
    await waitFor('the frontend error rate to pass 20 %', async () => ((await service(live)).node.error_rate ?? 0) > 20, 45_000);
    await page.locator('tr[data-policy="abort-policy"]').getByRole('link', { name: 'demo/frontend' }).click();
    await page.waitForURL(/\/slo\/mesh\/demo\/frontend/);
    await settled(page);
    const errCard = page.locator('.stat').filter({ has: page.locator('.stat-label', { hasText: /^Error rate$/ }) });
    const shown = parsePct(await errCard.locator('.stat-value').textContent());
    expect(shown, 'the Error rate card shows a rate').not.toBeNull();
    expect(shown!).toBeGreaterThan(20);
    await page.locator('[role="img"][aria-label^="Error rate over time; 1 fault interval(s) shaded"]').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: screenshotPath('faults-service-slo.png'), fullPage: true });

    await waitFor(
      'the availability of demo.example.com/ to fall below 90 %',
      async () => {
        const d = await getJson<DomainAnswer>(live, '/api/v2/slo/domains/demo.example.com?cluster_id=local&time_range=1h');
        const r = d.routes.find((x) => x.path_prefix === '/');
        const a = r?.current?.availability ?? r?.summary?.availability ?? null;
        return a !== null && a < 90;
      },
      45_000,
    );
    await page.goto(`${live.url}/slo/domains/demo.example.com?path=%2F&time_range=1h`);
    await page.locator('[role="img"][aria-label^="Availability over time; 1 fault interval(s) shaded"]').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: screenshotPath('faults-domain-slo.png'), fullPage: true });
    const intervals = await getJson<IntervalsAnswer>(live, '/api/v1/faults/active-intervals?service=frontend&namespace=demo');
    expect(intervals.intervals).toHaveLength(1);
    expect(intervals.intervals[0]).toMatchObject({ policy: 'abort-policy', to: null });
  });

  it('deletes the policy after confirmation, and successful requests come back', async () => {
    await page.goto(`${live.url}/faults`);
    const row = page.locator('tr[data-policy="abort-policy"]');
    await row.waitFor();
    await row.getByRole('button', { name: 'Delete abort-policy' }).click();
    const dialog = page.getByTestId('confirm-delete');
    await dialog.waitFor();
    await expect(dialog.textContent()).resolves.toContain('Delete policy abort-policy?');
    await page.screenshot({ path: screenshotPath('faults-confirm-delete.png') });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(row.count()).resolves.toBe(1);

    await row.getByRole('button', { name: 'Delete abort-policy' }).click();
    await page.getByTestId('confirm-delete-button').click();
    await row.waitFor({ state: 'detached' });
    const okBefore = okCount(await service(live));
    const injectedAtDelete = await injected(live);
    await waitFor('new successful frontend requests after the delete', async () => okCount(await service(live)) > okBefore + 5, 45_000);
    const closed = await getJson<IntervalsAnswer>(live, '/api/v1/faults/active-intervals?service=frontend&namespace=demo');
    expect(closed.intervals[0].to, 'the fault interval closed at the delete').not.toBeNull();
    // Nothing more was injected once the executor had the delete (it reports every 2 s).
    expect(await injected(live)).toBeLessThanOrEqual(injectedAtDelete + 20);
    await page.screenshot({ path: screenshotPath('faults-deleted.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows a viewer the policies but no way to change them', async () => {
    const auth = { authorization: `Bearer ${live.adminToken}` };
    expect((await fetch(`${live.url}/v1/policies`, { method: 'POST', headers: { ...auth, 'content-type': 'application/yaml' }, body: policyYaml })).status).toBe(201);
    const { token } = await live.server.ctx.tokens.create({ name: 'faults e2e viewer', role: 'viewer' });
    const viewer = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    try {
      await viewer.addInitScript((t) => localStorage.setItem('vigil.token', t), token);
      const p = await viewer.newPage();
      await p.goto(`${live.url}/faults`);
      await p.locator('tr[data-policy="abort-policy"]').waitFor();
      await p.getByRole('button', { name: 'Sign in as admin to change policies' }).waitFor();
      expect(await p.getByRole('button', { name: /^(Edit|Delete) abort-policy$/ }).count()).toBe(0);
      expect(await p.getByTestId('new-policy').count()).toBe(0);
    } finally {
      await viewer.close();
      await fetch(`${live.url}/v1/policies/abort-policy`, { method: 'DELETE', headers: auth });
    }
  });

  it('counts down a timed policy and scrolls its tables inside their panels on a phone', async () => {
    const timed = readFileSync(path.join(hfi!, 'current', 'time-limited-policy.yaml'), 'utf8');
    const auth = { authorization: `Bearer ${live.adminToken}` };
    const applied = await fetch(`${live.url}/v1/policies`, { method: 'POST', headers: { ...auth, 'content-type': 'application/yaml' }, body: timed });
    expect(applied.status).toBe(201);
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'light', isMobile: true });
    try {
      await phone.addInitScript((token) => localStorage.setItem('vigil.token', token), live.adminToken);
      const p = await phone.newPage();
      await p.goto(`${live.url}/faults`);
      const row = p.locator('tr[data-policy="time-limited-policy"]');
      await row.waitFor();
      // duration_seconds: 300, applied a moment ago.
      await expect(row.getByTestId('expiry').textContent()).resolves.toMatch(/^in [45]m \d\ds$/);
      await p.getByTestId('executors-table').waitFor();
      const widths = await p.evaluate(() => ({
        doc: document.documentElement.scrollWidth,
        view: window.innerWidth,
        wraps: Array.from(document.querySelectorAll('[data-page="faults"] .table-wrap')).map((w) => w.scrollWidth > w.clientWidth),
      }));
      expect(widths.doc, 'the page itself does not scroll sideways').toBeLessThanOrEqual(widths.view);
      expect(widths.wraps, 'both tables scroll inside their panels').toEqual([true, true]);
      await p.screenshot({ path: screenshotPath('faults-mobile.png'), fullPage: true });
    } finally {
      await phone.close();
      await fetch(`${live.url}/v1/policies/time-limited-policy`, { method: 'DELETE', headers: auth });
    }
  });
});
