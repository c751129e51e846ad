import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { VigilConfig } from '../../src/config/schema.js';
import { createServer, type VigilServer } from '../../src/platform/runtime.js';
import { allModules } from '../../src/modules.js';
import type { VigilModule } from '../../src/platform/module.js';
import { uniqueId } from './backends.js';

export interface TestServer {
  server: VigilServer;
  url: string;
  adminToken: string;
  config: VigilConfig;
  stop(): Promise<void>;
}

/**
 * A real server on a free port. `backend` chooses SQLite (temp file) or PostgreSQL (fresh schema).
 */
export async function startTestServer(
  opts: { flags?: Record<string, unknown>; pgUrl?: string; pgSchema?: string; modules?: VigilModule[]; listen?: boolean } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-test-'));
  const adminToken = `vgl_adm_${uniqueId('x')}_testtoken`;
  const config = loadConfig({
    env: {},
    flags: {
      'server.port': 0,
      dataDir,
      'log.level': 'silent',
      'auth.adminToken': adminToken,
      ...(opts.pgUrl ? { 'database.url': opts.pgUrl } : {}),
      ...opts.flags,
    },
  });
  const server = await createServer(config, opts.modules ?? allModules(config), {
    pgSchema: opts.pgUrl ? (opts.pgSchema ?? uniqueId('t')) : undefined,
  });
  const url = opts.listen === false ? '' : await server.listen();
  return { server, url, adminToken, config, stop: () => server.stop() };
}
