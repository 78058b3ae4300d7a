import { randomUUID } from 'node:crypto';
import { type Selectable, sql } from 'kysely';
import type { DbOrTrx } from '../db/database.js';
import type { AlarmEventsTable, AlarmStatus, AlarmsTable, AutoClear } from '../db/schema.js';

const OPEN: AlarmStatus[] = ['open', 'acknowledged'];

/** An alarm as services and routes see it. */
export interface Alarm {
  readonly id: string;
  readonly tenantId: string;
  readonly dedupKey: string;
  readonly sensorId: string | null;
  readonly assetId: string | null;
  readonly detector: string;
  readonly ruleId: string | null;
  readonly severity: string;
  readonly status: AlarmStatus;
  readonly title: string;
  readonly occurrences: number;
  readonly raisedAt: number;
  readonly lastSeenAt: number;
  readonly lastValue: number | null;
  readonly details: Record<string, unknown>;
  readonly acknowledgedBy: string | null;
  readonly acknowledgedAt: number | null;
  readonly resolvedBy: string | null;
  readonly resolvedAt: number | null;
  readonly resolution: string | null;
  readonly closedAt: number | null;
  /** Silenced until then (null: not shelved). */
  readonly shelvedUntil: number | null;
  readonly shelvedBy: string | null;
  readonly flapping: boolean;
  /** Raised during this maintenance window (kept and marked, not to be notified). */
  readonly maintenanceWindowId: string | null;
  /** The alarm rule it was raised under (null: the built-in defaults). */
  readonly alarmRuleId: string | null;
  readonly autoClear: AutoClear;
  readonly quietMs: number;
  /** Reading time from which an `after-quiet` alarm counts its quiet (null: not quiet). */
  readonly quietSince: number | null;
  readonly assigneeId: string | null;
}

export interface AlarmHistoryEntry {
  readonly kind: AlarmEventsTable['kind'];
  readonly fromStatus: AlarmStatus | null;
  readonly toStatus: AlarmStatus | null;
  readonly actorType: string;
  readonly actorId: string | null;
  readonly comment: string | null;
  readonly details: Record<string, unknown>;
  readonly at: number;
}

function toAlarm(r: Selectable<AlarmsTable>): Alarm {
  const n = (x: number | string | null) => (x === null ? null : Number(x));
  return {
    id: r.id,
    tenantId: r.tenant_id,
    dedupKey: r.dedup_key,
    sensorId: r.sensor_id,
    assetId: r.asset_id,
    detector: r.detector,
    ruleId: r.rule_id,
    severity: r.severity,
    status: r.status,
    title: r.title,
    occurrences: Number(r.occurrences),
    raisedAt: Number(r.raised_at),
    lastSeenAt: Number(r.last_seen_at),
    lastValue: n(r.last_value),
    details: JSON.parse(r.details) as Record<string, unknown>,
    acknowledgedBy: r.acknowledged_by,
    acknowledgedAt: n(r.acknowledged_at),
    resolvedBy: r.resolved_by,
    resolvedAt: n(r.resolved_at),
    resolution: r.resolution,
    closedAt: n(r.closed_at),
    shelvedUntil: n(r.shelved_until),
    shelvedBy: r.shelved_by,
    flapping: Number(r.flapping) === 1,
    maintenanceWindowId: r.maintenance_window_id,
    alarmRuleId: r.alarm_rule_id,
    autoClear: r.auto_clear,
    quietMs: Number(r.quiet_ms),
    quietSince: n(r.quiet_since),
    assigneeId: r.assignee_id,
  };
}

export interface RaiseInput {
  readonly tenantId: string;
  readonly dedupKey: string;
  readonly sensorId: string | null;
  readonly assetId: string | null;
  readonly detector: string;
  readonly ruleId: string | null;
  readonly severity: string;
  readonly title: string;
  /** The reading's own time. */
  readonly at: number;
  readonly value: number | null;
  readonly details: Record<string, unknown>;
  readonly maintenanceWindowId?: string | null;
  readonly alarmRuleId?: string | null;
  readonly autoClear?: AutoClear;
  readonly quietMs?: number;
  /** A point anomaly's reading time (its quiet counts from there, if the alarm clears after quiet). */
  readonly quietSince?: number | null;
  /** How many occurrences it is raised with (a rule may have held it back until several). */
  readonly occurrences?: number;
}

