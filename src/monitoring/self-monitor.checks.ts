import type { SelfMonitorConfig } from '../config/self-monitor.config.js';
import type { Services } from '../services.js';
import type { IngestTotals } from '../telemetry/ingest-counts.js';
import {
  checkDependencies,
  DEPENDENCY_SEVERITY,
  DEPENDENCY_TITLES,
  platformDependencyChecks,
} from './dependencies.js';
import type { CheckResult, DependencyCheck } from './health.service.js';
import { outboxBacklog, recentRunsByJob } from './monitoring.repository.js';
import { dataDirectory, diskStats, LoopDelayWindow } from './process-stats.js';
import {
  type Condition,
  CounterHistory,
  diskSeverity,
  failureStreak,
  ingestConditions,
  jobFailing,
  LagTracker,
} from './self-monitor.rules.js';

const WEEK = 7 * 86_400_000;

/**
 * What self-monitoring looks at, each turned into conditions (one per platform alarm key). Holds
 * the state that spans checks: ingest counters over the window, the event-loop histogram and the
 * lag streak. Conditions that are off (threshold 0) report "fine", so an alarm left open from
 * before they were turned off is resolved.
 */
export class SelfChecks {
  private readonly ingest: CounterHistory<IngestTotals>;
  private readonly loop = new LoopDelayWindow();
  private readonly lag: LagTracker;
  private readonly dependencies: Record<string, DependencyCheck>;

  constructor(
    private readonly services: Services,
    private readonly cfg: SelfMonitorConfig = services.config.selfMonitor,
  ) {
    this.ingest = new CounterHistory(cfg.windowMs + Math.max(cfg.intervalMs, 1000));
    this.lag = new LagTracker(cfg.loopLagMs, cfg.loopLagChecks);
    this.dependencies = platformDependencyChecks(services);
  }

  close(): void {
    this.loop.close();
  }

  /** The configured dependencies, checked concurrently (database first in the result). */
  async dependencyResults(): Promise<Record<string, CheckResult>> {
    return checkDependencies(this.services, this.dependencies);
  }

  dependencyConditions(results: Record<string, CheckResult>): Condition[] {
    const instance = this.services.config.instanceId;
    return Object.entries(results).map(([name, r]) => ({
      key: `platform:dependency:${name}`,
      title: DEPENDENCY_TITLES[name] ?? `${name} unreachable`,
      severity: r.status === 'failed' ? (DEPENDENCY_SEVERITY[name] ?? 'major') : null,
      value: r.latencyMs,
      details: { dependency: name, error: r.error ?? null, latencyMs: r.latencyMs, instance },
    }));
  }

  /** Everything else: in-process figures first, then what the database knows. */
  async conditions(now: number): Promise<Condition[]> {
    const out: Condition[] = [];
    const instance = this.services.config.instanceId;
    const cfg = this.cfg;

    const dir = dataDirectory(this.services.config);
    if (dir) {
      const disk = await diskStats(dir);
      out.push({
        key: 'platform:disk',
        title: 'Data directory disk filling',
        severity: diskSeverity(disk.freePercent, cfg.diskFreePercent),
        value: disk.freePercent,
        details: { ...disk, thresholdPercent: cfg.diskFreePercent, instance },
      });
    }

    this.ingest.add(now, this.services.telemetry.ingest.counts.snapshot());
    const window = this.ingest.over(cfg.windowMs);
    const delta = window?.delta ?? { accepted: 0, duplicates: 0, rejected: 0, failed: 0, failedBatches: 0 };
    const ingest = ingestConditions(delta, cfg);
    const windowS = Math.round((window?.coveredMs ?? 0) / 1000);
    out.push(
      {
        key: 'platform:ingest:errors',
        title: 'Ingest failing (server-side errors)',
        severity: ingest.errors,
        value: delta.failedBatches,
        details: {
          failedBatches: delta.failedBatches,
          failedReadings: delta.failed,
          windowS,
          threshold: cfg.ingestErrors,
          instance,
        },
      },
      {
        key: 'platform:ingest:rejections',
        title: 'Many readings refused',
        severity: ingest.rejections,
        value: ingest.rejectedPercent,
        details: {
          rejected: delta.rejected,
          offered: ingest.offered,
          rejectedPercent: ingest.rejectedPercent,
          windowS,
          thresholdPercent: cfg.rejectPercent,
          instance,
        },
      },
    );

    const delay = this.loop.take();
    const lag = this.lag.observe(delay.p99Ms);
    out.push({
      key: 'platform:event-loop',
      title: 'Event loop lagging',
      severity: lag.severity,
      value: delay.p99Ms,
      details: { ...delay, thresholdMs: cfg.loopLagMs, consecutiveChecks: lag.streak, instance },
    });

    const outbox = await outboxBacklog(this.services.database.db, now - cfg.windowMs);
    const failing = outbox.failedRecently + outbox.retrying;
    out.push({
      key: 'platform:notifications',
      title: 'Notification deliveries failing',
      severity: cfg.notifyFailures > 0 && failing >= cfg.notifyFailures ? 'major' : null,
      value: failing,
      details: { ...outbox, windowS: cfg.windowMs / 1000, threshold: cfg.notifyFailures },
    });

    const runs = await recentRunsByJob(
      this.services.database.db,
      now - WEEK,
      Math.max(cfg.jobFailures, 1) + 2,
    );
    for (const [job, list] of runs) {
      const statuses = list.map((r) => r.status);
      const last = list.find((r) => r.status !== 'running');
      out.push({
        key: `platform:job:${job}`,
        title: `Job ${job} failing repeatedly`,
        severity: jobFailing(statuses, cfg.jobFailures) ? 'major' : null,
        value: failureStreak(statuses),
        details: {
          job,
          consecutiveFailures: failureStreak(statuses),
          threshold: cfg.jobFailures,
          lastStatus: last?.status ?? null,
          lastError: last?.error ?? null,
          lastRunAt: last ? new Date(last.startedAt).toISOString() : null,
        },
      });
    }
    return out;
  }
}
