import type { SchemaDb } from '../dialect.js';

// Literal copies, not imports: a migration keeps what it did when it was written.
const ID = '00000000-0000-4000-8000-000000000001';

/**
 * The reserved `platform` tenant owning Vigil's self-monitoring alarms (src/tenants/platform-tenant.ts).
 * Alarms, notification channels and the outbox need a tenant; this one has no members.
 */
export async function up(db: SchemaDb): Promise<void> {
  const now = Date.now();
  await db
    .insertInto('tenants')
    .values({
      id: ID,
      slug: 'platform',
      name: 'Vigil platform',
      settings: '{}',
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function down(db: SchemaDb): Promise<void> {
  // Its alarms, channels and deliveries go with it (their foreign keys cascade).
  await db.deleteFrom('tenants').where('id', '=', ID).execute();
}
