import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAuditIn } from '../audit/audit.service.js';
import { userOf } from '../auth/auth.routes.js';
import { PermissionSchema, Uuid } from '../auth/auth.schemas.js';
import { hashToken, newOpaqueToken } from '../auth/tokens.js';
import { AppError } from '../http/errors/catalogue.js';
import { isoOrNull } from '../http/present.js';
import type { Services } from '../services.js';
import { type ApiKey, findApiKey, insertApiKey, listApiKeys, revokeApiKey } from './api-keys.repository.js';

const ApiKeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  permissions: Type.Array(Type.String()),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const present = (k: ApiKey) => ({
  ...k,
  permissions: [...k.permissions],
  createdAt: k.createdAt.toISOString(),
  expiresAt: isoOrNull(k.expiresAt),
  lastUsedAt: isoOrNull(k.lastUsedAt),
  revokedAt: isoOrNull(k.revokedAt),
});

/** API keys for integrations: a subset of the creator's permissions, shown once, stored hashed. */
export async function apiKeyRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const tags = ['api-keys'];

  app.get(
    '/api-keys',
    {
      config: { auth: 'user', permission: 'api-keys:manage' },
      schema: { tags, response: { 200: Type.Object({ items: Type.Array(ApiKeySchema) }) } },
    },
    async (request) => ({
      items: (await listApiKeys(services.database.db, request.principal!.tenantId)).map(present),
    }),
  );

  app.get(
    '/api-keys/:id',
    {
      config: { auth: 'user', permission: 'api-keys:manage' },
      schema: {
        tags,
        params: Type.Object({ id: Uuid }, { additionalProperties: false }),
        response: { 200: ApiKeySchema },
      },
    },
    async (request) => {
      const key = await findApiKey(services.database.db, request.principal!.tenantId, request.params.id);
      if (!key) throw new AppError('NOT_FOUND', 'No such API key');
      return present(key);
    },
  );

  app.post(
    '/api-keys',
    {
      config: { auth: 'user', permission: 'api-keys:manage' },
      schema: {
        tags,
        summary: 'Create an API key; the key is in this response only',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            permissions: Type.Array(PermissionSchema, { minItems: 1, maxItems: 50, uniqueItems: true }),
            expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ apiKey: ApiKeySchema, key: Type.String() }) },
      },
    },
    async (request, reply) => {
      const actor = userOf(request.principal);
      const missing = request.body.permissions.filter((p) => !actor.permissions.has(p));
      if (missing.length > 0) {
        throw new AppError(
          'FORBIDDEN',
          `You cannot grant permissions you do not have: ${missing.join(', ')}`,
        );
      }
      const now = Date.now();
      const expiresAt = request.body.expiresAt ? Date.parse(request.body.expiresAt) : null;
      if (expiresAt !== null && expiresAt <= now) {
        throw new AppError('VALIDATION_FAILED', 'Expiry is in the past', {
          errors: [{ pointer: '/body/expiresAt', detail: 'must be in the future' }],
        });
      }
      const key = newOpaqueToken('apiKey');
      const id = randomUUID();
      const apiKey = await services.database.db.transaction().execute(async (trx) => {
        const created = await insertApiKey(trx, {
          id,
          tenantId: actor.tenantId,
          name: request.body.name,
          prefix: key.slice(0, 12),
          keyHash: hashToken(key),
          permissions: request.body.permissions,
          createdBy: actor.userId,
          expiresAt,
          now,
        });
        await recordAuditIn(services, trx, {
          ...auditContext(request),
          action: 'api_key.create',
          outcome: 'success',
          targetType: 'api-key',
          targetId: id,
          details: { name: request.body.name, permissions: request.body.permissions },
        });
        return created;
      });
      return reply.code(201).send({ apiKey: present(apiKey), key });
    },
  );

  app.delete(
    '/api-keys/:id',
    {
      config: { auth: 'user', permission: 'api-keys:manage' },
      schema: {
        tags,
        summary: 'Revoke an API key',
        params: Type.Object({ id: Uuid }, { additionalProperties: false }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const tenantId = request.principal!.tenantId;
      const { db } = services.database;
      if (!(await findApiKey(db, tenantId, request.params.id)))
        throw new AppError('NOT_FOUND', 'No such API key');
      await db.transaction().execute(async (trx) => {
        await revokeApiKey(trx, tenantId, request.params.id, Date.now());
        await recordAuditIn(services, trx, {
          ...auditContext(request),
          action: 'api_key.revoke',
          outcome: 'success',
          targetType: 'api-key',
          targetId: request.params.id,
        });
      });
      return reply.code(204).send(null);
    },
  );
}