/**
 * Raises an alarm, or counts a repeat on the one already open for the key: a single atomic
 * upsert against the partial unique index, so concurrent raisers never create two.
 */
export async function upsertAlarm(
  db: DbOrTrx,
  a: RaiseInput,
  now: number,
): Promise<{ alarm: Alarm; created: boolean }> {
  const id = randomUUID();
  const row = await db
    .insertInto('alarms')
    .values({
      id,
      tenant_id: a.tenantId,
      dedup_key: a.dedupKey,
      sensor_id: a.sensorId,
      asset_id: a.assetId,
      detector: a.detector,
      rule_id: a.ruleId,
      severity: a.severity,
      status: 'open',
      title: a.title,
      occurrences: a.occurrences ?? 1,
      raised_at: a.at,
      last_seen_at: a.at,
      last_value: a.value,
      details: JSON.stringify(a.details),
      acknowledged_by: null,
      acknowledged_at: null,
      resolved_by: null,
      resolved_at: null,
      resolution: null,
      closed_at: null,
      shelved_until: null,
      shelved_by: null,
      maintenance_window_id: a.maintenanceWindowId ?? null,
      alarm_rule_id: a.alarmRuleId ?? null,
      auto_clear: a.autoClear ?? 'on-clear',
      quiet_ms: a.quietMs ?? 0,
      quiet_since: a.quietSince ?? null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc
        .columns(['tenant_id', 'dedup_key'])
        // Literally the partial index's predicate: SQLite matches the conflict target by its text.
        .where(sql<boolean>`status in ('open', 'acknowledged')`)
        .doUpdateSet({
          occurrences: sql`alarms.occurrences + 1`,
          // Backfilled repeats may come out of order: keep the earliest raise and the latest sighting.
          raised_at: sql`case when excluded.raised_at < alarms.raised_at then excluded.raised_at else alarms.raised_at end`,
          last_seen_at: sql`case when excluded.last_seen_at > alarms.last_seen_at then excluded.last_seen_at else alarms.last_seen_at end`,
          last_value: sql`case when excluded.last_seen_at >= alarms.last_seen_at then excluded.last_value else alarms.last_value end`,
          // A point anomaly restarts the quiet (from its newest sighting); a condition raised
          // again is not quiet until it clears again.
          // The row's own clear policy decides (not the rule in force now).
          quiet_since: sql`case when alarms.auto_clear <> 'after-quiet' then alarms.quiet_since when excluded.quiet_since is null then null when alarms.quiet_since is null or excluded.quiet_since > alarms.quiet_since then excluded.quiet_since else alarms.quiet_since end`,
          updated_at: now,
        }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  // Our fresh id came back only if the row is new.
  return { alarm: toAlarm(row), created: row.id === id };
}

/** The open (or acknowledged) alarm of a key, if any. */
export async function findOpenByKey(
  db: DbOrTrx,
  tenantId: string,
  dedupKey: string,
): Promise<Alarm | undefined> {
  const r = await db
    .selectFrom('alarms')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('dedup_key', '=', dedupKey)
    .where('status', 'in', OPEN)
    .executeTakeFirst();
  return r ? toAlarm(r) : undefined;
}

export async function findAlarm(db: DbOrTrx, tenantId: string, id: string): Promise<Alarm | undefined> {
  const r = await db
    .selectFrom('alarms')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return r ? toAlarm(r) : undefined;
}

/**
 * Moves an alarm from one of `from` to `to`, only if it is still in one of them (a concurrent
 * transition wins once); returns whether it moved.
 */
export async function transitionAlarm(
  db: DbOrTrx,
  tenantId: string,
  id: string,
  from: readonly AlarmStatus[],
  set: Partial<
    Pick<
      AlarmsTable,
      | 'status'
      | 'acknowledged_by'
      | 'acknowledged_at'
      | 'resolved_by'
      | 'resolved_at'
      | 'resolution'
      | 'closed_at'
      | 'shelved_until'
      | 'shelved_by'
    >
  >,
  now: number,
): Promise<boolean> {
  const r = await db
    .updateTable('alarms')
    .set({ ...set, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', 'in', [...from])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function addAlarmEvent(
  db: DbOrTrx,
  e: Omit<Selectable<AlarmEventsTable>, 'id' | 'details' | 'reading_at'> & {
    details?: Record<string, unknown>;
    reading_at?: number | null;
  },
): Promise<string> {
  const row = await db
    .insertInto('alarm_events')
    .values({ ...e, details: JSON.stringify(e.details ?? {}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

export async function alarmHistory(db: DbOrTrx, alarmId: string): Promise<AlarmHistoryEntry[]> {
  const rows = await db
    .selectFrom('alarm_events')
    .selectAll()
    .where('alarm_id', '=', alarmId)
    .orderBy('id')
    .limit(1000)
    .execute();
  return rows.map((r) => ({
    kind: r.kind,
    fromStatus: r.from_status,
    toStatus: r.to_status,
    actorType: r.actor_type,
    actorId: r.actor_id,
    comment: r.comment,
    details: JSON.parse(r.details) as Record<string, unknown>,
    at: Number(r.at),
  }));
}

export interface AlarmQuery {
  readonly tenantId: string;
  readonly statuses?: readonly AlarmStatus[];
  readonly severity?: string;
  readonly sensorId?: string;
  readonly assetId?: string;
  readonly assigneeId?: string;
  readonly from?: number;
  readonly to?: number;
  readonly before?: { raisedAt: number; id: string };
  readonly limit: number;
}

/** Newest raised first. */
export async function listAlarms(db: DbOrTrx, q: AlarmQuery): Promise<Alarm[]> {
  let query = db.selectFrom('alarms').selectAll().where('tenant_id', '=', q.tenantId);
  if (q.statuses?.length) query = query.where('status', 'in', [...q.statuses]);
  if (q.severity) query = query.where('severity', '=', q.severity);
  if (q.sensorId) query = query.where('sensor_id', '=', q.sensorId);
  if (q.assetId) query = query.where('asset_id', '=', q.assetId);
  if (q.assigneeId) query = query.where('assignee_id', '=', q.assigneeId);
  if (q.from !== undefined) query = query.where('raised_at', '>=', q.from);
  if (q.to !== undefined) query = query.where('raised_at', '<', q.to);
  const b = q.before;
  if (b) {
    query = query.where((eb) =>
      eb.or([
        eb('raised_at', '<', b.raisedAt),
        eb.and([eb('raised_at', '=', b.raisedAt), eb('id', '<', b.id)]),
      ]),
    );
  }
  const rows = await query.orderBy('raised_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map(toAlarm);
}

/** Raises and repeats of a key whose readings fall in [from, to] (flap counting). */
export async function countRaises(
  db: DbOrTrx,
  tenantId: string,
  dedupKey: string,
  from: number,
  to: number,
): Promise<number> {
  const r = await db
    .selectFrom('alarm_events')
    .innerJoin('alarms', 'alarms.id', 'alarm_events.alarm_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('alarms.tenant_id', '=', tenantId)
    .where('alarms.dedup_key', '=', dedupKey)
    .where('alarm_events.kind', 'in', ['raised', 'repeated'])
    .where('alarm_events.reading_at', '>=', from)
    .where('alarm_events.reading_at', '<=', to)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

export async function setFlapping(db: DbOrTrx, id: string, flapping: boolean, now: number): Promise<void> {
  await db
    .updateTable('alarms')
    .set({ flapping: flapping ? 1 : 0, updated_at: now })
    .where('id', '=', id)
    .execute();
}
