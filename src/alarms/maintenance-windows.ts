import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { MaintenanceWindowsTable } from '../db/schema.js';
import { placeOf } from '../registry/place.js';

const PERIOD: Record<'daily' | 'weekly', number> = { daily: 86_400_000, weekly: 7 * 86_400_000 };

export interface MaintenanceWindow {
  readonly id: string;
  readonly assetId: string | null;
  readonly siteId: string | null;
  readonly title: string;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly recurrence: 'none' | 'daily' | 'weekly';
  readonly until: number | null;
  readonly createdBy: string | null;
  readonly createdAt: number;
}

function toWindow(r: Selectable<MaintenanceWindowsTable>): MaintenanceWindow {
  return {
    id: r.id,
    assetId: r.asset_id,
    siteId: r.site_id,
    title: r.title,
    startsAt: Number(r.starts_at),
    endsAt: Number(r.ends_at),
    recurrence: r.recurrence,
    until: r.until === null ? null : Number(r.until),
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
  };
}

/** Whether time `t` falls in an occurrence of the window (the first, or a daily/weekly repeat before `until`). */
export function coversTime(
  w: Pick<MaintenanceWindow, 'startsAt' | 'endsAt' | 'recurrence' | 'until'>,
  t: number,
): boolean {
  if (t < w.startsAt) return false;
  if (w.recurrence === 'none') return t < w.endsAt;
  const period = PERIOD[w.recurrence];
  const k = Math.floor((t - w.startsAt) / period);
  const start = w.startsAt + k * period;
  if (w.until !== null && start >= w.until) return false;
  return t < w.endsAt + k * period;
}

export async function insertWindow(
  db: DbOrTrx,
  tenantId: string,
  w: Omit<MaintenanceWindow, 'id' | 'createdAt'>,
  now: number,
): Promise<MaintenanceWindow> {
  const row = {
    id: randomUUID(),
    tenant_id: tenantId,
    asset_id: w.assetId,
    site_id: w.siteId,
    title: w.title,
    starts_at: w.startsAt,
    ends_at: w.endsAt,
    recurrence: w.recurrence,
    until: w.until,
    created_by: w.createdBy,
    created_at: now,
  };
  await db.insertInto('maintenance_windows').values(row).execute();
  return toWindow(row);
}

export async function findWindow(
  db: DbOrTrx,
  tenantId: string,
  id: string,
): Promise<MaintenanceWindow | undefined> {
  const r = await db
    .selectFrom('maintenance_windows')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return r ? toWindow(r) : undefined;
}

export async function listWindows(
  db: DbOrTrx,
  tenantId: string,
  filter: { assetId?: string; siteId?: string; limit: number; afterId?: string },
): Promise<MaintenanceWindow[]> {
  let q = db.selectFrom('maintenance_windows').selectAll().where('tenant_id', '=', tenantId);
  if (filter.assetId) q = q.where('asset_id', '=', filter.assetId);
  if (filter.siteId) q = q.where('site_id', '=', filter.siteId);
  if (filter.afterId) q = q.where('id', '>', filter.afterId);
  return (await q.orderBy('id').limit(filter.limit).execute()).map(toWindow);
}

export async function deleteWindow(db: DbOrTrx, tenantId: string, id: string): Promise<boolean> {
  const r = await db
    .deleteFrom('maintenance_windows')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

/**
 * The maintenance window covering a reading of a sensor or an asset at time `t`, if any: windows
 * of the asset itself, of its site, or of any site above it.
 */
export async function windowAt(
  db: DbOrTrx,
  tenantId: string,
  subject: { sensorId: string | null; assetId: string | null },
  t: number,
): Promise<MaintenanceWindow | undefined> {
  const { assetId, siteIds: sites } = await placeOf(db, tenantId, subject);
  if (!assetId) return undefined;
  const rows = await db
    .selectFrom('maintenance_windows')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('starts_at', '<=', t)
    .where((eb) => {
      const parts = [eb('asset_id', '=', assetId)];
      if (sites.length > 0) parts.push(eb('site_id', 'in', [...sites]));
      return eb.or(parts);
    })
    .execute();
  return rows.map(toWindow).find((w) => coversTime(w, t));
}
