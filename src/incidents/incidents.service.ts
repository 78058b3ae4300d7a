import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Db, DbOrTrx } from '../db/database.js';
import type { IncidentStatus, IncidentsTable } from '../db/schema.js';
import { AppError } from '../http/errors/catalogue.js';
import { findMembershipRole } from '../users/users.repository.js';

const RANK: Record<string, number> = { info: 0, warning: 1, minor: 2, major: 3, critical: 4 };
/** An alarm joins an open incident of its asset opened at most this long before it. */
export const GROUP_WINDOW_MS = 30 * 60_000;

export interface Incident {
  readonly id: string;
  readonly title: string;
  readonly status: IncidentStatus;
  readonly severity: string;
  readonly ownerId: string | null;
  readonly assetId: string | null;
  /** The site or zone of the asset it was opened for (alarms of that site group into it). */
  readonly siteId: string | null;
  readonly openedAt: number;
  readonly resolvedAt: number | null;
}

export interface IncidentActor {
  readonly type: 'user' | 'api-key' | 'system';
  readonly id: string | null;
}

/** An incidents row as the service and routes see it. */
export function toIncident(r: Selectable<IncidentsTable>): Incident {
  return {
    id: r.id,
    title: r.title,
    status: r.status,
    severity: r.severity,
    ownerId: r.owner_id,
    assetId: r.asset_id,
    siteId: r.site_id,
    openedAt: Number(r.opened_at),
    resolvedAt: r.resolved_at === null ? null : Number(r.resolved_at),
  };
}

/** What live clients are told of an incident (with its change, or replayed). */
export function incidentSummary(i: Incident): IncidentChange['incident'] {
  return {
    title: i.title,
    status: i.status,
    severity: i.severity,
    ownerId: i.ownerId,
    assetId: i.assetId,
    siteId: i.siteId,
  };
}

const max = (a: string, b: string) => ((RANK[a] ?? 0) >= (RANK[b] ?? 0) ? a : b);

/** An incident's timeline entry, told to listeners (the realtime hub) once it has committed. */
export interface IncidentChange {
  readonly tenantId: string;
  readonly incidentId: string;
  /** incident_events.id: live clients resume after it. */
  readonly eventId: string;
  readonly event: 'opened' | 'alarm_added' | 'status' | 'owner' | 'note';
  readonly incident: Pick<Incident, 'title' | 'status' | 'severity' | 'ownerId' | 'assetId' | 'siteId'>;
  readonly details: Record<string, unknown>;
  readonly at: number;
}

/** Where a transaction collects its incident changes, to tell after the commit. */
export type IncidentJournal = IncidentChange[];

