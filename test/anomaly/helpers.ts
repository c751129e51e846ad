/** Shared helpers of the anomaly integration tests. */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/load.js';
import { anomalyModule, type AnomalyModuleOptions, type AnomalyService, type TraceSummary } from '../../src/anomaly/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { engineUrl } from '../support/env.js';
import { uniqueId } from '../support/backends.js';

export interface AnomalyTestServer extends TestServer {
  svc: AnomalyService;
  /** Bearer tokens per role. */
  tokens: { admin: string; agent: string; viewer: string };
  /** fetch against the server with a role's token (default admin). */
  call(path: string, init?: RequestInit & { role?: 'admin' | 'agent' | 'viewer' | 'none' }): Promise<Response>;
}

export interface KvEngine {
  name: 'memory' | 'redis';
  /** False when the engine is not configured (the suite skips, and env.ts says why). */
  available: boolean;
  /** Server flags selecting the engine; each call gets a fresh Redis key prefix unless one is given. */
  flags(prefix?: string): Record<string, unknown>;
}

/** Which KV engines the server-level suites run on: memory always, Redis when configured. */
export function kvEngines(): KvEngine[] {
  const redis = engineUrl('REDIS');
  return [
    { name: 'memory', available: true, flags: () => ({}) },
    { name: 'redis', available: !!redis, flags: (prefix) => ({ 'redis.url': redis, 'redis.prefix': prefix ?? `${uniqueId('t')}:` }) },
  ];
}

/**
 * A real server with only the anomaly module. Jobs are off: tests run the baseline job and the
 * poller themselves (svc.runBaselineJob(), svc.poller.runOnce()), so nothing depends on timing.
 */
export async function startAnomalyServer(flags: Record<string, unknown> = {}, opts: AnomalyModuleOptions = {}): Promise<AnomalyTestServer> {
  const { 'database.url': dbUrl, ...rest } = flags;
  // The tests' traces carry fixed timestamps in the past; judge them as if they had just arrived.
  const all = { 'server.jobs': false, 'anomaly.checkMaxAge': '36500d', ...rest };
  const mod = anomalyModule(loadConfig({ env: {}, flags: all }), opts);
  // PostgreSQL runs get a fresh schema each (startTestServer's pgUrl), so nothing leaks between runs.
  const pgUrl = typeof dbUrl === 'string' && dbUrl.startsWith('postgres') ? dbUrl : undefined;
  const t = await startTestServer({ modules: [mod], flags: pgUrl ? all : { ...all, ...(dbUrl !== undefined ? { 'database.url': dbUrl } : {}) }, pgUrl });
  const svc = mod.service();
  if (!svc) throw new Error('anomaly service not created');
  const agent = (await t.server.ctx.tokens.create({ name: 'agent', role: 'agent', clusterId: 'test' })).token;
  const viewer = (await t.server.ctx.tokens.create({ name: 'viewer', role: 'viewer' })).token;
  const tokens = { admin: t.adminToken, agent, viewer };
  return {
    ...t,
    svc,
    tokens,
    call(path, init = {}) {
      const { role = 'admin', ...rest } = init;
      const headers = new Headers(rest.headers);
      if (role !== 'none') headers.set('authorization', `Bearer ${tokens[role]}`);
      return fetch(t.url + path, { ...rest, headers });
    },
  };
}

export const postJson = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export const traceId = () => randomBytes(16).toString('hex');
export const spanId = () => randomBytes(8).toString('hex');

/** Wednesday 2024-01-03 14:00 Asia/Taipei (06:00Z). */
export const WED_14_TAIPEI = Date.parse('2024-01-03T06:00:00Z');

/** n summaries of one endpoint in one hour bucket with durations from `dur(i)`. */
export function summaries(n: number, dur: (i: number) => number, over: Partial<TraceSummary> = {}): TraceSummary[] {
  return Array.from({ length: n }, (_, i) => ({
    traceId: traceId(),
    service: 'checkout',
    endpoint: 'POST /checkout',
    startMs: (over.startMs ?? WED_14_TAIPEI) + (i % 3000) * 1000,
    durationMs: dur(i),
    ...over,
    ...(over.startMs !== undefined ? { startMs: over.startMs + (i % 3000) * 1000 } : {}),
  }));
}

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local HTTP server whose answers a test scripts; records every request. */
export async function scriptedServer(handler: (req: Recorded, n: number) => { status: number; body?: unknown; headers?: Record<string, string> } | 'hangup') {
  const requests: Recorded[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(rec);
      const a = handler(rec, requests.length);
      if (a === 'hangup') return void req.socket.destroy();
      const body = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(body);
    });
  });
  srv.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}
