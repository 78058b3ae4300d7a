import type { Selectable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { DeviceCredentialsTable } from '../db/schema.js';
import { dateOrNull } from '../db/time.js';

export interface DeviceCredential {
  readonly id: string;
  readonly deviceId: string;
  readonly prefix: string;
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

export function toDeviceCredential(r: Selectable<DeviceCredentialsTable>): DeviceCredential {
  return {
    id: r.id,
    deviceId: r.device_id,
    prefix: r.prefix,
    createdBy: r.created_by,
    createdAt: new Date(r.created_at),
    expiresAt: dateOrNull(r.expires_at),
    lastUsedAt: dateOrNull(r.last_used_at),
    revokedAt: dateOrNull(r.revoked_at),
  };
}

export async function insertDeviceCredential(
  db: DbOrTrx,
  c: Omit<Selectable<DeviceCredentialsTable>, 'last_used_at' | 'revoked_at'>,
): Promise<DeviceCredential> {
  const row = { ...c, last_used_at: null, revoked_at: null };
  await db.insertInto('device_credentials').values(row).execute();
  return toDeviceCredential(row);
}

export async function findDeviceCredentialByHash(
  db: DbOrTrx,
  tokenHash: string,
): Promise<Selectable<DeviceCredentialsTable> | undefined> {
  return db
    .selectFrom('device_credentials')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function listDeviceCredentials(
  db: DbOrTrx,
  tenantId: string,
  deviceId?: string | undefined,
): Promise<DeviceCredential[]> {
  let q = db
    .selectFrom('device_credentials')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at', 'desc')
    .limit(1000);
  if (deviceId) q = q.where('device_id', '=', deviceId);
  return (await q.execute()).map(toDeviceCredential);
}

export async function findDeviceCredential(
  db: DbOrTrx,
  tenantId: string,
  id: string,
): Promise<DeviceCredential | undefined> {
  const row = await db
    .selectFrom('device_credentials')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toDeviceCredential(row);
}

/** Revokes one credential, or (with `expiresAt`) schedules it to stop working then (rotation grace). */
export async function revokeDeviceCredential(
  db: DbOrTrx,
  tenantId: string,
  id: string,
  now: number,
): Promise<void> {
  await db
    .updateTable('device_credentials')
    .set({ revoked_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function expireOtherDeviceCredentials(
  db: DbOrTrx,
  tenantId: string,
  deviceId: string,
  keepId: string,
  expiresAt: number,
): Promise<void> {
  await db
    .updateTable('device_credentials')
    .set({ expires_at: expiresAt })
    .where('tenant_id', '=', tenantId)
    .where('device_id', '=', deviceId)
    .where('id', '!=', keepId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', expiresAt)]))
    .execute();
}

export async function touchDeviceCredential(db: DbOrTrx, id: string, now: number): Promise<void> {
  await db
    .updateTable('device_credentials')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', now - 60_000)]))
    .execute();
}
