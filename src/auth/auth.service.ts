import { randomBytes } from 'node:crypto';
import { recordAudit, recordAuditIn } from '../audit/audit.service.js';
import type { AuditEvent } from '../audit/audit.types.js';
import type { DbOrTrx } from '../db/database.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { findTenant } from '../tenants/tenants.repository.js';
import type { User } from '../users/user.types.js';
import {
  advanceTotpStep,
  findUserRecord,
  findUserRecordByEmail,
  listMembershipsOfUser,
  lockUserSessions,
  toUser,
  updateUser,
} from '../users/users.repository.js';
import { mfaRequiredFor } from './authenticate.js';
import { burnPasswordCheck, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import type { Role } from './permissions.js';
import type { UserPrincipal } from './principal.js';
import {
  countUnusedRecoveryCodes,
  replaceRecoveryCodes,
  useRecoveryCode,
} from './recovery-codes.repository.js';
import { revokeFamily, revokeUserSessions } from './sessions.repository.js';
import { type ClientInfo, startSession, type TokenPair } from './sessions.service.js';
import { base32Encode, newTotpSecret, otpauthUri, verifyTotp } from './totp.js';

export interface LoginInput {
  readonly email: string;
  readonly password: string;
  readonly totp?: string | undefined;
  readonly recoveryCode?: string | undefined;
  /** Tenant id or slug; default: the user's first membership. */
  readonly tenant?: string | undefined;
}

export interface LoginResult extends TokenPair {
  readonly user: User;
  readonly tenant: { id: string; slug: string; name: string; role: Role };
  readonly mfaEnrollmentRequired: boolean;
}

type Client = ClientInfo & { ip: string };

/** A signed-in user's successful change to their own account. */
function selfEvent(
  p: UserPrincipal,
  action: string,
  client: ClientInfo,
  extra: Partial<AuditEvent> = {},
): AuditEvent {
  return {
    action,
    outcome: 'success',
    tenantId: p.tenantId,
    actorType: 'user',
    actorId: p.userId,
    targetType: 'user',
    targetId: p.userId,
    ...client,
    ...extra,
  };
}

function loginAudit(client: ClientInfo, e: Omit<AuditEvent, 'ip' | 'userAgent' | 'requestId'>): AuditEvent {
  return { ...e, ip: client.ip, userAgent: client.userAgent, requestId: client.requestId };
}

/**
 * Password (+ second factor) login. Unknown emails take the same argon2 time as wrong passwords,
 * and both answer the same 401; the brute-force limiter counts failures per email+IP and per IP.
 */
export async function login(
  services: Services,
  input: LoginInput,
  client: Client,
  now = Date.now(),
): Promise<LoginResult> {
  const { db } = services.database;
  const limiter = services.identity.loginLimiter;
  const ticket = await limiter.begin(input.email, client.ip);

  const user = await findUserRecordByEmail(db, input.email);
  let passwordOk = false;
  if (user?.password_hash) passwordOk = await verifyPassword(user.password_hash, input.password);
  else await burnPasswordCheck(input.password);

  const fail = async (
    reason: string,
    code: 'INVALID_CREDENTIALS' | 'MFA_INVALID' = 'INVALID_CREDENTIALS',
  ) => {
    await recordAudit(
      services,
      loginAudit(client, {
        action: 'auth.login',
        outcome: 'failure',
        actorType: user ? 'user' : 'anonymous',
        actorId: user?.id ?? null,
        // The attempted email is evidence of an attack; it is not a credential.
        details: { reason, email: input.email.slice(0, 254) },
      }),
    );
    await limiter.failed(ticket);
    return new AppError(code);
  };

  if (!user || !passwordOk || user.status !== 'active') {
    throw await fail(!user ? 'unknown email' : !passwordOk ? 'wrong password' : 'user disabled');
  }

  if (user.totp_enabled === 1) {
    if (!input.totp && !input.recoveryCode) {
      // The password was right: say a code is needed, without counting a failure (nor resetting
      // the count, which would let code guesses alternate with resets).
      await limiter.refund(ticket);
      throw new AppError(
        'MFA_REQUIRED',
        'Send the 6-digit code from your authenticator as "totp", or a "recoveryCode"',
      );
    }
    // Second-factor guesses are limited per user too, whatever address they come from: per-IP
    // budgets alone would let someone who has the password spread code guesses over many networks.
    const secondFactor = await limiter.beginReauth(`login-2fa:${user.id}`);
    const failSecondFactor = async (reason: string) => {
      await secondFactor.settle(false).catch(() => undefined);
      return fail(reason, 'MFA_INVALID');
    };
    if (input.totp) {
      const secret = services.identity.secretBox.decryptString(user.totp_secret!, `totp:${user.id}`);
      const step = verifyTotp(secret, input.totp, now, user.totp_last_step);
      if (step === undefined || !(await advanceTotpStep(db, user.id, step)))
        throw await failSecondFactor('wrong or replayed totp');
    } else if (
      !(await useRecoveryCode(
        db,
        user.id,
        services.identity.recoveryCodeHash.candidates(normaliseRecoveryCode(input.recoveryCode!)),
        now,
      ))
    ) {
      throw await failSecondFactor('wrong or used recovery code');
    }
    await secondFactor.settle(true);
  }

  const memberships = await listMembershipsOfUser(db, user.id);
  const membership = input.tenant
    ? memberships.find((m) => m.tenantId === input.tenant || m.slug === input.tenant)
    : memberships[0];
  if (!membership) {
    throw await fail(input.tenant ? 'not a member of requested tenant' : 'no tenant membership');
  }
  const tenant = (await findTenant(db, membership.tenantId))!;
  const mfaPending = user.totp_enabled !== 1 && mfaRequiredFor(membership.role, tenant.settings);

  await limiter.succeeded(ticket);
  const pair = await db.transaction().execute(async (trx) => {
    const tokens = await startSession(
      services,
      trx,
      { userId: user.id, tenantId: membership.tenantId, mfaPending },
      client,
      now,
    );
    await recordAuditIn(
      services,
      trx,
      loginAudit(client, {
        action: 'auth.login',
        outcome: 'success',
        tenantId: membership.tenantId,
        actorType: 'user',
        actorId: user.id,
        targetType: 'session',
        targetId: tokens.sessionId,
        details: { mfa: user.totp_enabled === 1 ? (input.totp ? 'totp' : 'recovery-code') : 'none' },
      }),
    );
    return tokens;
  });
  if (input.recoveryCode) {
    services.logger.info(
      { userId: user.id, left: await countUnusedRecoveryCodes(db, user.id) },
      'recovery code used',
    );
  }
  return {
    ...pair,
    user: toUser(user),
    tenant: { id: membership.tenantId, slug: membership.slug, name: membership.name, role: membership.role },
    mfaEnrollmentRequired: mfaPending,
  };
}

export async function logout(
  services: Services,
  p: UserPrincipal,
  client: ClientInfo,
  all: boolean,
): Promise<number> {
  const { db } = services.database;
  const now = Date.now();
  return db.transaction().execute(async (trx) => {
    await lockUserSessions(trx, p.userId);
    const revoked = all
      ? await revokeUserSessions(trx, p.userId, 'logout-all', now)
      : await revokeFamily(trx, p.sessionId, 'logout', now);
    await recordAuditIn(services, trx, {
      action: all ? 'auth.logout_all' : 'auth.logout',
      outcome: 'success',
      tenantId: p.tenantId,
      actorType: 'user',
      actorId: p.userId,
      targetType: 'session',
      targetId: all ? null : p.sessionId,
      ...client,
      details: { revokedTokens: revoked },
    });
    return revoked;
  });
}

/** Requires the current password; ends every other session of the user (this one stays). */
export async function changePassword(
  services: Services,
  p: UserPrincipal,
  input: { currentPassword: string; newPassword: string },
  client: ClientInfo,
): Promise<void> {
  await reauthenticate(
    services,
    p,
    { password: input.currentPassword },
    'auth.password_change',
    client,
    '/body/currentPassword',
  );
  if (input.newPassword === input.currentPassword) {
    throw new AppError('VALIDATION_FAILED', 'The new password is the current one', {
      errors: [{ pointer: '/body/newPassword', detail: 'must differ from the current password' }],
    });
  }
  assertPasswordAcceptable(input.newPassword, p.email, '/body/newPassword');
  const hash = await hashPassword(input.newPassword);
  const now = Date.now();
  await services.database.db.transaction().execute(async (trx) => {
    await lockUserSessions(trx, p.userId);
    await updateUser(trx, p.userId, { password_hash: hash, password_changed_at: now, now });
    const revoked = await revokeUserSessions(trx, p.userId, 'password changed', now, p.sessionId);
    await recordAuditIn(
      services,
      trx,
      selfEvent(p, 'auth.password_change', client, { details: { otherSessionsRevoked: revoked } }),
    );
  });
}

export function assertPasswordAcceptable(password: string, email: string, pointer: string): void {
  const problem = passwordProblem(password, { email });
  if (problem) {
    throw new AppError('VALIDATION_FAILED', `The password ${problem}`, {
      errors: [{ pointer, detail: problem }],
    });
  }
}

// --- MFA ---

const RECOVERY_CODES = 10;

function normaliseRecoveryCode(code: string): string {
  return code.replace(/[\s-]/g, '').toLowerCase();
}

/** Replaces a user's recovery codes with fresh ones, stored as keyed digests; returns them (shown once). */
async function storeNewRecoveryCodes(
  services: Services,
  trx: DbOrTrx,
  userId: string,
  now: number,
): Promise<string[]> {
  const codes = newRecoveryCodes();
  const digests = codes.map((c) => services.identity.recoveryCodeHash.hash(normaliseRecoveryCode(c)));
  await replaceRecoveryCodes(trx, userId, digests, now);
  return codes;
}

/** 80 random bits each, base32 in four groups (`abcd-efgh-ijkl-mnop`): easy to copy, infeasible to guess. */
function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODES }, () =>
    base32Encode(randomBytes(10))
      .toLowerCase()
      .replace(/(.{4})(?=.)/g, '$1-'),
  );
}

