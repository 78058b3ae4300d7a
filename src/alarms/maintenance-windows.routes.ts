import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAudit } from '../audit/audit.service.js';
import { Uuid } from '../auth/auth.schemas.js';
import { AppError, type FieldError } from '../http/errors/catalogue.js';
import { time } from '../http/time-query.js';
import { findAsset } from '../registry/assets.repository.js';
import { findSite } from '../registry/sites.repository.js';
import type { Services } from '../services.js';
import {
  deleteWindow,
  findWindow,
  insertWindow,
  listWindows,
  type MaintenanceWindow,
} from './maintenance-windows.js';

const PERIOD = { daily: 86_400_000, weekly: 7 * 86_400_000 } as const;
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const Recurrence = Type.Union([Type.Literal('none'), Type.Literal('daily'), Type.Literal('weekly')]);
const TimeText = Type.String({ maxLength: 40, description: 'RFC 3339 with offset, or epoch milliseconds' });

const WindowSchema = Type.Object({
  id: Type.String(),
  assetId: Type.Union([Type.String(), Type.Null()]),
  siteId: Type.Union([Type.String(), Type.Null()]),
  title: Type.String(),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ format: 'date-time' }),
  recurrence: Type.String(),
  until: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

const present = (w: MaintenanceWindow) => ({
  ...w,
  startsAt: iso(w.startsAt)!,
  endsAt: iso(w.endsAt)!,
  until: iso(w.until),
  createdAt: iso(w.createdAt)!,
});

/** Maintenance windows per asset or site (once, daily or weekly): alarms raised in them are marked. */
export async function maintenanceWindowRoutes(
  base: FastifyInstance,
  opts: { services: Services },
): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const { db } = services.database;
  const tags = ['alarms'];
  const Params = Type.Object({ id: Uuid }, { additionalProperties: false });

  app.get(
    '/maintenance-windows',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: {
        tags,
        querystring: Type.Object(
          {
            assetId: Type.Optional(Uuid),
            siteId: Type.Optional(Uuid),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
            cursor: Type.Optional(Uuid),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(WindowSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 100;
      const items = await listWindows(db, request.principal!.tenantId, {
        ...(q.assetId ? { assetId: q.assetId } : {}),
        ...(q.siteId ? { siteId: q.siteId } : {}),
        ...(q.cursor ? { afterId: q.cursor } : {}),
        limit,
      });
      const last = items[items.length - 1];
      return { items: items.map(present), nextCursor: items.length === limit && last ? last.id : null };
    },
  );

  app.get(
    '/maintenance-windows/:id',
    {
      config: { auth: 'principal', permission: 'alarms:read' },
      schema: { tags, params: Params, response: { 200: WindowSchema } },
    },
    async (request) => {
      const w = await findWindow(db, request.principal!.tenantId, request.params.id);
      if (!w) throw new AppError('NOT_FOUND', 'No such maintenance window');
      return present(w);
    },
  );

  app.post(
    '/maintenance-windows',
    {
      config: { auth: 'principal', permission: 'alarms:manage' },
      schema: {
        tags,
        summary: 'Plan maintenance of an asset or a site (once, daily or weekly)',
        body: Type.Object(
          {
            assetId: Type.Optional(Uuid),
            siteId: Type.Optional(Uuid),
            title: Type.String({ minLength: 1, maxLength: 200 }),
            startsAt: TimeText,
            endsAt: TimeText,
            recurrence: Type.Optional(Recurrence),
            until: Type.Optional(TimeText),
          },
          { additionalProperties: false },
        ),
        response: { 201: WindowSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const tenantId = request.principal!.tenantId;
      const errors: FieldError[] = [];
      if ((b.assetId === undefined) === (b.siteId === undefined))
        errors.push({ pointer: '/body/assetId', detail: 'give assetId or siteId, not both or neither' });
      if (b.assetId && !(await findAsset(db, tenantId, b.assetId)))
        errors.push({ pointer: '/body/assetId', detail: 'is not an asset of this tenant' });
      if (b.siteId && !(await findSite(db, tenantId, b.siteId)))
        errors.push({ pointer: '/body/siteId', detail: 'is not a site of this tenant' });
      const startsAt = time(b.startsAt, 0, '/body/startsAt');
      const endsAt = time(b.endsAt, 0, '/body/endsAt');
      const until = b.until === undefined ? null : time(b.until, 0, '/body/until');
      const recurrence = b.recurrence ?? 'none';
      if (endsAt <= startsAt) errors.push({ pointer: '/body/endsAt', detail: 'must be after startsAt' });
      if (recurrence !== 'none' && endsAt - startsAt >= PERIOD[recurrence])
        errors.push({
          pointer: '/body/endsAt',
          detail: `a ${recurrence} window must be shorter than its period`,
        });
      if (until !== null && until <= startsAt)
        errors.push({ pointer: '/body/until', detail: 'must be after startsAt' });
      if (until !== null && recurrence === 'none')
        errors.push({ pointer: '/body/until', detail: 'only a recurring window has an end of recurrence' });
      if (errors.length > 0)
        throw new AppError('VALIDATION_FAILED', 'The maintenance window is not valid', { errors });
      const w = await insertWindow(
        db,
        tenantId,
        {
          assetId: b.assetId ?? null,
          siteId: b.siteId ?? null,
          title: b.title,
          startsAt,
          endsAt,
          recurrence,
          until,
          createdBy: auditContext(request).actorId ?? null,
        },
        Date.now(),
      );
      await recordAudit(services, {
        ...auditContext(request),
        action: 'maintenance-window.create',
        outcome: 'success',
        targetType: 'maintenance-window',
        targetId: w.id,
        details: { assetId: w.assetId, siteId: w.siteId, startsAt, endsAt, recurrence, until },
      });
      return reply.code(201).send(present(w));
    },
  );

  app.delete(
    '/maintenance-windows/:id',
    {
      config: { auth: 'principal', permission: 'alarms:manage' },
      schema: { tags, params: Params },
    },
    async (request, reply) => {
      const tenantId = request.principal!.tenantId;
      if (!(await deleteWindow(db, tenantId, request.params.id)))
        throw new AppError('NOT_FOUND', 'No such maintenance window');
      await recordAudit(services, {
        ...auditContext(request),
        action: 'maintenance-window.delete',
        outcome: 'success',
        targetType: 'maintenance-window',
        targetId: request.params.id,
      });
      return reply.code(204).send();
    },
  );
}
