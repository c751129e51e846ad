export { startExecutor, type Executor, type ExecutorOptions, type HostPort } from './executor.js';
export { ENVOY_BUCKETS_MS } from './metrics.js';
export type { Clock, Timer } from './clock.js';