/** Starts (or restarts) TOTP enrolment, after re-checking the password: a stolen session cannot attach its own authenticator. */
export async function enrollTotp(
  services: Services,
  p: UserPrincipal,
  password: string,
  client: ClientInfo,
): Promise<{ secret: string; otpauthUri: string }> {
  await reauthenticate(services, p, { password }, 'auth.mfa_enroll', client);
  const { db } = services.database;
  const user = (await findUserRecord(db, p.userId))!;
  if (user.totp_enabled === 1)
    throw new AppError('CONFLICT', 'Two-factor authentication is already active; disable it first');
  const secret = newTotpSecret();
  await updateUser(db, p.userId, {
    totp_secret: services.identity.secretBox.encrypt(secret, `totp:${p.userId}`),
    totp_last_step: null,
    now: Date.now(),
  });
  return { secret, otpauthUri: otpauthUri(secret, user.email) };
}

/** Confirms enrolment with a first code; returns one-time recovery codes (shown once, stored hashed). */
export async function activateTotp(
  services: Services,
  p: UserPrincipal,
  code: string,
  client: ClientInfo,
): Promise<{ recoveryCodes: string[] }> {
  const { db } = services.database;
  const user = (await findUserRecord(db, p.userId))!;
  if (user.totp_enabled === 1) throw new AppError('CONFLICT', 'Two-factor authentication is already active');
  if (!user.totp_secret) throw new AppError('CONFLICT', 'Start with POST /api/v1/auth/mfa/totp/enroll');
  const now = Date.now();
  const secret = services.identity.secretBox.decryptString(user.totp_secret, `totp:${p.userId}`);
  const step = verifyTotp(secret, code, now, user.totp_last_step);
  if (step === undefined) throw new AppError('MFA_INVALID');
  const codes = await db.transaction().execute(async (trx) => {
    await updateUser(trx, p.userId, { totp_enabled: 1, totp_last_step: step, now });
    const fresh = await storeNewRecoveryCodes(services, trx, p.userId, now);
    await recordAuditIn(services, trx, selfEvent(p, 'auth.mfa_enabled', client));
    return fresh;
  });
  return { recoveryCodes: codes };
}

