import type { DbOrTrx } from '../db/database.js';
import { dialectOf } from '../db/dialect.js';
import { incidentSummary, toIncident } from '../incidents/incidents.service.js';
import type { ServerMessage } from './stream.messages.js';

/** At most this many events are replayed; further behind, the client reloads (`resync`). */
export const REPLAY_MAX = 1000;

/**
 * On PostgreSQL an event's id is taken when it is inserted, and transactions commit in any
 * order: an event with a lower id than the client's last can commit after the client saw that
 * one. So a resume also replays the events with lower ids written up to this long before it
 * (each marked `replayed` with the alarm or incident as it is now, so applying one again is
 * harmless). SQLite has one writer: ids are in commit order there.
 */
export const RESUME_OVERLAP_MS = 60_000;

/** Most overlap events replayed (the newest below the resume point); outside REPLAY_MAX. */
const OVERLAP_MAX = 200;

/** The overlap rows (newest first, as read) still inside the window, oldest first. */
function inOverlap<R extends { at: number }>(rows: readonly R[], fromAt: number | null): R[] {
  if (fromAt === null) return [];
  return rows.filter((r) => Number(r.at) >= fromAt).reverse();
}

/** Where a resume after `since` starts: ids above it, and on PostgreSQL the overlap below it. */
async function resumeFrom(
  db: DbOrTrx,
  table: 'alarm_events' | 'incident_events',
  since: number,
): Promise<{ since: number; overlapFromAt: number | null }> {
  if (dialectOf(db) !== 'postgres') return { since, overlapFromAt: null };
  const last = await db.selectFrom(table).select('at').where('id', '=', since).executeTakeFirst();
  return { since, overlapFromAt: last ? Number(last.at) - RESUME_OVERLAP_MS : null };
}

/**
 * A tenant's alarm events after `since` (alarm_events.id), in order, as live messages — the
 * payload shows the alarm as it is now. `complete` is false when more than REPLAY_MAX are missed.
 */
export async function replayAlarms(
  db: DbOrTrx,
  tenantId: string,
  since: string,
): Promise<{ messages: ServerMessage[]; complete: boolean }> {
  const from = await resumeFrom(db, 'alarm_events', Number(since));
  const base = () =>
    db
      .selectFrom('alarm_events')
      .innerJoin('alarms', 'alarms.id', 'alarm_events.alarm_id')
      .select([
        'alarm_events.id as eventId',
        'alarm_events.kind',
        'alarm_events.at',
        'alarms.id as alarmId',
        'alarms.title',
        'alarms.severity',
        'alarms.status',
        'alarms.sensor_id',
        'alarms.asset_id',
        'alarms.occurrences',
        'alarms.last_seen_at',
      ])
      .where('alarms.tenant_id', '=', tenantId);
  const after = await base()
    .where('alarm_events.id', '>', from.since)
    .orderBy('alarm_events.id')
    .limit(REPLAY_MAX + 1)
    .execute();
  const overlap =
    from.overlapFromAt === null
      ? []
      : await base()
          .where('alarm_events.id', '<', from.since)
          .where('alarm_events.at', '>=', from.overlapFromAt)
          .orderBy('alarm_events.id', 'desc')
          .limit(OVERLAP_MAX)
          .execute();
  const rows = [...inOverlap(overlap, from.overlapFromAt), ...after.slice(0, REPLAY_MAX)];
  return {
    complete: after.length <= REPLAY_MAX,
    messages: rows.map((r) => ({
      type: `alarm.${r.kind}`,
      channel: 'alarms',
      id: String(r.eventId),
      payload: {
        alarmId: r.alarmId,
        title: r.title,
        severity: r.severity,
        status: r.status,
        sensorId: r.sensor_id,
        assetId: r.asset_id,
        occurrences: Number(r.occurrences),
        lastSeenAt: Number(r.last_seen_at),
        replayed: true,
      },
    })),
  };
}

/** The same for incident events (incident_events.id). */
export async function replayIncidents(
  db: DbOrTrx,
  tenantId: string,
  since: string,
): Promise<{ messages: ServerMessage[]; complete: boolean }> {
  const from = await resumeFrom(db, 'incident_events', Number(since));
  const base = () =>
    db
      .selectFrom('incident_events')
      .innerJoin('incidents', 'incidents.id', 'incident_events.incident_id')
      .selectAll('incidents')
      .select([
        'incident_events.id as eventId',
        'incident_events.kind',
        'incident_events.details',
        'incident_events.at as eventAt',
      ])
      .where('incidents.tenant_id', '=', tenantId);
  const after = await base()
    .where('incident_events.id', '>', from.since)
    .orderBy('incident_events.id')
    .limit(REPLAY_MAX + 1)
    .execute();
  const overlap =
    from.overlapFromAt === null
      ? []
      : await base()
          .where('incident_events.id', '<', from.since)
          .where('incident_events.at', '>=', from.overlapFromAt)
          .orderBy('incident_events.id', 'desc')
          .limit(OVERLAP_MAX)
          .execute();
  const rows = [
    ...inOverlap(
      overlap.map((r) => ({ ...r, at: r.eventAt })),
      from.overlapFromAt,
    ),
    ...after.slice(0, REPLAY_MAX),
  ];
  return {
    complete: after.length <= REPLAY_MAX,
    messages: rows.map((r) => ({
      type: `incident.${r.kind}`,
      channel: 'incidents',
      id: String(r.eventId),
      payload: {
        incidentId: r.id,
        ...incidentSummary(toIncident(r)),
        details: JSON.parse(r.details) as Record<string, unknown>,
        replayed: true,
      },
    })),
  };
}
