import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** True when CI demands that every engine- or corpus-dependent suite actually runs. */
export const requireAll = process.env.VIGIL_TEST_REQUIRE_ALL === '1';

/**
 * Directory of the shared real-world corpora, or undefined when absent.
 * Under VIGIL_TEST_REQUIRE_ALL=1 absence throws, so the suite fails instead of skipping.
 */
export function fixturesDir(sub = ''): string | undefined {
  const base = process.env.VIGIL_FIXTURES ?? path.resolve(repoRoot, '../shared/fixtures');
  const dir = path.join(base, sub);
  if (existsSync(dir)) return dir;
  if (requireAll) throw new Error(`fixtures missing at ${dir} (VIGIL_TEST_REQUIRE_ALL=1)`);
  console.warn(`[skip] fixtures not found at ${dir}; set VIGIL_FIXTURES to run these tests`);
  return undefined;
}

/**
 * URL of an external engine for backend contract tests, or undefined (the suite then skips and says why).
 * Under VIGIL_TEST_REQUIRE_ALL=1 a missing URL throws.
 */
export function engineUrl(name: 'POSTGRES' | 'REDIS' | 'NATS'): string | undefined {
  const key = `VIGIL_TEST_${name}_URL`;
  const url = process.env[key];
  if (url) return url;
  if (requireAll) throw new Error(`${key} is not set but VIGIL_TEST_REQUIRE_ALL=1`);
  console.warn(`[skip] ${key} not set; ${name.toLowerCase()} contract tests skipped`);
  return undefined;
}

export { repoRoot };
