import type { Command } from 'commander';
import type { JobRunStatus } from '../db/schema.js';
import { listRuns } from '../jobs/job-runs.repository.js';
import { createScheduler } from '../jobs/jobs.js';
import { closeServices, createServices } from '../services.js';
import { CliError, loadCliConfig, openMigratedServices } from './context.js';

const STATUSES: readonly JobRunStatus[] = ['running', 'succeeded', 'failed', 'timed_out', 'abandoned'];

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('Background jobs and their recorded runs');

  jobs
    .command('list')
    .description('List the registered jobs with their schedules and next run')
    .action(async () => {
      const { config, logger } = loadCliConfig();
      const services = createServices(config, logger);
      try {
        const scheduler = createScheduler(services);
        for (const job of scheduler.list()) {
          const next = scheduler.nextSlot(job.name)?.toISOString() ?? '-';
          console.log(`${job.name}\t${job.schedule}\tnext ${next}\t${job.description}`);
        }
      } finally {
        await closeServices(services);
      }
    });

  jobs
    .command('runs')
    .description('Show recorded runs, newest first')
    .option('--job <name>', 'only this job')
    .option('--status <status>', `only this status (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'how many', '20')
    .option('--before <id>', 'page: runs with an id below this')
    .option('--json', 'print JSON lines')
    .action(
      async (opts: { job?: string; status?: string; limit: string; before?: string; json?: boolean }) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          throw new CliError('--limit must be 1..1000');
        if (opts.status && !STATUSES.includes(opts.status as JobRunStatus)) {
          throw new CliError(`--status must be one of ${STATUSES.join(', ')}`);
        }
        const beforeId = opts.before === undefined ? undefined : Number(opts.before);
        if (beforeId !== undefined && !Number.isInteger(beforeId))
          throw new CliError('--before must be an integer id');
        const { config, logger } = loadCliConfig();
        const services = createServices(config, logger);
        try {
          const runs = await listRuns(services.database.db, {
            job: opts.job,
            status: opts.status as JobRunStatus | undefined,
            beforeId,
            limit,
          });
          for (const r of runs) {
            if (opts.json) console.log(JSON.stringify(r));
            else {
              console.log(
                `${r.id}\t${r.job}\t${r.scheduledFor.toISOString()}\t${r.status}\tattempts=${r.attempts}\t${r.durationMs ?? '-'}ms\t${r.instanceId}${r.error ? `\t${r.error}` : ''}`,
              );
            }
          }
        } finally {
          await closeServices(services);
        }
      },
    );

  jobs
    .command('run <name>')
    .description('Run a job now (claimed and recorded like a scheduled run)')
    .action(async (name: string) => {
      const services = await openMigratedServices();
      try {
        const scheduler = createScheduler(services);
        if (!scheduler.list().some((j) => j.name === name)) throw new CliError(`unknown job ${name}`);
        const outcome = await scheduler.runNow(name);
        console.log(JSON.stringify(outcome));
        if (outcome.status !== 'succeeded') process.exitCode = 1;
      } finally {
        await closeServices(services);
      }
    });
}
