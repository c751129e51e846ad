import { Counter, type Registry } from 'prom-client';

/**
 * `vigil_job_quarantined_rows_total{job}`: rows a job could not process and set aside instead of
 * failing every run. One counter per registry, shared by every module's jobs.
 */
export function quarantineCounter(registry: Registry): Counter<'job'> {
  return (
    (registry.getSingleMetric('vigil_job_quarantined_rows_total') as Counter<'job'> | undefined) ??
    new Counter({ name: 'vigil_job_quarantined_rows_total', help: 'Rows a job could not process and quarantined (see /readyz)', labelNames: ['job'], registers: [registry] })
  );
}
