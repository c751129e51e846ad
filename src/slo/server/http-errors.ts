/**
 * The one place the SLO module's domain errors become HTTP answers (status, code, field), so the
 * read model never speaks HTTP.
 */
import { badRequest, notFound } from '../../platform/http/errors.js';
import { ClusterRequired, UnknownCluster, UnknownDomain, UnknownService } from './errors.js';

export function toHttpError(err: unknown): unknown {
  if (err instanceof ClusterRequired) return badRequest(err.message, 'cluster_id');
  if (err instanceof UnknownCluster || err instanceof UnknownDomain || err instanceof UnknownService) return notFound(err.message);
  return err;
}

/** Fastify error handler for the module's scope: maps what it knows, hands everything on to the app's handler. */
export function rethrowAsHttpError(err: unknown): never {
  throw toHttpError(err);
}
