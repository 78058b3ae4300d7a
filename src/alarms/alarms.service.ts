import type { Logger } from 'pino';
import type { Db, DbOrTrx } from '../db/database.js';
import type { AlarmStatus } from '../db/schema.js';
import type { DetectionEvent } from '../detection/pipeline/detection-event.js';
import { AppError } from '../http/errors/catalogue.js';
import { groupAlarm } from '../incidents/incidents.service.js';
import { enqueueNotice } from '../notifications/outbox.js';
import {
  type Alarm,
  addAlarmEvent,
  countRaises,
  findAlarm,
  findOpenByKey,
  type RaiseInput,
  setFlapping,
  transitionAlarm,
  upsertAlarm,
} from './alarms.repository.js';
import { windowAt } from './maintenance-windows.js';

const SEVERITY_STEPS = ['info', 'warning', 'minor', 'major', 'critical'];

/** The next severity up, or null at the top. */
export function nextSeverity(severity: string): string | null {
  const i = SEVERITY_STEPS.indexOf(severity);
  return i >= 0 && i < SEVERITY_STEPS.length - 1 ? SEVERITY_STEPS[i + 1]! : null;
}

/** A key raised this many times within the window (by reading time) is flapping. */
export const FLAP_RAISES = 5;
export const FLAP_WINDOW_MS = 3_600_000;

/** Who acts on an alarm. */
export interface AlarmActor {
  readonly type: 'user' | 'api-key' | 'system';
  readonly id: string | null;
}

const TITLES: Record<string, string> = {
  threshold: 'Rule',
  'asset-rule': 'Asset rule',
  heartbeat: 'No data',
  flatline: 'Stuck value',
};

/**
 * What an anomaly event means as an alarm: its dedup key (tenant + sensor or asset + rule), and
 * whether it raises, repeats or clears one. Point anomalies of a sensor share one alarm
 * ("anomalous readings"), whichever detector found them; each rule, gap and stuck value has its own.
 */
export function alarmOf(e: DetectionEvent): RaiseInput & { clears: boolean } {
  const asset = e.detector === 'asset-rule';
  const subject = asset ? `asset:${e.assetId}` : `sensor:${e.sensorId}`;
  const rule = e.kind === 'point' ? 'anomaly' : `${e.detector}${e.ruleId ? `:${e.ruleId}` : ''}`;
  const title =
    e.kind === 'point'
      ? 'Anomalous readings'
      : `${TITLES[e.detector] ?? e.detector}${e.ruleId ? ` ${e.ruleId}` : ''}`;
  return {
    tenantId: e.tenantId,
    dedupKey: `${subject}:${rule}`,
    sensorId: asset ? null : e.sensorId,
    assetId: e.assetId,
    detector: e.kind === 'point' ? 'anomaly' : e.detector,
    ruleId: e.ruleId,
    severity: e.severity ?? (e.kind === 'point' ? 'minor' : 'warning'),
    title,
    at: e.ts,
    value: Number.isFinite(e.value) ? e.value : null,
    details: { detectors: e.detectors, score: e.score, explanation: e.explanation },
    clears: e.kind === 'cleared',
  };
}

/**
 * The alarm stage: turns detection events into alarms (atomic dedup; raised on the reading's own
 * time, so backfilled data raises the right alarms at the right times) and carries each alarm
 * through open → acknowledged → resolved → closed with its history.
 */
