/**
 * The set-up every browser test file shares: the built web app served by a real Vigil server, and
 * Debian's Chromium, started before the file's tests and stopped after them. Call it inside the
 * `describe`; read `env.web` and `env.browser` in the tests.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import { ensureWebBuilt, launchBrowser, startWebServer, type WebServer } from './browser.js';

export interface WebAndBrowser {
  web: WebServer;
  browser: Browser;
}

export function webAndBrowser(flags: Record<string, unknown> = {}): WebAndBrowser {
  const env = {} as WebAndBrowser;
  beforeAll(async () => {
    await ensureWebBuilt();
    env.web = await startWebServer(flags);
    env.browser = await launchBrowser();
  }, 240_000);
  afterAll(async () => {
    await env.browser?.close();
    await env.web?.stop();
  });
  return env;
}
