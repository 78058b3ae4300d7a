import { type Selectable, sql, type Updateable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { AssetsTable } from '../db/schema.js';
import { likePattern } from './registry.util.js';

export interface Asset {
  readonly id: string;
  readonly siteId: string | null;
  readonly kind: string;
  readonly key: string;
  readonly name: string;
  readonly geometry: Record<string, unknown> | null;
  readonly metadata: Record<string, unknown>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

function toAsset(r: Selectable<AssetsTable>): Asset {
  return {
    id: r.id,
    siteId: r.site_id,
    kind: r.kind,
    key: r.key,
    name: r.name,
    geometry: r.geometry === null ? null : (JSON.parse(r.geometry) as Record<string, unknown>),
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

export async function insertAsset(db: DbOrTrx, row: Selectable<AssetsTable>): Promise<Asset> {
  await db.insertInto('assets').values(row).execute();
  return toAsset(row);
}

export async function findAsset(db: DbOrTrx, tenantId: string, id: string): Promise<Asset | undefined> {
  const row = await db
    .selectFrom('assets')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toAsset(row);
}

export async function listAssets(
  db: DbOrTrx,
  tenantId: string,
  f: {
    afterKey?: string | undefined;
    q?: string | undefined;
    siteId?: string | undefined;
    kind?: string | undefined;
    limit: number;
  },
): Promise<Asset[]> {
  let q = db.selectFrom('assets').selectAll().where('tenant_id', '=', tenantId).orderBy('key').limit(f.limit);
  if (f.afterKey !== undefined) q = q.where('key', '>', f.afterKey);
  if (f.siteId) q = q.where('site_id', '=', f.siteId);
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.q) {
    const p = likePattern(f.q);
    q = q.where(sql<boolean>`(lower(key) like ${p} escape '\\' or lower(name) like ${p} escape '\\')`);
  }
  return (await q.execute()).map(toAsset);
}

export async function updateAsset(
  db: DbOrTrx,
  tenantId: string,
  id: string,
  patch: Pick<Updateable<AssetsTable>, 'name' | 'kind' | 'site_id' | 'geometry' | 'metadata'>,
  now: number,
): Promise<void> {
  await db
    .updateTable('assets')
    .set({ ...patch, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

export async function deleteAsset(db: DbOrTrx, tenantId: string, id: string): Promise<void> {
  await db.deleteFrom('assets').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}
