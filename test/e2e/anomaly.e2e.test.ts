/**
 * The Anomalies page in Chromium on live simulator data (no mocks): a real server with the demo
 * fleet, agent and OTLP trace generator (src/cli/embedded.ts, as `vigil up`). The generator's
 * first-start history teaches the baselines; the test then sends one deliberately slow trace over
 * OTLP/JSON with the agent token and watches it arrive in the live feed. Covers the p95 heatmap of
 * a service/endpoint, the endpoint list, the live feed and the check form with its explanation.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumAvailable, ensureWebBuilt, launchBrowser, screenshotPath } from './browser.js';
import { getJson, startLive, waitFor, waitForBaselines, type LiveServer } from './live.js';
import { assertDrawn, parseMs, rowTexts, settled, watchErrors } from './page-helpers.js';

const haveChromium = chromiumAvailable();

/** The demo's traced services (src/simulate/traces.ts DEMO_ENDPOINTS). */
const TRACED_SERVICES = ['cart', 'catalog', 'checkout', 'frontend', 'identity', 'inventory', 'payments'];

/** One root SERVER span of checkout `POST /checkout` that took `durationMs`, as OTLP/JSON. */
function slowTrace(traceId: string, durationMs: number) {
  const end = Date.now() - 1000;
  const ns = (ms: number) => (BigInt(Math.round(ms)) * 1_000_000n).toString();
  const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
  return {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'checkout'), str('service.namespace', 'shop')] },
        scopeSpans: [
          {
            scope: { name: 'vigil-e2e' },
            spans: [
              {
                traceId,
                spanId: randomBytes(8).toString('hex'),
                name: 'POST /checkout',
                kind: 2,
                startTimeUnixNano: ns(end - durationMs),
                endTimeUnixNano: ns(end),
                attributes: [str('http.request.method', 'POST'), str('http.route', '/checkout')],
                status: { code: 0 },
              },
            ],
          },
        ],
      },
    ],
  };
}

