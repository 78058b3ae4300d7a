import type { FastifyInstance } from 'fastify';
import { alarmRoutes } from '../alarms/alarms.routes.js';
import { PERMISSIONS } from '../auth/permissions.js';
import { AppError } from '../http/errors/catalogue.js';
import { notificationChannelRoutes } from '../notifications/channels.routes.js';
import type { Services } from '../services.js';
import { PLATFORM_TENANT_ID } from '../tenants/platform-tenant.js';

/**
 * The platform tenant's alarms and notification channels, for platform administrators: the very
 * routes tenants use for theirs (`/alarms…`, `/notification-channels…`), mounted under
 * `/api/v1/monitoring/platform` and acting on the platform tenant. Each route mounted here is
 * made platform-admin only (its tenant permission no longer applies), and the caller acts as the
 * platform tenant's owner for the request — audited under their own user id. Nobody else can act
 * in that tenant: it has no members, so no session or API key is ever scoped to it.
 */
export async function platformRoutes(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  app.addHook('onRoute', (route) => {
    // In place: the auth plugin's route table holds this same object.
    const config = route.config as { platformAdmin?: boolean; permission?: string } | undefined;
    if (!config) return;
    config.platformAdmin = true;
    delete config.permission;
  });
  // Runs after authentication (a hook of the root context), which already refused non-admins.
  app.addHook('onRequest', async (request) => {
    const p = request.principal;
    if (p?.kind !== 'user' || !p.isPlatformAdmin)
      throw new AppError('FORBIDDEN', 'Only platform administrators can do this');
    request.principal = {
      ...p,
      tenantId: PLATFORM_TENANT_ID,
      role: 'owner',
      permissions: new Set(PERMISSIONS),
    };
  });
  await app.register(alarmRoutes, { services: opts.services });
  await app.register(notificationChannelRoutes, { services: opts.services });
}
