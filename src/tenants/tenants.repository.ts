import type { Selectable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { TenantsTable } from '../db/schema.js';
import { PLATFORM_TENANT_ID } from './platform-tenant.js';
import {
  DEFAULT_TENANT_QUOTAS,
  DEFAULT_TENANT_SETTINGS,
  type Tenant,
  type TenantQuotas,
  type TenantSettings,
} from './tenant.types.js';

function toTenant(r: Omit<Selectable<TenantsTable>, 'quotas'> & { quotas?: string }): Tenant {
  return {
    id: r.id,
    slug: r.slug,
    name: r.name,
    settings: { ...DEFAULT_TENANT_SETTINGS, ...(JSON.parse(r.settings) as Partial<TenantSettings>) },
    quotas: { ...DEFAULT_TENANT_QUOTAS, ...(JSON.parse(r.quotas ?? '{}') as Partial<TenantQuotas>) },
    createdAt: new Date(r.created_at),
  };
}

export async function insertTenant(
  db: DbOrTrx,
  t: { id: string; slug: string; name: string; now: number },
): Promise<Tenant> {
  const row = { id: t.id, slug: t.slug, name: t.name, settings: '{}', created_at: t.now, updated_at: t.now };
  await db.insertInto('tenants').values(row).execute();
  return toTenant(row);
}

export async function findTenant(db: DbOrTrx, idOrSlug: string): Promise<Tenant | undefined> {
  const row = await db
    .selectFrom('tenants')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', idOrSlug), eb('slug', '=', idOrSlug)]))
    .executeTakeFirst();
  return row && toTenant(row);
}

export async function listTenants(
  db: DbOrTrx,
  page: { afterSlug?: string | undefined; limit: number },
): Promise<Tenant[]> {
  // The platform tenant (self-monitoring alarms) is not a customer: it is listed nowhere.
  let q = db
    .selectFrom('tenants')
    .selectAll()
    .where('id', '!=', PLATFORM_TENANT_ID)
    .orderBy('slug')
    .limit(page.limit);
  if (page.afterSlug) q = q.where('slug', '>', page.afterSlug);
  return (await q.execute()).map(toTenant);
}

export async function updateTenant(
  db: DbOrTrx,
  id: string,
  patch: {
    name?: string | undefined;
    settings?: TenantSettings | undefined;
    quotas?: TenantQuotas | undefined;
    now: number;
  },
): Promise<void> {
  await db
    .updateTable('tenants')
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.settings !== undefined ? { settings: JSON.stringify(patch.settings) } : {}),
      ...(patch.quotas !== undefined ? { quotas: JSON.stringify(patch.quotas) } : {}),
      updated_at: patch.now,
    })
    .where('id', '=', id)
    .execute();
}
