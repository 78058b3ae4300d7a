import type { DbOrTrx } from '../../db/database.js';
import type { FieldError } from '../../http/errors/catalogue.js';
import type { DetectorConfigDoc } from './detector-config.schema.js';
import { checkDoc } from './effective-config.js';

/**
 * Everything wrong with a detector document for its target, each with its pointer under `at`:
 * the document's own checks, asset rules only on an asset's document, and every sensor an asset
 * rule names one of that asset's (by key).
 */
export async function documentProblems(
  db: DbOrTrx,
  tenantId: string,
  target: { scope: 'sensor_type' | 'asset' | 'sensor'; targetId: string },
  doc: DetectorConfigDoc,
  at: string,
): Promise<FieldError[]> {
  const problems: FieldError[] = checkDoc(doc, at);
  if (!doc.assetRules) return problems;
  if (target.scope !== 'asset') {
    problems.push({ pointer: `${at}/assetRules`, detail: 'only an asset document may have asset rules' });
    return problems;
  }
  const members = await db
    .selectFrom('sensors')
    .select('key')
    .where('tenant_id', '=', tenantId)
    .where('asset_id', '=', target.targetId)
    .execute();
  const keys = new Set(members.map((m) => m.key));
  doc.assetRules.forEach((r, i) => {
    r.conditions.forEach((c, j) => {
      if (!keys.has(c.sensor))
        problems.push({
          pointer: `${at}/assetRules/${i}/conditions/${j}/sensor`,
          detail: `"${c.sensor}" is not the key of a sensor of this asset`,
        });
    });
  });
  return problems;
}
