import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { auditContext } from '../audit/audit.service.js';
import { Uuid } from '../auth/auth.schemas.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { findIncident, type Incident, type IncidentActor, toIncident } from './incidents.service.js';

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const Status = Type.Union([
  Type.Literal('open'),
  Type.Literal('investigating'),
  Type.Literal('resolved'),
  Type.Literal('closed'),
]);
const IncidentSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  status: Type.String(),
  severity: Type.String({ description: 'The highest severity of its alarms' }),
  ownerId: Type.Union([Type.String(), Type.Null()]),
  assetId: Type.Union([Type.String(), Type.Null()]),
  /** The site or zone it groups alarms of (automatic grouping by site). */
  siteId: Type.Union([Type.String(), Type.Null()]),
  openedAt: Type.String({ format: 'date-time' }),
  resolvedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const present = (i: Incident) => ({ ...i, openedAt: iso(i.openedAt)!, resolvedAt: iso(i.resolvedAt) });

function actorOf(request: FastifyRequest): IncidentActor {
  const c = auditContext(request);
  return { type: c.actorType === 'api-key' ? 'api-key' : 'user', id: c.actorId ?? null };
}

/** Incidents: alarms grouped by asset automatically, or by hand; owner, status, timeline, notes. */
export async function incidentRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = opts.services.database;
  const service = opts.services.incidents;
  const tags = ['incidents'];
  const read = { auth: 'principal', permission: 'alarms:read' } as const;
  const write = { auth: 'principal', permission: 'incidents:write' } as const;
  const Params = Type.Object({ id: Uuid }, { additionalProperties: false });

  app.get(
    '/incidents',
    {
      config: read,
      schema: {
        tags,
        querystring: Type.Object(
          {
            status: Type.Optional(Status),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(IncidentSchema) }) },
      },
    },
    async (request) => {
      let q = db.selectFrom('incidents').selectAll().where('tenant_id', '=', request.principal!.tenantId);
      if (request.query.status) q = q.where('status', '=', request.query.status);
      const rows = await q
        .orderBy('opened_at', 'desc')
        .limit(request.query.limit ?? 100)
        .execute();
      return { items: rows.map((r) => present(toIncident(r))) };
    },
  );

  app.get(
    '/incidents/:id',
    {
      config: read,
      schema: {
        tags,
        params: Params,
        response: {
          200: Type.Object({
            incident: IncidentSchema,
            alarmIds: Type.Array(Type.String()),
            timeline: Type.Array(
              Type.Object({
                kind: Type.String(),
                actorType: Type.String(),
                actorId: Type.Union([Type.String(), Type.Null()]),
                text: Type.Union([Type.String(), Type.Null()]),
                details: Type.Record(Type.String(), Type.Unknown()),
                at: Type.String({ format: 'date-time' }),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const incident = await findIncident(db, request.principal!.tenantId, request.params.id);
      if (!incident) throw new AppError('NOT_FOUND', 'No such incident');
      const alarms = await db
        .selectFrom('incident_alarms')
        .select('alarm_id')
        .where('incident_id', '=', incident.id)
        .orderBy('added_at')
        .execute();
      const events = await db
        .selectFrom('incident_events')
        .selectAll()
        .where('incident_id', '=', incident.id)
        .orderBy('id')
        .limit(1000)
        .execute();
      return {
        incident: present(incident),
        alarmIds: alarms.map((a) => a.alarm_id),
        timeline: events.map((e) => ({
          kind: e.kind,
          actorType: e.actor_type,
          actorId: e.actor_id,
          text: e.text,
          details: JSON.parse(e.details) as Record<string, unknown>,
          at: iso(Number(e.at))!,
        })),
      };
    },
  );

  app.post(
    '/incidents',
    {
      config: write,
      schema: {
        tags,
        summary: 'Open an incident by hand over some alarms',
        body: Type.Object(
          {
            title: Type.String({ minLength: 1, maxLength: 200 }),
            alarmIds: Type.Array(Uuid, { maxItems: 500, uniqueItems: true }),
          },
          { additionalProperties: false },
        ),
        response: { 201: IncidentSchema },
      },
    },
    async (request, reply) => {
      const i = await service.open(
        request.principal!.tenantId,
        request.body.title,
        request.body.alarmIds,
        actorOf(request),
      );
      return reply.code(201).send(present(i));
    },
  );

  app.post(
    '/incidents/:id/alarms',
    {
      config: write,
      schema: {
        tags,
        params: Params,
        body: Type.Object({ alarmId: Uuid }, { additionalProperties: false }),
        response: { 200: IncidentSchema },
      },
    },
    async (request) =>
      present(
        await service.addAlarm(
          request.principal!.tenantId,
          request.params.id,
          request.body.alarmId,
          actorOf(request),
        ),
      ),
  );

  app.patch(
    '/incidents/:id',
    {
      config: write,
      schema: {
        tags,
        params: Params,
        body: Type.Object(
          {
            status: Type.Optional(Status),
            ownerId: Type.Optional(Type.Union([Uuid, Type.Null()])),
            title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: IncidentSchema },
      },
    },
    async (request) =>
      present(
        await service.update(request.principal!.tenantId, request.params.id, request.body, actorOf(request)),
      ),
  );

  app.post(
    '/incidents/:id/notes',
    {
      config: write,
      schema: {
        tags,
        params: Params,
        body: Type.Object(
          { text: Type.String({ minLength: 1, maxLength: 5000 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      await service.note(request.principal!.tenantId, request.params.id, request.body.text, actorOf(request));
      return reply.code(201).send();
    },
  );
}
