import type { FastifyRequest } from 'fastify';
import { auditContext, recordAuditIn } from '../audit/audit.service.js';
import { canGrant, type Role } from '../auth/permissions.js';
import type { UserPrincipal } from '../auth/principal.js';
import { revokeTenantSessions } from '../auth/sessions.repository.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import type { Member } from './user.types.js';
import {
  countOwners,
  deleteMembership,
  findMember,
  lockUserSessions,
  setMembershipRole,
} from './users.repository.js';

/** Nobody grants or touches a role above their own: admins manage up to admin, owners everything. */
export function assertCanManageRole(actor: UserPrincipal, role: Role): void {
  if (!canGrant(actor.role, role)) {
    throw new AppError(
      'FORBIDDEN',
      `A${actor.role === 'admin' ? 'n' : ''} ${actor.role} cannot manage the ${role} role`,
    );
  }
}

export async function changeRole(
  services: Services,
  request: FastifyRequest,
  actor: UserPrincipal,
  userId: string,
  role: Role,
): Promise<Member> {
  const { db } = services.database;
  return db.transaction().execute(async (trx) => {
    const member = await findMember(trx, actor.tenantId, userId);
    if (!member) throw new AppError('NOT_FOUND', 'No such member in this tenant');
    assertCanManageRole(actor, member.role);
    assertCanManageRole(actor, role);
    if (member.role === 'owner' && role !== 'owner' && (await countOwners(trx, actor.tenantId)) <= 1) {
      throw new AppError('CONFLICT', 'A tenant keeps at least one owner; make someone else owner first');
    }
    if (member.role === role) return member;
    await lockUserSessions(trx, userId);
    const now = Date.now();
    await setMembershipRole(trx, actor.tenantId, userId, role);
    // A demoted user's live tokens carry no role (it is read per request), but end their sessions anyway.
    const revoked = await revokeTenantSessions(trx, userId, actor.tenantId, 'role changed', now);
    await recordAuditIn(services, trx, {
      ...auditContext(request),
      action: 'membership.role_change',
      outcome: 'success',
      targetType: 'user',
      targetId: userId,
      details: { from: member.role, to: role, sessionsRevoked: revoked },
    });
    return { ...member, role };
  });
}

export async function removeMember(
  services: Services,
  request: FastifyRequest,
  actor: UserPrincipal,
  userId: string,
): Promise<void> {
  const { db } = services.database;
  await db.transaction().execute(async (trx) => {
    const member = await findMember(trx, actor.tenantId, userId);
    if (!member) throw new AppError('NOT_FOUND', 'No such member in this tenant');
    assertCanManageRole(actor, member.role);
    if (member.role === 'owner' && (await countOwners(trx, actor.tenantId)) <= 1) {
      throw new AppError('CONFLICT', 'The last owner cannot be removed');
    }
    await lockUserSessions(trx, userId);
    const now = Date.now();
    await deleteMembership(trx, actor.tenantId, userId);
    const revoked = await revokeTenantSessions(trx, userId, actor.tenantId, 'membership removed', now);
    await recordAuditIn(services, trx, {
      ...auditContext(request),
      action: 'membership.delete',
      outcome: 'success',
      targetType: 'user',
      targetId: userId,
      details: { role: member.role, sessionsRevoked: revoked },
    });
  });
}
