import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import path from 'node:path';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiErrorBody } from './errors.js';

/** Probes must answer whatever Authorization header a load balancer or scraper sends, and never touch the token store. */
export const PROBE_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Headers every response carries. The CSP allows the web app's own files, the inline styles that
 * React and the chart library set, and, by hash, exactly the inline scripts of the built index.html
 * (the theme is applied before first paint); nothing may frame the UI.
 */
export function securityHeaders(webDir: string | undefined): Record<string, string> {
  const scriptHashes = webDir ? inlineScriptHashes(path.join(webDir, 'index.html')) : [];
  const csp = [
    "default-src 'self'",
    `script-src 'self'${scriptHashes.map((h) => ` '${h}'`).join('')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'content-security-policy': csp,
  };
}

function inlineScriptHashes(indexHtml: string): string[] {
  if (!existsSync(indexHtml)) return [];
  const html = readFileSync(indexHtml, 'utf8');
  const out: string[] = [];
  for (const m of html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/gi)) {
    if (/\ssrc\s*=/i.test(m[1] ?? '')) continue;
    out.push(`sha256-${createHash('sha256').update(m[2], 'utf8').digest('base64')}`);
  }
  return out;
}

const body = (error: string, message: string): ApiErrorBody => ({ error, message });

/** Errors Fastify raises before routing (bad percent-encoding, over-long path parameter): the house error body. */
export function frameworkErrors(error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 400;
  const code = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'uri_too_long' : 'bad_request';
  const message = error.code === 'FST_ERR_BAD_URL' ? 'the request URL is not validly percent-encoded' : error.message;
  void reply.code(status).send(body(code, message));
}

/**
 * Errors the HTTP parser meets before Fastify sees a request (headers too large or too many, a
 * malformed request line): answered on the raw socket, in the house error body.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let payload = body('bad_request', 'the request could not be parsed as HTTP/1.1');
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    payload = body('headers_too_large', 'the request line and headers exceed the allowed size');
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    payload = body('request_timeout', 'the request was not received in time');
  } else if (err.code === 'HPE_URI_TOO_LONG') {
    status = 414;
    payload = body('uri_too_long', 'the request URL is too long');
  }
  const text = JSON.stringify(payload);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
        'X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n' +
        text,
    );
  }
  socket.destroy(err);
}
