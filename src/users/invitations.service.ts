import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { auditContext, recordAudit, recordAuditIn } from '../audit/audit.service.js';
import { assertPasswordAcceptable } from '../auth/auth.service.js';
import {
  consumeOneTimeToken,
  findInvitation,
  findOneTimeToken,
  insertOneTimeToken,
  revokeOneTimeTokens,
} from '../auth/one-time-tokens.repository.js';
import { canGrant, isRole, type Role, roleHas } from '../auth/permissions.js';
import type { UserPrincipal } from '../auth/principal.js';
import { hashToken, newOpaqueToken } from '../auth/tokens.js';
import { clientInfo } from '../http/client-info.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { assertCanManageRole } from './members.service.js';
import type { User } from './user.types.js';
import {
  findMembershipRole,
  findUserRecord,
  findUserRecordByEmail,
  normaliseEmail,
} from './users.repository.js';
import { createUserInTenant } from './users.service.js';

const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

export interface Invitation {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly invitedBy: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** Where the invitee sets a password; the token rides in the fragment, which browsers never send to servers. */
export function invitationLink(services: Services, token: string, fallbackBase: string): string {
  return `${services.config.auth.publicUrl ?? fallbackBase}/invite#token=${token}`;
}

export async function createInvitation(
  services: Services,
  request: FastifyRequest,
  actor: UserPrincipal,
  input: { email: string; role: Role },
): Promise<{ invitation: Invitation; token: string }> {
  assertCanManageRole(actor, input.role);
  const { db } = services.database;
  const email = normaliseEmail(input.email);
  const existing = await findUserRecordByEmail(db, email);
  if (existing && (await findMembershipRole(db, existing.id, actor.tenantId))) {
    throw new AppError('CONFLICT', `${email} is already a member of this tenant`);
  }
  const token = newOpaqueToken('oneTime');
  const now = Date.now();
  const id = randomUUID();
  await db.transaction().execute(async (trx) => {
    await insertOneTimeToken(trx, {
      id,
      purpose: 'invitation',
      token_hash: hashToken(token),
      tenant_id: actor.tenantId,
      email,
      role: input.role,
      created_by: actor.userId,
      created_at: now,
      expires_at: now + INVITATION_TTL_MS,
    });
    await recordAuditIn(services, trx, {
      ...auditContext(request),
      action: 'invitation.create',
      outcome: 'success',
      targetType: 'invitation',
      targetId: id,
      details: { email, role: input.role },
    });
  });
  return {
    invitation: {
      id,
      email,
      role: input.role,
      invitedBy: actor.userId,
      createdAt: new Date(now),
      expiresAt: new Date(now + INVITATION_TTL_MS),
    },
    token,
  };
}

export async function revokeInvitation(
  services: Services,
  request: FastifyRequest,
  actor: UserPrincipal,
  id: string,
): Promise<void> {
  const { db } = services.database;
  const inv = await findInvitation(db, actor.tenantId, id);
  if (!inv) throw new AppError('NOT_FOUND', 'No such invitation');
  await db.transaction().execute(async (trx) => {
    await revokeOneTimeTokens(trx, { purpose: 'invitation', tenantId: actor.tenantId, id }, Date.now());
    await recordAuditIn(services, trx, {
      ...auditContext(request),
      action: 'invitation.revoke',
      outcome: 'success',
      targetType: 'invitation',
      targetId: id,
    });
  });
}

async function liveInvitation(services: Services, request: FastifyRequest, token: string) {
  const now = Date.now();
  const record = await findOneTimeToken(services.database.db, 'invitation', hashToken(token));
  if (
    !record ||
    record.used_at !== null ||
    record.revoked_at !== null ||
    record.expires_at <= now ||
    !isRole(record.role) ||
    !record.tenant_id ||
    !record.email
  ) {
    await recordAudit(services, {
      actorType: 'anonymous',
      ...clientInfo(request),
      action: 'invitation.accept',
      outcome: 'failure',
      tenantId: record?.tenant_id ?? null,
      targetType: 'invitation',
      targetId: record?.id ?? null,
      details: { reason: record ? 'expired, revoked or used' : 'unknown token' },
    });
    throw new AppError('GONE', 'This invitation is invalid, expired, revoked or already used');
  }
  // The invitation is only as good as its inviter's standing now: removed, disabled or demoted
  // inviters' pending invitations stop working.
  if (record.created_by !== null) {
    const [inviterRole, inviter] = await Promise.all([
      findMembershipRole(services.database.db, record.created_by, record.tenant_id),
      findUserRecord(services.database.db, record.created_by),
    ]);
    if (
      !inviterRole ||
      inviter?.status !== 'active' ||
      !roleHas(inviterRole, 'users:manage') ||
      !canGrant(inviterRole, record.role)
    ) {
      throw new AppError(
        'GONE',
        'This invitation is no longer valid: whoever sent it can no longer grant this role',
      );
    }
  }
  return { ...record, role: record.role, tenantId: record.tenant_id, email: record.email };
}

async function join(
  services: Services,
  request: FastifyRequest,
  invitation: Awaited<ReturnType<typeof liveInvitation>>,
  input: { password: string | null; displayName?: string | undefined; existing: boolean },
): Promise<{ user: User; tenantId: string; role: Role }> {
  const { db } = services.database;
  const { role, tenantId } = invitation;
  return db.transaction().execute(async (trx) => {
    if (!(await consumeOneTimeToken(trx, invitation.id, Date.now()))) throw new AppError('GONE');
    const actor = { actorType: 'anonymous' as const, actorId: null, ...clientInfo(request) };
    const { user } = await createUserInTenant(
      services,
      trx,
      { email: invitation.email, password: input.password, displayName: input.displayName, tenantId, role },
      actor,
      { existing: input.existing ? 'add-membership' : 'refuse' },
    );
    await recordAuditIn(services, trx, {
      ...actor,
      actorType: 'user',
      actorId: user.id,
      action: 'invitation.accept',
      outcome: 'success',
      tenantId,
      targetType: 'invitation',
      targetId: invitation.id,
      details: { role, existingAccount: input.existing },
    });
    return { user, tenantId, role };
  });
}

/**
 * A new person accepts an invitation by choosing a password. The token works once and only
 * before it expires. If the email already has an account, its owner must log in and accept from
 * it ({@link acceptInvitationAsUser}): a password is never checked here, so the link cannot be
 * used to guess one.
 */
export async function acceptInvitation(
  services: Services,
  request: FastifyRequest,
  input: { token: string; password: string; displayName?: string | undefined },
): Promise<{ user: User; tenantId: string; role: Role }> {
  const invitation = await liveInvitation(services, request, input.token);
  if (await findUserRecordByEmail(services.database.db, invitation.email)) {
    throw new AppError(
      'CONFLICT',
      'This email already has a Vigil account: log in with it and accept with POST /api/v1/auth/invitations/accept-as-me',
    );
  }
  assertPasswordAcceptable(input.password, invitation.email, '/body/password');
  return join(services, request, invitation, {
    password: input.password,
    displayName: input.displayName,
    existing: false,
  });
}

/** A logged-in user accepts an invitation addressed to their own email. */
export async function acceptInvitationAsUser(
  services: Services,
  request: FastifyRequest,
  principal: UserPrincipal,
  token: string,
): Promise<{ user: User; tenantId: string; role: Role }> {
  const invitation = await liveInvitation(services, request, token);
  if (normaliseEmail(principal.email) !== invitation.email) {
    throw new AppError('FORBIDDEN', 'This invitation is addressed to another email');
  }
  return join(services, request, invitation, { password: null, existing: true });
}