export class AlarmService {
  private chain: Promise<unknown> = Promise.resolve();
  readonly stats = { raised: 0, repeated: 0, cleared: 0, failures: 0 };

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
    private readonly policy: { renotifyMs: number; escalateMs: number } = {
      renotifyMs: 30 * 60_000,
      escalateMs: 60 * 60_000,
    },
  ) {}

  /** Applies detection events in order (one batch at a time); resolves once they are stored. */
  apply(events: readonly DetectionEvent[]): Promise<void> {
    const run = this.chain.then(() => this.applyNow(events));
    this.chain = run.catch((err: Error) => {
      this.stats.failures++;
      this.logger.warn(
        { err: err.message, events: events.length },
        'alarms: applying detection events failed',
      );
    });
    return run;
  }

  private timer: NodeJS.Timeout | undefined;

  /** Resolves settled flapping alarms every minute (until stop). */
  start(): void {
    this.timer = setInterval(() => {
      const now = this.clock();
      void this.settleFlapping(now)
        .then(() => this.escalate(now))
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'alarms: periodic upkeep failed'));
    }, 60_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * A flapping alarm whose condition is clear now (its last change was a clear) and that has not
   * been raised for the flap window has settled: resolve it.
   */
  async settleFlapping(now: number): Promise<number> {
    const candidates = await this.db
      .selectFrom('alarms')
      .select(['id', 'tenant_id', 'status'])
      .where('flapping', '=', 1)
      .where('status', 'in', ['open', 'acknowledged'])
      .where('last_seen_at', '<', now - FLAP_WINDOW_MS)
      .limit(1000)
      .execute();
    let settled = 0;
    for (const c of candidates) {
      const last = await this.db
        .selectFrom('alarm_events')
        .select('kind')
        .where('alarm_id', '=', c.id)
        .where('kind', 'in', ['raised', 'repeated', 'flapping', 'cleared'])
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (last?.kind !== 'flapping' && last?.kind !== 'cleared') continue;
      await this.db.transaction().execute(async (trx) => {
        const moved = await transitionAlarm(
          trx,
          c.tenant_id,
          c.id,
          ['open', 'acknowledged'],
          { status: 'resolved', resolved_at: now, resolved_by: null, resolution: 'settled' },
          now,
        );
        if (!moved) return;
        await setFlapping(trx, c.id, false, now);
        await addAlarmEvent(trx, {
          alarm_id: c.id,
          kind: 'resolved',
          from_status: c.status,
          to_status: 'resolved',
          actor_type: 'system',
          actor_id: null,
          comment: null,
          details: { reason: 'stopped flapping', quietForMs: FLAP_WINDOW_MS },
          at: now,
        });
        settled++;
      });
    }
    return settled;
  }

  /**
   * Open alarms nobody has acknowledged: raised one severity step per `escalateMs` they stay so
   * (notified as `escalated`), and reminded every `renotifyMs` (notified as `reminder`). Shelved
   * alarms and those raised in maintenance wait.
   */
  async escalate(now: number): Promise<{ escalated: number; reminded: number }> {
    const out = { escalated: 0, reminded: 0 };
    const { renotifyMs, escalateMs } = this.policy;
    if (renotifyMs === 0 && escalateMs === 0) return out;
    const rows = await this.db
      .selectFrom('alarms')
      .selectAll()
      .where('status', '=', 'open')
      .where('maintenance_window_id', 'is', null)
      .where((eb) => eb.or([eb('shelved_until', 'is', null), eb('shelved_until', '<=', now)]))
      .where(
        'created_at',
        '<=',
        now - Math.min(renotifyMs || Number.MAX_SAFE_INTEGER, escalateMs || Number.MAX_SAFE_INTEGER),
      )
      .limit(1000)
      .execute();
    for (const r of rows) {
      const age = now - Number(r.created_at);
      const level = Number(r.escalation_level);
      const due = escalateMs > 0 ? Math.floor(age / escalateMs) : 0;
      const next = nextSeverity(r.severity);
      await this.db.transaction().execute(async (trx) => {
        if (due > level && next) {
          const moved = await trx
            .updateTable('alarms')
            .set({ severity: next, escalation_level: level + 1, last_notified_at: now, updated_at: now })
            .where('id', '=', r.id)
            .where('status', '=', 'open')
            .where('escalation_level', '=', level)
            .executeTakeFirst();
          if (Number(moved.numUpdatedRows) !== 1) return;
          const alarm = (await findAlarm(trx, r.tenant_id, r.id))!;
          await addAlarmEvent(trx, {
            alarm_id: r.id,
            kind: 'escalated',
            from_status: null,
            to_status: null,
            actor_type: 'system',
            actor_id: null,
            comment: null,
            details: { from: r.severity, to: next, unacknowledgedForMs: age },
            at: now,
          });
          await this.notify(trx, alarm, 'escalated', now, { from: r.severity, to: next });
          out.escalated++;
          return;
        }
        const last = r.last_notified_at === null ? Number(r.created_at) : Number(r.last_notified_at);
        if (renotifyMs === 0 || now - last < renotifyMs) return;
        const moved = await trx
          .updateTable('alarms')
          .set({ last_notified_at: now })
          .where('id', '=', r.id)
          .where('status', '=', 'open')
          .where((eb) =>
            r.last_notified_at === null
              ? eb('last_notified_at', 'is', null)
              : eb('last_notified_at', '=', Number(r.last_notified_at)),
          )
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) !== 1) return;
        const alarm = (await findAlarm(trx, r.tenant_id, r.id))!;
        await addAlarmEvent(trx, {
          alarm_id: r.id,
          kind: 'reminded',
          from_status: null,
          to_status: null,
          actor_type: 'system',
          actor_id: null,
          comment: null,
          details: { unacknowledgedForMs: age },
          at: now,
        });
        await this.notify(trx, alarm, 'reminder', now, { unacknowledgedForMs: age });
        out.reminded++;
      });
    }
    return out;
  }

  /** Waits for every batch handed over so far (tests, shutdown). */
  async settle(): Promise<void> {
    await this.chain;
  }

  private async applyNow(events: readonly DetectionEvent[]): Promise<void> {
    if (events.length === 0) return;
    const now = this.clock();
    await this.db.transaction().execute(async (trx) => {
      for (const e of events) await this.applyOne(trx, e, now);
    });
  }

  private async applyOne(trx: DbOrTrx, e: DetectionEvent, now: number): Promise<void> {
    const a = alarmOf(e);
    const system = { actor_type: 'system' as const, actor_id: null, comment: null };
    if (a.clears) {
      const open = await findOpenByKey(trx, a.tenantId, a.dedupKey);
      if (!open) return;
      // Raised again and again lately: one flapping alarm that stays open, rather than a new
      // alarm (and a notification) per cycle. It resolves on a clear once the raises calm down.
      const raises = await countRaises(trx, a.tenantId, a.dedupKey, a.at - FLAP_WINDOW_MS, a.at);
      if (raises >= FLAP_RAISES) {
        if (!open.flapping) {
          await setFlapping(trx, open.id, true, now);
          await this.notify(trx, open, 'flapping', now, { raisesInWindow: raises });
        }
        await addAlarmEvent(trx, {
          ...system,
          alarm_id: open.id,
          kind: open.flapping ? 'cleared' : 'flapping',
          from_status: null,
          to_status: null,
          details: { raisesInWindow: raises, windowMs: FLAP_WINDOW_MS },
          reading_at: a.at,
          at: now,
        });
        return;
      }
      const moved = await transitionAlarm(
        trx,
        a.tenantId,
        open.id,
        ['open', 'acknowledged'],
        { status: 'resolved', resolved_at: a.at, resolved_by: null, resolution: 'cleared' },
        now,
      );
      if (!moved) return;
      if (open.flapping) await setFlapping(trx, open.id, false, now);
      this.stats.cleared++;
      await this.notify(trx, open, 'resolved', now, { resolution: 'cleared', resolvedAt: a.at });
      await addAlarmEvent(trx, {
        ...system,
        alarm_id: open.id,
        kind: 'resolved',
        from_status: open.status,
        to_status: 'resolved',
        details: { reason: 'condition cleared', explanation: e.explanation },
        reading_at: a.at,
        at: now,
      });
      return;
    }
    // In a maintenance window at the reading's time: raised all the same (the record), but marked.
    const window = await windowAt(trx, a.tenantId, { sensorId: a.sensorId, assetId: a.assetId }, a.at);
    const { id, created } = await upsertAlarm(trx, { ...a, maintenanceWindowId: window?.id ?? null }, now);
    if (created) {
      this.stats.raised++;
      if (!window) {
        const alarm = await findAlarm(trx, a.tenantId, id);
        if (alarm) {
          await groupAlarm(trx, a.tenantId, alarm, now);
          await this.notify(trx, alarm, 'raised', now, {});
        }
      }
    } else this.stats.repeated++;
    await addAlarmEvent(trx, {
      ...system,
      alarm_id: id,
      kind: created ? 'raised' : 'repeated',
      from_status: created ? null : 'open',
      to_status: created ? 'open' : null,
      details: { value: a.value, score: e.score, ...(window ? { maintenanceWindowId: window.id } : {}) },
      reading_at: a.at,
      at: now,
    });
  }

  /**
   * Queues the change for the tenant's channels in the same transaction (the outbox), unless the
   * alarm is shelved or was raised in a maintenance window.
   */
  private async notify(
    trx: DbOrTrx,
    alarm: Alarm,
    event: string,
    now: number,
    extra: Record<string, unknown>,
  ): Promise<void> {
    if (alarm.maintenanceWindowId !== null) return;
    if (alarm.shelvedUntil !== null && alarm.shelvedUntil > now) return;
    await enqueueNotice(trx, {
      tenantId: alarm.tenantId,
      alarmId: alarm.id,
      event,
      severity: alarm.severity,
      assetId: alarm.assetId,
      sensorId: alarm.sensorId,
      now,
      payload: {
        alarm: {
          id: alarm.id,
          title: alarm.title,
          severity: alarm.severity,
          sensorId: alarm.sensorId,
          assetId: alarm.assetId,
          dedupKey: alarm.dedupKey,
          raisedAt: new Date(alarm.raisedAt).toISOString(),
          lastValue: alarm.lastValue,
          occurrences: alarm.occurrences,
        },
        ...extra,
      },
    });
  }

  /** Silences an open or acknowledged alarm for `minutes` (it unshelves itself when they pass). */
  async shelve(
    tenantId: string,
    id: string,
    actor: AlarmActor,
    minutes: number | null,
    comment: string | null,
  ): Promise<Alarm> {
    const now = this.clock();
    return this.db.transaction().execute(async (trx) => {
      const alarm = await findAlarm(trx, tenantId, id);
      if (!alarm) throw new AppError('NOT_FOUND', 'No such alarm');
      const until = minutes === null ? null : now + minutes * 60_000;
      const moved = await transitionAlarm(
        trx,
        tenantId,
        id,
        ['open', 'acknowledged'],
        { shelved_until: until, shelved_by: until === null ? null : actor.id },
        now,
      );
      if (!moved) {
        throw new AppError(
          'CONFLICT',
          `The alarm is ${alarm.status}; only open or acknowledged alarms can be shelved`,
          {
            fields: { alarmStatus: alarm.status },
          },
        );
      }
      await addAlarmEvent(trx, {
        alarm_id: id,
        kind: until === null ? 'unshelved' : 'shelved',
        from_status: null,
        to_status: null,
        actor_type: actor.type,
        actor_id: actor.id,
        comment,
        details: until === null ? {} : { until, minutes },
        at: now,
      });
      return (await findAlarm(trx, tenantId, id))!;
    });
  }

  /** A person's transition; 409 when the alarm is not in a state it can leave that way. */
  async transition(
    tenantId: string,
    id: string,
    to: Extract<AlarmStatus, 'acknowledged' | 'resolved' | 'closed'>,
    actor: AlarmActor,
    comment: string | null,
  ): Promise<Alarm> {
    const now = this.clock();
    const from: Record<typeof to, AlarmStatus[]> = {
      acknowledged: ['open'],
      resolved: ['open', 'acknowledged'],
      closed: ['resolved'],
    };
    return this.db.transaction().execute(async (trx) => {
      const alarm = await findAlarm(trx, tenantId, id);
      if (!alarm) throw new AppError('NOT_FOUND', 'No such alarm');
      const set =
        to === 'acknowledged'
          ? { status: to, acknowledged_by: actor.id, acknowledged_at: now }
          : to === 'resolved'
            ? { status: to, resolved_by: actor.id, resolved_at: now, resolution: 'manual' }
            : { status: to, closed_at: now };
      const moved = await transitionAlarm(trx, tenantId, id, from[to], set, now);
      if (!moved) {
        throw new AppError('CONFLICT', `The alarm is ${alarm.status}; it cannot be ${to} from there`, {
          fields: { alarmStatus: alarm.status, allowedFrom: from[to] },
        });
      }
      if (to === 'resolved')
        await this.notify(trx, alarm, 'resolved', now, { resolution: 'manual', comment });
      await addAlarmEvent(trx, {
        alarm_id: id,
        kind: to,
        from_status: alarm.status,
        to_status: to,
        actor_type: actor.type,
        actor_id: actor.id,
        comment,
        details: {},
        at: now,
      });
      return (await findAlarm(trx, tenantId, id))!;
    });
  }

  async comment(tenantId: string, id: string, actor: AlarmActor, text: string): Promise<void> {
    const alarm = await findAlarm(this.db, tenantId, id);
    if (!alarm) throw new AppError('NOT_FOUND', 'No such alarm');
    await addAlarmEvent(this.db, {
      alarm_id: id,
      kind: 'comment',
      from_status: null,
      to_status: null,
      actor_type: actor.type,
      actor_id: actor.id,
      comment: text,
      details: {},
      at: this.clock(),
    });
  }
}
