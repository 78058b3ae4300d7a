import type { Insertable, Selectable, Updateable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { NotificationChannelsTable, NotificationOutboxTable } from '../db/schema.js';
import { parseQuietHours, type QuietHours } from './quiet-hours.js';
import { type ChannelRouting, parseRouting } from './routing.js';

/** A channel as the services see it (never its secret). */
export interface Channel {
  readonly id: string;
  readonly tenantId: string;
  /** Set on a member's personal email channel; the tenant's channels have none. */
  readonly userId: string | null;
  readonly name: string;
  readonly type: NotificationChannelsTable['type'];
  readonly url: string;
  readonly minSeverity: string;
  readonly enabled: boolean;
  readonly routing: ChannelRouting;
  readonly quietHours: QuietHours | null;
  readonly rateLimitPerMinute: number;
  readonly createdAt: number;
}

export interface Delivery {
  readonly id: number;
  readonly alarmId: string;
  readonly event: string;
  readonly severity: string | null;
  readonly status: NotificationOutboxTable['status'];
  readonly note: string | null;
  readonly attempts: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly nextAttemptAt: number;
  readonly createdAt: number;
  readonly deliveredAt: number | null;
}

type ChannelRow = Omit<Selectable<NotificationChannelsTable>, 'secret' | 'created_by'>;
const COLUMNS = [
  'id',
  'tenant_id',
  'user_id',
  'name',
  'type',
  'url',
  'min_severity',
  'enabled',
  'routing',
  'quiet_hours',
  'rate_limit_per_minute',
  'created_at',
] as const;

export function toChannel(r: ChannelRow): Channel {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    name: r.name,
    type: r.type,
    url: r.url,
    minSeverity: r.min_severity,
    enabled: Number(r.enabled) === 1,
    routing: parseRouting(r.routing),
    quietHours: parseQuietHours(r.quiet_hours),
    rateLimitPerMinute: Number(r.rate_limit_per_minute),
    createdAt: Number(r.created_at),
  };
}

/** The tenant's own channels (personal ones belong to their members and are not listed). */
export async function listTenantChannels(db: DbOrTrx, tenantId: string): Promise<Channel[]> {
  const rows = await db
    .selectFrom('notification_channels')
    .select(COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('user_id', 'is', null)
    .orderBy('created_at')
    .limit(500)
    .execute();
  return rows.map(toChannel);
}

export async function findTenantChannel(
  db: DbOrTrx,
  tenantId: string,
  id: string,
): Promise<Channel | undefined> {
  const r = await db
    .selectFrom('notification_channels')
    .select(COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('user_id', 'is', null)
    .executeTakeFirst();
  return r && toChannel(r);
}

export async function findPersonalChannel(
  db: DbOrTrx,
  tenantId: string,
  userId: string,
): Promise<Channel | undefined> {
  const r = await db
    .selectFrom('notification_channels')
    .select(COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return r && toChannel(r);
}

export async function insertChannel(db: DbOrTrx, row: Insertable<NotificationChannelsTable>): Promise<void> {
  await db.insertInto('notification_channels').values(row).execute();
}

/** Creates or replaces a member's personal channel (one per member and tenant, however many PUTs race). */
export async function upsertPersonalChannel(
  db: DbOrTrx,
  row: Insertable<NotificationChannelsTable> & { user_id: string },
): Promise<void> {
  await db
    .insertInto('notification_channels')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'user_id']).doUpdateSet({
        url: row.url,
        min_severity: row.min_severity,
        enabled: row.enabled,
        routing: row.routing ?? '{}',
        quiet_hours: row.quiet_hours ?? null,
      }),
    )
    .execute();
}

export async function updateTenantChannel(
  db: DbOrTrx,
  tenantId: string,
  id: string,
  patch: Updateable<NotificationChannelsTable>,
): Promise<boolean> {
  const r = await db
    .updateTable('notification_channels')
    .set(patch)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('user_id', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function deleteTenantChannel(db: DbOrTrx, tenantId: string, id: string): Promise<boolean> {
  const r = await db
    .deleteFrom('notification_channels')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('user_id', 'is', null)
    .executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

/** A channel's deliveries, newest first. */
export async function listDeliveries(db: DbOrTrx, channelId: string, limit = 200): Promise<Delivery[]> {
  const rows = await db
    .selectFrom('notification_outbox')
    .selectAll()
    .where('channel_id', '=', channelId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    alarmId: r.alarm_id,
    event: r.event,
    severity: r.severity,
    status: r.status,
    note: r.note,
    attempts: Number(r.attempts),
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    lastError: r.last_error,
    nextAttemptAt: Number(r.next_attempt_at),
    createdAt: Number(r.created_at),
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  }));
}
