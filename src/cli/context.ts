import type { Logger } from 'pino';
import { type Config, ConfigError, loadConfig } from '../config/config.js';
import { pendingMigrations } from '../db/migrator.js';
import { createLogger } from '../http/logger.js';
import { closeServices, createServices, type Services } from '../services.js';

/** Thrown by commands for a clean one-line failure (no stack trace) and exit code 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Loads config for a command; an invalid configuration becomes a CliError listing every problem. */
export function loadCliConfig(): { config: Config; logger: Logger } {
  try {
    const { config, notices } = loadConfig(process.env);
    const logger = createLogger(config);
    for (const notice of notices) logger.info(notice);
    return { config, logger };
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 78);
    throw err;
  }
}

/** Services for commands that read or write application tables: refuses an out-of-date schema clearly. */
export async function openMigratedServices(): Promise<Services> {
  const { config, logger } = loadCliConfig();
  const services = createServices(config, logger);
  const pending = await pendingMigrations(services.database.db).catch(async (err: Error) => {
    await closeServices(services);
    throw new CliError(`cannot read the database: ${err.message}`);
  });
  if (pending.length > 0) {
    await closeServices(services);
    throw new CliError(
      `the database schema is not up to date (${pending.length} pending); run \`vigil migrate up\` first`,
    );
  }
  return services;
}