/**
 * Re-checks the password (and, once MFA is active, a fresh code) of a signed-in user before a
 * security change, rate limited per user and audited when it fails: a stolen session must not
 * become a password-guessing oracle or a way to take over the second factor.
 */
async function reauthenticate(
  services: Services,
  p: UserPrincipal,
  input: { password: string; totp?: string | undefined },
  action: string,
  client: ClientInfo,
  passwordPointer = '/body/password',
): Promise<void> {
  const { db } = services.database;
  const user = (await findUserRecord(db, p.userId))!;
  const guard = await services.identity.loginLimiter.beginReauth(p.userId);
  let problem: AppError | undefined;
  if (!user.password_hash || !(await verifyPassword(user.password_hash, input.password))) {
    problem = new AppError('VALIDATION_FAILED', 'The password is wrong', {
      errors: [{ pointer: passwordPointer, detail: 'is wrong' }],
    });
  } else if (input.totp !== undefined) {
    if (user.totp_enabled !== 1 || !user.totp_secret) {
      await guard.settle(true);
      throw new AppError('CONFLICT', 'Two-factor authentication is not active');
    }
    const secret = services.identity.secretBox.decryptString(user.totp_secret, `totp:${p.userId}`);
    const step = verifyTotp(secret, input.totp, Date.now(), user.totp_last_step);
    if (step === undefined || !(await advanceTotpStep(db, p.userId, step)))
      problem = new AppError('MFA_INVALID');
  }
  if (!problem) return guard.settle(true);
  await recordAudit(
    services,
    selfEvent(p, action, client, {
      outcome: 'failure',
      details: { reason: problem.code === 'MFA_INVALID' ? 'wrong code' : 'wrong password' },
    }),
  );
  await guard.settle(false);
  throw problem;
}

