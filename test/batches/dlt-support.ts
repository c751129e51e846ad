/** Helpers for the DLT tests: Debian's dlt-convert as the reference, run on the spot. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { requireAll } from '../support/env.js';
import { runCommand } from '../support/run.js';

export const DLT_CONVERT = '/usr/bin/dlt-convert';

/**
 * True when dlt-convert can be run; otherwise says why (the comparisons skip), and under
 * VIGIL_TEST_REQUIRE_ALL=1 throws so CI fails instead.
 */
export function haveDltConvert(): boolean {
  if (existsSync(DLT_CONVERT)) return true;
  const why = `${DLT_CONVERT} not found (Debian package dlt-tools)`;
  if (requireAll) throw new Error(`${why} but VIGIL_TEST_REQUIRE_ALL=1`);
  console.warn(`[skip] ${why}; on-the-spot dlt-convert comparisons skipped`);
  return false;
}

/**
 * dlt-convert writes its own warnings (with uptime and pid) into stdout, sometimes mid-line;
 * they are not part of the rendering (see fixtures/dlt/edge/SOURCE.md).
 */
export function stripDltWarnings(out: Buffer): Buffer {
  return Buffer.from(out.toString('latin1').replace(/\[ *[0-9.]+\]~DLT~ *[0-9]+~[A-Z]+ *~[^\n]*\n?/g, ''), 'latin1');
}

/** `TZ=UTC dlt-convert <flags> FILE`, warnings stripped. */
export async function runDltConvert(flags: string[], file: string): Promise<Buffer> {
  const r = await runCommand(DLT_CONVERT, [...flags, file], { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 30, timeoutMs: 60_000, encoding: 'buffer' });
  if (r.error) throw r.error;
  return stripDltWarnings(r.stdout);
}

/** Lines of a rendering, compared as latin1 so payload bytes that are not UTF-8 survive. */
export function lines(b: Buffer): string[] {
  const s = b.toString('latin1');
  return s === '' ? [] : s.replace(/\n$/, '').split('\n');
}

/** Every `.dlt` file under a directory, relative paths, sorted. */
export function dltFiles(dir: string, sub = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(dir, sub)).sort()) {
    const rel = path.join(sub, name);
    if (statSync(path.join(dir, rel)).isDirectory()) out.push(...dltFiles(dir, rel));
    else if (name.endsWith('.dlt')) out.push(rel);
  }
  return out;
}
