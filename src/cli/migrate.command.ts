import path from 'node:path';
import type { Command } from 'commander';
import { openDatabase } from '../db/database.js';
import { createMigrationFile, migrateDown, migrateToLatest, migrationStatus } from '../db/migrator.js';
import { CliError, loadCliConfig } from './context.js';

async function withDatabase<T>(fn: (db: ReturnType<typeof openDatabase>) => Promise<T>): Promise<T> {
  const { config } = loadCliConfig();
  const database = openDatabase(config.database);
  try {
    return await fn(database);
  } finally {
    await database.destroy();
  }
}

export function registerMigrate(program: Command): void {
  const migrate = program.command('migrate').description('Database schema migrations');

  migrate
    .command('up')
    .description('Apply every pending migration')
    .action(async () => {
      const applied = await withDatabase((d) => migrateToLatest(d.db));
      console.log(applied.length === 0 ? 'Already up to date.' : `Applied: ${applied.join(', ')}`);
    });

  migrate
    .command('down')
    .description('Revert the most recent migration(s)')
    .option('--steps <n>', 'how many to revert', '1')
    .action(async (opts: { steps: string }) => {
      const steps = Number(opts.steps);
      if (!Number.isInteger(steps) || steps < 1) throw new CliError('--steps must be a positive integer');
      const reverted = await withDatabase((d) => migrateDown(d.db, steps));
      console.log(reverted.length === 0 ? 'Nothing to revert.' : `Reverted: ${reverted.join(', ')}`);
    });

  migrate
    .command('status')
    .description('List migrations and whether each is applied')
    .action(async () => {
      const list = await withDatabase((d) => migrationStatus(d.db));
      for (const m of list) {
        console.log(
          `${m.executedAt ? `applied ${m.executedAt.toISOString()}` : 'pending                         '}  ${m.name}`,
        );
      }
      const pending = list.filter((m) => !m.executedAt).length;
      console.log(`${list.length} migration(s), ${pending} pending`);
    });

  migrate
    .command('create <name>')
    .description('Write a new migration into src/db/migrations (run from the repository root)')
    .action((name: string) => {
      try {
        const file = createMigrationFile(path.resolve('src/db/migrations'), name);
        console.log(`Created ${path.relative(process.cwd(), file)}`);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
    });
}
