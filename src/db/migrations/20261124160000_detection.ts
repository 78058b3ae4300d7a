import { sql } from 'kysely';
import { dialectOf, type SchemaDb } from '../dialect.js';

/**
 * Detection: versioned detector documents (per sensor type, asset or sensor), per-sensor state
 * checkpoints, stored anomalies, the model registry and its training log.
 */
export async function up(db: SchemaDb): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  const blob = postgres ? 'bytea' : 'blob';
  const serial = postgres ? 'bigint' : 'integer';

  await db.schema
    .createTable('detector_configs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    // NULL: the document was removed (the target falls back on its sensor type / the defaults).
    .addColumn('document', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('detector_configs_version', ['tenant_id', 'scope', 'target_id', 'version'])
    .execute();

  await db.schema
    .createTable('detection_state')
    .addColumn('sensor_id', 'text', (c) => c.primaryKey().references('sensors.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('last_ts', 'bigint', (c) => c.notNull())
    .addColumn('state', blob, (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('anomalies')
    .addColumn('id', serial, (c) =>
      postgres ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('sensor_id', 'text', (c) => c.notNull().references('sensors.id').onDelete('cascade'))
    .addColumn('asset_id', 'text')
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('detector', 'text', (c) => c.notNull())
    .addColumn('rule_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('severity', 'text')
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('confidence', 'double precision', (c) => c.notNull())
    .addColumn('detectors', 'text', (c) => c.notNull())
    .addColumn('explanation', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // Re-scoring a reading (replay after a restart) must not store its anomaly twice.
    .addUniqueConstraint('anomalies_once', ['sensor_id', 'ts', 'kind', 'detector', 'rule_id'])
    .execute();
  await db.schema.createIndex('anomalies_tenant_ts').on('anomalies').columns(['tenant_id', 'ts']).execute();

  await db.schema
    .createTable('models')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('features', 'text', (c) => c.notNull())
    .addColumn('training_from', 'bigint', (c) => c.notNull())
    .addColumn('training_to', 'bigint', (c) => c.notNull())
    .addColumn('metrics', 'text', (c) => c.notNull())
    .addColumn('data', blob, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('activated_at', 'bigint')
    .addUniqueConstraint('models_version', ['tenant_id', 'scope', 'target_id', 'version'])
    .execute();
  // One active version per target, enforced by the database.
  await sql`create unique index models_one_active on models (tenant_id, scope, target_id) where status = 'active'`.execute(
    db,
  );

  await db.schema
    .createTable('training_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('inputs', 'text', (c) => c.notNull())
    .addColumn('metrics', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('model_id', 'text')
    .addColumn('error', 'text')
    .addColumn('created_by', 'text')
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('training_runs_target')
    .on('training_runs')
    .columns(['tenant_id', 'target_id', 'started_at'])
    .execute();
}

export async function down(db: SchemaDb): Promise<void> {
  for (const t of ['training_runs', 'models', 'anomalies', 'detection_state', 'detector_configs'])
    await db.schema.dropTable(t).execute();
}
