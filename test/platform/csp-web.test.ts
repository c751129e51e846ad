/**
 * The built dashboard and the API docs work under the Content-Security-Policy the server sends:
 * Debian's Chromium loads each page and reports every CSP violation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumAvailable, ensureWebBuilt, launchBrowser, startWebServer, type WebServer } from '../e2e/browser.js';

describe.skipIf(!chromiumAvailable())('the web UI under the CSP', () => {
  let web: WebServer;
  let browser: Browser;
  beforeAll(async () => {
    await ensureWebBuilt();
    web = await startWebServer({ 'server.jobs': false });
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await web?.stop();
  });

  for (const [page, ready] of [
    ['/', '#root *'],
    ['/api/docs', '.swagger-ui .info'],
  ] as const) {
    it(`${page} renders with no CSP violation`, async () => {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      const violations: string[] = [];
      p.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      await p.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));
      });
      const res = await p.goto(web.url + page);
      expect(res?.headers()['content-security-policy']).toContain("default-src 'self'");
      await p.waitForSelector(ready, { timeout: 30_000 });
      expect(violations).toEqual([]);
      await ctx.close();
    }, 60_000);
  }
});
