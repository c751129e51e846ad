/** `npm run bench`: every benchmark in bench/, one after another (they compete for 2 cores otherwise). */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run-all.ts')
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n# ${f}`);
  try {
    const mod = (await import(pathToFileURL(path.join(here, f)).href)) as { run?: () => Promise<unknown> };
    if (typeof mod.run !== 'function') throw new Error('exports no run()');
    await mod.run();
  } catch (err) {
    failed++;
    console.error(`${f} failed:`, err);
  }
}
process.exit(failed ? 1 : 0);
