import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db, DbOrTrx } from '../db/database.js';
import type { AlarmStatus } from '../db/schema.js';
import type { DetectionEvent } from '../detection/pipeline/detection-event.js';
import { AppError } from '../http/errors/catalogue.js';
import {
  DEFAULT_GROUPING,
  type GroupingPolicy,
  groupAlarm,
  type IncidentChange,
  type IncidentJournal,
} from '../incidents/incidents.service.js';
import { enqueueNotice } from '../notifications/outbox.js';
import { type AlarmPolicy, holdsBack, policyFor, type RuleSubject } from './alarm-rules.js';
import { enabledRules } from './alarm-rules.repository.js';
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
const rank = (severity: string) => SEVERITY_STEPS.indexOf(severity);

/** An alarm change, told to listeners once it has committed. */
export interface AlarmChange {
  readonly tenantId: string;
  readonly alarmId: string;
  /** The history entry's id (alarm_events.id): live clients resume after it. */
  readonly eventId: string;
  /** raised, repeated, acknowledged, resolved, closed, shelved, unshelved, flapping, cleared, escalated, reminded, assigned, comment */
  readonly event: string;
  readonly alarm: {
    readonly title: string;
    readonly severity: string;
    readonly status: string;
    readonly sensorId: string | null;
    readonly assetId: string | null;
    readonly occurrences: number;
    readonly lastSeenAt: number;
  };
  readonly at: number;
}

export type AlarmChangeListener = (changes: readonly AlarmChange[]) => void;

/** What a transaction changed and queued, to tell once it commits. */
class Effects {
  readonly changes: AlarmChange[] = [];
  /** Incidents opened or joined by grouping. */
  readonly incidents: IncidentJournal = [];
  notices = 0;

  change(a: Alarm, event: string, at: number, eventId: string): void {
    this.changes.push({
      tenantId: a.tenantId,
      alarmId: a.id,
      eventId,
      event,
      alarm: {
        title: a.title,
        severity: a.severity,
        status: a.status,
        sensorId: a.sensorId,
        assetId: a.assetId,
        occurrences: a.occurrences,
        lastSeenAt: a.lastSeenAt,
      },
      at,
    });
  }
}

/** A point anomaly's alarm under an `on-clear` rule resolves after this much quiet. */
const POINT_QUIET_MS = 3_600_000;

/**
 * The sweeps (delays due, quiet periods over, counts lapsed) act only on what is past its time by
 * this much of the wall clock and has not been touched for as long: a reading scored late, or a
 * backfill still being fed, is not overtaken by the sweep.
 */
export const SETTLE_MS = 60_000;

/** An `after-quiet` alarm whose quiet period had passed by `at` (reading time, or now). */
const quietEnded = (a: Alarm, at: number) =>
  a.autoClear === 'after-quiet' && a.quietSince !== null && a.quietSince + a.quietMs <= at;

/** What a held-back alarm raises when it is due (stored with the pending row). */
interface HeldAlarm {
  readonly raise: RaiseInput;
  readonly score: number;
  readonly minOccurrences: number;
  readonly withinMs: number;
}

/**
 * Counts an occurrence of an alarm its rule holds back (one row per key, counted atomically);
 * returns what to raise once the rule's occurrences and delay are met by this reading, else null
 * (the sweep raises it when the delay passes).
 */
