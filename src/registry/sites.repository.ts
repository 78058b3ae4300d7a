import { type Selectable, sql, type Updateable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { SitesTable } from '../db/schema.js';
import { likePattern } from './registry.util.js';

export interface Site {
  readonly id: string;
  readonly parentId: string | null;
  readonly kind: string;
  readonly key: string;
  readonly name: string;
  readonly metadata: Record<string, unknown>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

function toSite(r: Selectable<SitesTable>): Site {
  return {
    id: r.id,
    parentId: r.parent_id,
    kind: r.kind,
    key: r.key,
    name: r.name,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

export async function insertSite(db: DbOrTrx, row: Selectable<SitesTable>): Promise<Site> {
  await db.insertInto('sites').values(row).execute();
  return toSite(row);
}

export async function findSite(db: DbOrTrx, tenantId: string, id: string): Promise<Site | undefined> {
  const row = await db
    .selectFrom('sites')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toSite(row);
}

export async function listSites(
  db: DbOrTrx,
  tenantId: string,
  f: {
    afterKey?: string | undefined;
    q?: string | undefined;
    parentId?: string | null | undefined;
    kind?: string | undefined;
    limit: number;
  },
): Promise<Site[]> {
  let q = db.selectFrom('sites').selectAll().where('tenant_id', '=', tenantId).orderBy('key').limit(f.limit);
  if (f.afterKey !== undefined) q = q.where('key', '>', f.afterKey);
  if (f.parentId === null) q = q.where('parent_id', 'is', null);
  else if (f.parentId !== undefined) q = q.where('parent_id', '=', f.parentId);
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.q) {
    const p = likePattern(f.q);
    q = q.where(sql<boolean>`(lower(key) like ${p} escape '\\' or lower(name) like ${p} escape '\\')`);
  }
  return (await q.execute()).map(toSite);
}

/** Ids from `id` up to the root, for cycle checks (bounded: hierarchies are shallow). */
export async function ancestorIds(
  db: DbOrTrx,
  tenantId: string,
  id: string,
  maxDepth = 32,
): Promise<string[]> {
  const chain: string[] = [];
  let current: string | null = id;
  while (current && chain.length < maxDepth) {
    chain.push(current);
    const row: { parent_id: string | null } | undefined = await db
      .selectFrom('sites')
      .select('parent_id')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', current)
      .executeTakeFirst();
    current = row?.parent_id ?? null;
  }
  return chain;
}

export async function updateSite(
  db: DbOrTrx,
  tenantId: string,
  id: string,
  patch: Pick<Updateable<SitesTable>, 'name' | 'kind' | 'parent_id' | 'metadata'>,
  now: number,
): Promise<void> {
  await db
    .updateTable('sites')
    .set({ ...patch, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

export async function deleteSite(db: DbOrTrx, tenantId: string, id: string): Promise<void> {
  await db.deleteFrom('sites').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}
