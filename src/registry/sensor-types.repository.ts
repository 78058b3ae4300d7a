import { type Selectable, sql } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { SensorTypesTable } from '../db/schema.js';
import { likePattern } from './registry.util.js';

export interface SensorType {
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly unit: string;
  readonly validMin: number | null;
  readonly validMax: number | null;
  readonly expectedIntervalS: number | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

function toSensorType(r: Selectable<SensorTypesTable>): SensorType {
  return {
    id: r.id,
    key: r.key,
    name: r.name,
    unit: r.unit,
    validMin: r.valid_min === null ? null : Number(r.valid_min),
    validMax: r.valid_max === null ? null : Number(r.valid_max),
    expectedIntervalS: r.expected_interval_s,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

export async function insertSensorType(db: DbOrTrx, row: Selectable<SensorTypesTable>): Promise<SensorType> {
  await db.insertInto('sensor_types').values(row).execute();
  return toSensorType(row);
}

export async function findSensorType(
  db: DbOrTrx,
  tenantId: string,
  id: string,
): Promise<SensorType | undefined> {
  const row = await db
    .selectFrom('sensor_types')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toSensorType(row);
}

export async function listSensorTypes(
  db: DbOrTrx,
  tenantId: string,
  f: { afterKey?: string | undefined; q?: string | undefined; limit: number },
): Promise<SensorType[]> {
  let q = db
    .selectFrom('sensor_types')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('key')
    .limit(f.limit);
  if (f.afterKey !== undefined) q = q.where('key', '>', f.afterKey);
  if (f.q) {
    const p = likePattern(f.q);
    q = q.where(sql<boolean>`(lower(key) like ${p} escape '\\' or lower(name) like ${p} escape '\\')`);
  }
  return (await q.execute()).map(toSensorType);
}

export async function updateSensorType(
  db: DbOrTrx,
  tenantId: string,
  id: string,
  patch: Partial<Pick<SensorTypesTable, 'name' | 'unit' | 'valid_min' | 'valid_max' | 'expected_interval_s'>>,
  now: number,
): Promise<void> {
  await db
    .updateTable('sensor_types')
    .set({ ...patch, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

export async function deleteSensorType(db: DbOrTrx, tenantId: string, id: string): Promise<void> {
  await db.deleteFrom('sensor_types').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}
