import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { auditContext, recordAuditIn } from '../audit/audit.service.js';
import { AppError } from '../http/errors/catalogue.js';
import { NullableInteger } from '../http/nullable.js';
import type { Services } from '../services.js';
import type { Tenant } from './tenant.types.js';
import { findTenant, updateTenant } from './tenants.repository.js';

const Quota = (max: number) => NullableInteger({ minimum: 1, maximum: max });

const QuotasSchema = Type.Object({
  tenantId: Type.String(),
  /** As set (null: the installation default). */
  quotas: Type.Object({
    ingestReadingsPerS: Type.Union([Type.Integer(), Type.Null()]),
    mqttConnections: Type.Union([Type.Integer(), Type.Null()]),
  }),
  /** What applies now. */
  effective: Type.Object({ ingestReadingsPerS: Type.Integer(), mqttConnections: Type.Integer() }),
});

/** Per-tenant quotas, which only platform administrators may change (every change audited). */
export async function tenantQuotaRoutes(base: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const tags = ['admin'];
  const present = (t: Tenant) => ({
    tenantId: t.id,
    quotas: t.quotas,
    effective: services.tenantQuotas.effective(t.quotas),
  });
  const load = async (id: string) => {
    const tenant = await findTenant(services.database.db, id);
    if (!tenant) throw new AppError('NOT_FOUND', 'No such tenant');
    return tenant;
  };

  app.get(
    '/tenants/:id/quotas',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: {
        tags,
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: { 200: QuotasSchema },
      },
    },
    async (request) => present(await load(request.params.id)),
  );

  app.patch(
    '/tenants/:id/quotas',
    {
      config: { auth: 'user', platformAdmin: true },
      schema: {
        tags,
        summary: "Raise or lower a tenant's quotas; null restores the installation default",
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        body: Type.Object(
          {
            ingestReadingsPerS: Type.Optional(Quota(100_000_000)),
            mqttConnections: Type.Optional(Quota(10_000_000)),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: QuotasSchema },
      },
    },
    async (request) => {
      const { db } = services.database;
      const tenant = await load(request.params.id);
      const quotas = { ...tenant.quotas, ...request.body };
      await db.transaction().execute(async (trx) => {
        await updateTenant(trx, tenant.id, { quotas, now: Date.now() });
        await recordAuditIn(services, trx, {
          ...auditContext(request),
          action: 'tenant.quotas.update',
          outcome: 'success',
          targetType: 'tenant',
          targetId: tenant.id,
          details: { before: tenant.quotas, after: quotas },
        });
      });
      services.tenantQuotas.invalidate(tenant.id);
      return present({ ...tenant, quotas });
    },
  );
}
