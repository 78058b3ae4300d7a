import { sql } from 'kysely';
import { dialectOf, type SchemaDb } from '../dialect.js';

/**
 * Alarms: at most one open (or acknowledged) alarm per tenant and dedup key, enforced by a
 * partial unique index so concurrent raisers (several writers, several instances) upsert into the
 * same row; and each alarm's full history (raised, repeated, acknowledged, resolved, comments).
 */
export async function up(db: SchemaDb): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  const serial = postgres ? 'bigint' : 'integer';
  await db.schema
    .createTable('alarms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('dedup_key', 'text', (c) => c.notNull())
    .addColumn('sensor_id', 'text', (c) => c.references('sensors.id').onDelete('cascade'))
    .addColumn('asset_id', 'text')
    .addColumn('detector', 'text', (c) => c.notNull())
    .addColumn('rule_id', 'text')
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('occurrences', 'integer', (c) => c.notNull())
    .addColumn('raised_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_value', 'double precision')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('acknowledged_by', 'text')
    .addColumn('acknowledged_at', 'bigint')
    .addColumn('resolved_by', 'text')
    .addColumn('resolved_at', 'bigint')
    .addColumn('resolution', 'text')
    .addColumn('closed_at', 'bigint')
    // Silenced until then (notifications hold; the alarm still counts occurrences).
    .addColumn('shelved_until', 'bigint')
    .addColumn('shelved_by', 'text')
    // Raised and cleared too often in a window: kept open as one alarm until it settles.
    .addColumn('flapping', 'integer', (c) => c.notNull().defaultTo(0))
    // Raised during this maintenance window: kept and marked, not notified.
    .addColumn('maintenance_window_id', 'text')
    // Escalation: severity steps taken while unacknowledged, and the last reminder sent.
    .addColumn('escalation_level', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_notified_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`create unique index alarms_one_open on alarms (tenant_id, dedup_key) where status in ('open', 'acknowledged')`.execute(
    db,
  );
  await db.schema
    .createIndex('alarms_tenant_raised')
    .on('alarms')
    .columns(['tenant_id', 'raised_at'])
    .execute();
  await db.schema.createIndex('alarms_tenant_status').on('alarms').columns(['tenant_id', 'status']).execute();

  await db.schema
    .createTable('alarm_events')
    .addColumn('id', serial, (c) =>
      postgres ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('alarm_id', 'text', (c) => c.notNull().references('alarms.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text')
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('comment', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    // The reading's own time, for events that come from readings (flap counting).
    .addColumn('reading_at', 'bigint')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alarm_events_alarm').on('alarm_events').columns(['alarm_id', 'id']).execute();

  await db.schema
    .createTable('maintenance_windows')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('asset_id', 'text', (c) => c.references('assets.id').onDelete('cascade'))
    .addColumn('site_id', 'text', (c) => c.references('sites.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('recurrence', 'text', (c) => c.notNull())
    .addColumn('until', 'bigint')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('maintenance_windows_tenant')
    .on('maintenance_windows')
    .columns(['tenant_id', 'starts_at'])
    .execute();
}

export async function down(db: SchemaDb): Promise<void> {
  await db.schema.dropTable('maintenance_windows').execute();
  await db.schema.dropTable('alarm_events').execute();
  await db.schema.dropTable('alarms').execute();
}
