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

/**
 * The rows a resume replays: on PostgreSQL the overlap below the resume point (read newest first,
 * replayed oldest first), then up to REPLAY_MAX after it; `complete` when nothing after is left.
 */
async function resumeRows<R>(
  from: { overlapFromAt: number | null },
  after: (limit: number) => Promise<R[]>,
  overlap: (fromAt: number, limit: number) => Promise<R[]>,
): Promise<{ rows: R[]; complete: boolean }> {
  const later = await after(REPLAY_MAX + 1);
  const earlier =
    from.overlapFromAt === null ? [] : (await overlap(from.overlapFromAt, OVERLAP_MAX)).reverse();
  return { rows: [...earlier, ...later.slice(0, REPLAY_MAX)], complete: later.length <= REPLAY_MAX };
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
  const { rows, complete } = await resumeRows(
    from,
    (limit) =>
      base().where('alarm_events.id', '>', from.since).orderBy('alarm_events.id').limit(limit).execute(),
    (fromAt, limit) =>
      base()
        .where('alarm_events.id', '<', from.since)
        .where('alarm_events.at', '>=', fromAt)
        .orderBy('alarm_events.id', 'desc')
        .limit(limit)
        .execute(),
  );
  return {
    complete,
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
      .select(['incident_events.id as eventId', 'incident_events.kind', 'incident_events.details'])
      .where('incidents.tenant_id', '=', tenantId);
  const { rows, complete } = await resumeRows(
    from,
    (limit) =>
      base()
        .where('incident_events.id', '>', from.since)
        .orderBy('incident_events.id')
        .limit(limit)
        .execute(),
    (fromAt, limit) =>
      base()
        .where('incident_events.id', '<', from.since)
        .where('incident_events.at', '>=', fromAt)
        .orderBy('incident_events.id', 'desc')
        .limit(limit)
        .execute(),
  );
  return {
    complete,
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
