import type { SchemaDb } from '../dialect.js';

/**
 * Notification routing: per channel a routing object (severities, events, sites, assets), quiet
 * hours and a rate limit; personal email channels owned by a member (their notification
 * preferences); on the outbox the notice's severity (quiet hours are checked again before each
 * send) and a note saying why a delivery waits or was suppressed.
 */
export async function up(db: SchemaDb): Promise<void> {
  await db.schema
    .alterTable('notification_channels')
    .addColumn('routing', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.alterTable('notification_channels').addColumn('quiet_hours', 'text').execute();
  await db.schema
    .alterTable('notification_channels')
    .addColumn('rate_limit_per_minute', 'integer', (c) => c.notNull().defaultTo(30))
    .execute();
  // No foreign key: SQLite cannot drop a referencing column on the way down, and users are
  // disabled rather than deleted; a personal channel only sends while its user is an active member.
  await db.schema.alterTable('notification_channels').addColumn('user_id', 'text').execute();
  // One personal channel per member and tenant (NULLs, the tenant's own channels, never collide).
  await db.schema
    .createIndex('notification_channels_personal')
    .on('notification_channels')
    .columns(['tenant_id', 'user_id'])
    .unique()
    .execute();

  await db.schema.alterTable('notification_outbox').addColumn('severity', 'text').execute();
  await db.schema.alterTable('notification_outbox').addColumn('note', 'text').execute();
  // The rate limit counts a channel's deliveries of the last minute on every claim.
  await db.schema
    .createIndex('notification_outbox_channel_sent')
    .on('notification_outbox')
    .columns(['channel_id', 'delivered_at'])
    .execute();
}

export async function down(db: SchemaDb): Promise<void> {
  await db.schema.dropIndex('notification_outbox_channel_sent').execute();
  await db.schema.alterTable('notification_outbox').dropColumn('note').execute();
  await db.schema.alterTable('notification_outbox').dropColumn('severity').execute();
  await db.schema.dropIndex('notification_channels_personal').execute();
  for (const c of ['user_id', 'rate_limit_per_minute', 'quiet_hours', 'routing'])
    await db.schema.alterTable('notification_channels').dropColumn(c).execute();
}
