/**
 * The bearer-token check of every route, as one onRequest hook per route built when the route is
 * declared (app.ts adds it from onRoute), so a request pays for no route lookup. Requests whose
 * token was verified moments ago are decided synchronously (TokenService.cached): no promise, no
 * microtask on the hot path.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import { roleSatisfies, type Principal, type RouteAuth } from '../auth/roles.js';
import type { TokenService } from '../auth/tokens.js';
import type { ApiErrorBody } from './errors.js';

/** What a route demands when it declares nothing: GET/HEAD need viewer, everything else admin. */
export function requiredAuth(method: string, declared: RouteAuth | undefined): RouteAuth {
  if (declared) return declared;
  return method === 'GET' || method === 'HEAD' ? 'viewer' : 'admin';
}

type Hook = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

const BEARER = /^Bearer\s+(\S+)$/i;
const body = (error: string, message: string): ApiErrorBody => ({ error, message });

/**
 * A factory of auth hooks over one token service: `(methods, declared)` → the hook of a route
 * serving `methods` that declared `declared` (see requiredAuth).
 */
export function authHooks(tokens: TokenService, anonymousRead: boolean): (methods: readonly string[], declared: RouteAuth | undefined) => onRequestHookHandler {
  const invalid = (reply: FastifyReply) => void reply.code(401).send(body('unauthorized', 'invalid or revoked bearer token'));

  function forNeed(need: RouteAuth): Hook {
    const anonymousOk = need === 'public' || (anonymousRead && (need === 'viewer' || need === 'policy-read'));
    const missing = body('unauthorized', `this route needs a bearer token with role ${need}`);
    const admit = (principal: Principal | null, req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      if (!principal) return invalid(reply);
      req.principal = principal;
      if (!roleSatisfies(principal.role, need)) {
        reply.code(403).send(body('forbidden', `role ${principal.role} may not call this route (needs ${need})`));
        return;
      }
      done();
    };
    return (req, reply, done) => {
      const header = req.headers.authorization;
      if (!header) {
        if (anonymousOk) return done();
        reply.code(401).header('www-authenticate', 'Bearer').send({ ...missing });
        return;
      }
      const m = BEARER.exec(header);
      if (!m) return invalid(reply);
      const known = tokens.cached(m[1]);
      if (known !== undefined) return admit(known, req, reply, done);
      tokens.verify(m[1]).then((p) => admit(p, req, reply, done), done);
    };
  }

  return (methods, declared) => {
    const byMethod = new Map(methods.map((m) => [m, forNeed(requiredAuth(m, declared))]));
    const only = byMethod.size === 1 ? [...byMethod.values()][0] : undefined;
    const hook: Hook = only ?? ((req, reply, done) => (byMethod.get(req.method) ?? forNeed(requiredAuth(req.method, declared)))(req, reply, done));
    return hook as onRequestHookHandler;
  };
}
