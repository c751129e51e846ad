/** Entry point of a `vigil executor --workers N` child (forked by the primary with node:cluster). */
import type { VigilConfig } from '../../config/schema.js';
import { createLogger } from '../../platform/logger.js';
import { runExecutorWorker } from './worker.js';

await runExecutorWorker((level) => createLogger({ log: { level, pretty: false } } as Pick<VigilConfig, 'log'>, 'vigil-executor').child({ worker: process.pid }));
