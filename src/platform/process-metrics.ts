import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * prom-client's default process and runtime metrics, minus the three gauges it names like counters
 * (`nodejs_active_{handles,requests,resources}_total`), which `promtool check metrics` rejects.
 * Their per-type breakdowns (`nodejs_active_handles` …) stay, and sum to the same totals.
 */
export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(prefix + name);
  }
}
