/**
 * What every client command shares: which server, which token, one HTTP client whose errors say
 * what to do, tables, and the options that select them.
 *
 * Server: --server (alias --control-plane-addr where a command adds it), else VIGIL_SERVER_URL,
 * else the configured local port. Token: --token, else VIGIL_TOKEN, else VIGIL_ADMIN_TOKEN, else
 * the admin token `vigil up` keeps in <dataDir>/admin-token.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { VigilConfig } from '../config/schema.js';
import { configFromOptions, withClientConfigOptions } from './common.js';

export interface ClientOpts {
  server?: string;
  token?: string;
  json?: boolean;
}

export function serverUrl(opts: ClientOpts, config: VigilConfig): string {
  const explicit = opts.server ?? process.env.VIGIL_SERVER_URL;
  if (explicit) return explicit.replace(/\/+$/, '');
  const h = config.server.host;
  const host = h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h;
  return `http://${host}:${config.server.port}`;
}

export function clientToken(opts: ClientOpts, config: VigilConfig): string | undefined {
  const t = opts.token ?? process.env.VIGIL_TOKEN ?? process.env.VIGIL_ADMIN_TOKEN ?? config.auth.adminToken;
  if (t) return t;
  const file = path.join(config.dataDir, 'admin-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

/** An answer the server gave with a 4xx/5xx status; the message is the server's. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class ApiClient {
  constructor(
    readonly base: string,
    private readonly token: string | undefined,
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { accept: 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  /** JSON in, JSON out; 404 is returned (callers decide), other errors throw ApiError. */
  async call<T>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> {
    return this.send<T>(p, { method, headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }), body: body === undefined ? undefined : JSON.stringify(body) });
  }

  /** A streamed raw upload (never read whole into memory). */
  async upload<T>(p: string, body: Readable, size: number): Promise<{ status: number; body: T }> {
    return this.send<T>(p, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/octet-stream', 'content-length': String(size) }),
      body: body as unknown as BodyInit,
      duplex: 'half',
    } as RequestInit);
  }

  /** Open a server-sent event stream; yields {id, event, data} until the server or `signal` ends it. */
  async *events(p: string, signal: AbortSignal, lastEventId?: string): AsyncGenerator<{ id?: string; event: string; data: string }> {
    const res = await this.fetch(p, { headers: this.headers({ accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }), signal });
    if (!res.ok || !res.body) throw await this.error(p, res);
    let buf = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let sep: number;
      while ((sep = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, sep);
        buf = buf.slice(sep + 2);
        const ev: { id?: string; event: string; data: string } = { event: 'message', data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('id:')) ev.id = line.slice(3).trim();
          else if (line.startsWith('event:')) ev.event = line.slice(6).trim();
          else if (line.startsWith('data:')) ev.data += line.slice(5).trimStart();
        }
        if (ev.data || ev.id) yield ev;
      }
    }
  }

  private async send<T>(p: string, init: RequestInit): Promise<{ status: number; body: T }> {
    const res = await this.fetch(p, init);
    if (res.status >= 400 && res.status !== 404) throw await this.error(p, res);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as T };
  }

  private async fetch(p: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.base + p, init);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new Error(`cannot reach the Vigil server at ${this.base} (${(err as Error).message}); is it running? (--server / VIGIL_SERVER_URL)`, { cause: err });
    }
  }

  private async error(p: string, res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    let e: { message?: string; field?: string } = {};
    try {
      e = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    const hint = res.status === 401 || res.status === 403 ? ' (pass --token, or set VIGIL_TOKEN or VIGIL_ADMIN_TOKEN)' : '';
    return new ApiError(res.status, `${res.status} from ${p}: ${e.message ?? text}${e.field ? ` (field ${e.field})` : ''}${hint}`, e.field);
  }
}

export function apiClient(opts: ClientOpts, overrides: Record<string, unknown> = {}): { api: ApiClient; config: VigilConfig } {
  const config = configFromOptions(opts as Record<string, unknown>, overrides);
  return { api: new ApiClient(serverUrl(opts, config), clientToken(opts, config)), config };
}

/** A client command's options: which server, which token, JSON output, and only the config flags a client reads. */
export const withClientOptions = (cmd: Command) =>
  withClientConfigOptions(cmd)
    .option('--server <url>', 'Vigil server URL (default VIGIL_SERVER_URL or the configured local port)')
    .option('--token <token>', 'bearer token (default VIGIL_TOKEN, VIGIL_ADMIN_TOKEN or <dataDir>/admin-token)')
    .option('--json', 'print JSON');

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
