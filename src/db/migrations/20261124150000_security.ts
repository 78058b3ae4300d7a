import { dialectOf, type SchemaDb } from '../dialect.js';

/**
 * The threat guard's record: security events (flagged and blocked requests, block changes), and
 * the IP rules administrators add (permanent or expiring blocks and allow entries, CIDR ranges).
 */
export async function up(db: SchemaDb): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  await db.schema
    .createTable('security_events')
    .addColumn('id', postgres ? 'bigint' : 'integer', (c) =>
      postgres ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('tenant_id', 'text', (c) => c.references('tenants.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('categories', 'text', (c) => c.notNull())
    .addColumn('rule', 'text')
    .addColumn('method', 'text')
    .addColumn('path', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('request_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('security_events_created_idx')
    .on('security_events')
    .columns(['created_at'])
    .execute();
  await db.schema
    .createIndex('security_events_tenant_idx')
    .on('security_events')
    .columns(['tenant_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('security_events_ip_idx')
    .on('security_events')
    .columns(['ip', 'created_at'])
    .execute();

  await db.schema
    .createTable('security_ip_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('cidr', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('security_ip_rules_kind_cidr', ['kind', 'cidr'])
    .execute();
}

export async function down(db: SchemaDb): Promise<void> {
  await db.schema.dropTable('security_ip_rules').execute();
  await db.schema.dropTable('security_events').execute();
}
