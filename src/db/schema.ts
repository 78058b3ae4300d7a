import type { ColumnType, Generated } from 'kysely';

/**
 * Table types for Kysely. Timestamps are epoch milliseconds (BIGINT) in both dialects: one
 * representation, cheap to compare and index, no time-zone conversion anywhere.
 */
export interface Database {
  job_runs: JobRunsTable;
}

export type JobRunStatus = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'abandoned';

export interface JobRunsTable {
  id: Generated<number>;
  job: string;
  /** The scheduled time this run is for; unique per job, which is what makes a run happen once. */
  scheduled_for: number;
  instance_id: string;
  status: JobRunStatus;
  attempts: ColumnType<number, number | undefined, number>;
  started_at: number;
  lease_until: number;
  finished_at: number | null;
  duration_ms: number | null;
  error: string | null;
}
