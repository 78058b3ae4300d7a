import { X509Certificate } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Uuid } from '../auth/auth.schemas.js';
import { AppError } from '../http/errors/catalogue.js';
import { isoOrNull } from '../http/present.js';
import { findDevice } from '../registry/devices.repository.js';
import { isUniqueViolation } from '../registry/registry.util.js';
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

/** A PEM certificate's SHA-256 fingerprint (hex) and expiry, or 400. */
function parseCertificate(pem: string): { fingerprint: string; validTo: number } {
  try {
    const cert = new X509Certificate(pem);
    const validTo = Date.parse(cert.validTo);
    if (!(validTo > Date.now())) throw new Error('expired');
    return { fingerprint: cert.fingerprint256.replace(/:/g, '').toLowerCase(), validTo };
  } catch (err) {
    throw new AppError('VALIDATION_FAILED', 'Not a valid, unexpired PEM certificate', {
      errors: [{ pointer: '/body/certificate', detail: (err as Error).message }],
    });
  }
}

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
          'Issue a device credential: a token (shown once) or, with `certificate`, a client certificate for MQTT over TLS; rotateGraceS lets older ones work a while longer',
        body: Type.Object(
          {
            deviceId: Uuid,
            expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
            rotateGraceS: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 24 * 3600 })),
            certificate: Type.Optional(
              Type.String({ minLength: 1, maxLength: 20000, description: 'PEM client certificate' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            credential: CredentialSchema,
            token: Type.Union([Type.String(), Type.Null()], {
              description: 'null for a certificate credential',
            }),
          }),
        },
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
      const certificate = request.body.certificate ? parseCertificate(request.body.certificate) : undefined;
      let issued: Awaited<ReturnType<typeof issueDeviceCredential>>;
      try {
        issued = await issueDeviceCredential(services, request, request.principal!.tenantId, {
          deviceId: request.body.deviceId,
          // A certificate credential ends with the certificate unless an earlier expiry is asked for.
          expiresAt: certificate
            ? Math.min(expiresAt ?? Number.POSITIVE_INFINITY, certificate.validTo)
            : expiresAt,
          rotateGraceS: request.body.rotateGraceS,
          certificateFingerprint: certificate?.fingerprint,
        });
      } catch (err) {
        if (certificate && isUniqueViolation(err)) {
          throw new AppError('CONFLICT', 'This certificate is already registered');
        }
        throw err;
      }
      const { credential, token } = issued;
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
