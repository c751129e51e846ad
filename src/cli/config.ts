import type { Command } from 'commander';
import YAML from 'yaml';
import { anonymousReadAllowed, maskSecrets } from '../config/load.js';
import { configFromOptions, examples, withConfigOptions } from './common.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('Inspect configuration');
  const print = withConfigOptions(config.command('print').description('Print the effective configuration (secrets masked)'))
    .option('--json', 'print JSON instead of YAML')
    .action((opts) => {
      const config = configFromOptions(opts);
      // auth.anonymousRead left unset means "on when bound to loopback": print what is in force.
      const effective = maskSecrets({ ...config, auth: { ...config.auth, anonymousRead: anonymousReadAllowed(config) } });
      process.stdout.write(opts.json ? JSON.stringify(effective, null, 2) + '\n' : YAML.stringify(effective));
    });
  examples(print, ['vigil config print', 'VIGIL_SERVER_PORT=9090 vigil config print --json', 'vigil config print -c vigil.yaml --port 8081']);
}
