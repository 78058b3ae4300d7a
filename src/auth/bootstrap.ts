import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { recordAuditIn } from '../audit/audit.service.js';
import { clientInfo } from '../http/client-info.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import type { User } from '../users/user.types.js';
import { countUsers } from '../users/users.repository.js';
import { createTenant, createUserInTenant } from '../users/users.service.js';
import {
  consumeOneTimeToken,
  findOneTimeToken,
  insertOneTimeToken,
  revokeOneTimeTokens,
} from './one-time-tokens.repository.js';
import { hashToken, newOpaqueToken } from './tokens.js';

const BOOTSTRAP_TTL_MS = 3600 * 1000;

/** File in DATA_DIR (mode 0600) holding the current one-time setup link. */
export const SETUP_LINK_FILE = 'setup-link.txt';

/**
 * With no users at all, there are no default accounts to log in with: each start issues a fresh
 * one-time bootstrap link (valid one hour; earlier ones are revoked) for creating the first
 * platform administrator and tenant. Returns the link, or undefined once any user exists.
 */
export async function issueBootstrapLinkIfEmpty(
  services: Services,
  baseUrl: string,
): Promise<string | undefined> {
  const { db } = services.database;
  if ((await countUsers(db)) > 0) return undefined;
  const token = newOpaqueToken('oneTime');
  const now = Date.now();
  await db.transaction().execute(async (trx) => {
    await revokeOneTimeTokens(trx, { purpose: 'bootstrap' }, now);
    await insertOneTimeToken(trx, {
      id: randomUUID(),
      purpose: 'bootstrap',
      token_hash: hashToken(token),
      tenant_id: null,
      email: null,
      role: null,
      created_by: null,
      created_at: now,
      expires_at: now + BOOTSTRAP_TTL_MS,
    });
  });
  // The token travels in the fragment: browsers never send it to a server or put it in logs.
  return `${services.config.auth.publicUrl ?? baseUrl}/setup#token=${token}`;
}

export async function completeBootstrap(
  services: Services,
  request: FastifyRequest,
  input: {
    token: string;
    email: string;
    password: string;
    displayName?: string | undefined;
    tenantSlug: string;
    tenantName: string;
  },
): Promise<{ user: User; tenantId: string }> {
  const { db } = services.database;
  const now = Date.now();
  const record = await findOneTimeToken(db, 'bootstrap', hashToken(input.token));
  if (!record || record.used_at !== null || record.revoked_at !== null || record.expires_at <= now) {
    throw new AppError(
      'GONE',
      'This setup link is invalid, expired or already used; restart Vigil for a new one',
    );
  }
  const actor = { actorType: 'anonymous' as const, actorId: null, ...clientInfo(request) };
  return db.transaction().execute(async (trx) => {
    if ((await countUsers(trx)) > 0 || !(await consumeOneTimeToken(trx, record.id, now))) {
      throw new AppError('GONE', 'Setup was already completed');
    }
    const tenant = await createTenant(
      services,
      trx,
      { slug: input.tenantSlug, name: input.tenantName },
      actor,
    );
    const { user } = await createUserInTenant(
      services,
      trx,
      {
        email: input.email,
        password: input.password,
        displayName: input.displayName,
        tenantId: tenant.id,
        role: 'owner',
        isPlatformAdmin: true,
      },
      actor,
    );
    await recordAuditIn(services, trx, {
      ...actor,
      actorType: 'user',
      actorId: user.id,
      action: 'platform.bootstrap',
      outcome: 'success',
      severity: 'warning',
      tenantId: tenant.id,
      targetType: 'user',
      targetId: user.id,
    });
    return { user, tenantId: tenant.id };
  });
}
