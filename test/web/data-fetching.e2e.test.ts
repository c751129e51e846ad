/**
 * How the dashboard fetches, in Chromium against the mock API (test/e2e/mock-api.ts): a server
 * slower than a page's poll interval still gets its answer shown (a poll never aborts the request
 * in flight), a 5xx is retried with backoff and a 4xx is not, and two components needing the same
 * data share one request.
 */
import { describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumAvailable } from '../e2e/browser.js';
import { webAndBrowser } from '../e2e/web-fixture.js';
import { anomalies, installMockApi } from '../e2e/mock-api.js';
import { watchErrors } from '../e2e/page-helpers.js';
import { waitFor } from '../support/wait.js';

const haveChromium = chromiumAvailable();

/** The live anomaly feed's poll interval (FEED_POLL_MS in web/src/pages/AnomaliesPage.tsx). */
const FEED_POLL_MS = 5000;
/** How far the page's clock moves per step of the test. */
const STEP_MS = 500;

/** A context whose pages' time moves only when the test moves it (timers, backoff, polls). */
async function pausedClockContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.clock.install();
  await context.clock.pauseAt(Date.now() + 1000);
  return context;
}

/**
 * Count the page's API requests still in flight, so a step can wait for their answers to arrive
 * before the clock moves again (on a busy machine an answer may otherwise land a step late).
 */
function trackApiRequests(page: Page): () => number {
  let inFlight = 0;
  const isApi = (url: string) => new URL(url).pathname.startsWith('/api/');
  page.on('request', (r) => void (isApi(r.url()) && inFlight++));
  page.on('requestfinished', (r) => void (isApi(r.url()) && inFlight--));
  page.on('requestfailed', (r) => void (isApi(r.url()) && inFlight--));
  return () => inFlight;
}

/**
 * Move the page's clock a step at a time (calling `afterStep` with the time moved so far) until
 * `done` holds or `maxSteps` have run; the page time it took.
 */
async function runClockUntil(page: Page, done: () => Promise<boolean>, afterStep: (elapsed: number) => void | Promise<void> = () => {}, maxSteps = 60): Promise<number> {
  let elapsed = 0;
  for (let step = 0; step < maxSteps && !(await done()); step++) {
    await page.clock.runFor(STEP_MS);
    elapsed += STEP_MS;
    await afterStep(elapsed);
  }
  return elapsed;
}

describe.skipIf(!haveChromium)('dashboard data fetching', () => {
  const env = webAndBrowser();

  it('shows the live feed of a server that answers slower than the poll interval', async () => {
    const context = await pausedClockContext(env.browser);
    try {
      const page = await context.newPage();
      const errors = watchErrors(page);
      let now = 0;
      const held: { sentBy: number; answer: () => void }[] = [];
      const aborted: string[] = [];
      page.on('requestfailed', (r) => {
        if (new URL(r.url()).pathname === '/api/v1/anomalies') aborted.push(r.failure()?.errorText ?? 'failed');
      });
      await installMockApi(page, {
        answerWhen: (url) => (url.pathname === '/api/v1/anomalies' ? new Promise<void>((answer) => held.push({ sentBy: now, answer })) : undefined),
      });
      await page.goto(`${env.web.url}/anomalies`);
      const feed = page.getByTestId('anomaly-feed');
      let answered = 0;
      await runClockUntil(
        page,
        () => feed.isVisible(),
        (elapsed) => {
          now = elapsed;
          // A request is answered once it is older than the poll interval (sent at the latest at the end of its step).
          for (const h of held.splice(0)) {
            if (elapsed - h.sentBy > FEED_POLL_MS + STEP_MS) {
              h.answer();
              answered++;
            } else held.push(h);
          }
        },
      );
      expect(answered, 'the mock answered a feed request').toBeGreaterThan(0);
      await expect(feed.locator('tbody tr').count()).resolves.toBe(anomalies().anomalies.length);
      expect(aborted, 'no poll aborted the feed request in flight').toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('retries a 5xx with backoff before the next poll is due, and shows a 4xx at once without asking again', async () => {
    const context = await pausedClockContext(env.browser);
    try {
      // The page's own (paused, test-driven) clock stamps each feed request, so the spacing read
      // below is page time: how fast this machine runs the steps cannot change it.
      await context.addInitScript(() => {
        const stamps: number[] = [];
        (window as unknown as { feedRequestTimes: number[] }).feedRequestTimes = stamps;
        const realFetch = window.fetch.bind(window);
        window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
          const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
          if (new URL(url, location.href).pathname === '/api/v1/anomalies') stamps.push(Date.now());
          return realFetch(input, init);
        };
      });
      const page = await context.newPage();
      const errors = watchErrors(page);
      const inFlight = trackApiRequests(page);
      await installMockApi(page);
      // Routes added later are asked first: these answer before the mock does (or hand over to it).
      let feedAsked = 0;
      await page.route('**/api/v1/anomalies?*', (route) =>
        ++feedAsked <= 2 ? route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'unavailable', message: 'store is restarting' }) }) : route.fallback(),
      );
      let baselinesAsked = 0;
      await page.route('**/v1/available', (route) => {
        baselinesAsked++;
        return route.fulfill({ status: 403, contentType: 'application/json', body: JSON.stringify({ error: 'forbidden', message: 'role viewer may not read baselines' }) });
      });
      await page.goto(`${env.web.url}/anomalies`);
      const feed = page.getByTestId('anomaly-feed');
      await runClockUntil(page, () => feed.isVisible(), () => waitFor('API answers to arrive', () => inFlight() === 0).then(() => {}));
      await expect(feed.locator('tbody tr').count()).resolves.toBe(anomalies().anomalies.length);
      expect(feedAsked, 'two 503s, then the answer').toBe(3);
      const times = await page.evaluate(() => (window as unknown as { feedRequestTimes: number[] }).feedRequestTimes);
      expect(times.length, 'the page sent three feed requests').toBe(3);
      const answeredAfter = times[2]! - times[0]!;
      // TanStack's backoff waits 1 s, then 2 s; the clock moves in steps of STEP_MS, so each retry fires up to one step late.
      expect(answeredAfter, 'the retries waited their backoff (1 s, then 2 s)').toBeGreaterThanOrEqual(3000);
      expect(answeredAfter, 'the retries answered before the next poll would have').toBeLessThan(FEED_POLL_MS);
      await page.locator('main [data-state="error"][data-status="403"]').waitFor();
      expect(baselinesAsked, 'a 403 is not asked again').toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('asks once for the cluster list that the picker and the page both need', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const page = await context.newPage();
      const errors = watchErrors(page);
      const asked: string[] = [];
      page.on('request', (r) => {
        const u = new URL(r.url());
        if (u.pathname === '/api/v2/slo/clusters') asked.push(u.pathname + u.search);
      });
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      await installMockApi(page, { answerWhen: (url) => (url.pathname === '/api/v2/slo/clusters' ? gate : undefined) });
      await page.goto(`${env.web.url}/slo/domains`);
      // Both the header's cluster picker and the page are on screen before the list arrives.
      await page.getByRole('heading', { level: 1, name: 'Domains' }).waitFor();
      await page.getByRole('combobox', { name: 'Cluster' }).waitFor();
      open();
      await page.getByTestId('domain-tree').waitFor();
      await page.waitForFunction(() => new URLSearchParams(location.search).get('cluster_id') === 'prod-tokyo');
      expect(asked).toEqual(['/api/v2/slo/clusters']);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
