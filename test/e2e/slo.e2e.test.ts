/**
 * The SLO pages in Chromium on live simulator data (no mocks): a real server with the demo fleet,
 * the embedded agent and the trace generator (src/cli/embedded.ts, as `vigil up`). Covers the
 * Domains tree (numbers, expand/collapse, sort, filter), Domain detail (time range, charts, path
 * tabs, targets editor as admin persisted through the API), and the Mesh (topology graph, click →
 * service detail with latency histogram and status codes). Screenshots go to test-results/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { chromiumAvailable, ensureWebBuilt, launchBrowser, screenshotPath } from './browser.js';
import { DEMO_DOMAINS, DEMO_SERVICES, getJson, startLive, waitFor, waitForDomains, waitForMesh, type LiveServer } from './live.js';
import { LIGHT, assertDrawn, canvasInk, halfDisplayStep, parseMs, parsePct, parseRps, rowTexts, settled, watchErrors } from './page-helpers.js';

const haveChromium = chromiumAvailable();

/** The demo's call graph (src/simulate/model.ts CALLS): callees of shop/checkout. */
const CHECKOUT_CALLEES = ['accounts/auth', 'shop/cart', 'shop/orders', 'shop/payments'];

interface TreeDomain {
  domain: string;
  status: string;
  open: boolean;
  cells: string[];
  routes: { path: string; status: string; cells: string[] }[];
}

/** The Domains tree as the user sees it: domain rows in order, each with the path rows shown under it. */
async function readTree(page: Page): Promise<TreeDomain[]> {
  return page.getByTestId('domain-tree').evaluate((table) => {
    const out: TreeDomain[] = [];
    const statusOf = (tr: Element) => Array.from(tr.classList).find((c) => c.startsWith('status-'))?.slice(7) ?? '';
    const cells = (tr: Element) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim());
    for (const tr of Array.from(table.querySelectorAll('tbody tr'))) {
      if (tr.classList.contains('domain-row')) {
        out.push({
          domain: (tr.querySelector('.domain-link')?.textContent ?? '').trim(),
          status: statusOf(tr),
          open: tr.querySelector('button.caret')?.getAttribute('aria-expanded') === 'true',
          cells: cells(tr),
          routes: [],
        });
      } else if (tr.classList.contains('route-row')) {
        out[out.length - 1]?.routes.push({ path: (tr.querySelector('td.name-col a')?.textContent ?? '').trim(), status: statusOf(tr), cells: cells(tr) });
      }
    }
    return out;
  });
}

/** Value and hint of the stat card with this label. */
async function stat(page: Page, label: string): Promise<{ value: string; hint: string }> {
  const card = page.locator('.stat').filter({ has: page.locator('.stat-label', { hasText: new RegExp(`^${label}$`) }) }).first();
  await card.waitFor();
  return card.evaluate((el) => ({
    value: (el.querySelector('.stat-value')?.textContent ?? '').trim(),
    hint: (el.querySelector('.stat-hint')?.textContent ?? '').trim(),
  }));
}

const chart = (page: Page, label: string): Locator => page.locator(`[role="img"][aria-label="${label}"]`);
const query = (page: Page) => new URL(page.url()).searchParams;

/** Status labels as web/src/format.ts shows them (a demo minutes old is mostly "Too little data"). */
const STATUS_LABEL: Record<string, string> = { healthy: 'Healthy', warning: 'Warning', critical: 'Critical', insufficient_data: 'Too little data', unknown: 'No data' };

// Domain row columns: name, service, availability, p95, p99, rps, budget, status.
const COL = { availability: 2, p95: 3, p99: 4, rps: 5, budget: 6, status: 7 } as const;

interface Metrics {
  availability: number | null;
  p95_latency: number | null;
  p99_latency: number | null;
  rps: number | null;
}
interface DomainsAnswer {
  summary: { total_rps: number };
  domains: { domain: string; status: string; summary: Metrics; routes: { path_prefix: string; status: string; current: Metrics }[] }[];
}

/** A tree row shows these metrics and status, to the precision web/src/format.ts displays. */
function expectShown(cells: string[], m: Metrics, status: string, what: string) {
  const close = (shown: number | null, want: number | null, tol: number, col: string) => {
    expect(shown, `${col} of ${what}`).not.toBeNull();
    expect(Math.abs(shown! - want!), `${col} of ${what}: shown ${shown}, server ${want}`).toBeLessThanOrEqual(tol);
  };
  close(parsePct(cells[COL.availability]), m.availability, 0.0051, 'availability');
  close(parseMs(cells[COL.p95]), m.p95_latency, Math.max(0.51, m.p95_latency! * 0.006), 'p95');
  close(parseMs(cells[COL.p99]), m.p99_latency, Math.max(0.51, m.p99_latency! * 0.006), 'p99');
  close(parseRps(cells[COL.rps]), m.rps, Math.max(0.0051, m.rps! * 0.05), 'rps');
  expect(cells[COL.status], `status of ${what}`).toBe(STATUS_LABEL[status]);
}

