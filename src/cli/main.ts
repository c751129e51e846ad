import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { VERSION } from '../platform/version.js';
import { UsageError, examples } from './common.js';
import { registerServerCommands } from './server.js';
import { registerTokenCommands } from './token.js';
import { registerConfigCommands } from './config.js';
import { registerExtraCommands } from './extra.js';
import { registerDltCommands } from './dlt.js';
import { registerExecutorCommand } from './executor.js';
import { registerWorkerCommand } from './worker.js';
import { registerFaultCommands } from './fault.js';
import { registerBatchCommands } from './batch.js';
import { registerRoutesCommands } from './routes.js';

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description('Vigil: SLO monitoring, latency anomaly detection, fault injection and log batch diagnosis in one program')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  examples(program, ['vigil up', 'vigil server --database-url postgres://vigil@db/vigil --redis-url redis://cache:6379', 'vigil token create --role viewer --name grafana']);
  registerServerCommands(program);
  registerTokenCommands(program);
  registerConfigCommands(program);
  registerExtraCommands(program);
  registerDltCommands(program);
  registerExecutorCommand(program);
  registerWorkerCommand(program);
  registerFaultCommands(program);
  registerBatchCommands(program);
  registerRoutesCommands(program);
  // Subcommands inherit exitOverride so usage errors reach main() and exit 2.
  for (const c of allCommands(program)) c.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((s) => [s, ...allCommands(s)]);
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are not errors
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
      process.exit(2);
    }
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`vigil: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv).catch((err) => {
    process.stderr.write(`vigil: ${err?.message ?? err}\n`);
    process.exit(1);
  });
}
