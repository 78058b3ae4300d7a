import type { DbOrTrx } from '../db/database.js';
import { ancestorIds } from './sites.repository.js';

/** Where something is: its asset (a sensor's, through the sensors table) and that asset's site with every site above it. */
export interface Place {
  readonly assetId: string | null;
  readonly siteIds: readonly string[];
}

/** The place of an asset, or of a sensor through its asset (maintenance windows, notification routing). */
export async function placeOf(
  db: DbOrTrx,
  tenantId: string,
  subject: { readonly assetId: string | null; readonly sensorId: string | null },
): Promise<Place> {
  let assetId = subject.assetId;
  if (!assetId && subject.sensorId) {
    const sensor = await db
      .selectFrom('sensors')
      .select('asset_id')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', subject.sensorId)
      .executeTakeFirst();
    assetId = sensor?.asset_id ?? null;
  }
  if (!assetId) return { assetId: null, siteIds: [] };
  const asset = await db
    .selectFrom('assets')
    .select('site_id')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', assetId)
    .executeTakeFirst();
  const siteIds = asset?.site_id ? await ancestorIds(db, tenantId, asset.site_id) : [];
  return { assetId, siteIds };
}
