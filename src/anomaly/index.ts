/** Latency anomaly detection: public API of the module (see DESIGN.md, data flow 2). */
export * from './types.js';
export { ValidationError } from './errors.js';
export * from './stats.js';
export * from './buckets.js';
export * from './normalize.js';
export * from './rule.js';
export * from './store.js';
export * from './otlp.js';
export * from './tempo.js';
