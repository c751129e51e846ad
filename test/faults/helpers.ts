import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { faultsModule, type FaultsModuleOptions } from '../../src/faults/module.js';
import { engineUrl } from '../support/env.js';
import { startTestServer, type TestServer } from '../support/server.js';

export interface FaultBackend {
  name: 'sqlite' | 'postgres';
  available: boolean;
  /** Flags (and PostgreSQL schema) of a fresh database; servers started with the same value share it. */
  database(): { flags: Record<string, unknown>; pgUrl?: string; pgSchema?: string };
}

let seq = 0;

/** A fresh SQLite file. */
export const sqliteDatabase = () => ({ flags: { 'database.url': `sqlite:${path.join(mkdtempSync(path.join(tmpdir(), 'vigil-faults-')), 'vigil.db')}` } });

/** SQLite (a temp file, so a restart or a second replica can open it) and PostgreSQL (a fresh schema). */
export function faultBackends(): FaultBackend[] {
  const pg = engineUrl('POSTGRES');
  return [
    { name: 'sqlite', available: true, database: sqliteDatabase },
    {
      name: 'postgres',
      available: !!pg,
      database: () => ({ flags: {}, pgUrl: pg, pgSchema: `faults_${process.pid}_${Date.now().toString(36)}_${seq++}` }),
    },
  ];
}

export type FaultServer = TestServer & { token(role: 'viewer' | 'executor' | 'agent'): Promise<string> };

/** A server running only the faults module. */
export async function startFaultServer(db: ReturnType<FaultBackend['database']>, opts: FaultsModuleOptions = {}, flags: Record<string, unknown> = {}): Promise<FaultServer> {
  const t = await startTestServer({
    flags: { ...db.flags, ...flags },
    pgUrl: db.pgUrl,
    pgSchema: db.pgSchema,
    modules: [faultsModule(undefined, { pollMs: 100, ...opts })],
  });
  const tokens = new Map<string, string>();
  return Object.assign(t, {
    async token(role: 'viewer' | 'executor' | 'agent') {
      let tok = tokens.get(role);
      if (!tok) {
        tok = (await t.server.ctx.tokens.create({ name: role, role, clusterId: role === 'agent' ? 'c1' : undefined })).token;
        tokens.set(role, tok);
      }
      return tok;
    },
  });
}

export function call(t: TestServer, p: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = init.token === undefined ? t.adminToken : init.token;
  if (token) headers.set('authorization', `Bearer ${token}`);
  return fetch(t.url + p, { ...init, headers });
}

export const json = (body: unknown, method = 'POST'): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
export const yaml = (body: string, method = 'POST'): RequestInit => ({ method, headers: { 'content-type': 'application/yaml' }, body });

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** An open SSE connection: events (and comments) as they arrive. */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  private readonly abort = new AbortController();
  private waiters: (() => void)[] = [];
  status = 0;
  headers: Headers | undefined;
  closed = false;

  // node:http with its own socket (no pooled keep-alive connection left behind when the test closes it).
  static async open(url: string, token?: string): Promise<SseClient> {
    const c = new SseClient();
    await new Promise<void>((resolve, reject) => {
      const req = http.get(url, { agent: false, headers: token ? { authorization: `Bearer ${token}` } : {}, signal: c.abort.signal }, (res) => {
        c.status = res.statusCode ?? 0;
        c.headers = new Headers(Object.entries(res.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]])));
        void c.pump(res);
        resolve();
      });
      req.on('error', reject);
    });
    return c;
  }

  private async pump(body: AsyncIterable<Buffer>) {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: SseEvent = { event: 'message', data: '' };
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('event: ')) {
              e.event = line.slice(7);
              isEvent = true;
            } else if (line.startsWith('data: ')) {
              e.data += line.slice(6);
              isEvent = true;
            }
          }
          if (isEvent) this.events.push(e);
          this.notify();
        }
      }
    } catch {
      /* aborted */
    }
    this.closed = true;
    this.notify();
  }

  private notify() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Wait (bounded) until `cond` holds over what has arrived. */
  async until(cond: (c: SseClient) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.events.map((e) => [e.event, e.id]))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close() {
    this.abort.abort();
  }
}

