/**
 * The public surface of src/traefik (pure Traefik knowledge): what other modules import. Route
 * mappings from IngressRoute / Ingress manifests and the router/service names Traefik's metrics
 * use (the SLO agent, the simulator), and which router serves a request and why (`vigil routes
 * match`). Rule parsing, matching and the Go regexp engine stay behind it.
 */
export { routeMappingsFromObjects, routeMappingsFromYaml, ManifestError, type RouteMapping, type RouteMappingOptions } from './manifests.js';
export { ingressRouteRouteNames } from './naming.js';
export { canonicalHeaderKey, type MatcherVerdict, type RouteRequest } from './rule-match.js';
export { BadRouteRequest, parseHeaderSpec, routeRequestOf, type RouteRequestSpec } from './route-request.js';
export {
  chooseRoute,
  groupRouters,
  routersFromMappings,
  routersOnEntryPoint,
  type ManifestRouter,
  type RouteChoice,
  type Router,
  type RouterVerdict,
} from './route-choice.js';
