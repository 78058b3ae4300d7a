import type { Command } from 'commander';
import { type RunningServer, startServer } from '../server.js';
import { loadCliConfig } from './context.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the HTTP API, gateways and background jobs')
    .option('--migrate', 'apply pending migrations at start (required in production when any are pending)')
    .action(async (opts: { migrate?: boolean }) => {
      const { config, logger } = loadCliConfig();
      let server: RunningServer | undefined;
      let stopRequested: NodeJS.Signals | undefined;

      const stop = (signal: NodeJS.Signals) => {
        server?.shutdown(signal).then(
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
      const onSignal = (signal: NodeJS.Signals) => {
        // A second signal while draining means "now".
        process.once(signal, () => {
          logger.warn({ signal }, 'second signal: exiting immediately');
          process.exit(1);
        });
        // During start-up (e.g. migrations, which run in transactions) finish starting, then drain.
        if (server) stop(signal);
        else stopRequested = signal;
      };
      // Installed before start-up so a signal during migrations is not an abrupt kill.
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);

      server = await startServer(config, logger, { migrate: opts.migrate === true });
      if (stopRequested) stop(stopRequested);
    });
}
