import { auditCheckpointJob } from '../audit/audit-checkpoint.job.js';
import { retrainJob } from '../detection/models/retrain.job.js';
import { PLATFORM } from '../realtime/hub.js';
import type { Services } from '../services.js';
import { retentionJob } from '../telemetry/retention.job.js';
import type { JobDefinition } from './job.js';
import { jobRunsPruneJob } from './job-runs-prune.job.js';
import { openGate, RedisRunGate } from './run-gate.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

/** Every background job of the application. Features add theirs here. */
export function applicationJobs(services: Services): JobDefinition[] {
  return [
    jobRunsPruneJob(services.config.jobs.runRetentionDays),
    auditCheckpointJob,
    retentionJob(services.config.telemetry.retentionDays),
    ...(services.config.detection.autoRetraining
      ? [retrainJob(services.config.detection.retrainingSchedule)]
      : []),
  ];
}

export function createScheduler(
  services: Services,
  jobs = applicationJobs(services),
  options: SchedulerOptions = {},
): Scheduler {
  const gate = services.redis ? new RedisRunGate(services.redis, services.config.instanceId) : openGate;
  const { metrics } = services;
  const scheduler = new Scheduler(services, gate, {
    ...options,
    onOutcome: (job, scheduledFor, outcome) => {
      metrics.jobRuns.inc({ job_name: job, status: outcome.status });
      if (outcome.status === 'succeeded') metrics.jobLastSuccess.set({ job_name: job }, Date.now() / 1000);
      // Live to platform admins subscribed to the stream's `jobs` channel.
      if (outcome.status !== 'skipped')
        services.hub.publish({
          tenantId: PLATFORM,
          channel: 'jobs',
          type: `job.${outcome.status}`,
          id: null,
          payload: { job, scheduledFor: new Date(scheduledFor).toISOString(), ...outcome },
          at: Date.now(),
        });
      options.onOutcome?.(job, scheduledFor, outcome);
    },
  });
  for (const job of jobs) scheduler.register(job);
  return scheduler;
}
