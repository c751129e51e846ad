export { startExecutor, type Executor, type ExecutorOptions, type HostPort } from './executor.js';
export { startExecutorCluster, type ClusterExecutor, type ClusterOptions } from './cluster.js';
export { ENVOY_BUCKETS_MS } from './metrics.js';
export type { Clock, Timer } from './clock.js';
