import type { ModuleContext } from './module.js';

/** A module's services for one server context, built on first use. */
export interface PerContext<T> {
  (ctx: ModuleContext): T;
  /** Everything built so far, oldest first: what a module's stop() winds down, what tests reach into. */
  built(): T[];
}

/**
 * The one way a module memoizes its services: the runtime hands the same context to routes, jobs,
 * consumers and readiness, and whichever hook asks first builds them, so every hook of one server
 * shares one set while a module object reused by a second server builds a second set.
 */
export function perContext<T>(build: (ctx: ModuleContext) => T): PerContext<T> {
  const byCtx = new Map<ModuleContext, T>();
  const get = (ctx: ModuleContext): T => {
    if (!byCtx.has(ctx)) byCtx.set(ctx, build(ctx));
    return byCtx.get(ctx) as T;
  };
  return Object.assign(get, { built: () => [...byCtx.values()] });
}
