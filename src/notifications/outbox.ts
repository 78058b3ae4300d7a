import type { DbOrTrx } from '../db/database.js';

const SEVERITY_RANK: Record<string, number> = { info: 0, warning: 1, minor: 2, major: 3, critical: 4 };

/** What an alarm change tells the channels. */
export interface AlarmNotice {
  readonly tenantId: string;
  readonly alarmId: string;
  /** `raised`, `resolved` or `flapping`. */
  readonly event: string;
  readonly severity: string;
  /** What the alarm is about (routing by site follows the asset, or the sensor's asset). */
  readonly assetId: string | null;
  readonly sensorId: string | null;
  readonly payload: Record<string, unknown>;
  readonly now: number;
}

/**
 * Queues the notice for every enabled channel of the tenant whose minimum severity it reaches, in
 * the caller's transaction: the alarm change and its deliveries commit together or not at all.
 */
export async function enqueueNotice(trx: DbOrTrx, n: AlarmNotice): Promise<number> {
  const channels = await trx
    .selectFrom('notification_channels')
    .select(['id', 'min_severity'])
    .where('tenant_id', '=', n.tenantId)
    .where('enabled', '=', 1)
    .execute();
  const rank = SEVERITY_RANK[n.severity] ?? 0;
  const targets = channels.filter((c) => rank >= (SEVERITY_RANK[c.min_severity] ?? 0));
  if (targets.length === 0) return 0;
  await trx
    .insertInto('notification_outbox')
    .values(
      targets.map((c) => ({
        tenant_id: n.tenantId,
        channel_id: c.id,
        alarm_id: n.alarmId,
        event: n.event,
        payload: JSON.stringify({ event: n.event, ...n.payload }),
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: n.now,
        lease_until: null,
        last_status: null,
        last_error: null,
        created_at: n.now,
        delivered_at: null,
      })),
    )
    .execute();
  return targets.length;
}
