import { sql } from 'kysely';
import type { SchemaDb } from '../dialect.js';

/**
 * The asset and sensor registry: sensor types, sites and zones (a hierarchy), assets, devices
 * (loggers and gateways) and sensors.
 * Every row belongs to a tenant; keys are unique per tenant and are what devices and agents use
 * to name sensors in readings.
 */
export async function up(db: SchemaDb): Promise<void> {
  await db.schema
    .createTable('sensor_types')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('unit', 'text', (c) => c.notNull())
    .addColumn('valid_min', 'double precision')
    .addColumn('valid_max', 'double precision')
    .addColumn('expected_interval_s', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('sensor_types_tenant_key', ['tenant_id', 'key'])
    .execute();

  await db.schema
    .createTable('sites')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('parent_id', 'text', (c) => c.references('sites.id').onDelete('restrict'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('sites_tenant_key', ['tenant_id', 'key'])
    .execute();
  await db.schema.createIndex('sites_parent_idx').on('sites').columns(['tenant_id', 'parent_id']).execute();

  await db.schema
    .createTable('assets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('site_id', 'text', (c) => c.references('sites.id').onDelete('restrict'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('geometry', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('assets_tenant_key', ['tenant_id', 'key'])
    .execute();
  await db.schema.createIndex('assets_site_idx').on('assets').columns(['tenant_id', 'site_id']).execute();

  await db.schema
    .createTable('devices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('logger'))
    .addColumn('firmware', 'text')
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('active').check(sql`status in ('active', 'inactive', 'quarantined')`),
    )
    .addColumn('quarantine_reason', 'text')
    .addColumn('refused_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_seen_at', 'bigint')
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('devices_tenant_key', ['tenant_id', 'key'])
    .execute();

  await db.schema
    .createTable('sensors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type_id', 'text', (c) => c.notNull().references('sensor_types.id').onDelete('restrict'))
    .addColumn('device_id', 'text', (c) => c.references('devices.id').onDelete('set null'))
    .addColumn('asset_id', 'text', (c) => c.references('assets.id').onDelete('set null'))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('active').check(sql`status in ('active', 'inactive')`),
    )
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('sensors_tenant_key', ['tenant_id', 'key'])
    .execute();
  await db.schema
    .createIndex('sensors_device_idx')
    .on('sensors')
    .columns(['tenant_id', 'device_id'])
    .execute();
  await db.schema.createIndex('sensors_type_idx').on('sensors').columns(['tenant_id', 'type_id']).execute();
  await db.schema.createIndex('sensors_asset_idx').on('sensors').columns(['tenant_id', 'asset_id']).execute();
}

export async function down(db: SchemaDb): Promise<void> {
  await db.schema.dropTable('sensors').execute();
  await db.schema.dropTable('devices').execute();
  await db.schema.dropTable('assets').execute();
  await db.schema.dropTable('sites').execute();
  await db.schema.dropTable('sensor_types').execute();
}
