import type { SchemaDb } from '../dialect.js';

/** Per-tenant quotas a platform admin may raise (JSON; unset members take the installation defaults). */
export async function up(db: SchemaDb): Promise<void> {
  await db.schema
    .alterTable('tenants')
    .addColumn('quotas', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
}

export async function down(db: SchemaDb): Promise<void> {
  await db.schema.alterTable('tenants').dropColumn('quotas').execute();
}
