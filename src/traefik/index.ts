/**
 * Traefik knowledge, pure: rule parsing and validation (v2 and v3 syntax), rule evaluation against a
 * request, the (domain, path) pairs a rule serves, the router/service names Traefik's metrics use,
 * and route mappings from IngressRoute / Ingress manifests.
 */
export * from './rule-parser.js';
export * from './rule-match.js';
export * from './routes-of-rule.js';
export * from './naming.js';
export * from './manifests.js';
export { GoRegexpSyntaxError, compileGoRegexp, checkGoRegexp } from './go-regexp.js';
