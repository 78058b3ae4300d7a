import type { JobDefinition } from './job.js';
import { abandonExpiredRuns, deleteRunsStartedBefore } from './job-runs.repository.js';

const DAY_MS = 24 * 3600 * 1000;

/** Keeps job_runs bounded and marks runs whose instance died as abandoned. */
export function jobRunsPruneJob(retentionDays: number): JobDefinition {
  return {
    name: 'job-runs.prune',
    description: `Delete job runs older than ${retentionDays} days; mark runs of dead instances abandoned`,
    schedule: '0 17 3 * * *',
    timeoutMs: 5 * 60_000,
    retries: 2,
    backoffMs: 30_000,
    async handler({ services, scheduledFor, log }) {
      const { db } = services.database;
      const now = scheduledFor.getTime();
      const abandoned = await abandonExpiredRuns(db, Date.now());
      const deleted = await deleteRunsStartedBefore(db, now - retentionDays * DAY_MS);
      log.info({ deleted, abandoned }, 'pruned job runs');
    },
  };
}
