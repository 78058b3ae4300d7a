import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAuditIn } from '../audit/audit.service.js';
import { AppError } from '../http/errors/catalogue.js';
import { NullableInteger } from '../http/nullable.js';
import { decodeCursor, PageOf, PageQuery, page } from '../http/pagination.js';
import type { Services } from '../services.js';
import { createTenant } from '../users/users.service.js';
import type { Tenant } from './tenant.types.js';
import { findTenant, listTenants, updateTenant } from './tenants.repository.js';

const TenantSchema = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  settings: Type.Object({
    requireMfaForAdmins: Type.Boolean(),
    retentionDays: Type.Union([Type.Integer(), Type.Null()]),
  }),
  /** Set by platform admins (null: the installation default). */
  quotas: Type.Object({
    ingestReadingsPerS: Type.Union([Type.Integer(), Type.Null()]),
    mqttConnections: Type.Union([Type.Integer(), Type.Null()]),
  }),
  createdAt: Type.String({ format: 'date-time' }),
});

const present = (t: Tenant) => ({ ...t, createdAt: t.createdAt.toISOString() });

/** The caller's own tenant: read it, rename it, change its security settings. */
export async function tenantRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const tags = ['tenants'];

  app.get(
    '/tenant',
    {
      config: { auth: 'principal', permission: 'tenant:read' },
      schema: { tags, response: { 200: TenantSchema } },
    },
    async (request) => present((await findTenant(services.database.db, request.principal!.tenantId))!),
  );

  app.patch(
    '/tenant',
    {
      config: { auth: 'user', permission: 'tenant:manage' },
      schema: {
        tags,
        summary: 'Rename the tenant or change its settings (owners)',
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            settings: Type.Optional(
              Type.Object(
                {
                  requireMfaForAdmins: Type.Optional(Type.Boolean()),
                  retentionDays: Type.Optional(NullableInteger({ minimum: 1, maximum: 36500 })),
                },
                { additionalProperties: false, minProperties: 1 },
              ),
            ),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: TenantSchema },
      },
    },
    async (request) => {
      const { db } = services.database;
      const tenantId = request.principal!.tenantId;
      await db.transaction().execute(async (trx) => {
        const current = (await findTenant(trx, tenantId))!;
        const { settings, name } = request.body;
        await updateTenant(trx, tenantId, {
          name,
          settings: settings ? { ...current.settings, ...settings } : undefined,
          now: Date.now(),
        });
        await recordAuditIn(services, trx, {
          ...auditContext(request),
          action: 'tenant.update',
          outcome: 'success',
          targetType: 'tenant',
          targetId: tenantId,
          details: { changed: request.body },
        });
      });
      return present((await findTenant(db, tenantId))!);
    },
  );
}

/** Installation-wide tenant management, for platform administrators. */
export async function adminTenantRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const tags = ['admin'];

  app.get(
    '/tenants',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: {
        tags,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: {
          200: PageOf(TenantSchema),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const afterSlug = decodeCursor<string>(request.query.cursor, 'string');
      if (request.query.cursor && afterSlug === undefined)
        throw new AppError('VALIDATION_FAILED', 'Bad cursor', {
          errors: [{ pointer: '/query/cursor', detail: 'is not a cursor from this endpoint' }],
        });
      const tenants = await listTenants(services.database.db, { afterSlug, limit });
      return page(tenants.map(present), limit, (t) => t.slug);
    },
  );

  app.post(
    '/tenants',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: {
        tags,
        body: Type.Object(
          {
            slug: Type.String({ minLength: 1, maxLength: 63 }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: TenantSchema },
      },
    },
    async (request, reply) => {
      const tenant = await services.database.db
        .transaction()
        .execute((trx) => createTenant(services, trx, request.body, auditContext(request)));
      return reply.code(201).send(present(tenant));
    },
  );
}
