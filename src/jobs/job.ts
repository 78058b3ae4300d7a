import type { Logger } from 'pino';
import type { Services } from '../services.js';

export interface JobContext {
  /** Aborted on timeout and on shutdown; long jobs should check it between steps. */
  readonly signal: AbortSignal;
  /** 1 for the first try, 2 for the first retry, … */
  readonly attempt: number;
  /** The slot this run is for (not when it started): use it as "now" for idempotent work. */
  readonly scheduledFor: Date;
  readonly log: Logger;
  readonly services: Services;
}

/** A background job: a typed handler with its schedule, timeout and retry policy. */
export interface JobDefinition {
  /** Stable name, dotted by feature (`job-runs.prune`); recorded in job_runs. */
  readonly name: string;
  /** Cron expression (UTC), with optional seconds field: `0 17 3 * * *` = 03:17:00 daily. */
  readonly schedule: string;
  readonly timeoutMs: number;
  /** Further attempts after a failure or timeout (0 = try once). */
  readonly retries: number;
  /** Delay before the first retry; doubled for each later one. */
  readonly backoffMs: number;
  /** Whether a run may start while an earlier run of the same job is still going (anywhere). */
  readonly allowOverlap?: boolean;
  readonly description: string;
  handler(ctx: JobContext): Promise<void>;
}

/** Upper bound on how long a run can legitimately take, with all its retries and backoffs. */
export function runLeaseMs(job: JobDefinition): number {
  let total = 0;
  for (let attempt = 1; attempt <= job.retries + 1; attempt++) {
    total += job.timeoutMs + (attempt > 1 ? job.backoffMs * 2 ** (attempt - 2) : 0);
  }
  return total + 60_000;
}
