import { type Selectable, sql, type Updateable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { SensorsTable } from '../db/schema.js';
import { likePattern } from './registry.util.js';

export interface Sensor {
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly typeId: string;
  readonly deviceId: string | null;
  readonly assetId: string | null;
  readonly status: 'active' | 'inactive';
  readonly metadata: Record<string, unknown>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

function toSensor(r: Selectable<SensorsTable>): Sensor {
  return {
    id: r.id,
    key: r.key,
    name: r.name,
    typeId: r.type_id,
    deviceId: r.device_id,
    assetId: r.asset_id,
    status: r.status,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

export async function insertSensor(
  db: DbOrTrx,
  row: Omit<Selectable<SensorsTable>, 'status'>,
): Promise<Sensor> {
  await db.insertInto('sensors').values(row).execute();
  return toSensor({ ...row, status: 'active' });
}

export async function findSensor(db: DbOrTrx, tenantId: string, id: string): Promise<Sensor | undefined> {
  const row = await db
    .selectFrom('sensors')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toSensor(row);
}

export interface SensorFilter {
  readonly afterKey?: string | undefined;
  readonly q?: string | undefined;
  readonly deviceId?: string | undefined;
  readonly assetId?: string | undefined;
  readonly typeId?: string | undefined;
  readonly status?: 'active' | 'inactive' | undefined;
  readonly limit: number;
}

export async function listSensors(db: DbOrTrx, tenantId: string, f: SensorFilter): Promise<Sensor[]> {
  let q = db
    .selectFrom('sensors')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('key')
    .limit(f.limit);
  if (f.afterKey !== undefined) q = q.where('key', '>', f.afterKey);
  if (f.deviceId) q = q.where('device_id', '=', f.deviceId);
  if (f.assetId) q = q.where('asset_id', '=', f.assetId);
  if (f.typeId) q = q.where('type_id', '=', f.typeId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.q) {
    const p = likePattern(f.q);
    q = q.where(sql<boolean>`(lower(key) like ${p} escape '\\' or lower(name) like ${p} escape '\\')`);
  }
  return (await q.execute()).map(toSensor);
}

export async function updateSensor(
  db: DbOrTrx,
  tenantId: string,
  id: string,
  patch: Pick<
    Updateable<SensorsTable>,
    'name' | 'type_id' | 'device_id' | 'asset_id' | 'status' | 'metadata'
  >,
  now: number,
): Promise<void> {
  await db
    .updateTable('sensors')
    .set({ ...patch, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

export async function deleteSensor(db: DbOrTrx, tenantId: string, id: string): Promise<void> {
  await db.deleteFrom('sensors').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}
