import type { Logger } from 'pino';
import { findOpenByKey } from '../alarms/alarms.repository.js';
import type { Services } from '../services.js';
import { PLATFORM_TENANT_ID } from '../tenants/platform-tenant.js';
import { SelfChecks } from './self-monitor.checks.js';
import { type Condition, type Decision, decide } from './self-monitor.rules.js';

/** The alarms' `detector`: every platform alarm self-monitoring raises. */
export const SELF_MONITOR_DETECTOR = 'self-monitor';

export interface SelfMonitorReport {
  readonly at: number;
  /** The database could not be reached: nothing could be raised or resolved this time. */
  readonly databaseDown: boolean;
  readonly conditions: readonly (Condition & { readonly decision: Decision })[];
}

/**
 * Vigil watching itself with the alarm pipeline operators use. Every `SELF_MONITOR_INTERVAL_S`
 * it checks its dependencies (database, Redis, the external MQTT broker, SMTP), the data
 * directory's disk, ingest failures and refusals over a window, event-loop lag, failing
 * notification deliveries and repeatedly failing jobs, and raises or resolves platform alarms
 * (tenant `platform`, detector `self-monitor`, keys `platform:…`) through AlarmService — so they
 * are deduplicated (also across instances), flap-protected, escalated and notified to the
 * platform tenant's channels like any alarm. One per process (the server starts it).
 *
 * The database itself cannot be alarmed about while it is down (alarms live in it): the outage
 * is remembered and, once the database answers again, recorded as an alarm raised at its start
 * and resolved at once (so the platform's channels hear of it, late).
 */
export class SelfMonitor {
  private readonly checks: SelfChecks;
  private readonly logger: Logger;
  private readonly clock: () => number;
  /** Keys this process raised and has not seen resolved. */
  private readonly mine = new Set<string>();
  private readonly seen = new Set<string>();
  private databaseDownSince: number | undefined;
  private failedDatabaseChecks = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private busy = false;

  constructor(
    private readonly services: Services,
    opts: { clock?: () => number; logger?: Logger } = {},
  ) {
    this.clock = opts.clock ?? Date.now;
    this.logger = opts.logger ?? services.logger.child({ component: 'self-monitor' });
    this.checks = new SelfChecks(services);
  }

  /** Checks every SELF_MONITOR_INTERVAL_S (not at all when it is 0), skipping a turn while one runs. */
  start(): void {
    const every = this.services.config.selfMonitor.intervalMs;
    if (every <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.busy) return;
      void this.runOnce().catch((err: Error) =>
        this.logger.warn({ err: err.message }, 'self-monitor: check failed'),
      );
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => undefined);
    this.checks.close();
  }

  /** One round of every check and the resulting raises and clears (runs one at a time). */
  runOnce(now: number = this.clock()): Promise<SelfMonitorReport> {
    const run = this.chain.then(() => this.check(now));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async check(now: number): Promise<SelfMonitorReport> {
    this.busy = true;
    try {
      const deps = await this.checks.dependencyResults();
      const database = deps.database;
      if (database?.status === 'failed') {
        this.databaseDownSince ??= now;
        this.failedDatabaseChecks++;
        this.logger.error(
          { err: database.error, since: new Date(this.databaseDownSince).toISOString() },
          'self-monitor: the database is unreachable; platform alarms wait until it is back',
        );
        const conditions = this.checks
          .dependencyConditions(deps)
          .map((c) => ({ ...c, decision: 'keep' as const }));
        return { at: now, databaseDown: true, conditions };
      }
      if (this.databaseDownSince !== undefined) await this.recordDatabaseOutage(now);
      const conditions = [...this.checks.dependencyConditions(deps), ...(await this.checks.conditions(now))];
      const decided: (Condition & { decision: Decision })[] = [];
      for (const c of conditions) decided.push({ ...c, decision: await this.apply(c, now) });
      return { at: now, databaseDown: false, conditions: decided };
    } finally {
      this.busy = false;
    }
  }

  /** Raises, repeats or clears the condition's platform alarm as `decide` says. */
  private async apply(c: Condition, now: number): Promise<Decision> {
    const open = await findOpenByKey(this.services.database.db, PLATFORM_TENANT_ID, c.key);
    const firstLook = !this.seen.has(c.key);
    this.seen.add(c.key);
    const decision = decide(c, open, { now, mine: this.mine.has(c.key), firstLook });
    if (decision === 'raise') {
      const alarm = await this.services.alarms.raiseDirect({
        tenantId: PLATFORM_TENANT_ID,
        dedupKey: c.key,
        sensorId: null,
        assetId: null,
        detector: SELF_MONITOR_DETECTOR,
        ruleId: c.key.replace(/^platform:/, ''),
        severity: c.severity!,
        title: c.title,
        at: now,
        value: c.value,
        details: c.details,
      });
      this.mine.add(c.key);
      this.logger.warn(
        {
          key: c.key,
          severity: c.severity,
          alarmId: alarm.id,
          occurrences: alarm.occurrences,
          details: c.details,
        },
        `platform alarm: ${c.title}`,
      );
    } else if (decision === 'clear') {
      await this.services.alarms.clearDirect(PLATFORM_TENANT_ID, c.key, now, {
        reason: 'self-monitor: the condition is over',
        ...c.details,
      });
      this.mine.delete(c.key);
      this.logger.info({ key: c.key }, `platform alarm over: ${c.title}`);
    }
    return decision;
  }

  /** The database answered again after an outage: raise the alarm as of its start and resolve it. */
  private async recordDatabaseOutage(now: number): Promise<void> {
    const since = this.databaseDownSince!;
    const details = {
      dependency: 'database',
      downSince: new Date(since).toISOString(),
      recoveredAt: new Date(now).toISOString(),
      failedChecks: this.failedDatabaseChecks,
      instance: this.services.config.instanceId,
    };
    const key = 'platform:dependency:database';
    await this.services.alarms.raiseDirect({
      tenantId: PLATFORM_TENANT_ID,
      dedupKey: key,
      sensorId: null,
      assetId: null,
      detector: SELF_MONITOR_DETECTOR,
      ruleId: 'dependency:database',
      severity: 'critical',
      title: 'Database unreachable',
      at: since,
      value: null,
      details,
    });
    await this.services.alarms.clearDirect(PLATFORM_TENANT_ID, key, now, {
      reason: 'the database answers again',
      ...details,
    });
    this.logger.warn(details, 'platform alarm: the database was unreachable (recorded now that it is back)');
    this.databaseDownSince = undefined;
    this.failedDatabaseChecks = 0;
  }
}
