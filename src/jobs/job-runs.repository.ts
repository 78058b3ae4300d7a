import type { DbOrTrx } from '../db/database.js';
import type { JobRunStatus } from '../db/schema.js';

export interface JobRun {
  readonly id: number;
  readonly job: string;
  readonly scheduledFor: Date;
  readonly instanceId: string;
  readonly status: JobRunStatus;
  readonly attempts: number;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly durationMs: number | null;
  readonly error: string | null;
}

/**
 * Claims one scheduled run: inserts (job, scheduled_for) unless it exists. Exactly one caller in
 * the whole cluster gets an id back; the others get undefined and skip the run.
 */
export async function claimRun(
  db: DbOrTrx,
  run: { job: string; scheduledFor: number; instanceId: string; now: number; leaseUntil: number },
): Promise<number | undefined> {
  const row = await db
    .insertInto('job_runs')
    .values({
      job: run.job,
      scheduled_for: run.scheduledFor,
      instance_id: run.instanceId,
      status: 'running',
      attempts: 0,
      started_at: run.now,
      lease_until: run.leaseUntil,
    })
    .onConflict((oc) => oc.columns(['job', 'scheduled_for']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

/** Whether a run of `job` is in progress (and its lease not expired) anywhere in the cluster. */
export async function hasActiveRun(db: DbOrTrx, job: string, now: number): Promise<boolean> {
  const row = await db
    .selectFrom('job_runs')
    .select('id')
    .where('job', '=', job)
    .where('status', '=', 'running')
    .where('lease_until', '>', now)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function recordAttempt(db: DbOrTrx, id: number, attempts: number): Promise<void> {
  await db.updateTable('job_runs').set({ attempts }).where('id', '=', id).execute();
}

export async function finishRun(
  db: DbOrTrx,
  id: number,
  outcome: {
    status: Exclude<JobRunStatus, 'running'>;
    finishedAt: number;
    durationMs: number;
    error: string | null;
  },
): Promise<void> {
  await db
    .updateTable('job_runs')
    .set({
      status: outcome.status,
      finished_at: outcome.finishedAt,
      duration_ms: outcome.durationMs,
      error: outcome.error,
    })
    .where('id', '=', id)
    .execute();
}

/** Marks runs whose instance died mid-run (lease expired while still running). Returns how many. */
export async function abandonExpiredRuns(db: DbOrTrx, now: number): Promise<number> {
  const result = await db
    .updateTable('job_runs')
    .set({ status: 'abandoned', finished_at: now, error: 'lease expired: the instance running it stopped' })
    .where('status', '=', 'running')
    .where('lease_until', '<=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function deleteRunsStartedBefore(db: DbOrTrx, before: number): Promise<number> {
  const result = await db.deleteFrom('job_runs').where('started_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface ListRunsFilter {
  readonly job?: string | undefined;
  readonly status?: JobRunStatus | undefined;
  /** Return runs with id below this (the previous page's last id). */
  readonly beforeId?: number | undefined;
  readonly limit: number;
}

/** Newest first, keyset-paginated by id. */
export async function listRuns(db: DbOrTrx, filter: ListRunsFilter): Promise<JobRun[]> {
  let query = db.selectFrom('job_runs').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.job) query = query.where('job', '=', filter.job);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    job: r.job,
    scheduledFor: new Date(r.scheduled_for),
    instanceId: r.instance_id,
    status: r.status,
    attempts: r.attempts,
    startedAt: new Date(r.started_at),
    finishedAt: r.finished_at === null ? null : new Date(r.finished_at),
    durationMs: r.duration_ms,
    error: r.error,
  }));
}
