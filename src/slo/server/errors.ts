/**
 * What the SLO read model can refuse, said in its own terms; only the HTTP layer (http-errors.ts)
 * turns these into status codes.
 */

/** A read named a cluster that never shipped a snapshot. */
export class UnknownCluster extends Error {
  constructor(readonly cluster: string) {
    super(`cluster ${cluster} has not shipped any snapshot`);
  }
}

/** A read named no cluster, and there is not exactly one to assume. `known` lists those there are. */
export class ClusterRequired extends Error {
  constructor(readonly known: readonly string[]) {
    super(
      known.length === 0
        ? 'cluster_id is required: no cluster has shipped a snapshot yet'
        : `cluster_id is required when several clusters report (${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''})`,
    );
  }
}

/** The cluster has no data and no route mapping for this domain. */
export class UnknownDomain extends Error {
  constructor(
    readonly cluster: string,
    readonly domain: string,
  ) {
    super(`cluster ${cluster} has no domain ${domain}`);
  }
}

/** The cluster has no data for this mesh service, neither as a service nor at either end of an edge. */
export class UnknownService extends Error {
  constructor(
    readonly cluster: string,
    readonly namespace: string,
    readonly serviceName: string,
  ) {
    super(`cluster ${cluster} has no mesh service ${namespace}/${serviceName}`);
  }
}