describe.skipIf(!haveChromium)('SLO pages on live simulator data', () => {
  let live: LiveServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  /** Every /api/v2/slo/domains answer the page received, in arrival order. */
  const answers: Promise<{ timeRange: string; body: DomainsAnswer } | null>[] = [];
  /** The newest domains answer the page got for a range: what it renders. */
  const lastAnswer = async (timeRange: string) => {
    const got = (await Promise.all(answers)).filter((a) => a?.timeRange === timeRange) as { timeRange: string; body: DomainsAnswer }[];
    expect(got.length, `the page fetched the domains for ${timeRange}`).toBeGreaterThan(0);
    return got[got.length - 1].body;
  };

  beforeAll(async () => {
    await ensureWebBuilt();
    live = await startLive();
    // The agent scrapes every second; every demo domain, path and service has numbers within seconds.
    await waitForDomains(live);
    await waitForMesh(live);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    errors = watchErrors(page);
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (u.pathname !== '/api/v2/slo/domains' || r.status() !== 200) return;
      // A body the browser already dropped (the page navigated on) is skipped.
      answers.push(r.json().then((body: DomainsAnswer) => ({ timeRange: u.searchParams.get('time_range') ?? '1d', body }), () => null));
    });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await live?.stop();
  });

  it('Domains: the tree lists every demo domain and path with availability, latency and traffic', async () => {
    await page.goto(`${live.url}/`);
    await page.getByRole('heading', { level: 1, name: 'Domains' }).waitFor();
    await page.getByTestId('domain-tree').waitFor();
    await settled(page);

    const tree = await readTree(page);
    expect(tree.map((d) => d.domain).sort()).toEqual(Object.keys(DEMO_DOMAINS).sort());
    for (const d of tree) {
      // Three domains (≤ 8): the tree opens with every path shown.
      expect(d.open, `${d.domain} starts expanded`).toBe(true);
      expect(d.routes.map((r) => r.path).sort()).toEqual([...DEMO_DOMAINS[d.domain]].sort());
      expect(d.cells[0]).toContain(`${DEMO_DOMAINS[d.domain].length} paths`);
      for (const row of [d.cells, ...d.routes.map((r) => r.cells)]) {
        const avail = parsePct(row[COL.availability]);
        expect(avail, `availability "${row[COL.availability]}" of ${d.domain}`).not.toBeNull();
        expect(avail!).toBeGreaterThan(0);
        expect(avail!).toBeLessThanOrEqual(100);
        expect(parseMs(row[COL.p95]), `p95 "${row[COL.p95]}" of ${d.domain}`).toBeGreaterThan(0);
        expect(parseMs(row[COL.p99]), `p99 "${row[COL.p99]}" of ${d.domain}`).toBeGreaterThanOrEqual(parseMs(row[COL.p95])!);
        expect(parseRps(row[COL.rps]), `rps "${row[COL.rps]}" of ${d.domain}`).not.toBeNull();
        expect(row[COL.budget]).toMatch(/^-?\d+(\.\d)?%$/);
        expect(row[COL.status]).toMatch(/^(Healthy|Warning|Critical|Too little data|No data)$/);
      }
      // Each path names the service behind it.
      for (const r of d.routes) expect(r.cells[1]).toMatch(/^[a-z-]+\/[a-z-]+$/);
    }
    const shop = tree.find((d) => d.domain === 'shop.example.com')!;
    expect(shop.routes.find((r) => r.path === '/checkout')!.cells[1]).toBe('shop/checkout');

    // Fleet summary cards.
    await expect(stat(page, 'Domains')).resolves.toEqual({ value: '3', hint: '8 paths' });
    const counts = await Promise.all(['Healthy', 'Warning', 'Critical'].map(async (l) => Number((await stat(page, l)).value)));
    const thin = (await readTree(page)).filter((d) => d.status === 'insufficient_data').length;
    expect(counts.reduce((a, b) => a + b, 0) + thin).toBe(3);
    expect(parsePct((await stat(page, 'Avg availability')).value)).toBeGreaterThan(0);
    await expect(page.locator('.footnote').textContent()).resolves.toContain('Cluster local');

    // Over the last hour the rates are those of the simulated traffic: every domain has requests per second above 0.
    await page.getByRole('radiogroup', { name: 'Time range' }).getByRole('radio', { name: '1h' }).click();
    await page.waitForFunction(() => new URLSearchParams(location.search).get('time_range') === '1h');
    await settled(page);
    await waitFor('every domain to show traffic over 1h', async () => {
      const t = await readTree(page);
      return t.length === 3 && t.every((d) => (parseRps(d.cells[COL.rps]) ?? 0) > 0) ? t : false;
    }, 20_000);
    expect(parseRps((await stat(page, 'Total traffic')).value)).toBeGreaterThan(0);

    // The numbers are the server's: every row matches the answer the page got, to display precision.
    const body = await lastAnswer('1h');
    const t = await readTree(page);
    for (const d of body.domains) {
      const shown = t.find((x) => x.domain === d.domain)!;
      expectShown(shown.cells, d.summary, d.status, `${d.domain}`);
      for (const r of d.routes) expectShown(shown.routes.find((x) => x.path === r.path_prefix)!.cells, r.current, r.status, `${d.domain}${r.path_prefix}`);
    }
    // To display precision: 1 293.9/s reads "1.3k/s".
    const total = parseRps((await stat(page, 'Total traffic')).value);
    expect(Math.abs(total! - body.summary.total_rps), `Total traffic shown ${total}, server ${body.summary.total_rps}`).toBeLessThanOrEqual(halfDisplayStep(body.summary.total_rps));
    await page.screenshot({ path: screenshotPath('slo-domains.png'), fullPage: true });
  });

  it('Domains: expand and collapse one domain or all of them', async () => {
    const caret = (d: string, open: boolean) => page.getByRole('button', { name: `${open ? 'Collapse' : 'Expand'} ${d}` });
    await caret('shop.example.com', true).click();
    let tree = await readTree(page);
    expect(tree.find((d) => d.domain === 'shop.example.com')).toMatchObject({ open: false, routes: [] });
    expect(tree.filter((d) => d.domain !== 'shop.example.com').every((d) => d.open && d.routes.length > 0)).toBe(true);
    await caret('shop.example.com', false).click();
    tree = await readTree(page);
    expect(tree.find((d) => d.domain === 'shop.example.com')!.routes.map((r) => r.path).sort()).toEqual([...DEMO_DOMAINS['shop.example.com']].sort());

    await page.getByRole('button', { name: 'Collapse all' }).click();
    tree = await readTree(page);
    expect(tree.map((d) => d.routes.length)).toEqual([0, 0, 0]);
    expect(await page.locator('tr.route-row').count()).toBe(0);
    await page.getByRole('button', { name: 'Expand all' }).click();
    expect(await page.locator('tr.route-row').count()).toBe(8);
  });

  it('Domains: sorts by name and by latency, both ways, and keeps the sort in the URL', async () => {
    const names = async () => (await readTree(page)).map((d) => d.domain);
    const header = (label: string) => page.getByTestId('domain-tree').locator('th').filter({ hasText: label }).first();

    await header('Domain / path').getByRole('button').click();
    expect(query(page).get('sort')).toBe('name:asc');
    await expect(header('Domain / path').getAttribute('aria-sort')).resolves.toBe('ascending');
    expect(await names()).toEqual(['api.example.com', 'media.example.com', 'shop.example.com']);
    // Paths sort inside their domain too.
    expect((await readTree(page)).find((d) => d.domain === 'shop.example.com')!.routes.map((r) => r.path)).toEqual(['/', '/api', '/checkout']);

    await header('Domain / path').getByRole('button').click();
    expect(query(page).get('sort')).toBe('name:desc');
    expect(await names()).toEqual(['shop.example.com', 'media.example.com', 'api.example.com']);

    // P95 sorts worst (slowest) first on the first click.
    await header('P95').getByRole('button').click();
    expect(query(page).get('sort')).toBe('p95:desc');
    await expect(header('P95').getAttribute('aria-sort')).resolves.toBe('descending');
    let tree = await readTree(page);
    const p95 = tree.map((d) => parseMs(d.cells[COL.p95])!);
    expect(p95).toEqual([...p95].sort((a, b) => b - a));
    for (const d of tree) {
      const rp = d.routes.map((r) => parseMs(r.cells[COL.p95])!);
      expect(rp, `paths of ${d.domain} by p95, slowest first`).toEqual([...rp].sort((a, b) => b - a));
    }
    await header('P95').getByRole('button').click();
    expect(query(page).get('sort')).toBe('p95:asc');
    tree = await readTree(page);
    const up = tree.map((d) => parseMs(d.cells[COL.p95])!);
    expect(up).toEqual([...up].sort((a, b) => a - b));

    // The sort survives a reload (it lives in the URL).
    await page.reload();
    await page.getByTestId('domain-tree').waitFor();
    await expect(header('P95').getAttribute('aria-sort')).resolves.toBe('ascending');
  });

  it('Domains: filters by text and by status', async () => {
    const filter = page.getByRole('searchbox', { name: 'Filter' });

    // A path match shows only the matching path, with its domain opened.
    await filter.fill('images');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'images');
    let tree = await readTree(page);
    expect(tree.map((d) => [d.domain, d.routes.map((r) => r.path)])).toEqual([['media.example.com', ['/images']]]);

    // Service names match too: "checkout" is the /checkout path of shop.example.com, served by shop/checkout.
    await filter.fill('checkout');
    tree = await readTree(page);
    expect(tree.map((d) => [d.domain, d.routes.map((r) => r.path)])).toEqual([['shop.example.com', ['/checkout']]]);

    // A domain match shows the domain with all its paths.
    await filter.fill('api.example');
    tree = await readTree(page);
    expect(tree.map((d) => d.domain)).toEqual(['api.example.com']);
    expect(tree[0].routes.map((r) => r.path).sort()).toEqual([...DEMO_DOMAINS['api.example.com']].sort());

    await filter.fill('no-such-thing');
    await page.getByText('Nothing matches').waitFor();
    expect(await page.getByTestId('domain-tree').count()).toBe(0);

    await filter.fill('');
    await page.getByTestId('domain-tree').waitFor();
    expect((await readTree(page)).length).toBe(3);
    expect(query(page).has('q')).toBe(false);

    // Status filter: pick a status some path shows, then only such paths are listed.
    const present = new Set((await readTree(page)).flatMap((d) => d.routes.map((r) => r.status)));
    const status = (['healthy', 'critical', 'warning', 'insufficient_data'] as const).find((s) => present.has(s))!;
    expect(status, 'some path has a status').toBeDefined();
    const label = STATUS_LABEL[status];
    const group = page.getByRole('radiogroup', { name: 'Status filter' });
    await group.getByRole('radio', { name: label }).click();
    expect(query(page).get('status')).toBe(status);
    await expect(group.getByRole('radio', { name: label }).getAttribute('aria-checked')).resolves.toBe('true');
    tree = await readTree(page);
    expect(tree.length).toBeGreaterThan(0);
    for (const d of tree) {
      expect(d.status === status || d.routes.length > 0).toBe(true);
      for (const r of d.routes) expect(r.status, `${d.domain}${r.path} under the ${status} filter`).toBe(status);
    }
    await group.getByRole('radio', { name: 'All' }).click();
    expect((await readTree(page)).flatMap((d) => d.routes).length).toBe(8);
  });

  it('Domain detail: stats, path tabs, charts and the time-range picker', async () => {
    await page.goto(`${live.url}/slo/domains?time_range=1h`);
    await page.getByTestId('domain-tree').getByRole('link', { name: 'shop.example.com', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: /shop\.example\.com/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/slo/domains/shop.example.com');
    expect(query(page).get('time_range')).toBe('1h'); // the range follows the user
    await settled(page);

    expect(parsePct((await stat(page, 'Availability')).value)).toBeGreaterThan(0);
    expect((await stat(page, 'Availability')).hint).toMatch(/^target [\d.]+%$/);
    expect(parseMs((await stat(page, 'P95 latency')).value)).toBeGreaterThan(0);
    expect(parseRps((await stat(page, 'Traffic')).value)).toBeGreaterThan(0);
    const requests = Number(/([\d,]+) requests/.exec((await stat(page, 'Traffic')).hint)?.[1].replace(/,/g, ''));
    expect(requests, 'requests counted over the range').toBeGreaterThan(0);

    const tabs = page.getByRole('tablist', { name: 'Path' });
    expect((await tabs.getByRole('tab').allTextContents()).map((t) => t.trim())).toEqual(['All paths', ...[...DEMO_DOMAINS['shop.example.com']].sort()]);
    await expect(tabs.getByRole('tab', { name: 'All paths' }).getAttribute('aria-selected')).resolves.toBe('true');

    const labels = ['Availability over time', 'Latency over time', 'Requests per second over time', 'Error budget over time'];
    for (const l of labels) await assertDrawn(chart(page, l));

    // The paths table: every path with its service (a link to the mesh) and numbers.
    const paths = await rowTexts(page.locator('.panel').filter({ has: page.getByRole('heading', { name: 'Paths' }) }).locator('tbody tr'));
    expect(paths.map((r) => r[0]).sort()).toEqual([...DEMO_DOMAINS['shop.example.com']].sort());
    expect(Object.fromEntries(paths.map((r) => [r[0], r[1]]))).toEqual({ '/': 'shop/web', '/checkout': 'shop/checkout', '/api': 'shop/api-gateway' });
    for (const r of paths) expect(parsePct(r[2]), `availability of ${r[0]}`).not.toBeNull();

    // One path: the latency chart shows p95 and p99 of that path.
    await tabs.getByRole('tab', { name: '/checkout' }).click();
    await expect(tabs.getByRole('tab', { name: '/checkout' }).getAttribute('aria-selected')).resolves.toBe('true');
    expect(query(page).get('path')).toBe('/checkout');
    await page.getByRole('heading', { name: 'Latency (p95, p99)' }).waitFor();
    await page.getByRole('heading', { name: 'Burn rates · /checkout' }).waitFor();
    for (const l of labels) await assertDrawn(chart(page, l));

    // Time range: 7d asks the server for 7 days and marks the choice.
    const asked = page.waitForResponse((r) => r.url().includes('/api/v2/slo/domains/shop.example.com') && r.url().includes('time_range=7d'));
    const range = page.getByRole('radiogroup', { name: 'Time range' });
    await range.getByRole('radio', { name: '7d' }).click();
    expect((await asked).status()).toBe(200);
    await expect(range.getByRole('radio', { name: '7d' }).getAttribute('aria-checked')).resolves.toBe('true');
    await expect(range.getByRole('radio', { name: '1h' }).getAttribute('aria-checked')).resolves.toBe('false');
    expect(query(page).get('time_range')).toBe('7d');
    expect(query(page).get('path')).toBe('/checkout');
    await settled(page);
    for (const l of labels) await assertDrawn(chart(page, l));
    expect(parsePct((await stat(page, 'Availability')).value)).toBeGreaterThan(0);

    await range.getByRole('radio', { name: '1h' }).click();
    await tabs.getByRole('tab', { name: 'All paths' }).click();
    await settled(page);
    for (const l of labels) await assertDrawn(chart(page, l));
    await page.screenshot({ path: screenshotPath('slo-domain-detail.png'), fullPage: true });
  });

  it('Domain detail: an admin changes targets and they are persisted (GET /api/v2/slo/targets)', async () => {
    const editor = page.locator('.targets-panel');
    await editor.scrollIntoViewIfNeeded();
    const field = (scope: string, f: 'availability' | 'p95' | 'p99') => editor.getByLabel(`${scope} ${f} target`);

    // Anonymous: read-only, with a way to sign in.
    await expect(field('Whole domain', 'availability').isDisabled()).resolves.toBe(true);
    await editor.getByText('Only admins can edit targets.').waitFor();
    await editor.getByRole('button', { name: 'Sign in as admin' }).click();
    const dialog = page.getByRole('dialog', { name: 'Sign in to Vigil' });
    await dialog.waitFor();
    await dialog.getByLabel('Bearer token').fill(live.adminToken);
    await dialog.getByRole('button', { name: 'Sign in', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect(page.getByTestId('role').textContent()).resolves.toBe('admin');
    await expect(field('Whole domain', 'availability').isEnabled()).resolves.toBe(true);
    await expect(editor.getByRole('radio', { name: '30d' }).getAttribute('aria-checked')).resolves.toBe('true');

    // A bad value is refused in the form and nothing is sent.
    await field('Whole domain', 'availability').fill('101');
    await field('Whole domain', 'p95').fill('250');
    await editor.getByRole('button', { name: 'Save targets' }).click();
    await editor.getByRole('alert').filter({ hasText: 'availability target must be a percentage above 0 and at most 100' }).waitFor();
    let stored = await getJson<{ targets: { scope: string; key: string; window: string; availability_target: number; p95_latency_target: number; p99_latency_target: number | null }[] }>(
      live,
      '/api/v2/slo/targets',
    );
    expect(stored.targets.filter((t) => t.key.startsWith('shop.example.com'))).toEqual([]);

    // Whole domain 99.5 % / 250 ms, and /checkout 99 % / 900 ms / p99 1500 ms over 30 days.
    await field('Whole domain', 'availability').fill('99.5');
    await field('/checkout', 'availability').fill('99');
    await field('/checkout', 'p95').fill('900');
    await field('/checkout', 'p99').fill('1500');
    await editor.getByRole('button', { name: 'Save targets' }).click();
    await editor.getByText('Saved.').waitFor();

    stored = await getJson(live, '/api/v2/slo/targets');
    const mine = stored.targets.filter((t) => t.key.startsWith('shop.example.com')).map(({ scope, key, window, availability_target, p95_latency_target, p99_latency_target }) => ({ scope, key, window, availability_target, p95_latency_target, p99_latency_target }));
    expect(mine.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { scope: 'domain', key: 'shop.example.com', window: '30d', availability_target: 99.5, p95_latency_target: 250, p99_latency_target: null },
      { scope: 'route', key: 'shop.example.com/checkout', window: '30d', availability_target: 99, p95_latency_target: 900, p99_latency_target: 1500 },
    ]);

    // After a reload the page shows the new targets: in the editor, the stat card and the paths table.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: /shop\.example\.com/ }).waitFor();
    await settled(page);
    // The editor loads the stored targets with its own request after the page settles.
    await expect.poll(() => field('Whole domain', 'availability').inputValue(), { timeout: 15_000 }).toBe('99.5');
    await expect(field('Whole domain', 'p95').inputValue()).resolves.toBe('250');
    await expect(field('/checkout', 'p99').inputValue()).resolves.toBe('1500');
    await expect(editor.locator('tr').filter({ hasText: 'Whole domain' }).locator('td').last().textContent()).resolves.toMatch(/ by /);
    expect((await stat(page, 'Availability')).hint).toBe('target 99.5%');
    const paths = await rowTexts(page.locator('.panel').filter({ has: page.getByRole('heading', { name: 'Paths' }) }).locator('tbody tr'));
    expect(Object.fromEntries(paths.map((r) => [r[0], r[6]]))).toMatchObject({ '/checkout': '99% · 900 ms', '/api': '99.5% · 250 ms' });
    await editor.screenshot({ path: screenshotPath('slo-targets.png') });
  });

  it('Mesh: the topology graph shows the demo services; clicking a node opens its detail', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Mesh' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mesh' }).waitFor();
    // Rates over the last hour (the demo has run for seconds; over 1d its rates round to 0.00/s, see the report).
    await page.getByRole('radiogroup', { name: 'Time range' }).getByRole('radio', { name: '1h' }).click();
    await page.waitForFunction(() => new URLSearchParams(location.search).get('time_range') === '1h');
    await settled(page);

    const services = await rowTexts(page.locator('.panel').filter({ has: page.getByRole('heading', { name: 'Services' }) }).locator('tbody tr'));
    const ids = services.map((r) => r[0]);
    for (const s of DEMO_SERVICES) expect(ids, `services table lists ${s}`).toContain(s);
    for (const r of services.filter((x) => DEMO_SERVICES.includes(x[0]))) {
      expect(parseRps(r[1]), `rps of ${r[0]}`).toBeGreaterThan(0);
      expect(parseMs(r[3]), `p95 of ${r[0]}`).toBeGreaterThan(0);
      expect(r[7]).toMatch(/^(Healthy|Warning|Critical|Too little data|No data)$/);
    }
    const s = await stat(page, 'Services');
    // The ingress is listed as a source, not counted as a service.
    expect(Number(s.value)).toBe(services.filter((r) => r[7] !== 'Source').length);
    expect(s.hint).toMatch(/ · 1 source$/);
    expect(Number(/^(\d+) edges/.exec(s.hint)?.[1])).toBeGreaterThanOrEqual(13); // the demo's 13 service-to-service calls

    // The graph: one coloured circle per service. Hover a node to read its name, click it, land on its page.
    const graph = chart(page, 'Service mesh topology');
    const ink = await assertDrawn(graph);
    expect(ink.height).toBeGreaterThan(500);
    await page.screenshot({ path: screenshotPath('slo-mesh.png'), fullPage: true });

    let target = '';
    for (let attempt = 0; attempt < 4 && !target; attempt++) {
      const { colors } = await canvasInk(graph, LIGHT);
      const points = [...colors.healthy.points, ...colors.warning.points, ...colors.critical.points, ...colors.unknown.points];
      expect(points.length, 'the graph draws nodes in status colours').toBeGreaterThan(0);
      // Aim at the middle of a node: the sample point with the most sampled neighbours.
      const near = (p: { x: number; y: number }) => points.filter((q) => Math.abs(q.x - p.x) <= 4 && Math.abs(q.y - p.y) <= 4).length;
      const aim = points.slice().sort((a, b) => near(b) - near(a))[(attempt * 5) % points.length];
      await graph.hover({ position: { x: aim.x, y: aim.y } });
      const tip = await graph
        .locator('b')
        .first()
        .textContent({ timeout: 3000 })
        .catch(() => null);
      if (!tip || !/^[a-z-]+\/[a-z-]+$/.test(tip)) continue;
      await graph.click({ position: { x: aim.x, y: aim.y } });
      await page.waitForURL((u) => u.pathname.startsWith('/slo/mesh/'), { timeout: 5000 }).catch(() => undefined);
      if (new URL(page.url()).pathname === `/slo/mesh/${tip}`) target = tip;
    }
    expect(target, 'a click on a node opens that service').not.toBe('');
    await page.getByRole('heading', { level: 1, name: new RegExp(target.split('/')[1]) }).waitFor();
    await settled(page);
    await assertDrawn(chart(page, 'Latency histogram'));
  });

  it('Service detail: latency histogram, status codes, traffic and its callers and callees', async () => {
    await page.goto(`${live.url}/slo/mesh?time_range=1h`);
    await page.getByRole('link', { name: 'shop/checkout' }).click();
    await page.getByRole('heading', { level: 1, name: /checkout/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/slo/mesh/shop/checkout');
    await settled(page);

    expect(parseRps((await stat(page, 'Traffic')).value)).toBeGreaterThan(0);
    expect(Number(/([\d,]+) requests/.exec((await stat(page, 'Traffic')).hint)?.[1].replace(/,/g, ''))).toBeGreaterThan(0);
    const p50 = parseMs((await stat(page, 'P50')).value)!;
    const p95 = parseMs((await stat(page, 'P95')).value)!;
    expect(p50).toBeGreaterThan(0);
    expect(p95).toBeGreaterThanOrEqual(p50);
    expect(parsePct((await stat(page, 'mTLS')).value)).toBeGreaterThan(0);

    // Latency histogram: bars in the accent colour. Status codes: a green 2xx bar (and the legend of the codes the server sent).
    const hist = await canvasInk(chart(page, 'Latency histogram'), { bar: LIGHT.accent });
    expect(hist.colors.bar.count, 'histogram bars drawn').toBeGreaterThan(50);
    const codes = await canvasInk(chart(page, 'Status codes'), { ok: LIGHT.healthy });
    expect(codes.colors.ok.count, 'a 2xx bar drawn in green').toBeGreaterThan(20);
    for (const l of ['Requests per second over time', 'Latency over time', 'Error rate over time']) await assertDrawn(chart(page, l));
    const detail = await getJson<{ node: { status_codes: { code: string; count: number }[]; latency_distribution: { le: number | null; count: number }[] } }>(
      live,
      '/api/v2/slo/mesh/services/shop/checkout?time_range=1h',
    );
    expect(detail.node.status_codes.some((c) => c.code.startsWith('2') && c.count > 0)).toBe(true);
    expect(detail.node.latency_distribution.length).toBeGreaterThan(3);

    // Callees of checkout in the demo's call graph, each a link to its own page.
    const outbound = page.locator('.panel').filter({ has: page.getByRole('heading', { name: /^Outbound · \d+$/ }) });
    const callees = (await rowTexts(outbound.locator('tbody tr'))).map((r) => r[0]).sort();
    expect(callees).toEqual(CHECKOUT_CALLEES);
    await expect(page.getByRole('heading', { name: /^Outbound · \d+$/ }).textContent()).resolves.toBe(`Outbound · ${CHECKOUT_CALLEES.length}`);
    // Reached through the ingress: the route links back to the domain page with the path selected.
    const route = page.locator('.panel').filter({ has: page.getByRole('heading', { name: 'Ingress routes' }) }).getByRole('link');
    await expect(route.textContent()).resolves.toBe('shop.example.com/checkout');
    await page.screenshot({ path: screenshotPath('slo-service.png'), fullPage: true });

    await outbound.getByRole('link', { name: 'shop/payments' }).click();
    await page.getByRole('heading', { level: 1, name: /payments/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/slo/mesh/shop/payments');
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: /checkout/ }).waitFor();
    await route.click();
    await page.getByRole('heading', { level: 1, name: /shop\.example\.com/ }).waitFor();
    expect(query(page).get('path')).toBe('/checkout');
    await expect(page.getByRole('tab', { name: '/checkout' }).getAttribute('aria-selected')).resolves.toBe('true');
  });

  it('every SLO page fires its first request once, with the cluster', async () => {
    const fresh = await context.newPage();
    const reads: string[] = [];
    fresh.on('request', (r) => {
      const u = new URL(r.url());
      if (/^\/api\/v2\/slo\/(domains|mesh)/.test(u.pathname)) reads.push(u.pathname + u.search);
    });
    try {
      for (const [path, api] of [
        ['/slo/domains', '/api/v2/slo/domains'],
        ['/slo/mesh', '/api/v2/slo/mesh/topology'],
        ['/slo/domains/shop.example.com', '/api/v2/slo/domains/shop.example.com'],
        ['/slo/mesh/shop/checkout', '/api/v2/slo/mesh/services/shop/checkout'],
      ]) {
        reads.length = 0;
        await fresh.goto(`${live.url}${path}`);
        await fresh.getByRole('heading', { level: 1 }).waitFor();
        await settled(fresh);
        await fresh.waitForFunction(() => new URLSearchParams(location.search).get('cluster_id') === 'local');
        await settled(fresh);
        // was two: one without cluster_id (400 with several clusters), one with it
        expect(reads, `${path} on first load`).toEqual([`${api}?cluster_id=local&time_range=1d`]);
      }
    } finally {
      await fresh.close();
    }
  });

  it('Domain detail: the status says what it is based on, and the Traffic card is requests over covered time', async () => {
    const answer = page.waitForResponse((r) => r.url().includes('/api/v2/slo/domains/shop.example.com?') && r.url().includes('time_range=1h'));
    await page.goto(`${live.url}/slo/domains/shop.example.com?time_range=1h`);
    const body = (await (await answer).json()) as {
      status: string;
      status_minimum: { requests: number; covered_seconds: number };
      covered_seconds: number;
      summary: { rps: number; total_requests: number; covered_seconds: number; current_rps: number | null };
    };
    await settled(page);
    const basis = (await page.getByTestId('status-basis').textContent())!.trim();
    expect(basis).toMatch(/^based on \d+(\.\d)? (s|min|h) \/ [\d,]+ requests$/);
    // The demo has run for minutes: the status is judged only past the minimum, else it says so.
    const thin = body.summary.covered_seconds < body.status_minimum.covered_seconds || body.summary.total_requests < body.status_minimum.requests;
    expect(body.status === 'insufficient_data').toBe(thin);
    const badge = (await page.locator('h1 .badge').first().textContent())!.trim();
    expect(badge).toBe(STATUS_LABEL[body.status]);
    // Rate = requests / covered seconds (not / 3 600 s of a 1h range the demo has not run for yet).
    expect(body.summary.covered_seconds).toBeLessThan(3600);
    expect(body.summary.rps).toBeCloseTo(body.summary.total_requests / body.summary.covered_seconds, 2);
    const card = await stat(page, 'Traffic');
    const shownRps = parseRps(card.value);
    expect(Math.abs(shownRps! - body.summary.rps), `Traffic shown ${shownRps}, server ${body.summary.rps}`).toBeLessThanOrEqual(halfDisplayStep(body.summary.rps));
    expect(card.hint).toMatch(/^now [\d.k]+\/s · [\d,]+ requests in \d+(\.\d)? (s|min|h)$/);
  });

  it('Mesh: the ingress is a source with its outbound traffic; positions and zoom survive a refresh', async () => {
    await page.goto(`${live.url}/slo/mesh?time_range=1h`);
    await page.getByRole('heading', { level: 1, name: 'Mesh' }).waitFor();
    await settled(page);
    const rows = await rowTexts(page.locator('.panel').filter({ has: page.getByRole('heading', { name: 'Services' }) }).locator('tbody tr'));
    const traefik = rows.find((r) => r[0] === 'traefik/traefik');
    expect(traefik, 'the ingress is listed').toBeDefined();
    expect(traefik![7]).toBe('Source');
    expect(parseRps(traefik![1].replace(/^→ /, ''))).toBeGreaterThan(0);

    const graph = chart(page, 'Service mesh topology');
    const nodeColours = { healthy: LIGHT.healthy, warning: LIGHT.warning, critical: LIGHT.critical, unknown: LIGHT.unknown, source: LIGHT.accent };
    const inkPoints = async () => {
      const ink = await canvasInk(graph, nodeColours);
      return Object.values(ink.colors).flatMap((c) => c.points);
    };
    const same = (a: { x: number; y: number }[], b: { x: number; y: number }[]) => a.length === b.length && a.every((p, i) => p.x === b[i].x && p.y === b[i].y);
    /** Node pixels once two reads in a row agree (the chart repaints on a later frame), optionally different from `not`. */
    const settledInk = (what: string, not?: { x: number; y: number }[]) => {
      let last: { x: number; y: number }[] = [];
      return waitFor(what, async () => {
        const now = await inkPoints();
        const ok = now.length > 10 && same(now, last) && !(not && same(now, not));
        last = now;
        return ok ? now : false;
      }, 10_000, 200);
    };
    expect((await canvasInk(graph, nodeColours)).colors.source.count, 'the ingress is drawn in the accent colour').toBeGreaterThan(20);
    const unzoomed = await settledInk('the graph to be drawn');
    // Zoom in on the graph, then refresh: nodes stay where they were, at the same zoom.
    const box = (await graph.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -400);
    const before = await settledInk('the graph to zoom in', unzoomed);
    const refreshed = page.waitForResponse((r) => r.url().includes('/api/v2/slo/mesh/topology'));
    await page.locator('.panel').filter({ has: page.getByRole('heading', { name: 'Topology' }) }).getByRole('button', { name: 'Refresh' }).click();
    await refreshed;
    await settled(page);
    const after = await settledInk('the graph to redraw after the refresh');
    const kept = before.filter((p) => after.some((q) => Math.abs(q.x - p.x) <= 4 && Math.abs(q.y - p.y) <= 4)).length;
    expect(kept / before.length, 'node pixels in the same place after a refresh').toBeGreaterThan(0.8);
  });

  it('threw no uncaught errors on any page', () => {
    expect(errors).toEqual([]);
  });
});
