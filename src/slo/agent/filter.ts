/**
 * Which series the agent drops before computing deltas (pure), after the seed's filter:
 *  - `route_name` in `agent.dropRouteNames` (default `probe`: liveness/readiness probe routes);
 *  - traffic on a port in `agent.adminPorts` (default the Linkerd proxy admin port 4191: probes and
 *    Prometheus scrapes of the proxy);
 *  - series of, or towards, excluded namespaces (default linkerd, linkerd-viz, kube-system).
 */
export interface FilterOptions {
  excludeNamespaces: readonly string[];
  /** Ports whose traffic is not application traffic. Default [4191]. */
  adminPorts?: readonly number[];
  /** `route_name` values dropped. Default ['probe']. */
  dropRouteNames?: readonly string[];
}

export class SeriesFilter {
  private readonly namespaces: Set<string>;
  private readonly ports: Set<string>;
  private readonly portSuffixes: string[];
  private readonly routeNames: Set<string>;

  constructor(opts: FilterOptions) {
    this.namespaces = new Set(opts.excludeNamespaces);
    const ports = (opts.adminPorts ?? [4191]).map(String);
    this.ports = new Set(ports);
    this.portSuffixes = ports.map((p) => ':' + p);
    this.routeNames = new Set(opts.dropRouteNames ?? ['probe']);
  }

  namespaceExcluded(ns: string | undefined): boolean {
    return ns !== undefined && this.namespaces.has(ns);
  }

  routeDropped(routeName: string | undefined): boolean {
    return routeName !== undefined && this.routeNames.has(routeName);
  }

  /** Mesh series whose target is an admin port (`target_port`, or the port of `target_addr`). */
  adminPort(targetPort: string | undefined, targetAddr: string | undefined): boolean {
    if (targetPort !== undefined) return this.ports.has(targetPort);
    if (targetAddr !== undefined) {
      for (const s of this.portSuffixes) if (targetAddr.endsWith(s)) return true;
    }
    return false;
  }
}
