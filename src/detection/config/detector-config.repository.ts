import { randomUUID } from 'node:crypto';
import type { DbOrTrx } from '../../db/database.js';
import type { DetectorConfigDoc } from './detector-config.schema.js';

export type ConfigScope = 'sensor_type' | 'asset' | 'sensor';

/** One version of a detector document (null: removed at this version). */
export interface DetectorConfigVersion {
  readonly id: string;
  readonly scope: ConfigScope;
  readonly targetId: string;
  readonly version: number;
  readonly document: DetectorConfigDoc | null;
  readonly createdBy: string | null;
  readonly createdAt: Date;
}

function toVersion(r: {
  id: string;
  scope: ConfigScope;
  target_id: string;
  version: number;
  document: string | null;
  created_by: string | null;
  created_at: number | string;
}): DetectorConfigVersion {
  return {
    id: r.id,
    scope: r.scope,
    targetId: r.target_id,
    version: Number(r.version),
    document: r.document === null ? null : (JSON.parse(r.document) as DetectorConfigDoc),
    createdBy: r.created_by,
    createdAt: new Date(Number(r.created_at)),
  };
}

/** Stores a new version (the next number for the target; the unique key refuses a racing twin). */
export async function appendConfigVersion(
  db: DbOrTrx,
  tenantId: string,
  scope: ConfigScope,
  targetId: string,
  document: DetectorConfigDoc | null,
  createdBy: string | null,
  now: number,
): Promise<DetectorConfigVersion> {
  const last = await db
    .selectFrom('detector_configs')
    .select((eb) => eb.fn.max('version').as('v'))
    .where('tenant_id', '=', tenantId)
    .where('scope', '=', scope)
    .where('target_id', '=', targetId)
    .executeTakeFirst();
  const row = {
    id: randomUUID(),
    tenant_id: tenantId,
    scope,
    target_id: targetId,
    version: Number(last?.v ?? 0) + 1,
    document: document === null ? null : JSON.stringify(document),
    created_by: createdBy,
    created_at: now,
  };
  await db.insertInto('detector_configs').values(row).execute();
  return toVersion(row);
}

/** Every version of a target, newest first. */
export async function listConfigVersions(
  db: DbOrTrx,
  tenantId: string,
  scope: ConfigScope,
  targetId: string,
): Promise<DetectorConfigVersion[]> {
  const rows = await db
    .selectFrom('detector_configs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('scope', '=', scope)
    .where('target_id', '=', targetId)
    .orderBy('version', 'desc')
    .limit(1000)
    .execute();
  return rows.map(toVersion);
}

/** The current document of each target given (targets without one are absent). */
export async function currentConfigs(
  db: DbOrTrx,
  tenantId: string,
  targets: readonly { scope: ConfigScope; targetId: string }[],
): Promise<Map<string, DetectorConfigVersion>> {
  const out = new Map<string, DetectorConfigVersion>();
  if (targets.length === 0) return out;
  const ids = [...new Set(targets.map((t) => t.targetId))];
  const rows = await db
    .selectFrom('detector_configs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('target_id', 'in', ids)
    .orderBy('version', 'asc')
    .execute();
  for (const r of rows) out.set(`${r.scope}:${r.target_id}`, toVersion(r));
  return out;
}
