import { listIpRules, listSecurityEvents, summariseSecurityEvents } from '../security/security.repository.js';
import type { Services } from '../services.js';
import type { IngestTotals } from '../telemetry/ingest-counts.js';
import { VERSION } from '../version.js';
import { dependencyReport } from './dependencies.js';
import {
  alarmStatistics,
  businessCounts,
  loginFailures,
  openAlarmsBySeverity,
  openPlatformAlarms,
  outboxBacklog,
  readingsPerDay,
  tenantSlugs,
} from './monitoring.repository.js';
import {
  CpuMeter,
  dataDirectory,
  diskStats,
  type LoopDelay,
  LoopDelayWindow,
  memoryStats,
  systemLoad,
} from './process-stats.js';
import { CounterHistory } from './self-monitor.rules.js';

const SAMPLE_MS = 10_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Readings per day scan chunk metadata of a week: computed at most this often. */
const READINGS_CACHE_MS = 5 * MINUTE;
const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;

const iso = (t: number) => new Date(t).toISOString();

type BySeverity = Record<(typeof SEVERITIES)[number], number>;
const bySeverityOf = (rows: readonly { severity: string; count: number }[]): BySeverity => {
  const out = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as BySeverity;
  for (const r of rows) if (r.severity in out) out[r.severity as keyof BySeverity] += r.count;
  return out;
};

/**
 * The reports of the monitoring API (platform administrators). Samples this process every 10 s
 * (event-loop delay, CPU, ingest counters kept for an hour), so rates over the last minute and
 * hour cost a subtraction; everything else is read when asked, bounded.
 */
export class MonitoringReports {
  private readonly loop = new LoopDelayWindow();
  private readonly cpu = new CpuMeter();
  private readonly ingest = new CounterHistory<IngestTotals>(HOUR + 2 * SAMPLE_MS);
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();
  private lastLoop: LoopDelay | undefined;
  private lastCpu = 0;
  private readingsCache:
    | { at: number; value: Awaited<ReturnType<MonitoringReports['computeReadings']>> }
    | undefined;

  constructor(private readonly services: Services) {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.loop.close();
  }

  private sample(): void {
    const now = Date.now();
    if (now > this.started) {
      this.lastLoop = this.loop.take();
      this.lastCpu = this.cpu.percent();
    }
    this.ingest.add(now, this.services.telemetry.ingest.counts.snapshot());
  }

  async health() {
    const { services } = this;
    const dir = dataDirectory(services.config);
    const [dependencies, disk, platformOpen] = await Promise.all([
      dependencyReport(services),
      dir ? diskStats(dir).catch(() => null) : Promise.resolve(null),
      openPlatformAlarms(services.database.db).catch(() => null),
    ]);
    const failed = Object.entries(dependencies).filter(([, d]) => d.status === 'failed');
    const status: 'ok' | 'degraded' | 'down' =
      dependencies.database?.status === 'failed' ? 'down' : failed.length > 0 ? 'degraded' : 'ok';
    const loop = this.lastLoop ?? this.loop.take();
    return {
      status,
      version: VERSION,
      instanceId: services.config.instanceId,
      startedAt: iso(Date.now() - Math.round(process.uptime() * 1000)),
      uptimeS: Math.floor(process.uptime()),
      dependencies,
      cpu: { processPercent: this.lastLoop ? this.lastCpu : this.cpu.percent(), ...systemLoad() },
      memory: memoryStats(),
      eventLoop: loop,
      disk: disk && {
        path: disk.path,
        totalBytes: disk.totalBytes,
        freeBytes: disk.freeBytes,
        usedPercent: disk.usedPercent,
      },
      selfMonitor: {
        enabled: services.config.selfMonitor.intervalMs > 0,
        intervalS: services.config.selfMonitor.intervalMs / 1000,
        openPlatformAlarms: platformOpen,
      },
    };
  }

  async metricsSummary() {
    const { services } = this;
    const now = Date.now();
    const current = { at: now, value: services.telemetry.ingest.counts.snapshot() };
    const rates = (windowMs: number) => {
      const w = this.ingest.over(windowMs, current);
      const d = w?.delta ?? { accepted: 0, duplicates: 0, rejected: 0, failed: 0, failedBatches: 0 };
      const windowS = Math.round((w?.coveredMs ?? 0) / 1000);
      const offered = d.accepted + d.duplicates + d.rejected + d.failed;
      return {
        windowS,
        ...d,
        acceptedPerS: windowS > 0 ? Math.round((d.accepted / windowS) * 10) / 10 : 0,
        rejectedPercent: offered > 0 ? Math.round((1000 * d.rejected) / offered) / 10 : 0,
      };
    };
    const db = services.database.db;
    const [alarmRows, platformOpen, outbox] = await Promise.all([
      openAlarmsBySeverity(db),
      openPlatformAlarms(db),
      outboxBacklog(db, now - HOUR),
    ]);
    const bySeverity = bySeverityOf(alarmRows);
    const d = services.detection;
    const mqtt = services.mqtt.current();
    return {
      at: iso(now),
      instanceId: services.config.instanceId,
      ingest: {
        lastMinute: rates(MINUTE),
        lastHour: rates(HOUR),
        sinceStart: { ...current.value, sinceS: Math.floor(process.uptime()) },
        mqtt: mqtt
          ? {
              mode: mqtt.mode,
              connected: mqtt.connected,
              messages: mqtt.counters.messages,
              readingsAccepted: mqtt.counters.readingsAccepted,
              readingsRejected: mqtt.counters.readingsRejected,
              notStored: mqtt.counters.notStored,
              authFailures: mqtt.counters.authFailures,
            }
          : null,
      },
      detection: d
        ? {
            enabled: true,
            queued: d.queueLength,
            sensors: d.sensorCount,
            lagMs: d.lagPercentiles(),
            scored: d.stats.scored,
            anomalies: d.stats.anomalies,
            transitions: d.stats.transitions,
            errors: d.stats.errors,
          }
        : {
            enabled: false,
            queued: 0,
            sensors: 0,
            lagMs: { p50: 0, p99: 0, samples: 0 },
            scored: 0,
            anomalies: 0,
            transitions: 0,
            errors: 0,
          },
      alarms: {
        openBySeverity: bySeverity,
        openPlatform: platformOpen,
        sinceStart: { ...services.alarms.stats },
      },
      notifications: {
        outbox: {
          pending: outbox.pending,
          retrying: outbox.retrying,
          failed: outbox.failed,
          failedLastHour: outbox.failedRecently,
        },
        sinceStart: { ...services.notifications.stats },
      },
    };
  }