async function holdBack(
  trx: DbOrTrx,
  a: RaiseInput,
  policy: AlarmPolicy,
  score: number,
  now: number,
): Promise<{ occurrences: number; at: number } | null> {
  const held: HeldAlarm = {
    raise: a,
    score,
    minOccurrences: policy.minOccurrences,
    withinMs: policy.withinMs,
  };
  const within = policy.withinMs > 0 ? policy.withinMs : Number.MAX_SAFE_INTEGER;
  // Occurrences spread wider than the window (in either direction: backfills come in any order)
  // start over from this one.
  const stale = sql<boolean>`(case when ${a.at} > alarm_pending.last_at then ${a.at} else alarm_pending.last_at end) - (case when ${a.at} < alarm_pending.first_at then ${a.at} else alarm_pending.first_at end) > ${within}`;
  const earlier = sql<boolean>`excluded.first_at < alarm_pending.first_at`;
  const row = await trx
    .insertInto('alarm_pending')
    .values({
      tenant_id: a.tenantId,
      dedup_key: a.dedupKey,
      rule_id: policy.ruleId,
      first_at: a.at,
      last_at: a.at,
      count: 1,
      due_at: policy.delayMs > 0 ? a.at + policy.delayMs : null,
      expires_at: policy.withinMs > 0 ? a.at + policy.withinMs : null,
      touched_at: now,
      raise: JSON.stringify(held),
      created_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'dedup_key']).doUpdateSet({
        count: sql`case when ${stale} then 1 else alarm_pending.count + 1 end`,
        first_at: sql`case when ${stale} or ${earlier} then excluded.first_at else alarm_pending.first_at end`,
        last_at: sql`case when ${stale} or excluded.last_at > alarm_pending.last_at then excluded.last_at else alarm_pending.last_at end`,
        due_at: sql`case when ${stale} or ${earlier} then excluded.due_at else alarm_pending.due_at end`,
        expires_at: sql`case when ${stale} or ${earlier} then excluded.expires_at else alarm_pending.expires_at end`,
        touched_at: now,
        raise: sql`excluded.raise`,
      }),
    )
    .returning(['count', 'last_at', 'due_at'])
    .executeTakeFirstOrThrow();
  const count = Number(row.count);
  const lastAt = Number(row.last_at);
  const due = row.due_at === null ? null : Number(row.due_at);
  if (count < policy.minOccurrences || (due !== null && a.at < due)) return null;
  await trx
    .deleteFrom('alarm_pending')
    .where('tenant_id', '=', a.tenantId)
    .where('dedup_key', '=', a.dedupKey)
    .execute();
  // Raised when it became due by the readings' time: the newest of the counted occurrences (the
  // count was complete then), or the end of the delay.
  const counted = policy.minOccurrences > 1;
  return {
    occurrences: count,
    at: due === null ? lastAt : counted ? Math.max(due, lastAt) : due,
  };
}

/** Inbox batches are retried this many times (backing off to an hour), then left for an operator. */
const INBOX_MAX_ATTEMPTS = 50;

/** Keeps events whose alarm stage failed, per tenant, in the caller's transaction. */
async function toInbox(
  trx: DbOrTrx,
  events: readonly DetectionEvent[],
  error: string,
  now: number,
): Promise<void> {
  const byTenant = new Map<string, DetectionEvent[]>();
  for (const e of events) byTenant.set(e.tenantId, [...(byTenant.get(e.tenantId) ?? []), e]);
  for (const [tenantId, list] of byTenant)
    await trx
      .insertInto('alarm_inbox')
      .values({
        tenant_id: tenantId,
        events: JSON.stringify(list),
        attempts: 0,
        next_attempt_at: now + 5_000,
        last_error: error.slice(0, 500),
        created_at: now,
      })
      .execute();
}

