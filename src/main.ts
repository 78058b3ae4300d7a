#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import dotenv from 'dotenv';
import { registerAdmin } from './cli/admin.command.js';
import { registerAudit } from './cli/audit.command.js';
import { registerBacktest } from './cli/backtest.command.js';
import { registerConfig } from './cli/config.command.js';
import { CliError } from './cli/context.js';
import { registerDemo } from './cli/demo.command.js';
import { registerJobs } from './cli/jobs.command.js';
import { registerMigrate } from './cli/migrate.command.js';
import { registerSecret } from './cli/secret.command.js';
import { registerServe } from './cli/serve.command.js';
import { VERSION } from './version.js';

// An optional .env in the working directory; real environment variables win over it.
dotenv.config({ quiet: true });

const program = new Command()
  .name('vigil')
  .description('Vigil: sensor fleet monitoring, detection and alarms')
  .version(VERSION)
  .exitOverride();

registerServe(program);
registerDemo(program);
registerMigrate(program);
registerSecret(program);
registerJobs(program);
registerConfig(program);
registerAdmin(program);
registerAudit(program);
registerBacktest(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof CliError) {
    console.error(err.message);
    process.exitCode = err.exitCode;
  } else {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
    process.exitCode = 1;
  }
}
