import type { FastifyInstance } from 'fastify';
import type { Role } from '../../src/auth/permissions.js';
import type { Services } from '../../src/services.js';
import type { Tenant } from '../../src/tenants/tenant.types.js';
import { findTenant } from '../../src/tenants/tenants.repository.js';
import type { User } from '../../src/users/user.types.js';
import { createTenant, createUserInTenant } from '../../src/users/users.service.js';

export const PASSWORD = 'Correct-Horse-Battery-9';
const SYSTEM = { actorType: 'system' as const, actorId: null, ip: null, userAgent: null, requestId: null };

let counter = 0;

/** A tenant (created if missing) with a user of the given role in it. */
export async function seedUser(
  services: Services,
  opts: { tenant: string; role: Role; email?: string; password?: string; platformAdmin?: boolean },
): Promise<{ user: User; tenant: Tenant; email: string; password: string }> {
  const email = opts.email ?? `user${++counter}-${opts.role}@${opts.tenant}.example.com`;
  const password = opts.password ?? PASSWORD;
  const { db } = services.database;
  return db.transaction().execute(async (trx) => {
    const tenant =
      (await findTenant(trx, opts.tenant)) ??
      (await createTenant(services, trx, { slug: opts.tenant, name: opts.tenant }, SYSTEM));
    const { user } = await createUserInTenant(
      services,
      trx,
      { email, password, tenantId: tenant.id, role: opts.role, isPlatformAdmin: opts.platformAdmin ?? false },
      SYSTEM,
    );
    return { user, tenant, email, password };
  });
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  auth: { authorization: string };
}

export async function loginAs(
  app: FastifyInstance,
  email: string,
  password = PASSWORD,
  extra: Record<string, string> = {},
): Promise<Session> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password, ...extra },
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const body = res.json();
  return {
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    auth: { authorization: `Bearer ${body.accessToken}` },
  };
}
