import { randomBytes, randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAudit } from '../audit/audit.service.js';
import { Uuid } from '../auth/auth.schemas.js';
import { AppError } from '../http/errors/catalogue.js';
import { IpSet } from '../security/guard/ip-rules.js';
import type { Services } from '../services.js';
import { mailRecipients } from './email.js';
import { assertPublicTarget, TargetRefused } from './ssrf.js';

const Severity = Type.Union([
  Type.Literal('info'),
  Type.Literal('warning'),
  Type.Literal('minor'),
  Type.Literal('major'),
  Type.Literal('critical'),
]);
const ChannelSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  url: Type.String(),
  minSeverity: Type.String(),
  enabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});
const DeliverySchema = Type.Object({
  id: Type.Integer(),
  alarmId: Type.String(),
  event: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  lastStatus: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  nextAttemptAt: Type.String({ format: 'date-time' }),
  createdAt: Type.String({ format: 'date-time' }),
  deliveredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

interface ChannelRow {
  id: string;
  name: string;
  type: string;
  url: string;
  min_severity: string;
  enabled: number;
  created_at: number | string;
}
const present = (c: ChannelRow) => ({
  id: c.id,
  name: c.name,
  type: c.type,
  url: c.url,
  minSeverity: c.min_severity,
  enabled: Number(c.enabled) === 1,
  createdAt: new Date(Number(c.created_at)).toISOString(),
});

/** Webhook channels (signing secrets encrypted at rest, shown once) and their delivery log. */
export async function notificationChannelRoutes(
  base: FastifyInstance,
  opts: { services: Services },
): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const { db } = services.database;
  const tags = ['notifications'];
  const allowed = new IpSet(services.config.notifications.allowedPrivate);
  const Params = Type.Object({ id: Uuid }, { additionalProperties: false });
  const columns = ['id', 'name', 'type', 'url', 'min_severity', 'enabled', 'created_at'] as const;

  app.get(
    '/notification-channels',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: { tags, response: { 200: Type.Object({ items: Type.Array(ChannelSchema) }) } },
    },
    async (request) => {
      const rows = await db
        .selectFrom('notification_channels')
        .select(columns)
        .where('tenant_id', '=', request.principal!.tenantId)
        .orderBy('created_at')
        .limit(500)
        .execute();
      return { items: rows.map(present) };
    },
  );

  app.post(
    '/notification-channels',
    {
      config: { auth: 'principal', permission: 'alarms:manage' },
      schema: {
        tags,
        summary: 'Add a webhook channel; the answer holds its signing secret, shown only this once',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            type: Type.Union([
              Type.Literal('webhook'),
              Type.Literal('slack'),
              Type.Literal('teams'),
              Type.Literal('email'),
            ]),
            url: Type.String({ minLength: 8, maxLength: 2000 }),
            minSeverity: Type.Optional(Severity),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ channel: ChannelSchema, secret: Type.String() }) },
      },
    },
    async (request, reply) => {
      const tenantId = request.principal!.tenantId;
      const b = request.body;
      try {
        if (b.type === 'email') {
          if (!mailRecipients(b.url))
            throw new TargetRefused('an email channel needs mailto: with valid addresses');
          if (!services.config.notifications.smtpUrl)
            throw new TargetRefused('email channels need an SMTP server (SMTP_URL)');
        } else await assertPublicTarget(b.url, allowed);
      } catch (err) {
        if (!(err instanceof TargetRefused)) throw err;
        throw new AppError('VALIDATION_FAILED', 'The webhook URL is refused', {
          errors: [{ pointer: '/body/url', detail: err.message }],
        });
      }
      const secret = randomBytes(32).toString('base64url');
      const row = {
        id: randomUUID(),
        tenant_id: tenantId,
        name: b.name,
        type: b.type,
        url: b.url,
        secret: services.identity.secretBox.encrypt(secret, `channel:${tenantId}`),
        min_severity: b.minSeverity ?? 'warning',
        enabled: 1,
        created_by: auditContext(request).actorId ?? null,
        created_at: Date.now(),
      };
      await db.insertInto('notification_channels').values(row).execute();
      await recordAudit(services, {
        ...auditContext(request),
        action: 'notification-channel.create',
        outcome: 'success',
        targetType: 'notification-channel',
        targetId: row.id,
        details: { name: row.name, url: row.url, minSeverity: row.min_severity },
      });
      return reply.code(201).send({ channel: present(row), secret });
    },
  );

  app.delete(
    '/notification-channels/:id',
    {
      config: { auth: 'principal', permission: 'alarms:manage' },
      schema: { tags, params: Params },
    },
    async (request, reply) => {
      const tenantId = request.principal!.tenantId;
      const r = await db
        .deleteFrom('notification_channels')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', request.params.id)
        .executeTakeFirst();
      if (Number(r.numDeletedRows) !== 1) throw new AppError('NOT_FOUND', 'No such channel');
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
        summary: 'The channel’s deliveries, newest first: attempts, last status and error',
        params: Params,
        response: { 200: Type.Object({ items: Type.Array(DeliverySchema) }) },
      },
    },
    async (request) => {
      const tenantId = request.principal!.tenantId;
      const channel = await db
        .selectFrom('notification_channels')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', request.params.id)
        .executeTakeFirst();
      if (!channel) throw new AppError('NOT_FOUND', 'No such channel');
      const rows = await db
        .selectFrom('notification_outbox')
        .selectAll()
        .where('channel_id', '=', channel.id)
        .orderBy('id', 'desc')
        .limit(200)
        .execute();
      const iso = (t: number | string) => new Date(Number(t)).toISOString();
      return {
        items: rows.map((r) => ({
          id: Number(r.id),
          alarmId: r.alarm_id,
          event: r.event,
          status: r.status,
          attempts: Number(r.attempts),
          lastStatus: r.last_status === null ? null : Number(r.last_status),
          lastError: r.last_error,
          nextAttemptAt: iso(r.next_attempt_at),
          createdAt: iso(r.created_at),
          deliveredAt: r.delivered_at === null ? null : iso(r.delivered_at),
        })),
      };
    },
  );
}
