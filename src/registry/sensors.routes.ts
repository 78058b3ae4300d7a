import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Uuid } from '../auth/auth.schemas.js';
import { AppError } from '../http/errors/catalogue.js';
import { PageOf, page } from '../http/pagination.js';
import type { Services } from '../services.js';
import { findAsset } from './assets.repository.js';
import { findDevice } from './devices.repository.js';
import { Key, ListQuery, Metadata, Name, strict } from './registry.schemas.js';
import { afterKey, conflictOnDuplicate, invalidateSensorsOnWrite, metadataText } from './registry.util.js';
import { findSensorType } from './sensor-types.repository.js';
import {
  deleteSensor,
  findSensor,
  insertSensor,
  listSensors,
  type Sensor,
  updateSensor,
} from './sensors.repository.js';

const SensorSchema = Type.Object({
  id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  typeId: Type.String(),
  deviceId: Type.Union([Type.String(), Type.Null()]),
  assetId: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const present = (s: Sensor) => ({
  ...s,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});
const IdParams = Type.Object({ id: Uuid }, strict);
const Status = Type.Union([Type.Literal('active'), Type.Literal('inactive')]);

/** Sensors: one measured quantity on a device, with a type and a key unique in the tenant. */
export async function sensorRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  invalidateSensorsOnWrite(app, opts.services.sensorDirectory);
  const { db } = opts.services.database;
  const tags = ['registry'];

  /** Referenced type and device must be the caller's own; another tenant's id reads as missing. */
  const assertRefs = async (
    request: FastifyRequest,
    refs: {
      typeId?: string | undefined;
      deviceId?: string | null | undefined;
      assetId?: string | null | undefined;
    },
  ) => {
    const tenantId = request.principal!.tenantId;
    const errors = [];
    if (refs.typeId !== undefined && !(await findSensorType(db, tenantId, refs.typeId))) {
      errors.push({ pointer: '/body/typeId', detail: 'is not a sensor type of this tenant' });
    }
    if (refs.deviceId && !(await findDevice(db, tenantId, refs.deviceId))) {
      errors.push({ pointer: '/body/deviceId', detail: 'is not a device of this tenant' });
    }
    if (refs.assetId && !(await findAsset(db, tenantId, refs.assetId))) {
      errors.push({ pointer: '/body/assetId', detail: 'is not an asset of this tenant' });
    }
    if (errors.length > 0) throw new AppError('VALIDATION_FAILED', 'Unknown references', { errors });
  };

  const load = async (request: FastifyRequest, id: string) => {
    const sensor = await findSensor(db, request.principal!.tenantId, id);
    if (!sensor) throw new AppError('NOT_FOUND', 'No such sensor');
    return sensor;
  };

  app.get(
    '/sensors',
    {
      config: { auth: 'principal', permission: 'devices:read' },
      schema: {
        tags,
        querystring: Type.Object(
          {
            ...ListQuery,
            deviceId: Type.Optional(Uuid),
            assetId: Type.Optional(Uuid),
            typeId: Type.Optional(Uuid),
            status: Type.Optional(Status),
          },
          strict,
        ),
        response: {
          200: PageOf(SensorSchema),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const { cursor, ...filters } = request.query;
      const items = await listSensors(db, request.principal!.tenantId, {
        ...filters,
        afterKey: afterKey(cursor),
        limit,
      });
      return page(items.map(present), limit, (s) => s.key);
    },
  );

  app.get(
    '/sensors/:id',
    {
      config: { auth: 'principal', permission: 'devices:read' },
      schema: { tags, params: IdParams, response: { 200: SensorSchema } },
    },
    async (request) => present(await load(request, request.params.id)),
  );

  app.post(
    '/sensors',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        body: Type.Object(
          {
            key: Key,
            name: Name,
            typeId: Uuid,
            deviceId: Type.Optional(Uuid),
            assetId: Type.Optional(Uuid),
            metadata: Type.Optional(Metadata),
          },
          strict,
        ),
        response: { 201: SensorSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      await assertRefs(request, b);
      const now = Date.now();
      const sensor = await conflictOnDuplicate(
        () =>
          insertSensor(db, {
            id: randomUUID(),
            tenant_id: request.principal!.tenantId,
            key: b.key,
            name: b.name,
            type_id: b.typeId,
            device_id: b.deviceId ?? null,
            asset_id: b.assetId ?? null,
            metadata: metadataText(b.metadata),
            created_at: now,
            updated_at: now,
          }),
        `Sensor ${b.key} already exists`,
      );
      return reply.code(201).send(present(sensor));
    },
  );

  app.patch(
    '/sensors/:id',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            typeId: Type.Optional(Uuid),
            deviceId: Type.Optional(Type.Union([Uuid, Type.Null()])),
            assetId: Type.Optional(Type.Union([Uuid, Type.Null()])),
            status: Type.Optional(Status),
            metadata: Type.Optional(Metadata),
          },
          { ...strict, minProperties: 1 },
        ),
        response: { 200: SensorSchema },
      },
    },
    async (request) => {
      const sensor = await load(request, request.params.id);
      const b = request.body;
      await assertRefs(request, b);
      await updateSensor(
        db,
        request.principal!.tenantId,
        sensor.id,
        {
          ...(b.name !== undefined ? { name: b.name } : {}),
          ...(b.typeId !== undefined ? { type_id: b.typeId } : {}),
          ...(b.deviceId !== undefined ? { device_id: b.deviceId } : {}),
          ...(b.assetId !== undefined ? { asset_id: b.assetId } : {}),
          ...(b.status !== undefined ? { status: b.status } : {}),
          ...(b.metadata !== undefined ? { metadata: metadataText(b.metadata) } : {}),
        },
        Date.now(),
      );
      return present(await load(request, sensor.id));
    },
  );

  app.delete(
    '/sensors/:id',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: { tags, params: IdParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      const sensor = await load(request, request.params.id);
      await deleteSensor(db, request.principal!.tenantId, sensor.id);
      return reply.code(204).send(null);
    },
  );
}
