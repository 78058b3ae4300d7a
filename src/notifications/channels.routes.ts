import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAudit } from '../audit/audit.service.js';
import { Uuid } from '../auth/auth.schemas.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { presentChannel, presentDelivery } from './channels.presenter.js';
import {
  deleteTenantChannel,
  findTenantChannel,
  listDeliveries,
  listTenantChannels,
} from './channels.repository.js';
import {
  ChannelSchema,
  DeliveriesResponse,
  QuietHoursSchema,
  RateLimitSchema,
  RoutingSchema,
  SeveritySchema,
} from './channels.schemas.js';
import { changeChannel, createChannel } from './channels.service.js';

const Name = Type.String({ minLength: 1, maxLength: 100 });
const Url = Type.String({ minLength: 8, maxLength: 2000 });

/**
 * The tenant's channels (signing secrets encrypted at rest, shown once), their routing, quiet
 * hours and rate limit, and their delivery log. Members' personal channels are not listed here:
 * each member manages theirs at /me/notification-preferences.
 */
export async function notificationChannelRoutes(
  base: FastifyInstance,
  opts: { services: Services },
): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const { db } = services.database;
  const tags = ['notifications'];
  const Params = Type.Object({ id: Uuid }, { additionalProperties: false });

  app.get(
    '/notification-channels',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: { tags, response: { 200: Type.Object({ items: Type.Array(ChannelSchema) }) } },
    },
    async (request) => ({
      items: (await listTenantChannels(db, request.principal!.tenantId)).map(presentChannel),
    }),
  );

  app.get(
    '/notification-channels/:id',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: { tags, params: Params, response: { 200: ChannelSchema } },
    },
    async (request) => {
      const channel = await findTenantChannel(db, request.principal!.tenantId, request.params.id);
      if (!channel) throw new AppError('NOT_FOUND', 'No such channel');
      return presentChannel(channel);
    },
  );

  app.post(
    '/notification-channels',
    {
      config: { auth: 'principal', permission: 'alarms:manage' },
      schema: {
        tags,
        summary: 'Add a channel; the answer holds its signing secret, shown only this once',
        body: Type.Object(
          {
            name: Name,
            type: Type.Union([
              Type.Literal('webhook'),
              Type.Literal('slack'),
              Type.Literal('teams'),
              Type.Literal('email'),
            ]),
            url: Url,
            minSeverity: Type.Optional(SeveritySchema),
            routing: Type.Optional(RoutingSchema),
            quietHours: Type.Optional(QuietHoursSchema),
            rateLimitPerMinute: Type.Optional(RateLimitSchema),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ channel: ChannelSchema, secret: Type.String() }) },
      },
    },
    async (request, reply) => {
      const audit = auditContext(request);
      const { channel, secret } = await createChannel(
        services,
        request.principal!.tenantId,
        audit.actorId ?? null,
        request.body,
      );
      await recordAudit(services, {
        ...audit,
        action: 'notification-channel.create',
        outcome: 'success',
        targetType: 'notification-channel',
        targetId: channel.id,
        details: {
          name: channel.name,
          url: channel.url,
          minSeverity: channel.minSeverity,
          routing: channel.routing,
          quietHours: channel.quietHours,
          rateLimitPerMinute: channel.rateLimitPerMinute,
        },
      });
      return reply.code(201).send({ channel: presentChannel(channel), secret });
    },
  );

  app.patch(
    '/notification-channels/:id',
    {
      config: { auth: 'principal', permission: 'alarms:manage' },
      schema: {
        tags,
        summary: 'Change a channel: name, URL, enabled, minimum severity, routing, quiet hours, rate limit',
        params: Params,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            url: Type.Optional(Url),
            enabled: Type.Optional(Type.Boolean()),
            minSeverity: Type.Optional(SeveritySchema),
            routing: Type.Optional(RoutingSchema),
            quietHours: Type.Optional(Type.Union([QuietHoursSchema, Type.Null()])),
            rateLimitPerMinute: Type.Optional(RateLimitSchema),
          },
          { additionalProperties: false },
        ),
        response: { 200: ChannelSchema },
      },
    },
    async (request) => {
      const channel = await changeChannel(
        services,
        request.principal!.tenantId,
        request.params.id,
        request.body,
      );
      await recordAudit(services, {
        ...auditContext(request),
        action: 'notification-channel.update',
        outcome: 'success',
        targetType: 'notification-channel',
        targetId: channel.id,
        details: { changed: Object.keys(request.body).sort(), ...request.body },
      });
      return presentChannel(channel);
    },
  );

  app.delete(
    '/notification-channels/:id',
    {
      config: { auth: 'principal', permission: 'alarms:manage' },
      schema: { tags, params: Params },
    },
    async (request, reply) => {
      if (!(await deleteTenantChannel(db, request.principal!.tenantId, request.params.id)))
        throw new AppError('NOT_FOUND', 'No such channel');
      await recordAudit(services, {
        ...auditContext(request),
        action: 'notification-channel.delete',
        outcome: 'success',
        targetType: 'notification-channel',
        targetId: request.params.id,
      });
      return reply.code(204).send();
    },
  );

  app.get(
    '/notification-channels/:id/deliveries',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: {
        tags,
        summary: 'The channel’s deliveries, newest first: status, note, attempts, last status and error',
        params: Params,
        response: { 200: DeliveriesResponse },
      },
    },
    async (request) => {
      const channel = await findTenantChannel(db, request.principal!.tenantId, request.params.id);
      if (!channel) throw new AppError('NOT_FOUND', 'No such channel');
      return { items: (await listDeliveries(db, channel.id)).map(presentDelivery) };
    },
  );
}
