import type { Command } from 'commander';
import { registerAgentCommand } from './agent.js';
import { registerSimulateCommand } from './simulate.js';
import { registerAnomalyCommands } from './anomaly.js';

/** Capability commands. */
export function registerExtraCommands(program: Command): void {
  registerAgentCommand(program);
  registerSimulateCommand(program);
  registerAnomalyCommands(program);
}
