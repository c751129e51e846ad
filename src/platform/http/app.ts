import { existsSync } from 'node:fs';
import path from 'node:path';
import { constants as zlibConstants, createGunzip, createInflate } from 'node:zlib';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import fastifyCompress from '@fastify/compress';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Principal, RouteAuth } from '../auth/roles.js';
import type { TokenService } from '../auth/tokens.js';
import { ErrorSchema, HttpError, type ApiErrorBody } from './errors.js';
import { VERSION } from '../version.js';
import { isConnectionError } from '../backends/unavailable.js';
import { BlobError, type BlobErrorCode } from '../backends/blob/types.js';
import { PROBE_ROUTES, clientErrorHandler, frameworkErrors, securityHeaders } from './hardening.js';
import { buildValidatorFactory, hostileValue } from './validation.js';
import { authHooks, requiredAuth } from './auth-hook.js';
import { httpMetrics } from './metrics.js';
import { requestIds } from './request-id.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** Every route registered, with the auth it demands (the route-auth test walks these). */
    vigilRoutes: { method: string; url: string; auth: RouteAuth }[];
  }
  interface FastifyContextConfig {
    /** Who may call the route. Unset: GET/HEAD need viewer, everything else admin. */
    auth?: RouteAuth;
  }
}

export interface AppOptions {
  log: Logger;
  metrics: Registry;
  tokens: TokenService;
  bodyLimit: number;
  anonymousRead: boolean;
  /** Directory of the built web app, served at / when present. */
  webDir?: string;
}

export { requiredAuth };

/**
 * The Fastify instance every module registers into: request ids, JSON errors, auth, metrics,
 * OpenAPI, gzip request bodies and the web app.
 */
