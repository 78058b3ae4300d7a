import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Selectable } from 'kysely';
import { Type } from 'typebox';
import { auditContext } from '../audit/audit.service.js';
import { Uuid } from '../auth/auth.schemas.js';
import type { WorkOrdersTable } from '../db/schema.js';
import { AppError, type FieldError } from '../http/errors/catalogue.js';
import { time } from '../http/time-query.js';
import type { Services } from '../services.js';
import { findMembershipRole } from '../users/users.repository.js';

const iso = (t: number | string | null) => (t === null ? null : new Date(Number(t)).toISOString());
const Status = Type.Union([Type.Literal('planned'), Type.Literal('in_progress'), Type.Literal('done')]);
/** Where each status may go: forward only, and a done order stays done. */
const NEXT: Record<string, readonly string[]> = {
  planned: ['in_progress', 'done'],
  in_progress: ['done'],
  done: [],
};

const WorkOrderSchema = Type.Object({
  id: Type.String(),
  assetId: Type.String(),
  title: Type.String(),
  status: Type.String(),
  notes: Type.String(),
  assigneeId: Type.Union([Type.String(), Type.Null()]),
  alarmId: Type.Union([Type.String(), Type.Null()]),
  incidentId: Type.Union([Type.String(), Type.Null()]),
  plannedFor: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  doneAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

const present = (r: Selectable<WorkOrdersTable>) => ({
  id: r.id,
  assetId: r.asset_id,
  title: r.title,
  status: r.status,
  notes: r.notes,
  assigneeId: r.assignee_id,
  alarmId: r.alarm_id,
  incidentId: r.incident_id,
  plannedFor: iso(r.planned_for),
  startedAt: iso(r.started_at),
  doneAt: iso(r.done_at),
  createdBy: r.created_by,
  createdAt: iso(r.created_at)!,
});

/** The maintenance log: work orders per asset (planned, in progress, done), linked from alarms and incidents. */
export async function workOrderRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = opts.services.database;
  const tags = ['maintenance'];
  const Params = Type.Object({ id: Uuid }, { additionalProperties: false });
  const Notes = Type.String({ maxLength: 10_000 });

  /** 400 naming each reference that is not the tenant's. */
  const checkRefs = async (
    tenantId: string,
    refs: {
      assetId?: string;
      alarmId?: string | null;
      incidentId?: string | null;
      assigneeId?: string | null;
    },
  ) => {
    const errors: FieldError[] = [];
    const has = async (table: 'assets' | 'alarms' | 'incidents', id: string) =>
      (await db
        .selectFrom(table)
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst()) !== undefined;
    if (refs.assetId && !(await has('assets', refs.assetId)))
      errors.push({ pointer: '/body/assetId', detail: 'is not an asset of this tenant' });
    if (refs.alarmId && !(await has('alarms', refs.alarmId)))
      errors.push({ pointer: '/body/alarmId', detail: 'is not an alarm of this tenant' });
    if (refs.incidentId && !(await has('incidents', refs.incidentId)))
      errors.push({ pointer: '/body/incidentId', detail: 'is not an incident of this tenant' });
    if (refs.assigneeId) {
      if (!(await findMembershipRole(db, refs.assigneeId, tenantId)))
        errors.push({ pointer: '/body/assigneeId', detail: 'is not a member of this tenant' });
    }
    if (errors.length > 0) throw new AppError('VALIDATION_FAILED', 'Unknown references', { errors });
  };

  app.get(
    '/maintenance',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: {
        tags,
        summary: 'Work orders, newest first',
        querystring: Type.Object(
          {
            assetId: Type.Optional(Uuid),
            status: Type.Optional(Status),
            alarmId: Type.Optional(Uuid),
            incidentId: Type.Optional(Uuid),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(WorkOrderSchema) }) },
      },
    },
    async (request) => {
      const q = request.query;
      let query = db
        .selectFrom('work_orders')
        .selectAll()
        .where('tenant_id', '=', request.principal!.tenantId);
      if (q.assetId) query = query.where('asset_id', '=', q.assetId);
      if (q.status) query = query.where('status', '=', q.status);
      if (q.alarmId) query = query.where('alarm_id', '=', q.alarmId);
      if (q.incidentId) query = query.where('incident_id', '=', q.incidentId);
      const rows = await query
        .orderBy('created_at', 'desc')
        .limit(q.limit ?? 100)
        .execute();
      return { items: rows.map(present) };
    },
  );

  app.get(
    '/maintenance/:id',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: { tags, params: Params, response: { 200: WorkOrderSchema } },
    },
    async (request) => {
      const r = await db
        .selectFrom('work_orders')
        .selectAll()
        .where('tenant_id', '=', request.principal!.tenantId)
        .where('id', '=', request.params.id)
        .executeTakeFirst();
      if (!r) throw new AppError('NOT_FOUND', 'No such work order');
      return present(r);
    },
  );

  app.post(
    '/maintenance',
    {
      config: { auth: 'principal', permission: 'incidents:write' },
      schema: {
        tags,
        body: Type.Object(
          {
            assetId: Uuid,
            title: Type.String({ minLength: 1, maxLength: 200 }),
            notes: Type.Optional(Notes),
            assigneeId: Type.Optional(Uuid),
            alarmId: Type.Optional(Uuid),
            incidentId: Type.Optional(Uuid),
            plannedFor: Type.Optional(Type.String({ maxLength: 40 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: WorkOrderSchema },
      },
    },
    async (request, reply) => {
      const tenantId = request.principal!.tenantId;
      const b = request.body;
      await checkRefs(tenantId, b);
      const now = Date.now();
      const row = {
        id: randomUUID(),
        tenant_id: tenantId,
        asset_id: b.assetId,
        title: b.title,
        status: 'planned' as const,
        notes: b.notes ?? '',
        assignee_id: b.assigneeId ?? null,
        alarm_id: b.alarmId ?? null,
        incident_id: b.incidentId ?? null,
        planned_for: b.plannedFor === undefined ? null : time(b.plannedFor, 0, '/body/plannedFor'),
        started_at: null,
        done_at: null,
        created_by: auditContext(request).actorId ?? null,
        created_at: now,
        updated_at: now,
      };
      await db.insertInto('work_orders').values(row).execute();
      return reply.code(201).send(present(row));
    },
  );

  app.patch(
    '/maintenance/:id',
    {
      config: { auth: 'principal', permission: 'incidents:write' },
      schema: {
        tags,
        summary: 'Move a work order on (planned → in progress → done), assign it, or add notes',
        params: Params,
        body: Type.Object(
          {
            status: Type.Optional(Status),
            notes: Type.Optional(Notes),
            assigneeId: Type.Optional(Type.Union([Uuid, Type.Null()])),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: WorkOrderSchema },
      },
    },
    async (request) => {
      const tenantId = request.principal!.tenantId;
      const b = request.body;
      const current = await db
        .selectFrom('work_orders')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', request.params.id)
        .executeTakeFirst();
      if (!current) throw new AppError('NOT_FOUND', 'No such work order');
      await checkRefs(tenantId, { assigneeId: b.assigneeId ?? null });
      if (b.status && b.status !== current.status && !NEXT[current.status]!.includes(b.status)) {
        throw new AppError('CONFLICT', `A ${current.status} work order cannot become ${b.status}`, {
          fields: { workOrderStatus: current.status, allowed: NEXT[current.status] },
        });
      }
      const now = Date.now();
      const moving = b.status && b.status !== current.status;
      await db
        .updateTable('work_orders')
        .set({
          ...(moving ? { status: b.status } : {}),
          ...(moving && b.status === 'in_progress' ? { started_at: now } : {}),
          ...(moving && b.status === 'done' ? { done_at: now, started_at: current.started_at ?? now } : {}),
          ...(b.notes !== undefined ? { notes: b.notes } : {}),
          ...(b.assigneeId !== undefined ? { assignee_id: b.assigneeId } : {}),
          updated_at: now,
        })
        .where('id', '=', current.id)
        .execute();
      const r = await db
        .selectFrom('work_orders')
        .selectAll()
        .where('id', '=', current.id)
        .executeTakeFirstOrThrow();
      return present(r);
    },
  );
}
