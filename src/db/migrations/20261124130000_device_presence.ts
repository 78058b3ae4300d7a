import type { SchemaDb } from '../dialect.js';

/**
 * MQTT presence: whether a device is connected (embedded broker) or last said it was (status
 * topic, Last Will), and since when.
 */
export async function up(db: SchemaDb): Promise<void> {
  await db.schema
    .alterTable('devices')
    .addColumn('online', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('devices').addColumn('presence_changed_at', 'bigint').execute();
}

export async function down(db: SchemaDb): Promise<void> {
  await db.schema.alterTable('devices').dropColumn('presence_changed_at').execute();
  await db.schema.alterTable('devices').dropColumn('online').execute();
}
