import pino, { type Logger } from 'pino';
import type { VigilConfig } from '../config/schema.js';

export type { Logger } from 'pino';

export function createLogger(config: Pick<VigilConfig, 'log'>, name = 'vigil'): Logger {
  return pino({
    name,
    level: config.log.level,
    // Credentials never reach a log line.
    redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.token', '*.password'], censor: '****' },
    ...(config.log.pretty ? { transport: { target: 'pino/file', options: { destination: 2 } } } : {}),
  });
}
