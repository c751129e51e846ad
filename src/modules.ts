import type { VigilConfig } from './config/schema.js';
import type { VigilModule } from './platform/module.js';
import { sloModule } from './slo/module.js';
import { anomalyModule } from './anomaly/index.js';
import { faultsModule } from './faults/module.js';
import { batchesModule } from './batches/module.js';

/** Every capability module, in start order. */
export function allModules(config: VigilConfig): VigilModule[] {
  return [sloModule(config), anomalyModule(config), faultsModule(config), batchesModule(config)];
}
