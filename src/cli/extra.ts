import type { Command } from 'commander';

/** Capability commands (agent, simulate, anomaly …) register here. */
export function registerExtraCommands(_program: Command): void {}
