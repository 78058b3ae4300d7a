import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Uuid } from '../auth/auth.schemas.js';
import { AppError } from '../http/errors/catalogue.js';
import { NullableInteger } from '../http/nullable.js';
import { PageOf, page } from '../http/pagination.js';
import type { Services } from '../services.js';
import { Key, ListQuery, Name, strict } from './registry.schemas.js';
import {
  afterKey,
  conflictOnDuplicate,
  invalidateSensorsOnWrite,
  isForeignKeyViolation,
} from './registry.util.js';
import {
  deleteSensorType,
  findSensorType,
  insertSensorType,
  listSensorTypes,
  type SensorType,
  updateSensorType,
} from './sensor-types.repository.js';

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()]);

const SensorTypeSchema = Type.Object({
  id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  unit: Type.String(),
  validMin: Type.Union([Type.Number(), Type.Null()]),
  validMax: Type.Union([Type.Number(), Type.Null()]),
  expectedIntervalS: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const Fields = {
  name: Name,
  unit: Type.String({ minLength: 1, maxLength: 32 }),
  validMin: Type.Optional(Nullable(Type.Number())),
  validMax: Type.Optional(Nullable(Type.Number())),
  expectedIntervalS: Type.Optional(NullableInteger({ minimum: 1, maximum: 7 * 24 * 3600 })),
};

const present = (t: SensorType) => ({
  ...t,
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
});
const IdParams = Type.Object({ id: Uuid }, strict);

function assertRange(min: number | null | undefined, max: number | null | undefined): void {
  if (min !== null && min !== undefined && max !== null && max !== undefined && min >= max) {
    throw new AppError('VALIDATION_FAILED', 'Empty valid range', {
      errors: [{ pointer: '/body/validMax', detail: 'must be greater than validMin' }],
    });
  }
}

/** Sensor types: what a kind of measurement is, its unit, plausible range and reporting interval. */
export async function sensorTypeRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  invalidateSensorsOnWrite(app, opts.services.sensorDirectory);
  const { db } = opts.services.database;
  const tags = ['registry'];

  app.get(
    '/sensor-types',
    {
      config: { auth: 'principal', permission: 'devices:read' },
      schema: {
        tags,
        querystring: Type.Object(ListQuery, strict),
        response: {
          200: PageOf(SensorTypeSchema),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const items = await listSensorTypes(db, request.principal!.tenantId, {
        afterKey: afterKey(request.query.cursor),
        q: request.query.q,
        limit,
      });
      return page(items.map(present), limit, (t) => t.key);
    },
  );

  app.get(
    '/sensor-types/:id',
    {
      config: { auth: 'principal', permission: 'devices:read' },
      schema: { tags, params: IdParams, response: { 200: SensorTypeSchema } },
    },
    async (request) => {
      const found = await findSensorType(db, request.principal!.tenantId, request.params.id);
      if (!found) throw new AppError('NOT_FOUND', 'No such sensor type');
      return present(found);
    },
  );

  app.post(
    '/sensor-types',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        body: Type.Object({ key: Key, ...Fields }, strict),
        response: { 201: SensorTypeSchema },
      },
    },
    async (request, reply) => {
      const b = request.body;
      assertRange(b.validMin, b.validMax);
      const now = Date.now();
      const created = await conflictOnDuplicate(
        () =>
          insertSensorType(db, {
            id: randomUUID(),
            tenant_id: request.principal!.tenantId,
            key: b.key,
            name: b.name,
            unit: b.unit,
            valid_min: b.validMin ?? null,
            valid_max: b.validMax ?? null,
            expected_interval_s: b.expectedIntervalS ?? null,
            created_at: now,
            updated_at: now,
          }),
        `Sensor type ${b.key} already exists`,
      );
      return reply.code(201).send(present(created));
    },
  );

  app.patch(
    '/sensor-types/:id',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: {
        tags,
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Fields.name),
            unit: Type.Optional(Fields.unit),
            validMin: Fields.validMin,
            validMax: Fields.validMax,
            expectedIntervalS: Fields.expectedIntervalS,
          },
          { ...strict, minProperties: 1 },
        ),
        response: { 200: SensorTypeSchema },
      },
    },
    async (request) => {
      const tenantId = request.principal!.tenantId;
      const current = await findSensorType(db, tenantId, request.params.id);
      if (!current) throw new AppError('NOT_FOUND', 'No such sensor type');
      const b = request.body;
      assertRange(
        b.validMin === undefined ? current.validMin : b.validMin,
        b.validMax === undefined ? current.validMax : b.validMax,
      );
      await updateSensorType(
        db,
        tenantId,
        current.id,
        {
          ...(b.name !== undefined ? { name: b.name } : {}),
          ...(b.unit !== undefined ? { unit: b.unit } : {}),
          ...(b.validMin !== undefined ? { valid_min: b.validMin } : {}),
          ...(b.validMax !== undefined ? { valid_max: b.validMax } : {}),
          ...(b.expectedIntervalS !== undefined ? { expected_interval_s: b.expectedIntervalS } : {}),
        },
        Date.now(),
      );
      return present((await findSensorType(db, tenantId, current.id))!);
    },
  );

  app.delete(
    '/sensor-types/:id',
    {
      config: { auth: 'principal', permission: 'devices:write' },
      schema: { tags, params: IdParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      const tenantId = request.principal!.tenantId;
      if (!(await findSensorType(db, tenantId, request.params.id)))
        throw new AppError('NOT_FOUND', 'No such sensor type');
      try {
        await deleteSensorType(db, tenantId, request.params.id);
      } catch (err) {
        if (isForeignKeyViolation(err))
          throw new AppError('CONFLICT', 'Sensors still use this type; move or delete them first');
        throw err;
      }
      return reply.code(204).send(null);
    },
  );
}
