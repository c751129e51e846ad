/** Helpers for the executor tests: a fake clock, a recording upstream, a fake control plane. */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Clock, Timer } from '../../src/faults/executor/index.js';
import { startExecutor, type Executor, type ExecutorOptions } from '../../src/faults/executor/index.js';

/** Time that moves only when the test says so. */
export class FakeClock implements Clock {
  private t = 1_800_000_000_000;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.t;
  }

  private watchers: { match: (ms: number) => boolean; resolve: () => void }[] = [];

  after(ms: number, fn: () => void): Timer {
    const entry = { at: this.t + Math.max(0, ms), fn, live: true };
    this.timers.push(entry);
    const hit = this.watchers.filter((w) => w.match(ms));
    this.watchers = this.watchers.filter((w) => !hit.includes(w));
    for (const w of hit) w.resolve();
    return { cancel: () => void (entry.live = false) };
  }

  /** Resolves when code under test next schedules a timer whose duration `match` accepts; rejects after `timeoutMs` of real time. */
  scheduled(match: (ms: number) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(() => {
        this.watchers = this.watchers.filter((w) => w !== watcher);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const watcher = {
        match,
        resolve: () => {
          clearTimeout(timeout);
          resolve();
        },
      };
      this.watchers.push(watcher);
    });
  }

  /** Live timers not yet due. */
  pending(): number {
    return this.timers.filter((x) => x.live).length;
  }

  /** Move time forward, firing due timers in order (timers they schedule fire too if due). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.timers = this.timers.filter((x) => x.live);
    this.t = end;
  }
}

export const silentLog = pino({ level: 'silent' });

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface Upstream {
  url: string;
  seen: Seen[];
  server: http.Server;
  close(): Promise<void>;
}

/**
 * An upstream that records every request it receives, then calls `handler` (default: 200 `ok`).
 * Its header limit is large so the proxy, not the upstream, is what a header-size test measures.
 */
export async function startUpstream(handler?: (req: IncomingMessage, res: ServerResponse, seen: Seen) => void): Promise<Upstream> {
  const seen: Seen[] = [];
  const server = http.createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => {
    const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.alloc(0) };
    seen.push(s);
    if (handler) return handler(req, res, s);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      s.body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** HFI-format policy with one rule on `path` (prefix) and the given fault. */
export function policy(name: string, fault: Record<string, unknown>, match: Record<string, unknown> = { path: { prefix: '/' } }) {
  return { metadata: { name }, spec: { selector: { service: 'frontend', namespace: 'demo' }, rules: [{ match, fault: { percentage: 100, ...fault } }] } };
}

/** A control plane that speaks HFI's SSE wire: `full_config` on connect, `update` on every push. */
export class FakeControlPlane {
  private server: http.Server | undefined;
  private streams = new Set<ServerResponse>();
  port = 0;
  reports: unknown[] = [];
  connections = 0;
  authorizations: (string | undefined)[] = [];

  constructor(public policies: unknown[] = []) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get open(): number {
    return this.streams.size;
  }

  async start(port = this.port): Promise<this> {
    this.server = http.createServer((req, res) => {
      if (req.url === '/v1/config/stream') {
        this.connections++;
        this.authorizations.push(req.headers.authorization);
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(': keepalive\n\n');
        res.write(`event: full_config\ndata: ${JSON.stringify(this.policies)}\n\n`);
        this.streams.add(res);
        res.on('close', () => this.streams.delete(res));
        return;
      }
      if (req.url === '/v1/executors/report' && req.method === 'POST') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          this.reports.push(JSON.parse(Buffer.concat(chunks).toString()));
          res.writeHead(204).end();
        });
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  push(policies: unknown[]): void {
    this.policies = policies;
    for (const s of this.streams) s.write(`event: update\ndata: ${JSON.stringify(policies)}\n\n`);
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = undefined;
  }
}

export const tempDir = () => mkdtempSync(path.join(tmpdir(), 'vigil-executor-test-'));

/** Start an executor in front of `upstream` on loopback ports, with a state file holding `policies`. */
export async function executorWith(
  upstream: string,
  opts: { policies?: unknown[]; clock?: Clock; draw?: () => number } & Partial<ExecutorOptions> = {},
): Promise<Executor> {
  const stateFile = opts.stateFile ?? path.join(tempDir(), 'state.json');
  if (opts.policies) writeFileSync(stateFile, JSON.stringify({ version: 'seed', syncedAt: (opts.clock ?? Date).now(), policies: opts.policies }));
  const { policies: _p, ...rest } = opts;
  return startExecutor({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    upstream: new URL(upstream),
    service: 'frontend',
    namespace: 'demo',
    executorId: 'test-executor',
    log: silentLog,
    draw: () => 0,
    ...rest,
    stateFile,
  });
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/** One request on a fresh connection (so a reset or hang-up stays local to it). */
export function request(url: string, init: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false, maxHeaderSize: 1024 * 1024 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
