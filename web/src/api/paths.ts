/** Every path the dashboard calls (query strings are added by the caller). */
export const API = {
  whoami: '/api/v1/whoami',
  clusters: '/api/v2/slo/clusters',
  domains: '/api/v2/slo/domains',
  domain: (domain: string) => `/api/v2/slo/domains/${encodeURIComponent(domain)}`,
  targets: '/api/v2/slo/targets',
  routeMatch: '/api/v2/slo/routes/match',
  meshTopology: '/api/v2/slo/mesh/topology',
  meshService: (namespace: string, name: string) => `/api/v2/slo/mesh/services/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`,
  anomalyCheck: '/v1/anomaly/check',
  available: '/v1/available',
  baseline: '/v1/baseline',
  anomalies: '/api/v1/anomalies',
} as const;
