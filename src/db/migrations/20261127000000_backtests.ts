import type { SchemaDb } from '../dialect.js';

/** Backtest runs started over the API (the Lab's runner), and each run's log, kept for replay. */
export async function up(db: SchemaDb): Promise<void> {
  await db.schema
    .createTable('backtest_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    // `sensor` or `asset`; the target is not a foreign key (a run outlives a deleted target).
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('summary', 'text')
    .addColumn('episodes', 'text')
    .addColumn('error', 'text')
    .addColumn('rows_done', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_total', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('instance_id', 'text')
    .addColumn('heartbeat_at', 'bigint')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('backtest_runs_tenant_created')
    .on('backtest_runs')
    .columns(['tenant_id', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('backtest_runs_status').on('backtest_runs').columns(['status']).execute();
  await db.schema
    .createIndex('backtest_runs_target')
    .on('backtest_runs')
    .columns(['tenant_id', 'target_id', 'created_at'])
    .execute();
  await db.schema
    .createTable('backtest_log')
    .addColumn('run_id', 'text', (c) => c.notNull().references('backtest_runs.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('backtest_log_pk', ['run_id', 'seq'])
    .execute();
}

export async function down(db: SchemaDb): Promise<void> {
  await db.schema.dropTable('backtest_log').execute();
  await db.schema.dropTable('backtest_runs').execute();
}
