/**
 * The Batches pages in Chromium against a real server (in-process workers, SQLite, local blobs):
 * upload the DLT fixtures and a text log with a planted UDS negative response through the upload
 * dialog, follow the batch live to its report, open the finding's evidence in the log viewer, and
 * use the viewer's server-side filters and paging. Desktop (light) and 390 px (dark) screenshots
 * go to test-results/.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { fixturesDir } from '../support/env.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { chromiumAvailable, ensureWebBuilt, launchBrowser, screenshotPath } from './browser.js';
import { assertDrawn, rowTexts, settled, watchErrors } from './page-helpers.js';

const haveChromium = chromiumAvailable();
const dltDir = fixturesDir('dlt');

const VEHICLE = 'car-e2e-17';
const VIN = 'WVWZZZ1JZXW000017';
const LOG_NAME = 'ota-flash.log';
const LLM_FIRST = ['Flashing ', 'failed on '];
const LLM_REST = ['TransferData ', '(NRC 0x72).'];

/** One deferred step the test releases. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

interface GatedLlm {
  url: string;
  requests: number;
  /** Resolves when the server has asked for the summary. */
  asked: Promise<void>;
  sendFirst: () => void;
  sendRest: () => void;
  close(): Promise<void>;
}

/**
 * An OpenAI-compatible chat endpoint on loopback that streams its summary in two halves, each
 * released by the test: the page can be caught showing the first tokens live while diagnosing.
 */
