import { sql } from 'kysely';
import { dialectOf, type SchemaDb } from '../dialect.js';

export async function up(db: SchemaDb): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  await db.schema
    .createTable('job_runs')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (c) =>
      postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('job', 'text', (c) => c.notNull())
    .addColumn('scheduled_for', 'bigint', (c) => c.notNull())
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('running', 'succeeded', 'failed', 'timed_out', 'abandoned')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    // Past this a run still marked running is presumed dead (its instance crashed) and marked abandoned.
    .addColumn('lease_until', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .addColumn('duration_ms', 'integer')
    .addColumn('error', 'text')
    // The claim: whoever inserts (job, scheduled_for) first runs it; everyone else skips.
    .addUniqueConstraint('job_runs_job_scheduled_for_key', ['job', 'scheduled_for'])
    .execute();
  await db.schema.createIndex('job_runs_started_at_idx').on('job_runs').columns(['started_at']).execute();
  await db.schema.createIndex('job_runs_status_idx').on('job_runs').columns(['status']).execute();
}

export async function down(db: SchemaDb): Promise<void> {
  await db.schema.dropTable('job_runs').execute();
}
