import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAudit } from '../audit/audit.service.js';
import { Uuid } from '../auth/auth.schemas.js';
import type { AlarmStatus } from '../db/schema.js';
import { AppError } from '../http/errors/catalogue.js';
import { encodeCursor, keysetCursor } from '../http/pagination.js';
import { Time, window } from '../http/time-query.js';
import type { Services } from '../services.js';
import { findMembershipRole } from '../users/users.repository.js';
import {
  type Alarm,
  type AlarmHistoryEntry,
  alarmHistory,
  findAlarm,
  listAlarms,
} from './alarms.repository.js';
import type { AlarmActor } from './alarms.service.js';

const DAY = 86_400_000;
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const NullableTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

const AlarmSchema = Type.Object({
  id: Type.String(),
  dedupKey: Type.String(),
  sensorId: Type.Union([Type.String(), Type.Null()]),
  assetId: Type.Union([Type.String(), Type.Null()]),
  detector: Type.String(),
  ruleId: Type.Union([Type.String(), Type.Null()]),
  severity: Type.String(),
  status: Type.String(),
  title: Type.String(),
  occurrences: Type.Integer(),
  raisedAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  lastValue: Type.Union([Type.Number(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  acknowledgedBy: Type.Union([Type.String(), Type.Null()]),
  acknowledgedAt: NullableTime,
  resolvedBy: Type.Union([Type.String(), Type.Null()]),
  resolvedAt: NullableTime,
  resolution: Type.Union([Type.String(), Type.Null()]),
  closedAt: NullableTime,
  /** Silenced now (until `shelvedUntil`). */
  shelved: Type.Boolean(),
  shelvedUntil: NullableTime,
  shelvedBy: Type.Union([Type.String(), Type.Null()]),
  /** Raised and cleared too often lately: kept open as one alarm until it settles. */
  flapping: Type.Boolean(),
  /** Raised during a maintenance window (marked; not to be notified). */
  maintenanceWindowId: Type.Union([Type.String(), Type.Null()]),
  /** The alarm rule it was raised under (null: the built-in defaults). */
  alarmRuleId: Type.Union([Type.String(), Type.Null()]),
  /** How it resolves by itself: `on-clear`, `after-quiet` or `manual`. */
  autoClear: Type.String(),
  /** For `after-quiet`: when it resolves if nothing happens before (null: not quiet now). */
  resolvesAt: NullableTime,
  assigneeId: Type.Union([Type.String(), Type.Null()]),
});

const HistorySchema = Type.Object({
  kind: Type.String(),
  fromStatus: Type.Union([Type.String(), Type.Null()]),
  toStatus: Type.Union([Type.String(), Type.Null()]),
  actorType: Type.String(),
  actorId: Type.Union([Type.String(), Type.Null()]),
  comment: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  at: Type.String({ format: 'date-time' }),
});

const present = ({ quietSince, quietMs, ...a }: Alarm) => ({
  ...a,
  resolvesAt:
    a.autoClear === 'after-quiet' &&
    quietSince !== null &&
    (a.status === 'open' || a.status === 'acknowledged')
      ? iso(quietSince + quietMs)
      : null,
  raisedAt: iso(a.raisedAt)!,
  lastSeenAt: iso(a.lastSeenAt)!,
  acknowledgedAt: iso(a.acknowledgedAt),
  resolvedAt: iso(a.resolvedAt),
  closedAt: iso(a.closedAt),
  shelved: a.shelvedUntil !== null && a.shelvedUntil > Date.now(),
  shelvedUntil: iso(a.shelvedUntil),
});
const presentHistory = (h: AlarmHistoryEntry) => ({ ...h, at: iso(h.at)! });

function actorOf(request: FastifyRequest): AlarmActor {
  const c = auditContext(request);
  return { type: c.actorType === 'api-key' ? 'api-key' : 'user', id: c.actorId ?? null };
}

/** Alarms: list, one with its history, and the operator's lifecycle actions (each audited). */
export async function alarmRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const { db } = services.database;
  const tags = ['alarms'];
  const Params = Type.Object({ id: Uuid }, { additionalProperties: false });
  const Comment = Type.String({ minLength: 1, maxLength: 2000 });

  app.get(
    '/alarms',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: {
        tags,
        summary: 'Alarms, newest raised first (default: raised in the last 30 days)',
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.String({
                pattern: '^(open|acknowledged|resolved|closed)(,(open|acknowledged|resolved|closed))*$',
                description: 'One status or several, comma-separated (open,acknowledged)',
              }),
            ),
            severity: Type.Optional(Type.String({ maxLength: 20 })),
            sensorId: Type.Optional(Uuid),
            assetId: Type.Optional(Uuid),
            assigneeId: Type.Optional(Uuid),
            from: Type.Optional(Time),
            to: Type.Optional(Time),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(AlarmSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const { from, to } = window(q, 30 * DAY);
      const m = keysetCursor(q.cursor, /^(-?\d+):(.+)$/);
      const limit = q.limit ?? 100;
      const items = await listAlarms(db, {
        tenantId: request.principal!.tenantId,
        ...(q.status ? { statuses: q.status.split(',') as AlarmStatus[] } : {}),
        ...(q.severity ? { severity: q.severity } : {}),
        ...(q.sensorId ? { sensorId: q.sensorId } : {}),
        ...(q.assetId ? { assetId: q.assetId } : {}),
        ...(q.assigneeId ? { assigneeId: q.assigneeId } : {}),
        from,
        to,
        ...(m ? { before: { raisedAt: Number(m[0]), id: m[1] } } : {}),
        limit,
      });
      const last = items[items.length - 1];
      return {
        items: items.map(present),
        nextCursor: items.length === limit && last ? encodeCursor(`${last.raisedAt}:${last.id}`) : null,
      };
    },
  );

  app.get(
    '/alarms/:id',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: {
        tags,
        params: Params,
        response: { 200: Type.Object({ alarm: AlarmSchema, history: Type.Array(HistorySchema) }) },
      },
    },
    async (request) => {
      const alarm = await findAlarm(db, request.principal!.tenantId, request.params.id);
      if (!alarm) throw new AppError('NOT_FOUND', 'No such alarm');
      return { alarm: present(alarm), history: (await alarmHistory(db, alarm.id)).map(presentHistory) };
    },
  );

  const transition = (path: string, to: 'acknowledged' | 'resolved' | 'closed', needsComment: boolean) =>
    app.post(
      `/alarms/:id/${path}`,
      {
        config: { auth: 'principal', permission: to === 'closed' ? 'alarms:manage' : 'alarms:ack' },
        schema: {
          tags,
          summary: `${path[0]!.toUpperCase()}${path.slice(1)} an alarm${needsComment ? ' (a comment is required)' : ''}`,
          params: Params,
          body: Type.Object(
            { comment: needsComment ? Comment : Type.Optional(Comment) },
            { additionalProperties: false },
          ),
          response: { 200: AlarmSchema },
        },
      },
      async (request) => {
        const tenantId = request.principal!.tenantId;
        const body = request.body as { comment?: string };
        const alarm = await services.alarms.transition(
          tenantId,
          request.params.id,
          to,
          actorOf(request),
          body.comment ?? null,
        );
        await recordAudit(services, {
          ...auditContext(request),
          action: `alarm.${path}`,
          outcome: 'success',
          targetType: 'alarm',
          targetId: alarm.id,
          details: { dedupKey: alarm.dedupKey, severity: alarm.severity, comment: body.comment ?? null },
        });
        return present(alarm);
      },
    );
  transition('acknowledge', 'acknowledged', false);
  transition('resolve', 'resolved', true);
  transition('close', 'closed', false);

  app.post(
    '/alarms/:id/shelve',
    {
      config: { auth: 'principal', permission: 'alarms:ack' },
      schema: {
        tags,
        summary: 'Silence an open or acknowledged alarm for a while (it unshelves itself afterwards)',
        params: Params,
        body: Type.Object(
          { minutes: Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 }), comment: Type.Optional(Comment) },
          { additionalProperties: false },
        ),
        response: { 200: AlarmSchema },
      },
    },
    async (request) => {
      const { minutes, comment } = request.body;
      const alarm = await services.alarms.shelve(
        request.principal!.tenantId,
        request.params.id,
        actorOf(request),
        minutes,
        comment ?? null,
      );
      await recordAudit(services, {
        ...auditContext(request),
        action: 'alarm.shelve',
        outcome: 'success',
        targetType: 'alarm',
        targetId: alarm.id,
        details: { minutes, comment: comment ?? null },
      });
      return present(alarm);
    },
  );

  app.post(
    '/alarms/:id/unshelve',
    {
      config: { auth: 'principal', permission: 'alarms:ack' },
      schema: { tags, params: Params, response: { 200: AlarmSchema } },
    },
    async (request) => {
      const alarm = await services.alarms.shelve(
        request.principal!.tenantId,
        request.params.id,
        actorOf(request),
        null,
        null,
      );
      await recordAudit(services, {
        ...auditContext(request),
        action: 'alarm.unshelve',
        outcome: 'success',
        targetType: 'alarm',
        targetId: alarm.id,
      });
      return present(alarm);
    },
  );

  app.post(
    '/alarms/:id/assign',
    {
      config: { auth: 'principal', permission: 'alarms:ack' },
      schema: {
        tags,
        summary: 'Give the alarm to a member of the tenant (null: to nobody)',
        params: Params,
        body: Type.Object({ assigneeId: Type.Union([Uuid, Type.Null()]) }, { additionalProperties: false }),
        response: { 200: AlarmSchema },
      },
    },
    async (request) => {
      const tenantId = request.principal!.tenantId;
      const { assigneeId } = request.body;
      if (assigneeId !== null) {
        if (!(await findMembershipRole(db, assigneeId, tenantId)))
          throw new AppError('VALIDATION_FAILED', 'Unknown assignee', {
            errors: [{ pointer: '/body/assigneeId', detail: 'is not a member of this tenant' }],
          });
      }
      const alarm = await services.alarms.assign(tenantId, request.params.id, actorOf(request), assigneeId);
      await recordAudit(services, {
        ...auditContext(request),
        action: 'alarm.assign',
        outcome: 'success',
        targetType: 'alarm',
        targetId: alarm.id,
        details: { assigneeId },
      });
      return present(alarm);
    },
  );

  app.post(
    '/alarms/:id/comments',
    {
      config: { auth: 'principal', permission: 'alarms:ack' },
      schema: {
        tags,
        params: Params,
        body: Type.Object({ text: Comment }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      await services.alarms.comment(
        request.principal!.tenantId,
        request.params.id,
        actorOf(request),
        request.body.text,
      );
      return reply.code(201).send();
    },
  );
}
