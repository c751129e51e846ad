/**
 * A real Vigil server with live simulator data for the browser tests and the README screenshots:
 * the server (fresh SQLite data dir, serving web/dist) plus `vigil up`'s companions — the demo
 * fleet, the embedded agent scraping it over HTTP, and the OTLP trace generator — started through
 * src/cli/embedded.ts exactly as `vigil up` does. No mocks.
 *
 * The agent scrapes every second and simulated time runs faster than wall time, so SLO data
 * appears within seconds instead of after two 15 s scrapes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbedded, type Embedded } from '../../src/cli/embedded.js';
import { loadConfig } from '../../src/config/load.js';
import type { VigilConfig } from '../../src/config/schema.js';
import { createServer, type VigilServer } from '../../src/platform/runtime.js';
import { allModules } from '../../src/modules.js';
import { webDist } from './browser.js';
import { waitFor as waitForCondition } from '../support/wait.js';

export interface LiveServer {
  server: VigilServer;
  config: VigilConfig;
  url: string;
  adminToken: string;
  /** The agent token `startEmbedded` created (role agent): may POST /v1/traces. */
  agentToken: string;
  stop(): Promise<void>;
}

/** The demo fleet's domains and paths (src/simulate/model.ts ROUTES). */
export const DEMO_DOMAINS: Record<string, string[]> = {
  'shop.example.com': ['/', '/checkout', '/api'],
  'api.example.com': ['/v1/orders', '/v1/users', '/auth'],
  'media.example.com': ['/', '/images'],
};

/** The demo fleet's meshed services (src/simulate/model.ts SERVICES). */
export const DEMO_SERVICES = [
  'shop/web',
  'shop/api-gateway',
  'shop/checkout',
  'shop/orders',
  'shop/cart',
  'shop/payments',
  'shop/inventory',
  'accounts/users',
  'accounts/auth',
  'media/cdn-origin',
  'media/images',
];

/**
 * Server + demo fleet + agent + trace generator. `flags` override config keys
 * (defaults: agent.interval 1s, simulate.speed 20, baseline job every 2 s).
 */
export async function startLive(flags: Record<string, unknown> = {}): Promise<LiveServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-live-e2e-'));
  const adminToken = `vgl_adm_e2e_${process.pid}_${Date.now().toString(36)}_livetoken`;
  const config = loadConfig({
    env: {},
    flags: {
      'server.port': 0,
      dataDir,
      'log.level': 'silent',
      'auth.adminToken': adminToken,
      'agent.interval': '1s',
      'simulate.speed': 20,
      'anomaly.baselineInterval': '2s',
      // The other pages' tests count the fleet's domains; the faults test turns the demo on.
      'simulate.faultDemo': false,
      ...flags,
    },
  });
  const server = await createServer(config, allModules(config), { webDir: webDist });
  let embedded: Embedded | undefined;
  try {
    const url = await server.listen();
    embedded = await startEmbedded(server, url);
    const agentToken = readFileSync(path.join(dataDir, 'embedded-agent-token'), 'utf8').trim();
    const emb = embedded;
    return {
      server,
      config,
      url,
      adminToken,
      agentToken,
      async stop() {
        await emb.stop().catch(() => undefined);
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await embedded?.stop().catch(() => undefined);
    await server.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** GET a JSON API of the live server with the admin token. */
export async function getJson<T>(live: Pick<LiveServer, 'url' | 'adminToken'>, p: string): Promise<T> {
  const res = await fetch(`${live.url}${p}`, { headers: { authorization: `Bearer ${live.adminToken}`, accept: 'application/json' } });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${p} → ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/**
 * The end-to-end tests' wait (test/support/wait.ts): a live server answers within minutes, not
 * seconds, and a request that fails while it starts is asked again.
 */
export function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 90_000, everyMs = 500): Promise<T> {
  return waitForCondition(what, probe, timeoutMs, everyMs, true);
}

interface DomainsBody {
  domains: { domain: string; summary: { rps: number | null; availability: number | null } | null; routes?: { path_prefix: string; current: { rps: number | null } | null }[] }[];
}
interface TopologyBody {
  nodes: { id: string; rps: number }[];
  edges: unknown[];
}
interface AvailableBody {
  keys: { service: string; endpoint: string; hour: number; dayType: string; sampleCount: number; p95: number }[];
}

/** Wait until every demo domain and path has traffic numbers. */
export function waitForDomains(live: LiveServer, timeoutMs = 120_000): Promise<DomainsBody> {
  return waitFor(
    'GET /api/v2/slo/domains to list every demo domain and path with traffic',
    async () => {
      const body = await getJson<DomainsBody>(live, '/api/v2/slo/domains');
      for (const [domain, paths] of Object.entries(DEMO_DOMAINS)) {
        const d = body.domains.find((x) => x.domain === domain);
        if (!d || !(d.summary?.rps && d.summary.rps > 0)) return false;
        for (const p of paths) if (!d.routes?.some((r) => r.path_prefix === p && (r.current?.rps ?? 0) > 0)) return false;
      }
      return body;
    },
    timeoutMs,
  );
}

/** Wait until the mesh topology has every demo service with traffic and some edges. */
export function waitForMesh(live: LiveServer, timeoutMs = 120_000): Promise<TopologyBody> {
  return waitFor(
    'GET /api/v2/slo/mesh/topology to show every demo service with traffic',
    async () => {
      const body = await getJson<TopologyBody>(live, '/api/v2/slo/mesh/topology');
      const ok = DEMO_SERVICES.every((id) => body.nodes.some((n) => n.id === id && n.rps > 0)) && body.edges.length > 0;
      return ok ? body : false;
    },
    timeoutMs,
  );
}

/** Wait until /v1/available has learned baselines (the trace generator's history, after a baseline job). */
export function waitForBaselines(live: LiveServer, minKeys = 1, timeoutMs = 180_000): Promise<AvailableBody> {
  return waitFor(
    `GET /v1/available to list at least ${minKeys} learned baseline bucket(s)`,
    async () => {
      const body = await getJson<AvailableBody>(live, '/v1/available');
      return body.keys.length >= minKeys ? body : false;
    },
    timeoutMs,
  );
}