/** Each event's sensor's type (for rules scoped by sensor type). */
async function sensorTypesOf(trx: DbOrTrx, events: readonly DetectionEvent[]): Promise<Map<string, string>> {
  const ids = [...new Set(events.map((e) => e.sensorId))];
  const out = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await trx
      .selectFrom('sensors')
      .select(['id', 'type_id'])
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.id, r.type_id);
  }
  return out;
}

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
    private readonly policy: { renotifyMs: number; escalateMs: number; grouping?: GroupingPolicy } = {
      renotifyMs: 30 * 60_000,
      escalateMs: 60 * 60_000,
      grouping: DEFAULT_GROUPING,
    },
  ) {}

  private readonly changeListeners: AlarmChangeListener[] = [];
  private readonly noticeListeners: (() => void)[] = [];
  private readonly incidentListeners: ((changes: readonly IncidentChange[]) => void)[] = [];

  /** Incidents opened or joined by automatic grouping, after they commit. */
  onIncidentChanges(listener: (changes: readonly IncidentChange[]) => void): void {
    this.incidentListeners.push(listener);
  }

  /** Alarm changes, after they commit (the realtime hub subscribes here). */
  onChanges(listener: AlarmChangeListener): void {
    this.changeListeners.push(listener);
  }

  /** Called after deliveries were queued and committed (the dispatcher sends them at once). */
  onNotices(listener: () => void): void {
    this.noticeListeners.push(listener);
  }

  /** Tells listeners what committed. */
  private publish(fx: Effects): void {
    if (fx.notices > 0) for (const l of this.noticeListeners) l();
    if (fx.incidents.length > 0)
      for (const l of this.incidentListeners) {
        try {
          l(fx.incidents);
        } catch (err) {
          this.logger.warn({ err: (err as Error).message }, 'alarms: incident listener failed');
        }
      }
    if (fx.changes.length === 0) return;
    for (const l of this.changeListeners) {
      try {
        l(fx.changes);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'alarms: change listener failed');
      }
    }
  }

  /** Runs `work` in a transaction, then tells listeners what it changed. */
  private async changing<T>(work: (trx: DbOrTrx, fx: Effects) => Promise<T>): Promise<T> {
    const fx = new Effects();
    const out = await this.db.transaction().execute((trx) => work(trx, fx));
    this.publish(fx);
    return out;
  }

  /**
   * Applies detection events in their own transaction, in order (one batch at a time); resolves
   * once they are stored. The pipeline uses `applyIn` instead, inside its anomalies' transaction.
   */
  apply(events: readonly DetectionEvent[]): Promise<void> {
    const run = this.chain.then(() => this.changing((trx, fx) => this.applyEvents(trx, events, fx)));
    this.chain = run.catch((err: Error) => {
      this.stats.failures++;
      this.logger.warn(
        { err: err.message, events: events.length },
        'alarms: applying detection events failed',
      );
    });
    return run;
  }

  /**
   * Applies detection events inside the caller's transaction (the one storing their anomalies, so
   * an anomaly and its alarm commit together or not at all); returns what to run after the commit.
   */
  async applyIn(trx: DbOrTrx, events: readonly DetectionEvent[]): Promise<() => void> {
    const fx = new Effects();
    // A failing alarm stage must neither lose the events nor hold up detection for everyone:
    // undo its part, and keep the events in the inbox (with their anomalies) to apply later.
    await sql`savepoint vigil_alarms`.execute(trx);
    try {
      await this.applyEvents(trx, events, fx);
      await sql`release savepoint vigil_alarms`.execute(trx);
      return () => this.publish(fx);
    } catch (err) {
      await sql`rollback to savepoint vigil_alarms`.execute(trx);
      await sql`release savepoint vigil_alarms`.execute(trx);
      this.stats.failures++;
      this.logger.warn(
        { err: (err as Error).message, events: events.length },
        'alarms: applying detection events failed; kept in the inbox to retry',
      );
      await toInbox(trx, events, (err as Error).message, this.clock());
      return () => undefined;
    }
  }

  /** Applies events kept in the inbox (their alarm stage failed before), each batch once, in order. */
  async retryInbox(now: number): Promise<number> {
    const rows = await this.db
      .selectFrom('alarm_inbox')
      .selectAll()
      .where('next_attempt_at', '<=', now)
      .orderBy('id')
      .limit(50)
      .execute();
    let applied = 0;
    for (const r of rows) {
      const events = JSON.parse(r.events) as DetectionEvent[];
      try {
        await this.changing(async (trx, fx) => {
          const claimed = await trx.deleteFrom('alarm_inbox').where('id', '=', r.id).executeTakeFirst();
          if (Number(claimed.numDeletedRows) !== 1) return;
          await this.applyEvents(trx, events, fx);
        });
        applied++;
      } catch (err) {
        const attempts = Number(r.attempts) + 1;
        this.stats.failures++;
        await this.db
          .updateTable('alarm_inbox')
          .set({
            attempts,
            // Backs off to an hour; after INBOX_MAX_ATTEMPTS it waits for an operator (logged).
            next_attempt_at:
              attempts >= INBOX_MAX_ATTEMPTS
                ? Number.MAX_SAFE_INTEGER
                : now + Math.min(3_600_000, 5_000 * 2 ** (attempts - 1)),
            last_error: (err as Error).message.slice(0, 500),
          })
          .where('id', '=', r.id)
          .execute()
          .catch(() => undefined);
        this.logger.warn(
          { err: (err as Error).message, attempts, inboxId: r.id },
          'alarms: inbox retry failed',
        );
      }
    }
    return applied;
  }

  private timer: NodeJS.Timeout | undefined;

  /** Raises due held-back alarms and resolves quiet ones every 5 s; settles flapping and escalates every minute (until stop). */
  start(): void {
    let ticks = 0;
    let busy = false;
    // Delays and quiet periods are due every few seconds; flapping and escalation every minute.
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const now = this.clock();
      const minute = ticks++ % 12 === 0;
      void this.raiseDue(now)
        .then(() => this.resolveQuietAlarms(now))
        .then(() => this.retryInbox(now))
        .then(async () => {
          if (!minute) return;
          await this.settleFlapping(now);
          await this.escalate(now);
        })
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'alarms: periodic upkeep failed'))
        .finally(() => {
          busy = false;
        });
    }, 5_000);
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
      await this.changing(async (trx, fx) => {
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
        const eventId = await addAlarmEvent(trx, {
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
        const alarm = await findAlarm(trx, c.tenant_id, c.id);
        if (alarm) fx.change(alarm, 'resolved', now, eventId);
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
      await this.changing(async (trx, fx) => {
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
          const eventId = await addAlarmEvent(trx, {
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
          await this.notify(trx, alarm, 'escalated', now, { from: r.severity, to: next }, fx);
          fx.change(alarm, 'escalated', now, eventId);
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
        const eventId = await addAlarmEvent(trx, {
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
        await this.notify(trx, alarm, 'reminder', now, { unacknowledgedForMs: age }, fx);
        fx.change(alarm, 'reminded', now, eventId);
        out.reminded++;
      });
    }
    return out;
  }

  /** Waits for every batch handed over so far (tests, shutdown). */
  async settle(): Promise<void> {
    await this.chain;
  }

  private async applyEvents(trx: DbOrTrx, events: readonly DetectionEvent[], fx: Effects): Promise<void> {
    if (events.length === 0) return;
    const now = this.clock();
    const rules = await enabledRules(trx, [...new Set(events.map((e) => e.tenantId))]);
    // Sensor types only matter to rules scoped by one.
    const byType = [...rules.values()].some((list) => list.some((r) => r.sensorTypeId !== null));
    const types = byType ? await sensorTypesOf(trx, events) : new Map<string, string>();
    for (const e of events) {
      const a = alarmOf(e);
      const subject: RuleSubject = {
        sensorId: a.sensorId,
        sensorTypeId: a.sensorId ? (types.get(a.sensorId) ?? null) : null,
        assetId: a.assetId,
        detector: a.detector,
        ruleId: a.ruleId,
      };
      if (a.clears) await this.applyClear(trx, a, e.explanation, now, fx);
      else await this.applyRaise(trx, a, e, policyFor(rules.get(e.tenantId) ?? [], subject), now, fx);
    }
  }

  private async applyClear(
    trx: DbOrTrx,
    a: Pick<RaiseInput, 'tenantId' | 'dedupKey' | 'at'>,
    explanation: Readonly<Record<string, unknown>>,
    now: number,
    fx: Effects,
  ): Promise<void> {
    // Held back and cleared before it was due: never raised, nothing to tell.
    await trx
      .deleteFrom('alarm_pending')
      .where('tenant_id', '=', a.tenantId)
      .where('dedup_key', '=', a.dedupKey)
      .execute();
    const open = await findOpenByKey(trx, a.tenantId, a.dedupKey);
    if (!open) return;
    const system = { actor_type: 'system' as const, actor_id: null, comment: null };
    // Raised again and again lately: one flapping alarm that stays open, rather than a new
    // alarm (and a notification) per cycle. It resolves on a clear once the raises calm down.
    const raises = await countRaises(trx, a.tenantId, a.dedupKey, a.at - FLAP_WINDOW_MS, a.at);
    if (raises >= FLAP_RAISES) {
      if (!open.flapping) {
        await setFlapping(trx, open.id, true, now);
        await this.notify(trx, open, 'flapping', now, { raisesInWindow: raises }, fx);
      }
      const eventId = await addAlarmEvent(trx, {
        ...system,
        alarm_id: open.id,
        kind: open.flapping ? 'cleared' : 'flapping',
        from_status: null,
        to_status: null,
        details: { raisesInWindow: raises, windowMs: FLAP_WINDOW_MS },
        reading_at: a.at,
        at: now,
      });
      fx.change(open, open.flapping ? 'cleared' : 'flapping', now, eventId);
      return;
    }
    if (open.autoClear !== 'on-clear') {
      // Its rule resolves it by hand, or once the condition has stayed clear for the quiet period.
      const quiet = open.autoClear === 'after-quiet';
      if (quiet)
        await trx.updateTable('alarms').set({ quiet_since: a.at }).where('id', '=', open.id).execute();
      const eventId = await addAlarmEvent(trx, {
        ...system,
        alarm_id: open.id,
        kind: 'cleared',
        from_status: null,
        to_status: null,
        details: quiet
          ? { reason: 'condition cleared', resolvesAt: a.at + open.quietMs }
          : { reason: 'condition cleared; the alarm rule resolves it by hand' },
        reading_at: a.at,
        at: now,
      });
      fx.change(open, 'cleared', now, eventId);
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
    await this.notify(trx, open, 'resolved', now, { resolution: 'cleared', resolvedAt: a.at }, fx);
    const eventId = await addAlarmEvent(trx, {
      ...system,
      alarm_id: open.id,
      kind: 'resolved',
      from_status: open.status,
      to_status: 'resolved',
      details: { reason: 'condition cleared', explanation },
      reading_at: a.at,
      at: now,
    });
    fx.change({ ...open, status: 'resolved' }, 'resolved', now, eventId);
  }

  private async applyRaise(
    trx: DbOrTrx,
    base: RaiseInput,
    e: DetectionEvent,
    policy: AlarmPolicy,
    now: number,
    fx: Effects,
  ): Promise<void> {
    if (policy.action === 'ignore') return;
    if (e.kind === 'point' && e.score < policy.minScore) return;
    const point = e.kind === 'point';
    // A point anomaly has no "cleared" of its own: "on clear" means after its quiet period.
    const pointOnClear = point && policy.autoClear === 'on-clear';
    let a: RaiseInput = {
      ...base,
      severity: policy.severity ?? base.severity,
      alarmRuleId: policy.ruleId,
      autoClear: pointOnClear ? 'after-quiet' : policy.autoClear,
      quietMs: pointOnClear ? policy.quietMs || POINT_QUIET_MS : policy.quietMs,
      // Where the quiet counts from, if the alarm clears after quiet (its row decides).
      quietSince: point ? base.at : null,
    };
    let open = await findOpenByKey(trx, a.tenantId, a.dedupKey);
    // Quiet long enough before this reading: that alarm is over, this one is new.
    if (open && quietEnded(open, a.at)) {
      await this.resolveQuiet(trx, open, now, fx);
      open = undefined;
    }
    if (!open && holdsBack(policy)) {
      const ready = await holdBack(trx, a, policy, e.score, now);
      if (!ready) return;
      a = { ...a, occurrences: ready.occurrences, at: ready.at };
    }
    await this.raise(trx, a, e.score, !open, now, fx);
  }

  /** Raises (or repeats) an alarm as its rule allows now; notifies and groups a new one. */
  private async raise(
    trx: DbOrTrx,
    a: RaiseInput,
    score: number,
    mayBeNew: boolean,
    now: number,
    fx: Effects,
  ): Promise<void> {
    // In a maintenance window at the reading's time: raised all the same (the record), but marked.
    const window = mayBeNew
      ? await windowAt(trx, a.tenantId, { sensorId: a.sensorId, assetId: a.assetId }, a.at)
      : undefined;
    let { alarm, created } = await upsertAlarm(trx, { ...a, maintenanceWindowId: window?.id ?? null }, now);
    const system = { actor_type: 'system' as const, actor_id: null, comment: null };
    if (created) {
      this.stats.raised++;
      if (!window) {
        await groupAlarm(trx, a.tenantId, alarm, now, this.policy.grouping, fx.incidents);
        await this.notify(trx, alarm, 'raised', now, {}, fx);
      }
    } else this.stats.repeated++;
    const raisedEventId = await addAlarmEvent(trx, {
      ...system,
      alarm_id: alarm.id,
      kind: created ? 'raised' : 'repeated',
      from_status: created ? null : alarm.status,
      to_status: created ? 'open' : null,
      details: {
        value: a.value,
        score,
        ...(a.occurrences && a.occurrences > 1 ? { occurrences: a.occurrences } : {}),
        ...(window ? { maintenanceWindowId: window.id } : {}),
      },
      reading_at: a.at,
      at: now,
    });
    // Worse than when it was raised (a higher-severity rule or reading): the alarm follows.
    if (!created && rank(a.severity) > rank(alarm.severity)) {
      const from = alarm.severity;
      await trx
        .updateTable('alarms')
        .set({ severity: a.severity, updated_at: now })
        .where('id', '=', alarm.id)
        .execute();
      alarm = { ...alarm, severity: a.severity };
      const escalatedEventId = await addAlarmEvent(trx, {
        ...system,
        alarm_id: alarm.id,
        kind: 'escalated',
        from_status: null,
        to_status: null,
        details: { from, to: a.severity, reason: 'worsened' },
        reading_at: a.at,
        at: now,
      });
      await this.notify(trx, alarm, 'escalated', now, { from, to: a.severity, reason: 'worsened' }, fx);
      fx.change(alarm, 'escalated', now, escalatedEventId);
      return;
    }
    fx.change(alarm, created ? 'raised' : 'repeated', now, raisedEventId);
  }

  /**
   * Resolves an `after-quiet` alarm at the end of its quiet period (by reading time), only if it
   * is still quiet since the same reading (a concurrent repeat wins).
   */
  private async resolveQuiet(trx: DbOrTrx, open: Alarm, now: number, fx: Effects): Promise<boolean> {
    if (open.quietSince === null) return false;
    const at = open.quietSince + open.quietMs;
    const moved = await trx
      .updateTable('alarms')
      .set({
        status: 'resolved',
        resolved_at: at,
        resolved_by: null,
        resolution: 'quiet',
        flapping: 0,
        updated_at: now,
      })
      .where('id', '=', open.id)
      .where('status', 'in', ['open', 'acknowledged'])
      .where('quiet_since', '=', open.quietSince)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) return false;
    this.stats.cleared++;
    await this.notify(trx, open, 'resolved', now, { resolution: 'quiet', resolvedAt: at }, fx);
    const eventId = await addAlarmEvent(trx, {
      alarm_id: open.id,
      kind: 'resolved',
      from_status: open.status,
      to_status: 'resolved',
      actor_type: 'system',
      actor_id: null,
      comment: null,
      details: { reason: 'quiet', quietMs: open.quietMs },
      reading_at: at,
      at: now,
    });
    fx.change({ ...open, status: 'resolved' }, 'resolved', now, eventId);
    return true;
  }

  /** `after-quiet` alarms whose quiet period has passed (wall clock, settled): resolved. */
  async resolveQuietAlarms(now: number): Promise<number> {
    const settled = now - SETTLE_MS;
    const rows = await this.db
      .selectFrom('alarms')
      .select(['id', 'tenant_id'])
      .where('status', 'in', ['open', 'acknowledged'])
      .where('quiet_since', '<=', settled)
      .where('auto_clear', '=', 'after-quiet')
      .where(sql<boolean>`quiet_since + quiet_ms <= ${settled}`)
      .where('updated_at', '<=', settled)
      .orderBy('quiet_since')
      .limit(500)
      .execute();
    let n = 0;
    for (const r of rows) {
      const open = await findAlarm(this.db, r.tenant_id, r.id);
      if (!open || !quietEnded(open, settled)) continue;
      if (await this.changing((trx, fx) => this.resolveQuiet(trx, open, now, fx))) n++;
    }
    return n;
  }

  /**
   * Held-back alarms: raised once their delay is over (and settled) unless cleared meanwhile;
   * counts that lapsed short of their occurrences are dropped.
   */
  async raiseDue(now: number): Promise<number> {
    const settled = now - SETTLE_MS;
    const rows = await this.db
      .selectFrom('alarm_pending')
      .selectAll()
      .where('touched_at', '<=', settled)
      .where((eb) => eb.or([eb('due_at', '<=', settled), eb('expires_at', '<=', settled)]))
      .orderBy('touched_at')
      .limit(500)
      .execute();
    let n = 0;
    for (const r of rows) {
      const held = JSON.parse(r.raise) as HeldAlarm;
      const count = Number(r.count);
      const due = r.due_at !== null && Number(r.due_at) <= settled && count >= held.minOccurrences;
      const raised = await this.changing(async (trx, fx) => {
        // Claimed by deleting it: another instance raising it too finds nothing to delete.
        const claimed = await trx
          .deleteFrom('alarm_pending')
          .where('tenant_id', '=', r.tenant_id)
          .where('dedup_key', '=', r.dedup_key)
          .where('touched_at', '=', Number(r.touched_at))
          .where('count', '=', count)
          .executeTakeFirst();
        if (Number(claimed.numDeletedRows) !== 1 || !due) return false;
        await this.raise(
          trx,
          { ...held.raise, occurrences: count, at: Number(r.due_at) },
          held.score,
          true,
          now,
          fx,
        );
        return true;
      });
      if (raised) n++;
    }
    return n;
  }

  /**
   * Raises (or repeats) an alarm that does not come from detection (self-monitoring), with the
   * same deduplication, history, grouping, notifications and realtime events.
   */
  async raiseDirect(a: RaiseInput, score = 1): Promise<Alarm> {
    const now = this.clock();
    return this.changing(async (trx, fx) => {
      const open = await findOpenByKey(trx, a.tenantId, a.dedupKey);
      await this.raise(trx, a, score, !open, now, fx);
      return (await findOpenByKey(trx, a.tenantId, a.dedupKey))!;
    });
  }

  /**
   * The condition of a directly raised alarm is over: resolves its open alarm as a detection clear
   * would (flapping and its clear policy included). False when none was open.
   */
  async clearDirect(
    tenantId: string,
    dedupKey: string,
    at: number,
    explanation: Readonly<Record<string, unknown>> = {},
  ): Promise<boolean> {
    const now = this.clock();
    return this.changing(async (trx, fx) => {
      if (!(await findOpenByKey(trx, tenantId, dedupKey))) return false;
      await this.applyClear(trx, { tenantId, dedupKey, at }, explanation, now, fx);
      return true;
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
    fx: Effects,
  ): Promise<void> {
    if (alarm.maintenanceWindowId !== null) return;
    if (alarm.shelvedUntil !== null && alarm.shelvedUntil > now) return;
    fx.notices += await enqueueNotice(trx, {
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
    return this.changing(async (trx, fx) => {
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
      const eventId = await addAlarmEvent(trx, {
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
      const shelved = (await findAlarm(trx, tenantId, id))!;
      fx.change(shelved, until === null ? 'unshelved' : 'shelved', now, eventId);
      return shelved;
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
    return this.changing(async (trx, fx) => {
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
        await this.notify(trx, alarm, 'resolved', now, { resolution: 'manual', comment }, fx);
      const eventId = await addAlarmEvent(trx, {
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
      const moved2 = (await findAlarm(trx, tenantId, id))!;
      fx.change(moved2, to, now, eventId);
      return moved2;
    });
  }

  async comment(tenantId: string, id: string, actor: AlarmActor, text: string): Promise<void> {
    const now = this.clock();
    await this.changing(async (trx, fx) => {
      const alarm = await findAlarm(trx, tenantId, id);
      if (!alarm) throw new AppError('NOT_FOUND', 'No such alarm');
      const eventId = await addAlarmEvent(trx, {
        alarm_id: id,
        kind: 'comment',
        from_status: null,
        to_status: null,
        actor_type: actor.type,
        actor_id: actor.id,
        comment: text,
        details: {},
        at: now,
      });
      fx.change(alarm, 'comment', now, eventId);
    });
  }

  /** Gives the alarm to a member (null: to nobody); the route checks the member is the tenant's. */
  async assign(tenantId: string, id: string, actor: AlarmActor, assigneeId: string | null): Promise<Alarm> {
    const now = this.clock();
    return this.changing(async (trx, fx) => {
      const alarm = await findAlarm(trx, tenantId, id);
      if (!alarm) throw new AppError('NOT_FOUND', 'No such alarm');
      await trx
        .updateTable('alarms')
        .set({ assignee_id: assigneeId, updated_at: now })
        .where('id', '=', id)
        .execute();
      const eventId = await addAlarmEvent(trx, {
        alarm_id: id,
        kind: 'assigned',
        from_status: null,
        to_status: null,
        actor_type: actor.type,
        actor_id: actor.id,
        comment: null,
        details: { from: alarm.assigneeId, to: assigneeId },
        at: now,
      });
      const assigned = (await findAlarm(trx, tenantId, id))!;
      fx.change(assigned, 'assigned', now, eventId);
      return assigned;
    });
  }
}
