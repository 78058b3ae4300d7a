import type { Selectable } from 'kysely';
import { isPermission, type Permission } from '../auth/permissions.js';
import type { DbOrTrx } from '../db/database.js';
import type { ApiKeysTable } from '../db/schema.js';
import { dateOrNull } from '../db/time.js';

export interface ApiKey {
  readonly id: string;
  readonly name: string;
  /** First characters of the key, to recognise it in lists; the key itself is never stored. */
  readonly prefix: string;
  readonly permissions: readonly Permission[];
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

export function toApiKey(r: Selectable<ApiKeysTable>): ApiKey {
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    permissions: (JSON.parse(r.permissions) as unknown[]).filter(isPermission),
    createdBy: r.created_by,
    createdAt: new Date(r.created_at),
    expiresAt: dateOrNull(r.expires_at),
    lastUsedAt: dateOrNull(r.last_used_at),
    revokedAt: dateOrNull(r.revoked_at),
  };
}

export async function insertApiKey(
  db: DbOrTrx,
  k: {
    id: string;
    tenantId: string;
    name: string;
    prefix: string;
    keyHash: string;
    permissions: readonly Permission[];
    createdBy: string | null;
    expiresAt: number | null;
    now: number;
  },
): Promise<ApiKey> {
  const row = {
    id: k.id,
    tenant_id: k.tenantId,
    name: k.name,
    prefix: k.prefix,
    key_hash: k.keyHash,
    permissions: JSON.stringify(k.permissions),
    created_by: k.createdBy,
    created_at: k.now,
    expires_at: k.expiresAt,
    last_used_at: null,
    revoked_at: null,
  };
  await db.insertInto('api_keys').values(row).execute();
  return toApiKey(row);
}

export async function findApiKeyByHash(
  db: DbOrTrx,
  keyHash: string,
): Promise<Selectable<ApiKeysTable> | undefined> {
  return db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
}

export async function listApiKeys(db: DbOrTrx, tenantId: string): Promise<ApiKey[]> {
  const rows = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at', 'desc')
    .limit(1000)
    .execute();
  return rows.map(toApiKey);
}

export async function findApiKey(db: DbOrTrx, tenantId: string, id: string): Promise<ApiKey | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toApiKey(row);
}

export async function revokeApiKey(db: DbOrTrx, tenantId: string, id: string, now: number): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Records use at most once a minute per key, so authenticated traffic does not write on every request. */
export async function touchApiKey(db: DbOrTrx, id: string, now: number): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', now - 60_000)]))
    .execute();
}
