import { type Selectable, sql, type Updateable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { DeviceStatus, DevicesTable } from '../db/schema.js';
import { dateOrNull } from '../db/time.js';
import { likePattern } from './registry.util.js';

export interface Device {
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly kind: string;
  readonly firmware: string | null;
  readonly status: DeviceStatus;
  readonly quarantineReason: string | null;
  /** Readings refused while quarantined. */
  readonly refusedCount: number;
  readonly lastSeenAt: Date | null;
  /** MQTT presence: connected now (or last said so on its status topic), and since when. */
  readonly online: boolean;
  readonly presenceChangedAt: Date | null;
  readonly metadata: Record<string, unknown>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

function toDevice(r: Selectable<DevicesTable>): Device {
  return {
    id: r.id,
    key: r.key,
    name: r.name,
    kind: r.kind,
    firmware: r.firmware,
    status: r.status,
    quarantineReason: r.quarantine_reason,
    refusedCount: Number(r.refused_count),
    lastSeenAt: dateOrNull(r.last_seen_at),
    online: r.online === 1,
    presenceChangedAt: dateOrNull(r.presence_changed_at),
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

export async function insertDevice(
  db: DbOrTrx,
  row: Omit<
    Selectable<DevicesTable>,
    'status' | 'quarantine_reason' | 'refused_count' | 'last_seen_at' | 'online' | 'presence_changed_at'
  >,
): Promise<Device> {
  await db.insertInto('devices').values(row).execute();
  return toDevice({
    ...row,
    status: 'active',
    quarantine_reason: null,
    refused_count: 0,
    last_seen_at: null,
    online: 0,
    presence_changed_at: null,
  });
}

export async function findDevice(db: DbOrTrx, tenantId: string, id: string): Promise<Device | undefined> {
  const row = await db
    .selectFrom('devices')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toDevice(row);
}

export async function listDevices(
  db: DbOrTrx,
  tenantId: string,
  f: {
    afterKey?: string | undefined;
    q?: string | undefined;
    status?: DeviceStatus | undefined;
    limit: number;
  },
): Promise<Device[]> {
  let q = db
    .selectFrom('devices')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('key')
    .limit(f.limit);
  if (f.afterKey !== undefined) q = q.where('key', '>', f.afterKey);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.q) {
    const p = likePattern(f.q);
    q = q.where(sql<boolean>`(lower(key) like ${p} escape '\\' or lower(name) like ${p} escape '\\')`);
  }
  return (await q.execute()).map(toDevice);
}

export async function updateDevice(
  db: DbOrTrx,
  tenantId: string,
  id: string,
  patch: Pick<
    Updateable<DevicesTable>,
    'name' | 'kind' | 'firmware' | 'metadata' | 'quarantine_reason' | 'status'
  >,
  now: number,
): Promise<void> {
  await db
    .updateTable('devices')
    .set({ ...patch, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

/** Deletes a device with its credentials; its sensors stay (detached). */
export async function deleteDevice(db: DbOrTrx, tenantId: string, id: string): Promise<void> {
  await db
    .deleteFrom('device_credentials')
    .where('tenant_id', '=', tenantId)
    .where('device_id', '=', id)
    .execute();
  await db.deleteFrom('devices').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Records a device connecting or going away (MQTT), unless a newer change is already recorded. */
export async function setPresence(db: DbOrTrx, deviceId: string, online: boolean, at: number): Promise<void> {
  await db
    .updateTable('devices')
    .set({ online: online ? 1 : 0, presence_changed_at: at, ...(online ? { last_seen_at: at } : {}) })
    .where('id', '=', deviceId)
    .where((eb) => eb.or([eb('presence_changed_at', 'is', null), eb('presence_changed_at', '<=', at)]))
    .execute();
}

/** How many of a tenant's devices there are, and how many are online now. */
export async function countPresence(
  db: DbOrTrx,
  tenantId: string,
): Promise<{ total: number; online: number }> {
  const row = await db
    .selectFrom('devices')
    .select((eb) => [
      eb.fn.countAll<number | string>().as('total'),
      eb.fn.sum<number | string | null>('online').as('online'),
    ])
    .where('tenant_id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return { total: Number(row.total), online: Number(row.online ?? 0) };
}
