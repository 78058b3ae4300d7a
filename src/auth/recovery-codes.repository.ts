import { randomUUID } from 'node:crypto';
import type { DbOrTrx } from '../db/database.js';

export async function replaceRecoveryCodes(
  db: DbOrTrx,
  userId: string,
  hashes: string[],
  now: number,
): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  if (hashes.length === 0) return;
  await db
    .insertInto('recovery_codes')
    .values(hashes.map((code_hash) => ({ id: randomUUID(), user_id: userId, code_hash, created_at: now })))
    .execute();
}

/** Uses a recovery code once; true only for the first use of an existing code of this user. */
export async function useRecoveryCode(
  db: DbOrTrx,
  userId: string,
  hashes: string[],
  now: number,
): Promise<boolean> {
  const r = await db
    .updateTable('recovery_codes')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_hash', 'in', hashes)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function countUnusedRecoveryCodes(db: DbOrTrx, userId: string): Promise<number> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
