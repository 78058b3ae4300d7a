import type { Selectable, Updateable } from 'kysely';
import type { Role } from '../auth/permissions.js';
import type { DbOrTrx } from '../db/database.js';
import { dialectOf } from '../db/dialect.js';
import type { UsersTable } from '../db/schema.js';
import { DEFAULT_PREFERENCES, type Member, type Preferences, type User } from './user.types.js';

/** The row with its secrets, for the auth service only; everything else gets `User`. */
export type UserRecord = Selectable<UsersTable>;

export function toUser(r: UserRecord): User {
  return {
    id: r.id,
    email: r.email,
    displayName: r.display_name,
    isPlatformAdmin: r.is_platform_admin === 1,
    status: r.status,
    totpEnabled: r.totp_enabled === 1,
    createdAt: new Date(r.created_at),
  };
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function insertUser(
  db: DbOrTrx,
  u: {
    id: string;
    email: string;
    displayName: string;
    passwordHash: string | null;
    isPlatformAdmin: boolean;
    now: number;
  },
): Promise<User> {
  const row = {
    id: u.id,
    email: normaliseEmail(u.email),
    display_name: u.displayName,
    password_hash: u.passwordHash,
    is_platform_admin: u.isPlatformAdmin ? 1 : 0,
    preferences: '{}',
    password_changed_at: u.passwordHash ? u.now : null,
    created_at: u.now,
    updated_at: u.now,
  };
  await db.insertInto('users').values(row).execute();
  return toUser({ ...row, status: 'active', totp_secret: null, totp_enabled: 0, totp_last_step: null });
}

export async function findUserRecordByEmail(db: DbOrTrx, email: string): Promise<UserRecord | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', normaliseEmail(email)).executeTakeFirst();
}

export async function findUserRecord(db: DbOrTrx, id: string): Promise<UserRecord | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function countUsers(db: DbOrTrx): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function updateUser(
  db: DbOrTrx,
  id: string,
  patch: Omit<Updateable<UsersTable>, 'id' | 'email' | 'created_at' | 'updated_at' | 'is_platform_admin'> & {
    now: number;
  },
): Promise<void> {
  const { now, ...set } = patch;
  await db
    .updateTable('users')
    .set({ ...set, updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** Records a used TOTP step only if it is newer than the last one: two concurrent logins cannot both use a code. */
export async function advanceTotpStep(db: DbOrTrx, id: string, step: number): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function parsePreferences(text: string): Preferences {
  const stored = JSON.parse(text) as Partial<Preferences>;
  return {
    ...DEFAULT_PREFERENCES,
    ...stored,
    notifications: { ...DEFAULT_PREFERENCES.notifications, ...stored.notifications },
  };
}

// --- memberships ---

export async function insertMembership(
  db: DbOrTrx,
  m: { userId: string; tenantId: string; role: Role; now: number },
): Promise<void> {
  await db
    .insertInto('memberships')
    .values({ user_id: m.userId, tenant_id: m.tenantId, role: m.role, created_at: m.now })
    .execute();
}

export async function findMembershipRole(
  db: DbOrTrx,
  userId: string,
  tenantId: string,
): Promise<Role | undefined> {
  const row = await db
    .selectFrom('memberships')
    .select('role')
    .where('user_id', '=', userId)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return row?.role as Role | undefined;
}

/** Tenants a user belongs to, oldest membership first (the default tenant at login). */
export async function listMembershipsOfUser(
  db: DbOrTrx,
  userId: string,
): Promise<{ tenantId: string; slug: string; name: string; role: Role }[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('tenants', 'tenants.id', 'memberships.tenant_id')
    .select(['tenants.id as tenantId', 'tenants.slug', 'tenants.name', 'memberships.role'])
    .where('memberships.user_id', '=', userId)
    .orderBy('memberships.created_at')
    .orderBy('tenants.slug')
    .execute();
  return rows.map((r) => ({ ...r, role: r.role as Role }));
}

/** The tenant's active members by display name: id, name and role only. */
export async function listDirectory(
  db: DbOrTrx,
  tenantId: string,
  limit: number,
): Promise<{ id: string; displayName: string; role: Role }[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'users.display_name', 'memberships.role'])
    .where('memberships.tenant_id', '=', tenantId)
    .where('users.status', '=', 'active')
    .orderBy('users.display_name')
    .orderBy('users.id')
    .limit(limit)
    .execute();
  // The database's collation orders differently per server; people read names in their locale.
  return rows
    .map((r) => ({ id: r.id, displayName: r.display_name, role: r.role as Role }))
    .sort((a, b) => a.displayName.localeCompare(b.displayName) || (a.id < b.id ? -1 : 1));
}

export async function listMembers(
  db: DbOrTrx,
  tenantId: string,
  page: { afterEmail?: string | undefined; limit: number },
): Promise<Member[]> {
  let q = db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .selectAll('users')
    .select(['memberships.role', 'memberships.created_at as joined_at'])
    .where('memberships.tenant_id', '=', tenantId)
    .orderBy('users.email')
    .limit(page.limit);
  if (page.afterEmail) q = q.where('users.email', '>', page.afterEmail);
  const rows = await q.execute();
  return rows.map((r) => ({ ...toUser(r), role: r.role as Role, joinedAt: new Date(r.joined_at) }));
}

export async function findMember(db: DbOrTrx, tenantId: string, userId: string): Promise<Member | undefined> {
  const r = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .selectAll('users')
    .select(['memberships.role', 'memberships.created_at as joined_at'])
    .where('memberships.tenant_id', '=', tenantId)
    .where('memberships.user_id', '=', userId)
    .executeTakeFirst();
  return r && { ...toUser(r), role: r.role as Role, joinedAt: new Date(r.joined_at) };
}

export async function setMembershipRole(
  db: DbOrTrx,
  tenantId: string,
  userId: string,
  role: Role,
): Promise<void> {
  await db
    .updateTable('memberships')
    .set({ role })
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .execute();
}

export async function deleteMembership(db: DbOrTrx, tenantId: string, userId: string): Promise<void> {
  await db
    .deleteFrom('memberships')
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .execute();
}

export async function countOwners(db: DbOrTrx, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenant_id', '=', tenantId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Serialises session changes of one user on PostgreSQL (a no-op on SQLite, whose single writer
 * already does): a refresh that inserts a new token and a concurrent "revoke all sessions" must
 * not interleave, or the new token would escape the revocation under READ COMMITTED.
 */
export async function lockUserSessions(trx: DbOrTrx, userId: string): Promise<void> {
  if (dialectOf(trx) !== 'postgres') return;
  await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
}
