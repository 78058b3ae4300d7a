import { findApiKeyByHash, touchApiKey } from '../api-keys/api-keys.repository.js';
import {
  findDeviceCredentialByHash,
  touchDeviceCredential,
} from '../devices/device-credentials.repository.js';
import { certificateHash } from '../devices/device-credentials.service.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { findTenant } from '../tenants/tenants.repository.js';
import { findMembershipRole, findUserRecord } from '../users/users.repository.js';
import { isPermission, ROLE_PERMISSIONS, type Role } from './permissions.js';
import type { Principal } from './principal.js';
import { isSessionActive } from './sessions.repository.js';
import { hashToken, TOKEN_PREFIX, TokenError } from './tokens.js';

const invalid = (why: string) =>
  new AppError('TOKEN_INVALID', undefined, { fields: {}, cause: new Error(why) });

/** Whether the tenant makes this role enrol in MFA before doing anything else. */
export function mfaRequiredFor(role: Role, settings: { requireMfaForAdmins: boolean }): boolean {
  return settings.requireMfaForAdmins && (role === 'owner' || role === 'admin');
}

/**
 * A person's access token: valid signature and claims, an active user, a membership in the
 * token's tenant, and a live session (so logout and password changes take effect immediately,
 * not when the token expires).
 */
export async function authenticateAccessToken(
  services: Services,
  token: string,
  now = Date.now(),
): Promise<Principal> {
  let claims: Awaited<ReturnType<Services['identity']['accessTokens']['verify']>>;
  try {
    claims = await services.identity.accessTokens.verify(token, now);
  } catch (err) {
    throw invalid(err instanceof TokenError ? err.message : 'invalid');
  }
  const { db } = services.database;
  const [user, role, sessionActive, tenant] = await Promise.all([
    findUserRecord(db, claims.sub),
    findMembershipRole(db, claims.sub, claims.tid),
    isSessionActive(db, claims.sid, now),
    findTenant(db, claims.tid),
  ]);
  if (user?.status !== 'active') throw invalid('user missing or disabled');
  if (!role || !tenant) throw invalid('no membership in tenant');
  if (!sessionActive) throw invalid('session ended');
  return {
    kind: 'user',
    userId: user.id,
    email: user.email,
    tenantId: claims.tid,
    role,
    permissions: ROLE_PERMISSIONS[role],
    sessionId: claims.sid,
    isPlatformAdmin: user.is_platform_admin === 1,
    mfaPending: user.totp_enabled !== 1 && mfaRequiredFor(role, tenant.settings),
  };
}

/**
 * An integration's API key (`vgl_…`): known, not revoked, not expired. It acts with its own
 * permissions, bounded by what its creator may still do: a key does not outlive its creator's
 * membership, nor keep permissions the creator has lost by a role change.
 */
export async function authenticateApiKey(
  services: Services,
  key: string,
  now = Date.now(),
): Promise<Principal> {
  const { db } = services.database;
  const row = await findApiKeyByHash(db, hashToken(key));
  if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) {
    throw invalid('api key unknown, revoked or expired');
  }
  const declared = (JSON.parse(row.permissions) as unknown[]).filter(isPermission);
  // Fail closed: a key with no creator to bound it is not honoured.
  if (row.created_by === null) throw invalid('api key without a creator');
  const [creatorRole, creator] = await Promise.all([
    findMembershipRole(db, row.created_by, row.tenant_id),
    findUserRecord(db, row.created_by),
  ]);
  if (!creatorRole || creator?.status !== 'active')
    throw invalid('api key creator no longer a member or disabled');
  const permissions = declared.filter((p) => ROLE_PERMISSIONS[creatorRole].has(p));
  // Only write when the recorded use is stale: a write per request would contend for the
  // database's write lock with ingestion's group commits (and the answer is the same).
  if (isStale(row.last_used_at, now)) await touchApiKey(db, row.id, now);
  return { kind: 'api-key', apiKeyId: row.id, tenantId: row.tenant_id, permissions: new Set(permissions) };
}

/**
 * A device's credential (`vdt_…`). Exported for every gateway (HTTP `Authorization: Device`, MQTT
 * password, TCP handshake) so all transports verify devices the same way.
 */
export async function authenticateDeviceToken(
  services: Services,
  token: string,
  now = Date.now(),
): Promise<Principal> {
  if (!token.startsWith(TOKEN_PREFIX.device)) throw invalid('not a device token');
  return deviceByCredentialHash(services, hashToken(token), now, 'device credential');
}

/** The device whose stored credential has this hash: known, not revoked, not expired. */
async function deviceByCredentialHash(
  services: Services,
  hash: string,
  now: number,
  what: string,
): Promise<Principal> {
  const { db } = services.database;
  const row = await findDeviceCredentialByHash(db, hash);
  if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) {
    throw invalid(`${what} unknown, revoked or expired`);
  }
  if (isStale(row.last_used_at, now)) await touchDeviceCredential(db, row.id, now);
  return { kind: 'device', credentialId: row.id, deviceId: row.device_id, tenantId: row.tenant_id };
}

/** Last-use times are kept to the minute (the repositories' touch functions apply the same rule). */
function isStale(lastUsedAt: number | null, now: number): boolean {
  return lastUsedAt === null || Number(lastUsedAt) < now - 60_000;
}

/**
 * A device's client certificate (MQTT over TLS), by the SHA-256 fingerprint registered as one of
 * its credentials: known, not revoked, not expired. The TLS layer has already checked the chain.
 */
export async function authenticateDeviceCertificate(
  services: Services,
  fingerprintHex: string,
  now = Date.now(),
): Promise<Principal> {
  return deviceByCredentialHash(services, certificateHash(fingerprintHex), now, 'device certificate');
}
