/**
 * Shared plumbing of the browser tests: Debian's Chromium (never a downloaded one), a real Vigil
 * server serving web/dist, and a build of web/dist when it is missing.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../../src/config/load.js';
import { createServer, type VigilServer } from '../../src/platform/runtime.js';
import { allModules } from '../../src/modules.js';
import { runCommand } from '../support/run.js';

export const CHROMIUM = '/usr/bin/chromium';
export const webDist = path.resolve('web/dist');
export const resultsDir = path.resolve('test-results');

/**
 * Whether the browser tests can run. Without Chromium they skip and say why, unless
 * VIGIL_TEST_REQUIRE_ALL=1, which turns the absence into a failure.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const reason = `${CHROMIUM} not found (install Debian's chromium package)`;
  if (process.env.VIGIL_TEST_REQUIRE_ALL === '1') throw new Error(`${reason}; VIGIL_TEST_REQUIRE_ALL=1 requires the browser tests`);
  console.warn(`[skip] web e2e tests: ${reason}`);
  return false;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** `npm test` builds first; a bare `vitest run` builds the dashboard here when it is missing. */
export async function ensureWebBuilt(): Promise<void> {
  const index = path.join(webDist, 'index.html');
  // A dist/ older than any web source would test yesterday's page: rebuild it then too.
  if (existsSync(index) && newestMtime(path.resolve('web/src')) <= statSync(index).mtimeMs) return;
  console.warn('[build] web/dist/index.html missing or older than web/src: running vite build');
  // vite's report is small, but a cut-off build would be worse than a long log
  const r = await runCommand('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { maxBuffer: 1 << 26 });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`vite build exited ${r.status ?? r.signal}`);
}

/** The newest modification time of the files under a directory (ms). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

export interface WebServer {
  server: VigilServer;
  url: string;
  adminToken: string;
  stop(): Promise<void>;
}

/** A real server on a free loopback port with a fresh SQLite data dir, serving web/dist. */
export async function startWebServer(flags: Record<string, unknown> = {}): Promise<WebServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-web-e2e-'));
  const config = loadConfig({ env: {}, flags: { 'server.port': 0, dataDir, 'log.level': 'silent', ...flags } });
  const server = await createServer(config, allModules(config), { webDir: webDist });
  const url = await server.listen();
  const adminToken = server.createdAdminToken;
  if (!adminToken) throw new Error('expected the first start to create an admin token');
  return {
    server,
    url,
    adminToken,
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(resultsDir, { recursive: true });
  return path.join(resultsDir, name);
}