describe.skipIf(!haveChromium)('Anomalies page on live simulator data', () => {
  let live: LiveServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    await ensureWebBuilt();
    // Live traffic at 5× (the history, not the live rate, is what the baselines need).
    live = await startLive({ 'simulate.speed': 5 });
    // The generator sends a week of history on first start; the baseline job (every 2 s here)
    // learns from it. Wait until checkout POST /checkout has a baseline for every hour and day type.
    await waitForBaselines(live, 1);
    await waitFor(
      'GET /v1/available to hold all 48 hour buckets of checkout POST /checkout',
      async () => {
        const a = await getJson<{ keys: { service: string; endpoint: string }[] }>(live, '/v1/available');
        return a.keys.filter((k) => k.service === 'checkout' && k.endpoint === 'POST /checkout').length === 48;
      },
      180_000,
      1000,
    );
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    errors = watchErrors(page);
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await live?.stop();
  });

  it('shows the p95 heatmap of a service and endpoint, with the endpoint list', async () => {
    // The windows keep filling while the history is learned: what the API holds now is a lower bound of what the page shows.
    const available = await getJson<{ keys: { service: string; endpoint: string; sampleCount: number }[] }>(live, '/v1/available');
    const samplesBefore = available.keys.filter((k) => k.service === 'checkout' && k.endpoint === 'POST /checkout').reduce((a, k) => a + k.sampleCount, 0);
    await page.goto(`${live.url}/slo/domains`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Anomalies' }).click();
    await page.getByRole('heading', { level: 1, name: 'Anomalies' }).waitFor();
    await settled(page);
    await expect(page.locator('.subtitle').first().textContent()).resolves.toContain('(hours in Asia/Taipei)');

    const panel = page.locator('.heatmap-panel');
    const service = panel.getByRole('combobox', { name: 'Service' });
    const endpoint = panel.getByRole('combobox', { name: 'Endpoint' });
    const options = (await service.locator('option').allTextContents()).map((s) => s.trim());
    expect(options).toEqual(TRACED_SERVICES);

    await service.selectOption('checkout');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('service') === 'checkout');
    await expect(endpoint.inputValue()).resolves.toBe('POST /checkout');
    const heatmap = page.getByRole('img', { name: 'p95 heatmap of checkout POST /checkout' });
    await heatmap.waitFor();
    await assertDrawn(heatmap, 0.05); // 48 coloured cells fill most of the chart

    // The endpoint list of checkout: its one endpoint, every bucket learned, samples and the p95 range.
    const list = page.locator('.endpoint-list');
    await expect(list.locator('th').first().textContent()).resolves.toBe('Endpoints of checkout');
    const rows = await rowTexts(list.locator('tbody tr'));
    expect(rows.map((r) => r[0])).toEqual(['POST /checkout']);
    expect(rows[0][1]).toBe('48/48');
    expect(samplesBefore).toBeGreaterThanOrEqual(48);
    expect(Number(rows[0][2].replace(/,/g, ''))).toBeGreaterThanOrEqual(samplesBefore);
    const [lo, hi] = rows[0][3].split(' – ').map(parseMs);
    expect(lo).toBeGreaterThan(100);
    expect(hi).toBeGreaterThan(lo!); // busy hours are slower than quiet ones

    // Another service with several endpoints: the endpoint choice redraws the heatmap.
    await service.selectOption('frontend');
    const eps = (await endpoint.locator('option').allTextContents()).map((s) => s.trim()).sort();
    expect(eps).toEqual(['GET /', 'GET /product/{id}']);
    await endpoint.selectOption('GET /product/{id}');
    await page.getByRole('img', { name: 'p95 heatmap of frontend GET /product/{id}' }).waitFor();
    await expect(list.locator('tr.selected td').first().textContent()).resolves.toBe('GET /product/{id}');
    await assertDrawn(page.getByRole('img', { name: 'p95 heatmap of frontend GET /product/{id}' }), 0.05);
    await service.selectOption('checkout');
    await heatmap.waitFor();
  });

  it('the live feed shows a slow trace sent over OTLP within seconds, with its explanation', async () => {
    const feed = page.getByTestId('anomaly-feed');
    const traceId = `e2e5${randomBytes(14).toString('hex')}`;
    const res = await fetch(`${live.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${live.agentToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(slowTrace(traceId, 60_000)),
    });
    expect(res.status).toBe(200);
    await expect(res.json()).resolves.toEqual({});

    // The feed polls every 5 s: the new anomaly appears within seconds.
    const row = feed.locator('tbody tr').filter({ hasText: traceId.slice(0, 10) });
    await row.waitFor({ timeout: 30_000 });
    const [cells] = await rowTexts(row);
    expect(cells[0]).toMatch(/^\d+ s ago$/);
    expect(cells[1]).toBe('checkoutPOST /checkout');
    expect(cells[2]).toBe('1.0 min');
    const threshold = parseMs(/^[\d.]+ (ms|s)/.exec(cells[3])?.[0] ?? null);
    expect(threshold).toBeGreaterThan(0);
    expect(threshold!).toBeLessThan(60_000);
    expect(cells[3]).toMatch(/\d+(\.\d)?×$/); // how many times the threshold
    expect(cells[4]).toMatch(/^60000 ms is above [\d.]+ ms = max\(2(\.0)? × p95 .* ms, p50 .* ms \+ 10 × MAD .* ms\), learned from .* traces .*: anomalous/);
    expect(cells[4]).toContain('look at what checkout POST /checkout was waiting on');

    // Whatever else is in the feed (the generator's injected outliers): every row is above its threshold and explains itself.
    const all = await rowTexts(feed.locator('tbody tr'));
    for (const r of all) {
      expect(parseMs(r[2])!, `duration above threshold in ${r.join(' | ')}`).toBeGreaterThan(parseMs(/^[\d.]+ (ms|s|min)/.exec(r[3])?.[0] ?? null)!);
      expect(r[4]).toMatch(/ is above .*: anomalous/);
    }
    const services = new Set(all.map((r) => TRACED_SERVICES.find((s) => r[1].startsWith(s))));
    expect(services.has(undefined)).toBe(false);

    // Only the selected endpoint.
    await page.getByRole('checkbox', { name: /only checkout POST \/checkout/ }).check();
    await waitFor('the feed to list only checkout POST /checkout', async () => {
      const r = await rowTexts(feed.locator('tbody tr'));
      return r.length > 0 && r.every((x) => x[1] === 'checkoutPOST /checkout');
    }, 15_000, 250);
    await page.getByRole('checkbox', { name: /only checkout POST \/checkout/ }).uncheck();

    // The server agrees: the same event, explanation included.
    const api = await getJson<{ anomalies: { traceId: string; durationMs: number; explanation: string }[] }>(live, '/api/v1/anomalies?service=checkout&limit=100');
    const ev = api.anomalies.find((a) => a.traceId === traceId);
    expect(ev).toBeDefined();
    expect(cells[4]).toBe(ev!.explanation);
  });

  it('the check form needs a token, then explains its verdict (anomaly, normal, cannot determine)', async () => {
    const form = page.locator('form.check-form');
    // The form follows the heatmap's selection.
    await expect(form.getByLabel('Service').inputValue()).resolves.toBe('checkout');
    await expect(form.getByLabel('Endpoint').inputValue()).resolves.toBe('POST /checkout');
    await form.getByLabel('Duration (ms)').fill('30000');
    await form.getByRole('button', { name: 'Check' }).click();

    // Anonymous reads do not extend to the check: the page says so and offers the sign-in.
    const dialog = page.getByRole('dialog', { name: 'Sign in to Vigil' });
    await dialog.waitFor();
    await page.locator('.check-panel').getByRole('alert').filter({ hasText: 'The check needs a token. Sign in first.' }).waitFor();
    await dialog.getByLabel('Bearer token').fill(live.adminToken);
    await dialog.getByRole('button', { name: 'Sign in', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });

    const verdict = page.getByTestId('check-result');
    await form.getByRole('button', { name: 'Check' }).click();
    await verdict.waitFor();
    await expect(verdict.locator('.badge').textContent()).resolves.toBe('Anomaly');
    const text = (await verdict.locator('.verdict-text').textContent())!;
    expect(text).toMatch(/^30000 ms is above [\d.]+ ms = max\(.*\), learned from .*: anomalous \([\d.]+× the usual p95\); look at what checkout POST \/checkout was waiting on at that time\.$/);
    await expect(verdict.locator('.verdict-head').textContent()).resolves.toMatch(/checkout · POST \/checkout · (weekday|weekend) \d\d:00 \(Asia\/Taipei\)/);
    // what the verdict rests on: its sample count and how fresh the baseline is
    await expect(verdict.getByTestId('check-basis').textContent()).resolves.toMatch(/^Based on [\d,]+ traces · baseline updated \d+ (s|min) ago$/);
    const facts = await verdict.locator('dl.facts').textContent();
    expect(facts).toMatch(/Baselinep50 .* · p95 .* · MAD .* · [\d,]+ samples/);
    expect(facts).toMatch(/Rulemax\(2 × p95 = .*, p50 \+ 10 × MAD = .*\)/);
    await verdict.locator('.gauge').waitFor();
    await page.screenshot({ path: screenshotPath('anomalies.png'), fullPage: true });

    await form.getByLabel('Duration (ms)').fill('5');
    await form.getByRole('button', { name: 'Check' }).click();
    await verdict.locator('.badge', { hasText: 'Normal' }).waitFor();
    await expect(verdict.locator('.verdict-text').textContent()).resolves.toMatch(/^5(\.0+)? ms is within [\d.]+ ms = .*: normal for this time\.$/);

    await form.getByLabel('Service').fill('no-such-service');
    await form.getByRole('button', { name: 'Check' }).click();
    await verdict.locator('.badge', { hasText: 'Cannot determine' }).waitFor();
    await expect(verdict.locator('.verdict-text').textContent()).resolves.toContain('Cannot determine: no traces have been seen for service "no-such-service" yet.');

    // A bad duration is refused in the form.
    await form.getByLabel('Service').fill('checkout');
    await form.getByLabel('Duration (ms)').fill('fast');
    await form.getByRole('button', { name: 'Check' }).click();
    await page.locator('.check-panel').getByRole('alert').filter({ hasText: 'Duration must be a number of milliseconds, 0 or more.' }).waitFor();
  });

  it('clicking a heatmap cell pins the check to that hour and day type and runs it', async () => {
    const form = page.locator('form.check-form');
    const heatmap = page.getByRole('img', { name: 'p95 heatmap of checkout POST /checkout' });
    await form.getByLabel('Duration (ms)').fill('');
    const box = (await heatmap.boundingBox())!;
    // Find a cell: hover across the weekday row until the tooltip names a bucket.
    let bucket: RegExpExecArray | null = null;
    let at = { x: 0, y: 0 };
    for (const fx of [0.55, 0.45, 0.65, 0.35, 0.75]) {
      at = { x: box.width * fx, y: 8 + 35 };
      await heatmap.hover({ position: at });
      const tip = await heatmap.locator('b').first().textContent({ timeout: 2000 }).catch(() => null);
      bucket = /^(weekday|weekend) (\d\d):00–\d\d:00$/.exec(tip ?? '');
      if (bucket) break;
    }
    expect(bucket, 'hovering the weekday row shows a bucket tooltip').not.toBeNull();
    await heatmap.click({ position: at });
    await expect(form.getByLabel('pin the bucket').isChecked()).resolves.toBe(true);
    await expect(form.getByRole('combobox', { name: 'Hour' }).inputValue()).resolves.toBe(String(Number(bucket![2])));
    await expect(form.getByRole('combobox', { name: 'Day type' }).inputValue()).resolves.toBe(bucket![1]);
    const prefilled = Number(await form.getByLabel('Duration (ms)').inputValue());
    expect(prefilled, 'the duration is prefilled with 2.5 × the cell p95').toBeGreaterThan(0);

    // The click itself answers for that bucket: the previous verdict (the form's last check) is not left on screen.
    const verdict = page.getByTestId('check-result');
    await verdict.locator('.verdict-head', { hasText: `${bucket![1]} ${bucket![2]}:00` }).waitFor();
    // 2.5 × p95 is above the 2 × p95 threshold unless MAD dominates: either way the verdict explains itself.
    await expect(verdict.locator('.badge').textContent()).resolves.toMatch(/^(Anomaly|Normal)$/);
    await expect(verdict.locator('.verdict-text').textContent()).resolves.toMatch(/ ms is (above|within) [\d.]+ ms = max\(/);
    await expect(verdict.locator('dl.facts').textContent()).resolves.toContain('exact hour bucket');
  });

  it('names the bucket zone for the check form\'s start time (not the browser\'s zone)', async () => {
    await page.locator('form.check-form').getByText('Started at (Asia/Taipei)').waitFor();
  });

  it('on a phone (390 px): a menu instead of the sidebar, Sign in on screen, tables scroll in their panels, focus kept in the sign-in dialog', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    try {
      const p = await phone.newPage();
      await p.goto(`${live.url}/anomalies`);
      await p.getByTestId('anomaly-feed').or(p.getByText('No anomalies detected')).first().waitFor();
      const nav = p.getByRole('navigation', { name: 'Main' });
      await expect(nav.isVisible()).resolves.toBe(false);
      await p.getByTestId('menu-button').click();
      await nav.getByRole('link', { name: 'Domains' }).waitFor({ state: 'visible' });
      await p.getByTestId('menu-button').click();
      await nav.waitFor({ state: 'hidden' });

      const signIn = p.getByRole('button', { name: 'Sign in' });
      const box = (await signIn.boundingBox())!;
      expect(box.x + box.width, 'Sign in is inside the 390 px viewport').toBeLessThanOrEqual(390);
      // the page itself does not scroll sideways; wide tables scroll inside their panel
      await expect(p.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(390);

      await signIn.click();
      const dialog = p.getByRole('dialog', { name: 'Sign in to Vigil' });
      await dialog.waitFor();
      const inDialog = () => p.evaluate(() => !!document.activeElement?.closest('[role="dialog"]'));
      for (let i = 0; i < 6; i++) {
        await p.keyboard.press(i % 2 ? 'Shift+Tab' : 'Tab');
        await expect(inDialog(), `focus after ${i + 1} Tab presses`).resolves.toBe(true);
      }
      await p.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      await p.screenshot({ path: screenshotPath('anomalies-phone.png') });
    } finally {
      await phone.close();
    }
  });

  it('threw no uncaught errors', () => {
    expect(errors).toEqual([]);
  });
});