  async security() {
    const { services } = this;
    const db = services.database.db;
    const now = Date.now();
    const since = now - DAY;
    const [summary, recent, blocks, rules, logins] = await Promise.all([
      summariseSecurityEvents(db, since),
      listSecurityEvents(db, { limit: 20 }),
      services.guard.blocks.list(now),
      listIpRules(db, now),
      loginFailures(db, since),
    ]);
    const slugs = await tenantSlugs(db, [
      ...new Set(recent.map((e) => e.tenant_id).filter((t): t is string => !!t)),
    ]);
    return {
      since: iso(since),
      events: {
        byKind: summary.byKind.map((r) => ({ key: r.kind, count: Number(r.count) })),
        byCategory: summary.byCategory.map((r) => ({
          key: r.categories || 'behaviour',
          count: Number(r.count),
        })),
        topIps: summary.topIps.map((r) => ({
          ip: r.ip,
          count: Number(r.count),
          maxScore: Number(r.maxScore),
        })),
        recent: recent.map((e) => ({
          id: Number(e.id),
          tenantSlug: e.tenant_id ? (slugs.get(e.tenant_id) ?? null) : null,
          kind: e.kind,
          ip: e.ip,
          score: e.score,
          categories: e.categories ? e.categories.split(',') : [],
          method: e.method,
          path: e.path,
          at: iso(Number(e.created_at)),
        })),
      },
      blockedIps: {
        total: blocks.length,
        items: blocks
          .sort((a, b) => b.until - a.until)
          .slice(0, 50)
          .map((b) => ({ ip: b.ip, until: iso(b.until), reason: b.reason, offense: b.offense })),
      },
      ipRules: {
        block: rules.filter((r) => r.kind === 'block').length,
        allow: rules.filter((r) => r.kind === 'allow').length,
      },
      logins: {
        failures: logins.count,
        distinctIps: logins.distinctIps,
        topIps: logins.topIps.map((r) => ({ ip: r.ip, count: r.count, lastAt: iso(r.lastAt) })),
        refreshTokenReuse: logins.refreshTokenReuse,
      },
    };
  }

  async alarms() {
    const s = await alarmStatistics(this.services.database.db, Date.now());
    return {
      since: iso(s.since),
      open: bySeverityOf(s.bySeverity.map((r) => ({ severity: r.severity, count: r.open }))),
      acknowledged: bySeverityOf(s.bySeverity.map((r) => ({ severity: r.severity, count: r.acknowledged }))),
      flapping: s.flapping,
      last24h: { raised: s.raised, acknowledged: s.acknowledged, resolved: s.resolved },
      meanTimeToAcknowledgeS: s.mttaMs === null ? null : Math.round(s.mttaMs / 100) / 10,
      meanTimeToResolveS: s.mttrMs === null ? null : Math.round(s.mttrMs / 100) / 10,
      noisiestKeys: s.topKeys,
      tenantsWithMostOpen: s.topTenants,
    };
  }

  async business() {
    const db = this.services.database.db;
    const now = Date.now();
    const [counts, readings] = await Promise.all([businessCounts(db, now), this.readings(now)]);
    return { at: iso(now), ...counts, readings };
  }

  private async readings(now: number) {
    const cached = this.readingsCache;
    if (cached && now - cached.at < READINGS_CACHE_MS) return cached.value;
    const value = await this.computeReadings(now);
    this.readingsCache = { at: now, value };
    return value;
  }

  /** The last 7 UTC days (today included), the 50 busiest tenants. */
  private async computeReadings(now: number) {
    const today = Math.floor(now / DAY) * DAY;
    const days = Array.from({ length: 7 }, (_, i) => today - (6 - i) * DAY);
    const db = this.services.database.db;
    const r = await readingsPerDay(db, days);
    const ranked = r.tenants
      .map((t) => ({ ...t, total: t.perDay.reduce((a, b) => a + b, 0) }))
      .sort((a, b) => b.total - a.total);
    const top = ranked.slice(0, 50);
    const slugs = await tenantSlugs(
      db,
      top.map((t) => t.tenantId),
    );
    return {
      computedAt: iso(now),
      days: days.map((d) => iso(d).slice(0, 10)),
      estimated: true,
      tenants: top.map((t) => ({
        tenantId: t.tenantId,
        tenantSlug: slugs.get(t.tenantId) ?? null,
        perDay: t.perDay,
        total: t.total,
      })),
      tenantsWithReadings: ranked.length,
      uncompacted: {
        readings: r.uncompacted.readings,
        oldestAt: r.uncompacted.oldestTs === null ? null : iso(r.uncompacted.oldestTs),
      },
    };
  }
}
