import type { Insertable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { SecurityEventsTable, SecurityIpRulesTable } from '../db/schema.js';

export type SecurityEventRow = Insertable<SecurityEventsTable>;

export async function insertSecurityEvents(db: DbOrTrx, rows: readonly SecurityEventRow[]): Promise<void> {
  if (rows.length > 0)
    await db
      .insertInto('security_events')
      .values([...rows])
      .execute();
}

export interface EventFilter {
  readonly tenantId?: string | undefined;
  readonly kind?: string | undefined;
  readonly ip?: string | undefined;
  readonly category?: string | undefined;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly beforeId?: number | undefined;
  readonly limit: number;
}

export async function listSecurityEvents(db: DbOrTrx, f: EventFilter) {
  return db
    .selectFrom('security_events')
    .selectAll()
    .$if(f.tenantId !== undefined, (q) => q.where('tenant_id', '=', f.tenantId!))
    .$if(f.kind !== undefined, (q) => q.where('kind', '=', f.kind!))
    .$if(f.ip !== undefined, (q) => q.where('ip', '=', f.ip!))
    .$if(f.category !== undefined, (q) => q.where('categories', 'like', `%${f.category}%`))
    .$if(f.from !== undefined, (q) => q.where('created_at', '>=', f.from!))
    .$if(f.to !== undefined, (q) => q.where('created_at', '<', f.to!))
    .$if(f.beforeId !== undefined, (q) => q.where('id', '<', f.beforeId!))
    .orderBy('id', 'desc')
    .limit(f.limit)
    .execute();
}

/** Counts by kind and category, and the busiest IPs, since `from`. */
export async function summariseSecurityEvents(db: DbOrTrx, from: number, tenantId?: string) {
  const base = db
    .selectFrom('security_events')
    .where('created_at', '>=', from)
    .$if(tenantId !== undefined, (q) => q.where('tenant_id', '=', tenantId!));
  const [byKind, byCategory, topIps] = await Promise.all([
    base
      .select((eb) => ['kind', eb.fn.countAll<number | string>().as('count')])
      .groupBy('kind')
      .execute(),
    base
      .select((eb) => ['categories', eb.fn.countAll<number | string>().as('count')])
      .groupBy('categories')
      .execute(),
    base
      .select((eb) => [
        'ip',
        eb.fn.countAll<number | string>().as('count'),
        eb.fn.max('score').as('maxScore'),
      ])
      .groupBy('ip')
      .orderBy((eb) => eb.fn.countAll(), 'desc')
      .limit(10)
      .execute(),
  ]);
  return { byKind, byCategory, topIps };
}

export async function listIpRules(db: DbOrTrx, now: number) {
  return db
    .selectFrom('security_ip_rules')
    .selectAll()
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('created_at')
    .execute();
}

export async function insertIpRule(db: DbOrTrx, rule: Insertable<SecurityIpRulesTable>): Promise<void> {
  await db.insertInto('security_ip_rules').values(rule).execute();
}

export async function deleteIpRule(db: DbOrTrx, id: string) {
  return db.deleteFrom('security_ip_rules').where('id', '=', id).returningAll().executeTakeFirst();
}