export async function createHttpApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.log as unknown as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    // Per-request access lines would drown the logs; request count and latency are in /metrics.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: requestIds(),
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
    // Bodies without type coercion, query strings and params with it; numbers bounded (validation.ts).
    schemaController: { compilersFactory: { buildValidator: buildValidatorFactory() as never } },
    routerOptions: { ignoreTrailingSlash: true },
    return503OnClosing: true,
    // Errors raised before routing or by the HTTP parser answer in the house error body too.
    frameworkErrors,
    clientErrorHandler,
  });

  app.decorateRequest('principal', null);
  const metrics = httpMetrics(opts.metrics);
  const routeAuth = authHooks(opts.tokens, opts.anonymousRead);
  const routes: FastifyInstance['vigilRoutes'] = [];
  app.decorate('vigilRoutes', routes);
  // What a route demands and how it is counted are known when it is declared, so each route gets
  // its own auth and metrics hooks: reading req.routeOptions on every request builds an object each time.
  app.addHook('onRoute', (r) => {
    // The web app's own files (registered by @fastify/static, marked by rootPath) must load before
    // anyone has signed in, or a reader could never reach the sign-in dialog.
    const cfg = r.config as { auth?: RouteAuth; rootPath?: string } | undefined;
    if (cfg?.rootPath !== undefined) cfg.auth = 'public';
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) routes.push({ method: m, url: r.url, auth: requiredAuth(m, cfg?.auth) });
    const own = (hooks: unknown) => (Array.isArray(hooks) ? hooks : hooks ? [hooks] : []) as never[];
    // Route hooks run after the global ones; auth goes first among the route's own.
    if (!PROBE_ROUTES.has(r.url)) r.onRequest = [routeAuth(methods, cfg?.auth) as never, ...own(r.onRequest)];
    r.onResponse = [...own(r.onResponse), metrics.routeHook(r.url) as never];
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Vigil API', version: VERSION, description: 'SLO monitoring, latency anomaly detection, fault injection and log batch diagnosis' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    hideUntagged: false,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  const secHeaders = securityHeaders(opts.webDir);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Callback-style hooks: these run on every request (see bench/http-baseline).
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    reply.headers(secHeaders);
    // Requests in flight at shutdown finish, and their keep-alive connections close behind them.
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  // Requests no route matched (the 404 handler has no route hooks) collapse into one label so
  // scanners cannot blow up cardinality.
  const unmatched = metrics.routeHook('unmatched');
  app.addHook('onResponse', (req, reply, done) => {
    if (req.is404) return unmatched(req, reply, done);
    done();
  });

  // Gzip/deflate request bodies (agents and OTLP exporters send them). The body limit applies to
  // the decompressed stream, so a small bomb cannot inflate past it. (Callback style: every request.)
  app.addHook('preParsing', (req, _reply, payload, done) => {
    const header = req.headers['content-encoding'];
    const enc = header === undefined ? '' : String(header).toLowerCase();
    if (enc !== 'gzip' && enc !== 'deflate') return done(null, payload);
    const inflater = enc === 'gzip' ? createGunzip() : createInflate();
    delete req.headers['content-length'];
    payload.on('error', (e) => inflater.destroy(e));
    done(null, payload.pipe(inflater));
  });

  // The API speaks JSON (OTLP adds its own parsers in its scope): a text/plain body is a 415, as
  // documented, not a string that fails the schema.
  app.removeContentTypeParser('text/plain');

  // Values no route can store (NUL, lone surrogates, non-finite numbers, hostile nesting) are
  // refused before any schema or handler sees them, the same on every backend (validation.ts).
  app.addHook('preValidation', (req, _reply, done) => {
    const problem = partProblem('params', req.params) ?? partProblem('querystring', req.query) ?? partProblem('body', req.body);
    if (problem) return done(problem);
    done();
  });

  app.setErrorHandler((error: FastifyError & { field?: string; code?: string }, req, reply) => {
    if (error instanceof HttpError) return reply.code(error.statusCode).send(err(error.code, error.message, error.field));
    if (error instanceof BlobError) {
      if (error.code === 'unavailable') return reply.code(503).header('retry-after', '5').send(err('unavailable', 'a backend is unavailable; retry later'));
      const field = 'key' in error ? 'key' : 'field' in error ? String(error.field) : undefined;
      return reply.code(BLOB_STATUS[error.code]).send(err(error.code, error.message, field));
    }
    if (isConnectionError(error)) {
      // Nothing was acknowledged: the client may retry once the backend is back (/readyz says when).
      req.log.warn({ err: error, reqId: req.id }, 'backend unavailable');
      return reply.code(503).header('retry-after', '5').send(err('unavailable', 'a backend is unavailable; retry later'));
    }
    if (error.validation) {
      const v = error.validation[0];
      const at = v?.instancePath ? v.instancePath.replace(/^\//, '').replaceAll('/', '.') : undefined;
      const named = (v?.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
      const extra = named.additionalProperty;
      // An unknown property is named by its own path, so the client sees which one to drop.
      const inside = (name: string) => (at ? `${at}.${name}` : name);
      const field = named.missingProperty !== undefined ? inside(named.missingProperty) : extra !== undefined ? inside(extra) : at;
      const where = error.validationContext ?? 'request';
      const qualified = field ? `${where === 'body' ? '' : `${where}.`}${field}` : where;
      const message = extra !== undefined ? `${qualified} is not a known property (additional properties are not allowed)` : `${qualified} ${v?.message ?? 'is invalid'}`;
      return reply.code(400).send(err('bad_request', message, field));
    }
    const status = error.statusCode ?? 500;
    if (status === 413) return reply.code(413).send(err('payload_too_large', `request body exceeds the ${req.routeOptions.bodyLimit ?? opts.bodyLimit}-byte limit`));
    if (status === 415) return reply.code(415).send(err('unsupported_media_type', error.message));
    if (status >= 400 && status < 500) {
      const code = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError ? 'malformed_json' : 'bad_request';
      return reply.code(status).send(err(code, error.message));
    }
    if (error.code === 'Z_DATA_ERROR' || error.code === 'Z_BUF_ERROR') {
      return reply.code(400).send(err('bad_encoding', 'request body is not valid gzip/deflate'));
    }
    req.log.error({ err: error, reqId: req.id }, 'unhandled error');
    return reply.code(500).send(err('internal', `internal error (request id ${req.id})`));
  });

  const webDir = opts.webDir && existsSync(path.join(opts.webDir, 'index.html')) ? opts.webDir : undefined;
  if (webDir) {
    // Compressed answers for clients that ask (the web app's bundles shrink to about a third).
    // Request bodies are inflated by the bounded preParsing hook above, not here.
    await app.register(fastifyCompress, { global: true, threshold: 1024, globalDecompression: false, encodings: ['br', 'gzip', 'deflate'], brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } } });
    await app.register(fastifyStatic, {
      root: webDir,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      cacheControl: false,
      setHeaders: (res: { header?: (k: string, v: string) => unknown; setHeader?: (k: string, v: string) => unknown }, file: string) => {
        const value = staticCacheControl(path.relative(webDir, file));
        if (res.header) res.header('cache-control', value);
        else res.setHeader?.('cache-control', value);
      },
    });
  }

  app.setNotFoundHandler({}, (req, reply) => {
    const url = req.url.split('?')[0];
    const isApi = /^\/(api|v1|v2|metrics|healthz|readyz)(\/|$)/.test(url);
    if (webDir && !isApi && req.method === 'GET' && String(req.headers.accept ?? '').includes('text/html')) {
      // Client-side routes of the single-page app.
      return reply.sendFile('index.html');
    }
    return reply.code(404).send(err('not_found', `no route ${req.method} ${url}`));
  });

  app.get('/api/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());

  return app;
}

/**
 * Cache policy of a web app file (path relative to the web root): Vite's content-hashed bundles
 * (`assets/index-BXk3a9Qz.js`) never change under their name, so browsers keep them for a year;
 * everything else, index.html first, is revalidated on every load so a new release is picked up.
 */
export function staticCacheControl(relative: string): string {
  const p = relative.split(path.sep).join('/');
  return /^assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$/.test(p) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/** The 400 for the first value in one part of a request that no route can store, or null. */
function partProblem(part: 'params' | 'querystring' | 'body', value: unknown): HttpError | null {
  if (value === undefined || value === null) return null;
  const p = hostileValue(value);
  if (!p) return null;
  const field = p.field || part;
  return new HttpError(400, 'bad_request', `${part === 'body' ? field : `${part}.${field}`} ${p.message}`, field);
}

/** Blob port domain errors as HTTP answers. */
const BLOB_STATUS: Record<BlobErrorCode, number> = {
  invalid_key: 400,
  invalid_argument: 400,
  not_found: 404,
  too_large: 413,
  range_not_satisfiable: 416,
  unavailable: 503,
};

function err(error: string, message: string, field?: string): ApiErrorBody {
  return field ? { error, message, field } : { error, message };
}

export { ErrorSchema };
