import type { Command } from 'commander';
import { startServer } from '../server.js';
import { loadCliConfig } from './context.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the HTTP API, gateways and background jobs')
    .option('--migrate', 'apply pending migrations at start (required in production when any are pending)')
    .action(async (opts: { migrate?: boolean }) => {
      const { config, logger } = loadCliConfig();
      const server = await startServer(config, logger, { migrate: opts.migrate === true });
      const onSignal = (signal: NodeJS.Signals) => {
        // A second signal while draining means "now".
        process.once(signal, () => {
          logger.warn({ signal }, 'second signal: exiting immediately');
          process.exit(1);
        });
        server.shutdown(signal).then(
          () => {
            logger.flush();
            process.exit(0);
          },
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    });
}
