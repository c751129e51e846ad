import type { VigilConfig } from './config/schema.js';
import type { VigilModule } from './platform/module.js';

/** Every capability module, in start order. */
export function allModules(_config: VigilConfig): VigilModule[] {
  return [];
}
