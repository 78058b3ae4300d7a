import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { AlarmRulesTable } from '../db/schema.js';
import type { AlarmRule } from './alarm-rules.js';

export function toRule(r: Selectable<AlarmRulesTable>): AlarmRule {
  return {
    id: r.id,
    name: r.name,
    enabled: Number(r.enabled) === 1,
    sensorTypeId: r.sensor_type_id,
    assetId: r.asset_id,
    sensorId: r.sensor_id,
    detectors: JSON.parse(r.detectors) as string[],
    ruleIds: r.rule_ids === null ? null : (JSON.parse(r.rule_ids) as string[]),
    action: r.action,
    severity: r.severity,
    minScore: Number(r.min_score),
    delayS: Number(r.delay_s),
    minOccurrences: Number(r.min_occurrences),
    withinS: Number(r.within_s),
    autoClear: r.auto_clear,
    quietS: Number(r.quiet_s),
    createdAt: Number(r.created_at),
  };
}

/** What a rule is made of (create and replace). */
export type RuleInput = Omit<AlarmRule, 'id' | 'createdAt'>;

const columns = (r: RuleInput) => ({
  name: r.name,
  enabled: r.enabled ? 1 : 0,
  sensor_type_id: r.sensorTypeId,
  asset_id: r.assetId,
  sensor_id: r.sensorId,
  detectors: JSON.stringify(r.detectors),
  rule_ids: r.ruleIds === null ? null : JSON.stringify(r.ruleIds),
  action: r.action,
  severity: r.severity,
  min_score: r.minScore,
  delay_s: r.delayS,
  min_occurrences: r.minOccurrences,
  within_s: r.withinS,
  auto_clear: r.autoClear,
  quiet_s: r.quietS,
});

export async function insertRule(
  db: DbOrTrx,
  tenantId: string,
  r: RuleInput,
  createdBy: string | null,
  now: number,
): Promise<AlarmRule> {
  const id = randomUUID();
  await db
    .insertInto('alarm_rules')
    .values({
      id,
      tenant_id: tenantId,
      ...columns(r),
      created_by: createdBy,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return (await findRule(db, tenantId, id))!;
}

export async function replaceRule(
  db: DbOrTrx,
  tenantId: string,
  id: string,
  r: RuleInput,
  now: number,
): Promise<AlarmRule | undefined> {
  const res = await db
    .updateTable('alarm_rules')
    .set({ ...columns(r), updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1 ? findRule(db, tenantId, id) : undefined;
}

export async function deleteRule(db: DbOrTrx, tenantId: string, id: string): Promise<boolean> {
  const res = await db
    .deleteFrom('alarm_rules')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}

export async function findRule(db: DbOrTrx, tenantId: string, id: string): Promise<AlarmRule | undefined> {
  const r = await db
    .selectFrom('alarm_rules')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return r ? toRule(r) : undefined;
}

/** A tenant's rules, oldest first, after a cursor (rule id) when paging. */
export async function listRules(
  db: DbOrTrx,
  tenantId: string,
  q: {
    readonly sensorTypeId?: string;
    readonly assetId?: string;
    readonly sensorId?: string;
    readonly after?: { createdAt: number; id: string };
    readonly limit: number;
  },
): Promise<AlarmRule[]> {
  let query = db.selectFrom('alarm_rules').selectAll().where('tenant_id', '=', tenantId);
  if (q.sensorTypeId) query = query.where('sensor_type_id', '=', q.sensorTypeId);
  if (q.assetId) query = query.where('asset_id', '=', q.assetId);
  if (q.sensorId) query = query.where('sensor_id', '=', q.sensorId);
  const a = q.after;
  if (a)
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '>', a.createdAt),
        eb.and([eb('created_at', '=', a.createdAt), eb('id', '>', a.id)]),
      ]),
    );
  const rows = await query.orderBy('created_at').orderBy('id').limit(q.limit).execute();
  return rows.map(toRule);
}

/** Every enabled rule of these tenants (the alarm stage loads them per batch of events). */
export async function enabledRules(
  db: DbOrTrx,
  tenantIds: readonly string[],
): Promise<Map<string, AlarmRule[]>> {
  const out = new Map<string, AlarmRule[]>();
  if (tenantIds.length === 0) return out;
  const rows = await db
    .selectFrom('alarm_rules')
    .selectAll()
    .where('tenant_id', 'in', [...tenantIds])
    .where('enabled', '=', 1)
    .execute();
  for (const r of rows) {
    const list = out.get(r.tenant_id) ?? [];
    list.push(toRule(r));
    out.set(r.tenant_id, list);
  }
  return out;
}
