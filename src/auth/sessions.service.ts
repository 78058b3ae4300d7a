import { randomUUID } from 'node:crypto';
import { recordAudit } from '../audit/audit.service.js';
import type { DbOrTrx } from '../db/database.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { findTenant } from '../tenants/tenants.repository.js';
import { findMembershipRole, findUserRecord, lockUserSessions } from '../users/users.repository.js';
import { mfaRequiredFor } from './authenticate.js';
import {
  claimRefreshToken,
  findRefreshToken,
  insertRefreshToken,
  newestInFamily,
  type RefreshTokenRecord,
  revokeFamily,
} from './sessions.repository.js';
import { hashToken, newOpaqueToken } from './tokens.js';

export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
  readonly tokenType: 'Bearer';
  readonly sessionId: string;
}

export interface ClientInfo {
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
}

async function issue(
  services: Services,
  db: DbOrTrx,
  s: { userId: string; tenantId: string; familyId: string; absoluteExpiresAt: number; mfaPending: boolean },
  client: ClientInfo,
  now: number,
): Promise<TokenPair> {
  const { auth } = services.config;
  const refreshToken = newOpaqueToken('refresh');
  await insertRefreshToken(db, {
    id: randomUUID(),
    family_id: s.familyId,
    user_id: s.userId,
    tenant_id: s.tenantId,
    token_hash: hashToken(refreshToken),
    created_at: now,
    idle_expires_at: Math.min(now + auth.refreshIdleTtlS * 1000, s.absoluteExpiresAt),
    absolute_expires_at: s.absoluteExpiresAt,
    ip: client.ip,
    user_agent: client.userAgent?.slice(0, 512) ?? null,
  });
  const accessToken = await services.identity.accessTokens.sign(
    { sub: s.userId, tid: s.tenantId, sid: s.familyId, ...(s.mfaPending ? { mfa: 'enroll' as const } : {}) },
    now,
  );
  return {
    accessToken,
    refreshToken,
    expiresIn: auth.accessTokenTtlS,
    tokenType: 'Bearer',
    sessionId: s.familyId,
  };
}

/** Starts a new session (refresh-token family) for a user in a tenant. */
export async function startSession(
  services: Services,
  db: DbOrTrx,
  s: { userId: string; tenantId: string; mfaPending: boolean },
  client: ClientInfo,
  now = Date.now(),
): Promise<TokenPair> {
  return issue(
    services,
    db,
    {
      ...s,
      familyId: randomUUID(),
      absoluteExpiresAt: now + services.config.auth.refreshAbsoluteTtlS * 1000,
    },
    client,
    now,
  );
}

const TOKEN_INVALID = () => new AppError('TOKEN_INVALID', 'The refresh token is invalid, expired or revoked');

/**
 * Rotates a refresh token: the presented token is used up and a new pair issued in the same
 * family. Presenting a token that was already used means it leaked (or a client misbehaves):
 * the whole family is revoked and a critical audit event written — except within a short grace
 * after its rotation, for a second browser tab refreshing at the same moment.
 */
export async function refreshSession(
  services: Services,
  presented: string,
  client: ClientInfo,
  now = Date.now(),
): Promise<TokenPair> {
  const { db } = services.database;
  const record = await findRefreshToken(db, hashToken(presented));
  if (!record) throw TOKEN_INVALID();
  if (record.revoked_at !== null || record.idle_expires_at <= now || record.absolute_expires_at <= now) {
    throw TOKEN_INVALID();
  }
  if (record.used_at !== null) return handleReuse(services, record, client, now);

  const subject = await loadSubject(db, record);
  if (!subject) {
    await revokeFamily(db, record.family_id, 'user or membership gone', now);
    throw TOKEN_INVALID();
  }
  return db.transaction().execute(async (trx) => {
    await lockUserSessions(trx, record.user_id);
    if (!(await claimRefreshToken(trx, record.id, now))) throw TOKEN_INVALID();
    return issueInFamily(services, trx, record, subject.mfaPending, client, now);
  });
}

/** The next pair of an existing session (same family, same absolute expiry). */
function issueInFamily(
  services: Services,
  db: DbOrTrx,
  record: RefreshTokenRecord,
  mfaPending: boolean,
  client: ClientInfo,
  now: number,
): Promise<TokenPair> {
  const session = {
    userId: record.user_id,
    tenantId: record.tenant_id,
    familyId: record.family_id,
    absoluteExpiresAt: record.absolute_expires_at,
    mfaPending,
  };
  return issue(services, db, session, client, now);
}

/** The session's user as it is now: undefined if disabled, deleted or no longer a member. */
async function loadSubject(
  db: DbOrTrx,
  record: RefreshTokenRecord,
): Promise<{ mfaPending: boolean } | undefined> {
  const [user, role, tenant] = await Promise.all([
    findUserRecord(db, record.user_id),
    findMembershipRole(db, record.user_id, record.tenant_id),
    findTenant(db, record.tenant_id),
  ]);
  if (user?.status !== 'active' || !role || !tenant) return undefined;
  return { mfaPending: user.totp_enabled !== 1 && mfaRequiredFor(role, tenant.settings) };
}

async function handleReuse(
  services: Services,
  record: RefreshTokenRecord,
  client: ClientInfo,
  now: number,
): Promise<TokenPair> {
  const { db } = services.database;
  const newest = await newestInFamily(db, record.family_id);
  // The immediately previous token: its successor was created in the same instant it was used.
  const immediatelyPrevious =
    newest !== undefined &&
    newest.id !== record.id &&
    newest.revoked_at === null &&
    newest.created_at === record.used_at &&
    // Only the same client (a second tab of the same browser) gets the grace; anyone else replaying is reuse.
    newest.ip === client.ip &&
    newest.user_agent === (client.userAgent?.slice(0, 512) ?? null);
  if (
    immediatelyPrevious &&
    record.used_at !== null &&
    now - record.used_at <= services.config.auth.refreshReuseGraceMs
  ) {
    // A concurrent tab refreshed with the same token a moment ago: allowed, in the same session.
    const subject = await loadSubject(db, record);
    if (!subject) throw TOKEN_INVALID();
    await recordAudit(services, {
      action: 'auth.refresh_grace',
      outcome: 'success',
      severity: 'warning',
      tenantId: record.tenant_id,
      actorType: 'user',
      actorId: record.user_id,
      targetType: 'session',
      targetId: record.family_id,
      ip: client.ip,
      userAgent: client.userAgent,
      requestId: client.requestId,
    });
    return issueInFamily(services, db, record, subject.mfaPending, client, now);
  }
  const revoked = await revokeFamily(db, record.family_id, 'refresh token reuse', now);
  await recordAudit(services, {
    action: 'auth.refresh_token_reuse',
    outcome: 'denied',
    severity: 'critical',
    tenantId: record.tenant_id,
    actorType: 'user',
    actorId: record.user_id,
    targetType: 'session',
    targetId: record.family_id,
    ip: client.ip,
    userAgent: client.userAgent,
    requestId: client.requestId,
    details: { revokedTokens: revoked },
  });
  services.logger.warn(
    { userId: record.user_id, sessionId: record.family_id },
    'refresh token reuse: session revoked',
  );
  throw TOKEN_INVALID();
}
