/**
 * The README screenshots, from live simulator data (not part of `npm test`):
 *
 *   npx tsx test/e2e/readme-screenshots.ts
 *
 * Starts a real server with `vigil up`'s companions (demo fleet, agent, trace generator), lets the
 * simulated shop run for about an hour of simulated time, and writes
 *
 *   docs/img/dashboard.png   the Domains page (light theme, 1440×900)
 *   docs/img/mesh.png        the Mesh page with the topology graph
 *
 * Simulated time runs 60× faster and the agent scrapes every second, so a minute of wall time fills
 * the 1h range with traffic at the simulated rates. READMESHOT_WAIT_S overrides the minute.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { CHROMIUM, ensureWebBuilt, launchBrowser } from './browser.js';
import { startLive, waitForDomains, waitForMesh } from './live.js';
import { settled } from './page-helpers.js';

const SPEED = 60;
const WAIT_S = Number(process.env.READMESHOT_WAIT_S ?? 60);
const outDir = path.resolve('docs/img');

async function main() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium package`);
  await ensureWebBuilt();
  mkdirSync(outDir, { recursive: true });

  const started = Date.now();
  const live = await startLive({ 'simulate.speed': SPEED });
  const browser = await launchBrowser();
  try {
    console.log(`server ${live.url}; waiting for SLO data…`);
    await waitForDomains(live);
    await waitForMesh(live);
    const left = WAIT_S * 1000 - (Date.now() - started);
    if (left > 0) {
      console.log(`data is in; letting the shop run ${Math.round(left / 1000)} s more (≈ ${Math.round((WAIT_S * SPEED) / 60)} simulated minutes in all)…`);
      await new Promise((r) => setTimeout(r, left));
    }

    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light', deviceScaleFactor: 1 });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`${live.url}/slo/domains?time_range=1h`);
    await page.getByTestId('domain-tree').waitFor({ timeout: 30_000 });
    await settled(page);
    const rows = await page.locator('tr.route-row').count();
    if (rows !== 8) throw new Error(`the Domains page shows ${rows} paths, expected the demo's 8`);
    await page.mouse.move(0, 899); // no hover highlight in the picture
    const dashboard = path.join(outDir, 'dashboard.png');
    await page.screenshot({ path: dashboard });
    console.log(`wrote ${path.relative(process.cwd(), dashboard)}`);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Mesh' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mesh' }).waitFor();
    await settled(page);
    const graph = page.locator('[role="img"][aria-label="Service mesh topology"] canvas').first();
    await graph.waitFor();
    await page.waitForTimeout(1000); // the force layout settles and paints
    await page.mouse.move(0, 899);
    const mesh = path.join(outDir, 'mesh.png');
    await page.screenshot({ path: mesh });
    console.log(`wrote ${path.relative(process.cwd(), mesh)}`);

    if (errors.length) throw new Error(`the pages threw: ${errors.join('; ')}`);
    await context.close();
  } finally {
    await browser.close();
    await live.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