async function startGatedLlm(): Promise<GatedLlm> {
  const asked = gate();
  const first = gate();
  const rest = gate();
  const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
  const out: GatedLlm = {
    url: '',
    requests: 0,
    asked: asked.wait,
    sendFirst: first.open,
    sendRest: rest.open,
    close: async () => {
      first.open();
      rest.open();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      if (req.url !== '/v1/chat/completions' || req.method !== 'POST') return void res.writeHead(404).end();
      out.requests++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      asked.open();
      await first.wait;
      for (const t of LLM_FIRST) res.write(chunk(t));
      await rest.wait;
      for (const t of LLM_REST) res.write(chunk(t));
      res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 100, completion_tokens: 4, total_tokens: 104 } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  out.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return out;
}
/** Where the planted failure sits in the text log (0-based line = record index). */
const PLANTED = 230;
const LOG_LINES = 260;
const at = (i: number) => new Date(Date.UTC(2026, 2, 4, 12, 0, 0) + i * 2000).toISOString().replace('.000Z', 'Z');
const LOG = Array.from({ length: LOG_LINES }, (_, i) => {
  if (i === PLANTED - 1) return `ts=${at(i)} level=info app=ota msg="RequestDownload accepted"`;
  if (i === PLANTED) return `ts=${at(i)} level=error app=ota msg="UDS rx 7F 36 72"`;
  if (i === PLANTED + 1) return `ts=${at(i)} level=warn app=ota msg="DTC P0301 status 0x2F"`;
  return `ts=${at(i)} level=info app=hb msg="heartbeat seq=${i}"`;
}).join('\n');

/** Records in each DLT fixture: the lines of dlt-convert -a's reference output beside it. */
const referenceCount = (file: string) => readFileSync(path.join(dltDir!, `${file}.a.txt`), 'utf8').split('\n').filter(Boolean).length;

describe.skipIf(!haveChromium || !dltDir)('Batches pages: upload, live progress, report, log viewer', () => {
  let t: TestServer;
  let llm: GatedLlm;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let batchId = '';
  const uploads: { contentType: string | undefined; name: string | null }[] = [];
  const eventStreams: string[] = [];

  beforeAll(async () => {
    await ensureWebBuilt();
    llm = await startGatedLlm();
    t = await startTestServer({ flags: { 'diagnosis.llm.url': llm.url, 'diagnosis.llm.model': 'fake-summary' } });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    context.setDefaultTimeout(15_000);
    await context.addInitScript((token) => localStorage.setItem('vigil.token', token), t.adminToken);
    page = await context.newPage();
    errors = watchErrors(page);
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (r.method() === 'POST' && /^\/api\/v1\/batches\/[^/]+\/files$/.test(u.pathname)) uploads.push({ contentType: r.headers()['content-type'], name: u.searchParams.get('name') });
    });
    page.on('response', (r) => {
      if (/\/api\/v1\/batches\/[^/]+\/events$/.test(new URL(r.url()).pathname)) eventStreams.push(r.headers()['content-type'] ?? '');
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await llm?.close();
  });

  it('uploads three files through the dialog and follows the batch live to completed', async () => {
    await page.goto(`${t.url}/batches`);
    await page.getByRole('heading', { level: 1, name: 'Batches', exact: true }).waitFor();
    await settled(page);
    await page.locator('main [data-state="empty"]').waitFor();

    await page.getByTestId('open-upload').click();
    const dialog = page.getByTestId('upload-dialog');
    await dialog.waitFor();
    await dialog.getByLabel('Vehicle id').fill(VEHICLE);
    await dialog.getByLabel('VIN').fill(VIN);
    await dialog.getByTestId('file-input').setInputFiles([path.join(dltDir!, 'testfile.dlt'), path.join(dltDir!, 'testfile_extended.dlt')]);
    // The text log arrives the other way: dropped onto the drop zone.
    const dropped = await page.evaluateHandle(
      ([name, text]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], name, { type: 'text/plain' }));
        return dt;
      },
      [LOG_NAME, LOG] as const,
    );
    await dialog.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: dropped });
    const items = dialog.locator('[data-testid="upload-list"] li');
    await expect.poll(() => items.count()).toBe(3);
    await expect(items.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-state')))).resolves.toEqual(['waiting', 'waiting', 'waiting']);
    await page.screenshot({ path: screenshotPath('batches-upload.png') });

    await dialog.getByTestId('upload-submit').click();
    await page.waitForURL(/\/batches\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    batchId = new URL(page.url()).pathname.split('/').pop()!;

    // Raw bodies, one request per file, named by ?name=.
    expect(uploads.map((u) => u.name).sort()).toEqual([LOG_NAME, 'testfile.dlt', 'testfile_extended.dlt']);
    expect(new Set(uploads.map((u) => u.contentType))).toEqual(new Set(['application/octet-stream']));

    // Diagnosing: the model's first tokens stream onto the page live (SSE `llm` events, never stored).
    await page.locator('[data-page="batch-detail"][data-status="diagnosing"]').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByTestId('live').textContent(), { timeout: 15_000 }).toContain('live');
    await llm.asked;
    llm.sendFirst();
    await expect.poll(() => page.getByTestId('llm-live').textContent(), { timeout: 15_000 }).toBe(LLM_FIRST.join(''));
    await page.screenshot({ path: screenshotPath('batches-diagnosing.png') });
    llm.sendRest();

    await page.locator('[data-page="batch-detail"][data-status="completed"]').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByRole('progressbar', { name: 'batch progress' }).getAttribute('aria-valuenow')).toBe('100');
    expect(eventStreams.length, 'the detail page followed the batch over SSE').toBeGreaterThan(0);
    expect(eventStreams[0]).toContain('text/event-stream');

    const files = page.getByTestId('files-table');
    const rows = Object.fromEntries(
      (await rowTexts(files.locator('tbody tr'))).map((cells) => [cells[0], { format: cells[1], status: cells[2], records: cells[3] }]),
    );
    expect(Object.keys(rows).sort()).toEqual([LOG_NAME, 'testfile.dlt', 'testfile_extended.dlt']);
    expect(rows['testfile.dlt']).toEqual({ format: 'dlt', status: 'parsed', records: String(referenceCount('testfile.dlt')) });
    expect(rows['testfile_extended.dlt']).toEqual({ format: 'dlt', status: 'parsed', records: String(referenceCount('testfile_extended.dlt')) });
    expect(rows[LOG_NAME]).toMatchObject({ status: 'parsed', records: String(LOG_LINES) });
  }, 150_000);

  it('shows the report: the planted programming failure with its evidence, timeline, DTC and NRC tables', async () => {
    await page.getByTestId('headline').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('headline').textContent()).resolves.toContain('Programming failure while flashing');
    const finding = page.getByTestId('finding').filter({ hasText: 'Programming failure while flashing' });
    await expect(finding.count()).resolves.toBe(1);
    await expect(finding.locator('.sev').textContent()).resolves.toBe('critical');
    await expect(finding.locator('.finding-count').textContent()).resolves.toBe('1×');
    const evidence = finding.getByTestId('evidence');
    await expect(evidence.count()).resolves.toBe(1);
    await expect(evidence.textContent()).resolves.toContain(`${LOG_NAME} #${PLANTED}`);
    await expect(evidence.textContent()).resolves.toContain('UDS rx 7F 36 72');

    const nrc = await rowTexts(page.getByTestId('nrc-table').locator('tbody tr'));
    expect(nrc).toHaveLength(1);
    expect(nrc[0][0]).toContain('0x36');
    expect(nrc[0][1]).toBe('0x72');
    expect(nrc[0][3]).toBe('1');
    const dtc = await rowTexts(page.getByTestId('dtc-table').locator('tbody tr'));
    expect(dtc.map((r) => r[0])).toEqual(['P0301']);

    // The model's summary, as the OpenAI-compatible endpoint streamed it.
    await expect(page.getByTestId('llm-summary').textContent()).resolves.toBe([...LLM_FIRST, ...LLM_REST].join(''));
    expect(llm.requests).toBe(1);

    await assertDrawn(page.locator('[role="img"][aria-label="records per minute by level"]'));
    await page.screenshot({ path: screenshotPath('batches-detail.png'), fullPage: true });
  }, 60_000);

  it('opens the evidence in the log viewer with that record highlighted', async () => {
    await page.getByTestId('finding').filter({ hasText: 'Programming failure while flashing' }).getByTestId('evidence').click();
    await page.waitForURL((u) => /\/batches\/[^/]+\/files\/[0-9a-f-]{36}$/.test(u.pathname) && u.searchParams.get('index') === String(PLANTED));
    const hit = page.locator('[data-testid="log-table"] tr.highlighted');
    await hit.waitFor();
    await expect(hit.getAttribute('data-index')).resolves.toBe(String(PLANTED));
    const cells = (await rowTexts(hit))[0];
    // index, time, timestamp, ECU, app, context, type, level, payload
    expect(cells[0]).toBe(String(PLANTED));
    expect(cells[1]).toContain(at(PLANTED).slice(0, 10));
    expect(cells[4]).toBe('ota');
    expect(cells[7]).toBe('error');
    expect(cells[8]).toBe('UDS rx 7F 36 72');
    await expect(page.locator('[data-testid="log-table"] tr.highlighted').count()).resolves.toBe(1);
    await expect(hit.isVisible()).resolves.toBe(true);
    await page.screenshot({ path: screenshotPath('batches-log.png') });
  }, 60_000);

  it('filters on the server and shows a bad RE2 pattern at its field', async () => {
    const table = page.getByTestId('log-table');
    const regex = page.locator('input[name="regex"]');
    await regex.fill('(unclosed');
    await page.getByTestId('apply-filters').click();
    const err = page.getByTestId('regex-error');
    await err.waitFor();
    await expect(err.textContent()).resolves.toMatch(/not a valid RE2 pattern/);

    await regex.fill('7F [0-9A-F]{2} 7[0-9A-F]');
    await page.getByTestId('apply-filters').click();
    await err.waitFor({ state: 'detached' });
    await expect.poll(async () => (await rowTexts(table.locator('tbody tr'))).map((r) => r[0])).toEqual([String(PLANTED)]);

    // Level filter, no jump: every warning of the file (one, planted beside the failure).
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.locator('select[name="level"]').selectOption('warn');
    await page.getByTestId('apply-filters').click();
    await expect.poll(async () => (await rowTexts(table.locator('tbody tr'))).map((r) => r[8])).toEqual(['DTC P0301 status 0x2F']);
  }, 60_000);

  it('pages through a file on the server', async () => {
    await page.getByRole('button', { name: 'Clear' }).click();
    const rows = page.locator('[data-testid="log-table"] tbody tr');
    await expect.poll(() => rows.count()).toBe(200);
    await page.getByTestId('log-more').click();
    await expect.poll(() => rows.count()).toBe(LOG_LINES);
    await expect(rows.last().getAttribute('data-index')).resolves.toBe(String(LOG_LINES - 1));
    await expect(page.getByTestId('log-more').count()).resolves.toBe(0);
  }, 60_000);

  it('shows a DLT file with dlt-viewer columns', async () => {
    await page.goto(`${t.url}/batches/${batchId}`);
    await page.getByTestId('files-table').getByRole('link', { name: 'testfile.dlt', exact: true }).click();
    const rows = page.locator('[data-testid="log-table"] tbody tr');
    await expect.poll(() => rows.count()).toBe(referenceCount('testfile.dlt'));
    const reference = readFileSync(path.join(dltDir!, 'testfile.dlt.a.txt'), 'utf8').split('\n')[2];
    const third = (await rowTexts(rows.nth(2)))[0];
    expect(third[0]).toBe('2');
    expect(third[6]).toBe('control');
    expect(reference).toContain(third[8].replace(/^\[|\]$/g, '').split(',')[0]);
  }, 60_000);

  it('lists the batch as completed', async () => {
    await page.goto(`${t.url}/batches`);
    const row = page.locator(`[data-testid="batches-table"] tr[data-batch="${batchId}"]`);
    await row.waitFor();
    const cells = (await rowTexts(row))[0];
    expect(cells[0]).toBe(VEHICLE);
    expect(cells[1]).toBe(VIN);
    expect(cells[2]).toBe('completed');
    expect(cells[3]).toBe('100%');
    expect(cells[4]).toBe('3/3');
    await page.screenshot({ path: screenshotPath('batches-list.png') });
  }, 30_000);

  it('works at 390 px in the dark theme: tables scroll inside their panels', async () => {
    const mobile = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark', deviceScaleFactor: 2 });
    mobile.setDefaultTimeout(15_000);
    await mobile.addInitScript((token) => localStorage.setItem('vigil.token', token), t.adminToken);
    const m = await mobile.newPage();
    const mobileErrors = watchErrors(m);
    try {
      // Elements of the page (not the shell's header) that stick out of the viewport; tables may scroll inside their .table-wrap.
      const pageFits = () =>
        m.evaluate(() =>
          Array.from(document.querySelectorAll('main *'))
            .filter((el) => !el.closest('.table-wrap') && el.getBoundingClientRect().right > window.innerWidth + 1)
            .map((el) => `${el.tagName.toLowerCase()}.${el.getAttribute('class') ?? ''}`),
        );
      await m.goto(`${t.url}/batches`);
      await m.locator(`tr[data-batch="${batchId}"]`).waitFor();
      await expect(pageFits()).resolves.toEqual([]);
      await m.screenshot({ path: screenshotPath('batches-list-390.png') });

      await m.goto(`${t.url}/batches/${batchId}`);
      await m.getByTestId('headline').waitFor({ timeout: 30_000 });
      await assertDrawn(m.locator('[role="img"][aria-label="records per minute by level"]'));
      await expect(pageFits()).resolves.toEqual([]);
      const scrolls = await m.getByTestId('files-table').evaluate((t) => {
        const wrap = t.parentElement!;
        return { inside: wrap.scrollWidth > wrap.clientWidth, overflow: getComputedStyle(wrap).overflowX };
      });
      expect(scrolls).toEqual({ inside: true, overflow: 'auto' });
      await m.screenshot({ path: screenshotPath('batches-detail-390.png'), fullPage: true });

      await m.getByTestId('evidence').first().click();
      await m.locator('[data-testid="log-table"] tr.highlighted').waitFor();
      await expect(pageFits()).resolves.toEqual([]);
      await m.screenshot({ path: screenshotPath('batches-log-390.png') });
      expect(mobileErrors).toEqual([]);
    } finally {
      await mobile.close();
    }
  }, 90_000);

  it('threw no page errors', () => {
    expect(errors).toEqual([]);
  });
});
