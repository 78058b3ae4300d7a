import type { Insertable } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { NotificationOutboxTable } from '../db/schema.js';
import { placeOf } from '../registry/place.js';
import { parseQuietHours, quietDecision } from './quiet-hours.js';
import { type NoticePlace, needsPlace, parseRouting, routeAllows } from './routing.js';

/** What an alarm change tells the channels. */
export interface AlarmNotice {
  readonly tenantId: string;
  readonly alarmId: string;
  /** `raised`, `resolved`, `flapping`, `escalated` or `reminder`. */
  readonly event: string;
  readonly severity: string;
  /** What the alarm is about (routing by site follows the asset, or the sensor's asset). */
  readonly assetId: string | null;
  readonly sensorId: string | null;
  readonly payload: Record<string, unknown>;
  readonly now: number;
}

/**
 * Queues the notice for every enabled channel of the tenant that routes it (minimum severity,
 * severities, events, sites and assets), in the caller's transaction: the alarm change and its
 * deliveries commit together or not at all. In a channel's quiet hours the delivery waits for
 * their end, or is recorded as `suppressed` when the channel drops instead. Personal channels
 * count only while their owner is an active member of the tenant. Returns how many deliveries
 * will be sent.
 */
export async function enqueueNotice(trx: DbOrTrx, n: AlarmNotice): Promise<number> {
  const channels = await trx
    .selectFrom('notification_channels as c')
    .leftJoin('memberships as m', (join) =>
      join.onRef('m.user_id', '=', 'c.user_id').onRef('m.tenant_id', '=', 'c.tenant_id'),
    )
    .leftJoin('users as u', 'u.id', 'c.user_id')
    .select(['c.id', 'c.user_id', 'c.min_severity', 'c.routing', 'c.quiet_hours', 'm.role', 'u.status'])
    .where('c.tenant_id', '=', n.tenantId)
    .where('c.enabled', '=', 1)
    .execute();
  let place: NoticePlace | undefined;
  const rows: Insertable<NotificationOutboxTable>[] = [];
  for (const c of channels) {
    if (c.user_id !== null && (c.role === null || c.status !== 'active')) continue;
    const routing = parseRouting(c.routing);
    if (needsPlace(routing)) place ??= await placeOf(trx, n.tenantId, n);
    if (!routeAllows(routing, c.min_severity, n, place)) continue;
    const quiet = quietDecision(parseQuietHours(c.quiet_hours), n.severity, n.now);
    rows.push({
      tenant_id: n.tenantId,
      channel_id: c.id,
      alarm_id: n.alarmId,
      event: n.event,
      severity: n.severity,
      payload: JSON.stringify({ event: n.event, ...n.payload }),
      status: quiet.kind === 'drop' ? 'suppressed' : 'pending',
      note:
        quiet.kind === 'drop'
          ? 'suppressed: quiet hours (the channel drops notices during them)'
          : quiet.kind === 'hold'
            ? `held for quiet hours until ${new Date(quiet.until).toISOString()}`
            : null,
      attempts: 0,
      next_attempt_at: quiet.kind === 'hold' ? quiet.until : n.now,
      lease_until: null,
      last_status: null,
      last_error: null,
      created_at: n.now,
      delivered_at: null,
    });
  }
  if (rows.length === 0) return 0;
  await trx.insertInto('notification_outbox').values(rows).execute();
  return rows.filter((r) => r.status === 'pending').length;
}
