import type { Selectable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { OneTimeTokensTable } from '../db/schema.js';

export type OneTimeTokenRecord = Selectable<OneTimeTokensTable>;

export async function insertOneTimeToken(
  db: DbOrTrx,
  t: Omit<OneTimeTokenRecord, 'used_at' | 'revoked_at'>,
): Promise<void> {
  await db.insertInto('one_time_tokens').values(t).execute();
}

export async function findOneTimeToken(
  db: DbOrTrx,
  purpose: OneTimeTokenRecord['purpose'],
  tokenHash: string,
): Promise<OneTimeTokenRecord | undefined> {
  return db
    .selectFrom('one_time_tokens')
    .selectAll()
    .where('purpose', '=', purpose)
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** Single use: only the first caller gets true. */
export async function consumeOneTimeToken(db: DbOrTrx, id: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('one_time_tokens')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function revokeOneTimeTokens(
  db: DbOrTrx,
  where: { purpose: OneTimeTokenRecord['purpose']; tenantId?: string; id?: string },
  now: number,
): Promise<number> {
  let q = db
    .updateTable('one_time_tokens')
    .set({ revoked_at: now })
    .where('purpose', '=', where.purpose)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null);
  if (where.tenantId) q = q.where('tenant_id', '=', where.tenantId);
  if (where.id) q = q.where('id', '=', where.id);
  return Number((await q.executeTakeFirst()).numUpdatedRows);
}

export async function listInvitations(
  db: DbOrTrx,
  tenantId: string,
  now: number,
): Promise<OneTimeTokenRecord[]> {
  return db
    .selectFrom('one_time_tokens')
    .selectAll()
    .where('purpose', '=', 'invitation')
    .where('tenant_id', '=', tenantId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .limit(500)
    .execute();
}

export async function findInvitation(
  db: DbOrTrx,
  tenantId: string,
  id: string,
): Promise<OneTimeTokenRecord | undefined> {
  return db
    .selectFrom('one_time_tokens')
    .selectAll()
    .where('purpose', '=', 'invitation')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}
