/**
 * Screenshots of every dashboard page with the demo data of mock-api.ts, in light and dark:
 *   npx tsx test/e2e/preview.ts [light|dark|both]   → test-results/preview-*.png
 * For eyeballing the UI while the server modules are still being built (not part of `npm test`).
 */
import { chromiumAvailable, ensureWebBuilt, launchBrowser, screenshotPath, startWebServer } from './browser.js';
import { installMockApi } from './mock-api.js';

const which = process.argv[2] ?? 'both';
if (!chromiumAvailable()) process.exit(0);
await ensureWebBuilt();
const web = await startWebServer();
const browser = await launchBrowser();
const errors: string[] = [];
try {
  for (const theme of which === 'both' ? (['light', 'dark'] as const) : [which as 'light' | 'dark']) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: theme });
    await context.addInitScript((token) => localStorage.setItem('vigil.token', token), web.adminToken);
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
    await installMockApi(page);
    const shots: [string, string, ((p: typeof page) => Promise<void>)?][] = [
      ['domains', '/slo/domains'],
      ['domain-detail', '/slo/domains/shop.example.com'],
      ['domain-detail-path', '/slo/domains/shop.example.com?path=%2Fapi%2Fcart&time_range=7d'],
      ['mesh', '/slo/mesh'],
      ['service', '/slo/mesh/shop/cart'],
      [
        'anomalies',
        '/anomalies',
        async (p) => {
          const box = (await p.locator('[aria-label^="p95 heatmap"]').boundingBox())!;
          await p.mouse.click(box.x + box.width * 0.62, box.y + 35);
          await p.getByRole('button', { name: 'Check', exact: true }).click();
          await p.getByTestId('check-result').waitFor();
        },
      ],
    ];
    for (const [name, path, act] of shots) {
      await page.goto(web.url + path);
      await page.waitForFunction(() => document.querySelectorAll('.state-loading').length === 0);
      await page.waitForTimeout(700);
      if (act) await act(page);
      await page.screenshot({ path: screenshotPath(`preview-${name}-${theme}.png`), fullPage: true });
      console.log(`preview-${name}-${theme}.png`);
    }
    await context.close();
  }
} finally {
  await browser.close();
  await web.stop();
}
if (errors.length) {
  console.error(errors.join('\n'));
  process.exit(1);
}
