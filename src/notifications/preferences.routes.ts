import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAudit } from '../audit/audit.service.js';
import { userOf } from '../auth/auth.routes.js';
import type { Principal } from '../auth/principal.js';
import type { Services } from '../services.js';
import { presentDelivery } from './channels.presenter.js';
import { DeliveriesResponse, QuietHoursSchema, RoutingSchema, SeveritySchema } from './channels.schemas.js';
import { personalDeliveries, readPreferences, writePreferences } from './preferences.service.js';

const PreferencesSchema = Type.Object({
  email: Type.Boolean(),
  address: Type.String(),
  minSeverity: Type.String(),
  routing: RoutingSchema,
  quietHours: Type.Union([QuietHoursSchema, Type.Null()]),
});

/** A member's own alarm emails in the current tenant: what reaches them, when, and what was sent. */
export async function notificationPreferenceRoutes(
  base: FastifyInstance,
  opts: { services: Services },
): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const { db } = services.database;
  const tags = ['notifications'];
  const memberOf = (request: { principal: Principal | null }) => {
    const p = userOf(request.principal);
    return { tenantId: p.tenantId, member: { userId: p.userId, email: p.email } };
  };

  app.get(
    '/me/notification-preferences',
    {
      config: { auth: 'user', permission: 'alarms:read' },
      schema: { tags, summary: 'Your alarm emails in this tenant', response: { 200: PreferencesSchema } },
    },
    async (request) => {
      const { tenantId, member } = memberOf(request);
      return readPreferences(db, tenantId, member);
    },
  );

  app.put(
    '/me/notification-preferences',
    {
      config: { auth: 'user', permission: 'alarms:read' },
      schema: {
        tags,
        summary: 'Replace your alarm email preferences (routing and quiet hours as on channels)',
        body: Type.Object(
          {
            email: Type.Boolean(),
            minSeverity: Type.Optional(SeveritySchema),
            routing: Type.Optional(RoutingSchema),
            quietHours: Type.Optional(Type.Union([QuietHoursSchema, Type.Null()])),
          },
          { additionalProperties: false },
        ),
        response: { 200: PreferencesSchema },
      },
    },
    async (request) => {
      const { tenantId, member } = memberOf(request);
      const prefs = await writePreferences(services, tenantId, member, request.body);
      await recordAudit(services, {
        ...auditContext(request),
        action: 'notification-preferences.update',
        outcome: 'success',
        targetType: 'user',
        targetId: member.userId,
        details: { ...request.body },
      });
      return prefs;
    },
  );

  app.get(
    '/me/notification-preferences/deliveries',
    {
      config: { auth: 'user', permission: 'alarms:read' },
      schema: { tags, summary: 'Your alarm emails, newest first', response: { 200: DeliveriesResponse } },
    },
    async (request) => {
      const { tenantId, member } = memberOf(request);
      return { items: (await personalDeliveries(db, tenantId, member.userId)).map(presentDelivery) };
    },
  );
}
