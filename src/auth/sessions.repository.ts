import type { Selectable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { RefreshTokensTable } from '../db/schema.js';

export type RefreshTokenRecord = Selectable<RefreshTokensTable>;

export async function insertRefreshToken(
  db: DbOrTrx,
  t: Omit<RefreshTokenRecord, 'used_at' | 'revoked_at' | 'revoked_reason'>,
): Promise<void> {
  await db.insertInto('refresh_tokens').values(t).execute();
}

export async function findRefreshToken(
  db: DbOrTrx,
  tokenHash: string,
): Promise<RefreshTokenRecord | undefined> {
  return db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Marks a token used if nobody else has: the winner of two concurrent refreshes is the one that rotates. */
export async function claimRefreshToken(db: DbOrTrx, id: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('refresh_tokens')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The token that replaced `familyId`'s used token, if it is the newest one in the family. */
export async function newestInFamily(db: DbOrTrx, familyId: string): Promise<RefreshTokenRecord | undefined> {
  return db
    .selectFrom('refresh_tokens')
    .selectAll()
    .where('family_id', '=', familyId)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function revokeFamily(
  db: DbOrTrx,
  familyId: string,
  reason: string,
  now: number,
): Promise<number> {
  const r = await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Ends every session of a user, optionally keeping one (the caller's own). */
export async function revokeUserSessions(
  db: DbOrTrx,
  userId: string,
  reason: string,
  now: number,
  exceptFamilyId?: string,
): Promise<number> {
  let q = db
    .updateTable('refresh_tokens')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (exceptFamilyId) q = q.where('family_id', '!=', exceptFamilyId);
  return Number((await q.executeTakeFirst()).numUpdatedRows);
}

/** A session is live while any of its tokens is unrevoked and within both expiries. */
export async function isSessionActive(db: DbOrTrx, familyId: string, now: number): Promise<boolean> {
  const row = await db
    .selectFrom('refresh_tokens')
    .select('id')
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .where('absolute_expires_at', '>', now)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Ends a user's sessions in one tenant (membership removed or role changed). */
export async function revokeTenantSessions(
  db: DbOrTrx,
  userId: string,
  tenantId: string,
  reason: string,
  now: number,
): Promise<number> {
  const r = await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('user_id', '=', userId)
    .where('tenant_id', '=', tenantId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
