import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type Row = Record<string, string | number>;

/** True when the module at `metaUrl` is the script node was started with. */
export function isMain(metaUrl: string): boolean {
  return !!process.argv[1] && metaUrl === pathToFileURL(path.resolve(process.argv[1])).href;
}

/** Print a titled table and keep a JSON copy under bench/out/ for docs/benchmarks.md. */
export function report(name: string, title: string, rows: Row[]): Row[] {
  console.log(`\n## ${title}`);
  console.table(rows);
  const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../out');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, `${name}.json`), JSON.stringify({ title, at: new Date().toISOString(), rows }, null, 2));
  return rows;
}

export const round = (n: number, digits = 1) => Number(n.toFixed(digits));
