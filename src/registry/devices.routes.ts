import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAuditIn } from '../audit/audit.service.js';
import { Uuid } from '../auth/auth.schemas.js';
import { AppError } from '../http/errors/catalogue.js';
import { PageOf, page } from '../http/pagination.js';
import { isoOrNull } from '../http/present.js';
import type { Services } from '../services.js';
import {
  type Device,
  deleteDevice,
  findDevice,
  insertDevice,
  listDevices,
  updateDevice,
} from './devices.repository.js';
import { DEVICE_KINDS, Key, ListQuery, Metadata, Name, OneOf, strict } from './registry.schemas.js';
import { afterKey, conflictOnDuplicate, invalidateSensorsOnWrite, metadataText } from './registry.util.js';

const Kind = OneOf(DEVICE_KINDS);

const DeviceSchema = Type.Object({
  id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  firmware: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  quarantineReason: Type.Union([Type.String(), Type.Null()]),
  refusedCount: Type.Integer(),
  lastSeenAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  online: Type.Boolean(),
  presenceChangedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const present = (d: Device) => ({
  ...d,
  lastSeenAt: isoOrNull(d.lastSeenAt),
  presenceChangedAt: isoOrNull(d.presenceChangedAt),
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});
const IdParams = Type.Object({ id: Uuid }, strict);

/** Devices: loggers and gateways that send readings; quarantine refuses a device's data (audited). */
export async function deviceRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  invalidateSensorsOnWrite(app, opts.services.sensorDirectory);
  const { services } = opts;
  const { db } = services.database;
  const tags = ['registry'];

  const load = async (request: FastifyRequest, id: string) => {
    const device = await findDevice(db, request.principal!.tenantId, id);
    if (!device) throw new AppError('NOT_FOUND', 'No such device');
    return device;
  };

  app.get(
    '/devices',
    {
      config: { auth: 'principal', permission: 'devices:read' },
      schema: {
        tags,
        querystring: Type.Object(
          {
            ...ListQuery,
            status: Type.Optional(
              Type.Union([Type.Literal('active'), Type.Literal('inactive'), Type.Literal('quarantined')]),
            ),
          },
          strict,
        ),
        response: {
          200: PageOf(DeviceSchema),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const items = await listDevices(db, request.principal!.tenantId, {
        afterKey: afterKey(request.query.cursor),
        q: request.query.q,
        status: request.query.status,
        limit,
      });
      return page(items.map(present), limit, (d) => d.key);
    },
  );

  app.get(
    '/devices/:id',
    {
      config: { auth: 'principal', permission: 'devices:read' },
      schema: { tags, params: IdParams, response: { 200: DeviceSchema } },
    },
    async (request) => present(await load(request, request.params.id)),
  );

  app.post(
    '/devices',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        body: Type.Object(
          {
            key: Key,
            name: Name,
            kind: Type.Optional(Kind),
            firmware: Type.Optional(Type.String({ maxLength: 64 })),
            metadata: Type.Optional(Metadata),
          },
          strict,
        ),
        response: { 201: DeviceSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const now = Date.now();
      const device = await conflictOnDuplicate(
        () =>
          insertDevice(db, {
            id: randomUUID(),
            tenant_id: request.principal!.tenantId,
            key: b.key,
            name: b.name,
            kind: b.kind ?? 'logger',
            firmware: b.firmware ?? null,
            metadata: metadataText(b.metadata),
            created_at: now,
            updated_at: now,
          }),
        `Device ${b.key} already exists`,
      );
      return reply.code(201).send(present(device));
    },
  );

  app.patch(
    '/devices/:id',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            kind: Type.Optional(Kind),
            firmware: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
            metadata: Type.Optional(Metadata),
            status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('inactive')])),
          },
          { ...strict, minProperties: 1 },
        ),
        response: { 200: DeviceSchema },
      },
    },
    async (request) => {
      const device = await load(request, request.params.id);
      const b = request.body;
      if (b.status && device.status === 'quarantined') {
        throw new AppError(
          'CONFLICT',
          'The device is quarantined; release it with POST /devices/{id}/release',
        );
      }
      await updateDevice(
        db,
        request.principal!.tenantId,
        device.id,
        {
          ...(b.name !== undefined ? { name: b.name } : {}),
          ...(b.kind !== undefined ? { kind: b.kind } : {}),
          ...(b.firmware !== undefined ? { firmware: b.firmware } : {}),
          ...(b.metadata !== undefined ? { metadata: metadataText(b.metadata) } : {}),
          ...(b.status !== undefined ? { status: b.status } : {}),
        },
        Date.now(),
      );
      return present(await load(request, device.id));
    },
  );

  app.delete(
    '/devices/:id',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        summary: 'Delete a device and its credentials (its sensors stay, detached)',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const device = await load(request, request.params.id);
      await db.transaction().execute(async (trx) => {
        await deleteDevice(trx, request.principal!.tenantId, device.id);
        await recordAuditIn(services, trx, {
          ...auditContext(request),
          action: 'device.delete',
          outcome: 'success',
          targetType: 'device',
          targetId: device.id,
          details: { key: device.key },
        });
      });
      return reply.code(204).send(null);
    },
  );

  const setQuarantine = async (request: FastifyRequest, id: string, reason: string | null) => {
    const device = await load(request, id);
    const quarantine = reason !== null;
    if ((device.status === 'quarantined') === quarantine) {
      throw new AppError(
        'CONFLICT',
        quarantine ? 'The device is already quarantined' : 'The device is not quarantined',
      );
    }
    await db.transaction().execute(async (trx) => {
      await updateDevice(
        trx,
        request.principal!.tenantId,
        device.id,
        { status: quarantine ? 'quarantined' : 'active', quarantine_reason: reason },
        Date.now(),
      );
      await recordAuditIn(services, trx, {
        ...auditContext(request),
        action: quarantine ? 'device.quarantine' : 'device.release',
        outcome: 'success',
        severity: 'warning',
        targetType: 'device',
        targetId: device.id,
        details: { key: device.key, ...(reason ? { reason } : {}) },
      });
    });
    return present(await load(request, device.id));
  };

  app.post(
    '/devices/:id/quarantine',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        summary: 'Refuse this device’s data (with a clear code, counted) until released',
        params: IdParams,
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, strict),
        response: { 200: DeviceSchema },
      },
    },
    async (request) => setQuarantine(request, request.params.id, request.body.reason),
  );

  app.post(
    '/devices/:id/release',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        summary: 'Accept this device’s data again',
        params: IdParams,
        response: { 200: DeviceSchema },
      },
    },
    async (request) => setQuarantine(request, request.params.id, null),
  );
}