async function event(
  db: DbOrTrx,
  incidentId: string,
  kind: IncidentChange['event'],
  actor: IncidentActor,
  text: string | null,
  details: Record<string, unknown>,
  at: number,
  journal?: IncidentJournal,
): Promise<void> {
  const row = await db
    .insertInto('incident_events')
    .values({
      incident_id: incidentId,
      kind,
      actor_type: actor.type,
      actor_id: actor.id,
      text,
      details: JSON.stringify(details),
      at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (!journal) return;
  const r = await db.selectFrom('incidents').selectAll().where('id', '=', incidentId).executeTakeFirst();
  if (!r) return;
  journal.push({
    tenantId: r.tenant_id,
    incidentId,
    eventId: String(row.id),
    event: kind,
    incident: incidentSummary(toIncident(r)),
    details,
    at,
  });
}

export async function findIncident(db: DbOrTrx, tenantId: string, id: string): Promise<Incident | undefined> {
  const r = await db
    .selectFrom('incidents')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return r ? toIncident(r) : undefined;
}

/** Adds an alarm to an incident (once), raising the incident's severity to the alarm's if higher. */
export async function attachAlarm(
  db: DbOrTrx,
  incident: Incident,
  alarm: { id: string; severity: string; title: string },
  actor: IncidentActor,
  now: number,
  journal?: IncidentJournal,
): Promise<void> {
  const added = await db
    .insertInto('incident_alarms')
    .values({ incident_id: incident.id, alarm_id: alarm.id, added_at: now })
    .onConflict((oc) => oc.columns(['incident_id', 'alarm_id']).doNothing())
    .executeTakeFirst();
  if (Number(added.numInsertedOrUpdatedRows ?? 0n) === 0) return;
  const severity = max(incident.severity, alarm.severity);
  await db
    .updateTable('incidents')
    .set({ severity, updated_at: now })
    .where('id', '=', incident.id)
    .execute();
  await event(
    db,
    incident.id,
    'alarm_added',
    actor,
    null,
    { alarmId: alarm.id, title: alarm.title, severity: alarm.severity },
    now,
    journal,
  );
}

/** How alarms join incidents by themselves (INCIDENT_GROUP_BY, INCIDENT_GROUP_WINDOW_MINUTES). */
export interface GroupingPolicy {
  readonly by: 'site' | 'asset' | 'off';
  readonly windowMs: number;
}

export const DEFAULT_GROUPING: GroupingPolicy = { by: 'site', windowMs: GROUP_WINDOW_MS };

/**
 * Automatic grouping, in the alarm's transaction: an alarm of an asset joins the open incident of
 * that asset opened within the grouping window before it; else (grouping by site) the open
 * incident of the asset's site or zone opened within the window; else it opens one.
 */
export async function groupAlarm(
  trx: DbOrTrx,
  tenantId: string,
  alarm: { id: string; severity: string; title: string; assetId: string | null; raisedAt: number },
  now: number,
  policy: GroupingPolicy = DEFAULT_GROUPING,
  journal?: IncidentJournal,
): Promise<string | null> {
  if (!alarm.assetId || policy.by === 'off') return null;
  const system: IncidentActor = { type: 'system', id: null };
  const asset = await trx
    .selectFrom('assets')
    .select(['name', 'site_id'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', alarm.assetId)
    .executeTakeFirst();
  const siteId = policy.by === 'site' ? (asset?.site_id ?? null) : null;
  const recent = trx
    .selectFrom('incidents')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('status', 'in', ['open', 'investigating'])
    // Within the window either side: backfilled alarms arrive in any order.
    .where('opened_at', '>=', alarm.raisedAt - policy.windowMs)
    .where('opened_at', '<=', alarm.raisedAt + policy.windowMs)
    .orderBy('opened_at', 'desc')
    .limit(1);
  const open =
    (await recent.where('asset_id', '=', alarm.assetId).executeTakeFirst()) ??
    (siteId ? await recent.where('site_id', '=', siteId).executeTakeFirst() : undefined);
  if (open) {
    await attachAlarm(trx, toIncident(open), alarm, system, now, journal);
    return open.id;
  }
  const id = randomUUID();
  await trx
    .insertInto('incidents')
    .values({
      id,
      tenant_id: tenantId,
      title: `${asset?.name ?? 'Asset'}: ${alarm.title}`,
      status: 'open',
      severity: alarm.severity,
      owner_id: null,
      asset_id: alarm.assetId,
      site_id: asset?.site_id ?? null,
      opened_at: alarm.raisedAt,
      resolved_at: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await event(
    trx,
    id,
    'opened',
    system,
    null,
    { by: 'grouping', assetId: alarm.assetId, siteId: asset?.site_id ?? null },
    now,
    journal,
  );
  await attachAlarm(trx, (await findIncident(trx, tenantId, id))!, alarm, system, now, journal);
  return id;
}

/** Operator actions on incidents (each in its own transaction, with a timeline entry). */
export class IncidentService {
  private readonly listeners: ((changes: readonly IncidentChange[]) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Incident changes, after they commit (the realtime hub subscribes here). */
  onChanges(listener: (changes: readonly IncidentChange[]) => void): void {
    this.listeners.push(listener);
  }

  /** Runs `work` in a transaction, then tells listeners what it changed. */
  private async changing<T>(work: (trx: DbOrTrx, journal: IncidentJournal) => Promise<T>): Promise<T> {
    const journal: IncidentJournal = [];
    const out = await this.db.transaction().execute((trx) => work(trx, journal));
    if (journal.length > 0) for (const l of this.listeners) l(journal);
    return out;
  }

  /** Opens an incident by hand over some alarms of the tenant (404 naming any that is not). */
  async open(
    tenantId: string,
    title: string,
    alarmIds: readonly string[],
    actor: IncidentActor,
  ): Promise<Incident> {
    const now = this.clock();
    return this.changing(async (trx, journal) => {
      const alarms = alarmIds.length
        ? await trx
            .selectFrom('alarms')
            .select(['id', 'severity', 'title'])
            .where('tenant_id', '=', tenantId)
            .where('id', 'in', [...alarmIds])
            .execute()
        : [];
      const missing = alarmIds.filter((id) => !alarms.some((a) => a.id === id));
      if (missing.length > 0) {
        throw new AppError('VALIDATION_FAILED', 'Unknown alarms', {
          errors: missing.map((id) => ({
            pointer: `/body/alarmIds/${alarmIds.indexOf(id)}`,
            detail: 'is not an alarm of this tenant',
          })),
        });
      }
      const id = randomUUID();
      const severity = alarms.reduce((s, a) => max(s, a.severity), 'info');
      await trx
        .insertInto('incidents')
        .values({
          id,
          tenant_id: tenantId,
          title,
          status: 'open',
          severity,
          owner_id: actor.type === 'user' ? actor.id : null,
          asset_id: null,
          opened_at: now,
          resolved_at: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await event(trx, id, 'opened', actor, null, { by: 'hand' }, now, journal);
      const incident = (await findIncident(trx, tenantId, id))!;
      // Its severity is already the highest of them: attaching only links and records.
      for (const a of alarms) await attachAlarm(trx, incident, a, actor, now, journal);
      return (await findIncident(trx, tenantId, id))!;
    });
  }

  async addAlarm(tenantId: string, id: string, alarmId: string, actor: IncidentActor): Promise<Incident> {
    const now = this.clock();
    return this.changing(async (trx, journal) => {
      const incident = await findIncident(trx, tenantId, id);
      if (!incident) throw new AppError('NOT_FOUND', 'No such incident');
      const alarm = await trx
        .selectFrom('alarms')
        .select(['id', 'severity', 'title'])
        .where('tenant_id', '=', tenantId)
        .where('id', '=', alarmId)
        .executeTakeFirst();
      if (!alarm)
        throw new AppError('VALIDATION_FAILED', 'Unknown alarm', {
          errors: [{ pointer: '/body/alarmId', detail: 'is not an alarm of this tenant' }],
        });
      await attachAlarm(trx, incident, alarm, actor, now, journal);
      return (await findIncident(trx, tenantId, id))!;
    });
  }

  /** Status, owner and title changes; a move to `resolved` stamps `resolvedAt`. */
  async update(
    tenantId: string,
    id: string,
    change: { status?: IncidentStatus; ownerId?: string | null; title?: string },
    actor: IncidentActor,
  ): Promise<Incident> {
    const now = this.clock();
    return this.changing(async (trx, journal) => {
      const incident = await findIncident(trx, tenantId, id);
      if (!incident) throw new AppError('NOT_FOUND', 'No such incident');
      if (change.ownerId) {
        if (!(await findMembershipRole(trx, change.ownerId, tenantId)))
          throw new AppError('VALIDATION_FAILED', 'Unknown owner', {
            errors: [{ pointer: '/body/ownerId', detail: 'is not a member of this tenant' }],
          });
      }
      if (incident.status === 'closed' && change.status && change.status !== 'closed')
        throw new AppError('CONFLICT', 'A closed incident cannot be reopened; open a new one');
      await trx
        .updateTable('incidents')
        .set({
          ...(change.status ? { status: change.status } : {}),
          ...(change.status === 'resolved' ? { resolved_at: now } : {}),
          ...(change.ownerId !== undefined ? { owner_id: change.ownerId } : {}),
          ...(change.title ? { title: change.title } : {}),
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
      if (change.status && change.status !== incident.status)
        await event(
          trx,
          id,
          'status',
          actor,
          null,
          { from: incident.status, to: change.status },
          now,
          journal,
        );
      if (change.ownerId !== undefined && change.ownerId !== incident.ownerId)
        await event(
          trx,
          id,
          'owner',
          actor,
          null,
          { from: incident.ownerId, to: change.ownerId },
          now,
          journal,
        );
      return (await findIncident(trx, tenantId, id))!;
    });
  }

  async note(tenantId: string, id: string, text: string, actor: IncidentActor): Promise<void> {
    await this.changing(async (trx, journal) => {
      const incident = await findIncident(trx, tenantId, id);
      if (!incident) throw new AppError('NOT_FOUND', 'No such incident');
      await event(trx, id, 'note', actor, text, {}, this.clock(), journal);
    });
  }
}
