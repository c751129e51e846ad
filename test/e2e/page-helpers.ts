/**
 * Browser-side helpers of the live-data tests: error watching, waiting for loaders to go, reading
 * what an ECharts canvas actually drew, and parsing the numbers the dashboard formats.
 */
import type { Locator, Page } from 'playwright-core';

/** Collects uncaught page errors, so a page that throws fails the test. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  return errors;
}

/** Wait until no loading indicator is left on the page. */
export async function settled(page: Page, timeout = 20_000): Promise<void> {
  await page.waitForFunction(() => document.querySelectorAll('.state-loading').length === 0, undefined, { timeout });
}

/** The light theme's status colours (web/src/theme.tsx), as the canvas draws them. */
export const LIGHT = {
  healthy: '#1e9e5a',
  warning: '#d48806',
  critical: '#d93a3a',
  unknown: '#9aa3b2',
  accent: '#3b6cf6',
} as const;

export interface CanvasInk {
  width: number;
  height: number;
  /** Pixels that are not fully transparent. */
  inked: number;
  /** Per colour asked for: how many pixels have exactly it, and a few of their CSS-pixel positions (inside the chart box). */
  colors: Record<string, { count: number; points: { x: number; y: number }[] }>;
}

/**
 * What the ECharts canvas inside `chart` (the div with role="img") drew: how many pixels carry ink,
 * and where pixels of the given exact colours are. Polls until something is drawn (charts render
 * on the next animation frame after their data arrives).
 */
export async function canvasInk(chart: Locator, colors: Record<string, string> = {}, timeout = 15_000): Promise<CanvasInk> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const ink = await chart.evaluate((el, cols) => {
      // ECharts may paint on several stacked canvases (layers): read them merged, top layer over bottom.
      const canvases = Array.from(el.querySelectorAll('canvas')).filter((c) => c.width > 0 && c.height > 0);
      if (!canvases.length) return null;
      const width = canvases[0].width;
      const height = canvases[0].height;
      const data = new Uint8ClampedArray(width * height * 4);
      for (const c of canvases) {
        if (c.width !== width || c.height !== height) continue;
        const layer = c.getContext('2d')?.getImageData(0, 0, width, height).data;
        if (!layer) continue;
        for (let i = 0; i < layer.length; i += 4) if (layer[i + 3] !== 0) data.set(layer.subarray(i, i + 4), i);
      }
      const scale = width / canvases[0].getBoundingClientRect().width || 1;
      const want = Object.entries(cols).map(([name, hex]) => [name, parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)] as const);
      const out: Record<string, { count: number; points: { x: number; y: number }[] }> = {};
      for (const [name] of want) out[name] = { count: 0, points: [] };
      let inked = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 0) continue;
        inked++;
        if (data[i + 3] !== 255) continue;
        for (const [name, r, g, b] of want) {
          if (data[i] === r && data[i + 1] === g && data[i + 2] === b) {
            const o = out[name];
            o.count++;
            const p = i / 4;
            // Keep a spread of sample points (every 7th), enough to aim a click.
            if (o.count % 7 === 1 && o.points.length < 400) o.points.push({ x: (p % width) / scale, y: Math.floor(p / width) / scale });
          }
        }
      }
      return { width: width / scale, height: height / scale, inked, colors: out };
    }, colors);
    if (ink && ink.inked > 0) return ink;
    if (Date.now() > deadline) throw new Error(`chart ${await chart.getAttribute('aria-label')} drew nothing within ${timeout / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Wait until at least `minShare` of a chart's pixels carry ink (a rendered chart has axes, lines, labels, cells). */
export async function assertDrawn(chart: Locator, minShare = 0.005, timeout = 10_000): Promise<CanvasInk> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const ink = await canvasInk(chart, {}, timeout);
    const share = ink.inked / Math.max(1, ink.width * ink.height);
    if (share >= minShare) return ink;
    // A chart paints on the next frame after its data changes: give it a moment before failing.
    if (Date.now() > deadline) throw new Error(`chart "${await chart.getAttribute('aria-label')}" is nearly blank (${(share * 100).toFixed(2)}% of its pixels drawn)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** "145 ms" → 145, "2.31 s" → 2310, "1.2 min" → 72000, "—" → null (web/src/format.ts fmtMs). */
export function parseMs(text: string | null): number | null {
  const t = (text ?? '').trim();
  const m = /^(-?[\d.]+)\s*(ms|s|min)$/.exec(t);
  if (!m) return null;
  const v = Number(m[1]);
  return m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000;
}

/** "99.95%" → 99.95 (fmtPct / fmtAvail), "—" → null. */
export function parsePct(text: string | null): number | null {
  const m = /^(-?[\d.]+)%$/.exec((text ?? '').trim());
  return m ? Number(m[1]) : null;
}

/** "12.3/s", "1.2k/s" → number (fmtRps), "—" → null. */
export function parseRps(text: string | null): number | null {
  const m = /^(-?[\d.]+)([kMG]?)\/s$/.exec((text ?? '').trim());
  if (!m) return null;
  return Number(m[1]) * ({ '': 1, k: 1e3, M: 1e6, G: 1e9 } as Record<string, number>)[m[2]];
}

/**
 * Half the last shown digit of a compact number as the web app prints it (format.ts fmtNum: 1.3k,
 * 12k, 12.3, 0.05): how far a shown value may be from the server's and still be the same number.
 */
export function halfDisplayStep(v: number): number {
  const a = Math.abs(v);
  const step = a >= 1e9 ? 1e8 : a >= 1e6 ? 1e5 : a >= 1e4 ? 1e3 : a >= 1e3 ? 100 : a >= 100 ? 1 : a >= 1 ? 0.1 : a >= 0.01 ? 0.01 : 10 ** (Math.floor(Math.log10(a || 1e-9)) - 1);
  return step / 2 + 1e-9;
}

/** Text of every cell of the table rows a locator finds, row by row. */
export async function rowTexts(rows: Locator): Promise<string[][]> {
  return rows.evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim())));
}
