import { dialectOf, type SchemaDb } from '../dialect.js';

/**
 * Alarm rules (which detector output becomes which alarm: severity, a delay or an occurrence
 * count before raising, and how it clears), the alarms held back by those rules until they are
 * due, the policy each alarm was raised under, its assignee, and the site incidents group by.
 */
export async function up(db: SchemaDb): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  await db.schema
    .createTable('alarm_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    // Scope: at most one of these (none: every sensor and asset of the tenant).
    .addColumn('sensor_type_id', 'text', (c) => c.references('sensor_types.id').onDelete('cascade'))
    .addColumn('asset_id', 'text', (c) => c.references('assets.id').onDelete('cascade'))
    .addColumn('sensor_id', 'text', (c) => c.references('sensors.id').onDelete('cascade'))
    // JSON arrays: detector names ("anomaly" for point anomalies, "*" for all) and rule ids.
    .addColumn('detectors', 'text', (c) => c.notNull())
    .addColumn('rule_ids', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('severity', 'text')
    // Point anomalies scoring below this do not count towards an alarm.
    .addColumn('min_score', 'double precision', (c) => c.notNull())
    .addColumn('delay_s', 'integer', (c) => c.notNull())
    .addColumn('min_occurrences', 'integer', (c) => c.notNull())
    .addColumn('within_s', 'integer', (c) => c.notNull())
    .addColumn('auto_clear', 'text', (c) => c.notNull())
    .addColumn('quiet_s', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alarm_rules_tenant').on('alarm_rules').columns(['tenant_id']).execute();

  // An alarm its rule holds back (a delay, or fewer occurrences than it needs so far): one row per
  // key, so concurrent raisers count into the same row.
  await db.schema
    .createTable('alarm_pending')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('dedup_key', 'text', (c) => c.notNull())
    .addColumn('rule_id', 'text')
    .addColumn('first_at', 'bigint', (c) => c.notNull())
    .addColumn('last_at', 'bigint', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    // Reading time at which it raises if nothing clears it first (null: waits for occurrences).
    .addColumn('due_at', 'bigint')
    // Reading time after which a count still short of its occurrences lapses (null: no window).
    .addColumn('expires_at', 'bigint')
    // Wall-clock time of its last event: the sweep leaves rows still being fed (a backfill) alone.
    .addColumn('touched_at', 'bigint', (c) => c.notNull())
    .addColumn('raise', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('alarm_pending_pk', ['tenant_id', 'dedup_key'])
    .execute();
  await db.schema.createIndex('alarm_pending_due').on('alarm_pending').columns(['due_at']).execute();
  await db.schema.createIndex('alarm_pending_expires').on('alarm_pending').columns(['expires_at']).execute();

  // Detection events whose alarm stage failed, stored with their anomalies: applied again later,
  // so a failing alarm stage neither loses them nor holds up detection.
  await db.schema
    .createTable('alarm_inbox')
    .addColumn('id', postgres ? 'bigint' : 'integer', (c) =>
      postgres ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alarm_inbox_due').on('alarm_inbox').columns(['next_attempt_at']).execute();

  await db.schema.alterTable('alarms').addColumn('alarm_rule_id', 'text').execute();
  await db.schema
    .alterTable('alarms')
    .addColumn('auto_clear', 'text', (c) => c.notNull().defaultTo('on-clear'))
    .execute();
  await db.schema
    .alterTable('alarms')
    .addColumn('quiet_ms', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  // Reading time from which an `after-quiet` alarm counts its quiet (null: not quiet yet).
  await db.schema.alterTable('alarms').addColumn('quiet_since', 'bigint').execute();
  await db.schema.alterTable('alarms').addColumn('assignee_id', 'text').execute();
  // The open alarm of a key is looked up for every event; SQLite does not use the partial unique
  // index for `status in (?, ?)` with bound values, so a plain index on the key.
  await db.schema.createIndex('alarms_key').on('alarms').columns(['tenant_id', 'dedup_key']).execute();
  await db.schema.createIndex('alarms_quiet').on('alarms').columns(['status', 'quiet_since']).execute();

  await db.schema.alterTable('incidents').addColumn('site_id', 'text').execute();
}

export async function down(db: SchemaDb): Promise<void> {
  await db.schema.alterTable('incidents').dropColumn('site_id').execute();
  await db.schema.dropIndex('alarms_quiet').execute();
  await db.schema.dropIndex('alarms_key').execute();
  for (const c of ['assignee_id', 'quiet_since', 'quiet_ms', 'auto_clear', 'alarm_rule_id'])
    await db.schema.alterTable('alarms').dropColumn(c).execute();
  await db.schema.dropTable('alarm_inbox').execute();
  await db.schema.dropTable('alarm_pending').execute();
  await db.schema.dropTable('alarm_rules').execute();
}