export async function disableTotp(
  services: Services,
  p: UserPrincipal,
  input: { password: string; totp: string },
  client: ClientInfo,
): Promise<void> {
  await reauthenticate(services, p, input, 'auth.mfa_disabled', client);
  const { db } = services.database;
  const now = Date.now();
  await db.transaction().execute(async (trx) => {
    await updateUser(trx, p.userId, { totp_enabled: 0, totp_secret: null, totp_last_step: null, now });
    await replaceRecoveryCodes(trx, p.userId, [], now);
    await recordAuditIn(services, trx, selfEvent(p, 'auth.mfa_disabled', client, { severity: 'warning' }));
  });
}

export async function regenerateRecoveryCodes(
  services: Services,
  p: UserPrincipal,
  input: { password: string; totp: string },
  client: ClientInfo,
): Promise<{ recoveryCodes: string[] }> {
  await reauthenticate(services, p, input, 'auth.recovery_codes_regenerated', client);
  const { db } = services.database;
  const now = Date.now();
  const codes = await db.transaction().execute(async (trx) => {
    const fresh = await storeNewRecoveryCodes(services, trx, p.userId, now);
    await recordAuditIn(services, trx, selfEvent(p, 'auth.recovery_codes_regenerated', client));
    return fresh;
  });
  return { recoveryCodes: codes };
}
