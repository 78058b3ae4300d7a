import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Uuid } from '../auth/auth.schemas.js';
import { AppError } from '../http/errors/catalogue.js';
import { isoOrNull } from '../http/present.js';
import { findDevice } from '../registry/devices.repository.js';
import type { Services } from '../services.js';
import {
  type DeviceCredential,
  findDeviceCredential,
  listDeviceCredentials,
} from './device-credentials.repository.js';
import { issueDeviceCredential, revokeDeviceCredentialById } from './device-credentials.service.js';

const CredentialSchema = Type.Object({
  id: Type.String(),
  deviceId: Type.String(),
  prefix: Type.String(),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const present = (c: DeviceCredential) => ({
  ...c,
  createdAt: c.createdAt.toISOString(),
  expiresAt: isoOrNull(c.expiresAt),
  lastUsedAt: isoOrNull(c.lastUsedAt),
  revokedAt: isoOrNull(c.revokedAt),
});

/** Device credential store (issue, rotate, list, revoke) and the device's own check of its credential. */
export async function deviceCredentialRoutes(
  base: FastifyInstance,
  opts: { services: Services },
): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const tags = ['devices'];

  app.get(
    '/device-credentials',
    {
      config: { auth: 'user', permission: 'devices:credentials' },
      schema: {
        tags,
        querystring: Type.Object({ deviceId: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(CredentialSchema) }) },
      },
    },
    async (request) => ({
      items: (
        await listDeviceCredentials(services.database.db, request.principal!.tenantId, request.query.deviceId)
      ).map(present),
    }),
  );

  app.get(
    '/device-credentials/:id',
    {
      config: { auth: 'user', permission: 'devices:credentials' },
      schema: {
        tags,
        params: Type.Object({ id: Uuid }, { additionalProperties: false }),
        response: { 200: CredentialSchema },
      },
    },
    async (request) => {
      const c = await findDeviceCredential(
        services.database.db,
        request.principal!.tenantId,
        request.params.id,
      );
      if (!c) throw new AppError('NOT_FOUND', 'No such device credential');
      return present(c);
    },
  );

  app.post(
    '/device-credentials',
    {
      config: { auth: 'user', permission: 'devices:credentials' },
      schema: {
        tags,
        summary:
          'Issue a device credential (token shown once); rotateGraceS lets older ones work a while longer',
        body: Type.Object(
          {
            deviceId: Uuid,
            expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
            rotateGraceS: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 24 * 3600 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ credential: CredentialSchema, token: Type.String() }) },
      },
    },
    async (request, reply) => {
      const expiresAt = request.body.expiresAt ? Date.parse(request.body.expiresAt) : undefined;
      if (expiresAt !== undefined && expiresAt <= Date.now()) {
        throw new AppError('VALIDATION_FAILED', 'Expiry is in the past', {
          errors: [{ pointer: '/body/expiresAt', detail: 'must be in the future' }],
        });
      }
      if (!(await findDevice(services.database.db, request.principal!.tenantId, request.body.deviceId))) {
        throw new AppError('VALIDATION_FAILED', 'Unknown device', {
          errors: [{ pointer: '/body/deviceId', detail: 'is not a device of this tenant' }],
        });
      }
      const { credential, token } = await issueDeviceCredential(
        services,
        request,
        request.principal!.tenantId,
        {
          deviceId: request.body.deviceId,
          expiresAt,
          rotateGraceS: request.body.rotateGraceS,
        },
      );
      return reply.code(201).send({ credential: present(credential), token });
    },
  );

  app.delete(
    '/device-credentials/:id',
    {
      config: { auth: 'user', permission: 'devices:credentials' },
      schema: {
        tags,
        params: Type.Object({ id: Uuid }, { additionalProperties: false }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await revokeDeviceCredentialById(services, request, request.principal!.tenantId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/device/whoami',
    {
      config: { auth: 'device' },
      schema: {
        tags,
        summary: 'For devices: check a credential (Authorization: Device <token>)',
        response: { 200: Type.Object({ deviceId: Type.String(), tenantId: Type.String() }) },
      },
    },
    async (request) => {
      const p = request.principal;
      if (p?.kind !== 'device') throw new AppError('UNAUTHENTICATED');
      return { deviceId: p.deviceId, tenantId: p.tenantId };
    },
  );
}
