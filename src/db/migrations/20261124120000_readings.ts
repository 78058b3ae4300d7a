import { dialectOf, type SchemaDb } from '../dialect.js';

/**
 * Reading storage (docs/storage.md): an append-only log of committed batches, compacted in the
 * background into compressed per-series chunks. `series` gives each sensor a small integer id so
 * the log and chunks never repeat a UUID per reading; deleting a sensor cascades to its series and
 * chunks (log entries of a deleted series are dropped by the next compaction and never read).
 */
export async function up(db: SchemaDb): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  const blob = postgres ? 'bytea' : 'blob';
  await db.schema
    .createTable('series')
    .addColumn('id', 'integer', (c) =>
      postgres ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('sensor_id', 'text', (c) => c.notNull().unique().references('sensors.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    // The newest compacted reading (the log may hold newer ones).
    .addColumn('last_ts', 'bigint')
    .addColumn('last_value', 'double precision')
    .addColumn('last_quality', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('series_tenant_idx').on('series').columns(['tenant_id']).execute();

  await db.schema
    .createTable('reading_log')
    .addColumn('id', postgres ? 'bigint' : 'integer', (c) =>
      postgres ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('min_ts', 'bigint', (c) => c.notNull())
    .addColumn('max_ts', 'bigint', (c) => c.notNull())
    .addColumn('data', blob, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('reading_chunks')
    .addColumn('series_id', 'integer', (c) => c.notNull().references('series.id').onDelete('cascade'))
    .addColumn('start_ts', 'bigint', (c) => c.notNull())
    .addColumn('end_ts', 'bigint', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('min_value', 'double precision', (c) => c.notNull())
    .addColumn('max_value', 'double precision', (c) => c.notNull())
    .addColumn('sum_value', 'double precision', (c) => c.notNull())
    .addColumn('data', blob, (c) => c.notNull())
    .addPrimaryKeyConstraint('reading_chunks_pk', ['series_id', 'start_ts'])
    .execute();

  await db.schema
    .createTable('ingest_requests')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('ingest_requests_pk', ['tenant_id', 'idempotency_key'])
    .execute();
  await db.schema
    .createIndex('ingest_requests_created_idx')
    .on('ingest_requests')
    .columns(['created_at'])
    .execute();
}

export async function down(db: SchemaDb): Promise<void> {
  await db.schema.dropTable('ingest_requests').execute();
  await db.schema.dropTable('reading_chunks').execute();
  await db.schema.dropTable('reading_log').execute();
  await db.schema.dropTable('series').execute();
}
