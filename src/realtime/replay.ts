import type { DbOrTrx } from '../db/database.js';
import { incidentSummary, toIncident } from '../incidents/incidents.service.js';
import type { ServerMessage } from './stream.messages.js';

/** At most this many events are replayed; further behind, the client reloads (`resync`). */
export const REPLAY_MAX = 1000;

/**
 * A tenant's alarm events after `since` (alarm_events.id), in order, as live messages — the
 * payload shows the alarm as it is now. `complete` is false when more than REPLAY_MAX are missed.
 */
export async function replayAlarms(
  db: DbOrTrx,
  tenantId: string,
  since: string,
): Promise<{ messages: ServerMessage[]; complete: boolean }> {
  const rows = await db
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
    .where('alarms.tenant_id', '=', tenantId)
    .where('alarm_events.id', '>', Number(since))
    .orderBy('alarm_events.id')
    .limit(REPLAY_MAX + 1)
    .execute();
  return {
    complete: rows.length <= REPLAY_MAX,
    messages: rows.slice(0, REPLAY_MAX).map((r) => ({
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
  const rows = await db
    .selectFrom('incident_events')
    .innerJoin('incidents', 'incidents.id', 'incident_events.incident_id')
    .selectAll('incidents')
    .select(['incident_events.id as eventId', 'incident_events.kind', 'incident_events.details'])
    .where('incidents.tenant_id', '=', tenantId)
    .where('incident_events.id', '>', Number(since))
    .orderBy('incident_events.id')
    .limit(REPLAY_MAX + 1)
    .execute();
  return {
    complete: rows.length <= REPLAY_MAX,
    messages: rows.slice(0, REPLAY_MAX).map((r) => ({
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
