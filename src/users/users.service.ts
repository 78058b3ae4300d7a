import { randomUUID } from 'node:crypto';
import { recordAuditIn } from '../audit/audit.service.js';
import type { AuditEvent } from '../audit/audit.types.js';
import { assertPasswordAcceptable } from '../auth/auth.service.js';
import { hashPassword } from '../auth/passwords.js';
import type { Role } from '../auth/permissions.js';
import type { DbOrTrx } from '../db/database.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { isPlatformTenant } from '../tenants/platform-tenant.js';
import type { Tenant } from '../tenants/tenant.types.js';
import { findTenant, insertTenant } from '../tenants/tenants.repository.js';
import type { User } from './user.types.js';
import {
  findMembershipRole,
  findUserRecordByEmail,
  insertMembership,
  insertUser,
  normaliseEmail,
} from './users.repository.js';

export const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export async function createTenant(
  services: Services,
  trx: DbOrTrx,
  input: { slug: string; name: string },
  actor: Pick<AuditEvent, 'actorType' | 'actorId' | 'ip' | 'userAgent' | 'requestId'>,
): Promise<Tenant> {
  if (!SLUG.test(input.slug)) {
    throw new AppError('VALIDATION_FAILED', 'Invalid tenant slug', {
      errors: [
        {
          pointer: '/body/slug',
          detail: 'must be 1-63 lowercase letters, digits or dashes, not starting or ending with a dash',
        },
      ],
    });
  }
  if (isPlatformTenant(input.slug)) {
    throw new AppError('VALIDATION_FAILED', 'Reserved tenant slug', {
      errors: [{ pointer: '/body/slug', detail: `"${input.slug}" is reserved for Vigil's own alarms` }],
    });
  }
  if (await findTenant(trx, input.slug))
    throw new AppError('CONFLICT', `Tenant ${input.slug} already exists`);
  const tenant = await insertTenant(trx, {
    id: randomUUID(),
    slug: input.slug,
    name: input.name,
    now: Date.now(),
  });
  await recordAuditIn(services, trx, {
    ...actor,
    action: 'tenant.create',
    outcome: 'success',
    tenantId: tenant.id,
    targetType: 'tenant',
    targetId: tenant.id,
    details: { slug: tenant.slug },
  });
  return tenant;
}

/**
 * Creates a user with a password (policy-checked, argon2id) and a membership, or adds the
 * membership to an existing user of that email. Runs inside the caller's transaction.
 */
export async function createUserInTenant(
  services: Services,
  trx: DbOrTrx,
  input: {
    email: string;
    password: string | null;
    displayName?: string | undefined;
    tenantId: string;
    role: Role;
    isPlatformAdmin?: boolean;
  },
  actor: Pick<AuditEvent, 'actorType' | 'actorId' | 'ip' | 'userAgent' | 'requestId'>,
  opts: {
    /**
     * `refuse` unless the caller has proved the person owns the existing account (logged in as
     * it) or an operator asked for it explicitly: adding a membership to somebody else's
     * account by email alone would hand a tenant to whoever registered that email first.
     */
    existing: 'refuse' | 'add-membership';
  } = { existing: 'refuse' },
): Promise<{ user: User; created: boolean }> {
  // Nobody is a member of the platform tenant: platform admins reach its alarms through the monitoring API.
  if (isPlatformTenant(input.tenantId))
    throw new AppError('FORBIDDEN', 'The platform tenant has no members; use /api/v1/monitoring/platform');
  const now = Date.now();
  const existing = await findUserRecordByEmail(trx, input.email);
  let user: User;
  let created = false;
  if (existing && opts.existing === 'refuse') {
    throw new AppError('CONFLICT', `${normaliseEmail(input.email)} already has an account`);
  }
  if (existing) {
    if (await findMembershipRole(trx, existing.id, input.tenantId)) {
      throw new AppError('CONFLICT', `${input.email} is already a member of this tenant`);
    }
    user = {
      id: existing.id,
      email: existing.email,
      displayName: existing.display_name,
      isPlatformAdmin: existing.is_platform_admin === 1,
      status: existing.status,
      totpEnabled: existing.totp_enabled === 1,
      createdAt: new Date(existing.created_at),
    };
  } else {
    if (input.password !== null) assertPasswordAcceptable(input.password, input.email, '/body/password');
    user = await insertUser(trx, {
      id: randomUUID(),
      email: input.email,
      displayName: input.displayName ?? '',
      passwordHash: input.password === null ? null : await hashPassword(input.password),
      isPlatformAdmin: input.isPlatformAdmin ?? false,
      now,
    });
    created = true;
    await recordAuditIn(services, trx, {
      ...actor,
      action: 'user.create',
      outcome: 'success',
      tenantId: input.tenantId,
      targetType: 'user',
      targetId: user.id,
      details: { email: user.email, platformAdmin: user.isPlatformAdmin },
    });
  }
  await insertMembership(trx, { userId: user.id, tenantId: input.tenantId, role: input.role, now });
  await recordAuditIn(services, trx, {
    ...actor,
    action: 'membership.create',
    outcome: 'success',
    tenantId: input.tenantId,
    targetType: 'user',
    targetId: user.id,
    details: { role: input.role },
  });
  return { user, created };
}
