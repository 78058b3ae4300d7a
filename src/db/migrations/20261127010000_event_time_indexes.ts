import type { SchemaDb } from '../dialect.js';

/**
 * Alarm and incident events by time: a live-stream resume on PostgreSQL also replays the events
 * written shortly before the client's last one (ids commit out of order there), found by time.
 */
export async function up(db: SchemaDb): Promise<void> {
  await db.schema.createIndex('alarm_events_at').on('alarm_events').column('at').execute();
  await db.schema.createIndex('incident_events_at').on('incident_events').column('at').execute();
}

export async function down(db: SchemaDb): Promise<void> {
  await db.schema.dropIndex('incident_events_at').execute();
  await db.schema.dropIndex('alarm_events_at').execute();
}
