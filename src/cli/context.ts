import type { Logger } from 'pino';
import { type Config, ConfigError, loadConfig } from '../config/config.js';
import { createLogger } from '../http/logger.js';

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
