import { type TSchema, Type } from 'typebox';

/** Response schemas of the monitoring API (docs/monitoring.md). */

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Time = Type.String({ format: 'date-time' });
const Int = Type.Integer();
const Num = Type.Number();
const BySeverity = Type.Object({
  critical: Int,
  major: Int,
  minor: Int,
  warning: Int,
  info: Int,
});

const Dependency = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('failed'), Type.Literal('off')]),
  latencyMs: Nullable(Num),
  error: Nullable(Type.String()),
  mode: Type.Optional(Type.String()),
});

export const HealthSchema = Type.Object({
  /** `down`: the database is unreachable; `degraded`: another dependency is. */
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]),
  version: Type.String(),
  instanceId: Type.String(),
  startedAt: Time,
  uptimeS: Int,
  dependencies: Type.Record(Type.String(), Dependency),
  cpu: Type.Object({
    processPercent: Num,
    cores: Int,
    loadAvg: Type.Object({ m1: Num, m5: Num, m15: Num }),
  }),
  memory: Type.Object({
    rssBytes: Int,
    heapUsedBytes: Int,
    heapTotalBytes: Int,
    heapLimitBytes: Int,
    externalBytes: Int,
    systemFreeBytes: Int,
    systemTotalBytes: Int,
  }),
  eventLoop: Type.Object({ p50Ms: Num, p99Ms: Num, maxMs: Num, windowS: Num }),
  disk: Nullable(Type.Object({ path: Type.String(), totalBytes: Int, freeBytes: Int, usedPercent: Num })),
  selfMonitor: Type.Object({
    enabled: Type.Boolean(),
    intervalS: Int,
    openPlatformAlarms: Nullable(Int),
  }),
});

const Totals = {
  accepted: Int,
  duplicates: Int,
  rejected: Int,
  failed: Int,
  failedBatches: Int,
};
const Rates = Type.Object({ windowS: Int, ...Totals, acceptedPerS: Num, rejectedPercent: Num });

export const MetricsSummarySchema = Type.Object({
  at: Time,
  instanceId: Type.String(),
  ingest: Type.Object({
    lastMinute: Rates,
    lastHour: Rates,
    sinceStart: Type.Object({ ...Totals, sinceS: Int }),
    mqtt: Nullable(
      Type.Object({
        mode: Type.String(),
        connected: Type.Boolean(),
        messages: Int,
        readingsAccepted: Int,
        readingsRejected: Int,
        notStored: Int,
        authFailures: Int,
      }),
    ),
  }),
  detection: Type.Object({
    enabled: Type.Boolean(),
    queued: Int,
    sensors: Int,
    lagMs: Type.Object({ p50: Num, p99: Num, samples: Int }),
    scored: Int,
    anomalies: Int,
    transitions: Int,
    errors: Int,
  }),
  alarms: Type.Object({
    openBySeverity: BySeverity,
    openPlatform: Int,
    sinceStart: Type.Object(
      { raised: Int, repeated: Int, cleared: Int, failures: Int },
      { additionalProperties: true },
    ),
  }),
  notifications: Type.Object({
    outbox: Type.Object({ pending: Int, retrying: Int, failed: Int, failedLastHour: Int }),
    sinceStart: Type.Object(
      { delivered: Int, retried: Int, failed: Int, postponed: Int, suppressed: Int },
      { additionalProperties: true },
    ),
  }),
});

const Count = Type.Object({ key: Type.String(), count: Int });

export const SecuritySchema = Type.Object({
  since: Time,
  events: Type.Object({
    byKind: Type.Array(Count),
    byCategory: Type.Array(Count),
    topIps: Type.Array(Type.Object({ ip: Type.String(), count: Int, maxScore: Num })),
    recent: Type.Array(
      Type.Object({
        id: Int,
        tenantSlug: Nullable(Type.String()),
        kind: Type.String(),
        ip: Type.String(),
        score: Num,
        categories: Type.Array(Type.String()),
        method: Nullable(Type.String()),
        path: Nullable(Type.String()),
        at: Time,
      }),
    ),
  }),
  blockedIps: Type.Object({
    total: Int,
    items: Type.Array(Type.Object({ ip: Type.String(), until: Time, reason: Type.String(), offense: Int })),
  }),
  ipRules: Type.Object({ block: Int, allow: Int }),
  logins: Type.Object({
    failures: Int,
    distinctIps: Int,
    topIps: Type.Array(Type.Object({ ip: Type.String(), count: Int, lastAt: Time })),
    refreshTokenReuse: Int,
  }),
});

export const AlarmStatsSchema = Type.Object({
  since: Time,
  open: BySeverity,
  acknowledged: BySeverity,
  flapping: Int,
  last24h: Type.Object({ raised: Int, acknowledged: Int, resolved: Int }),
  meanTimeToAcknowledgeS: Nullable(Num),
  meanTimeToResolveS: Nullable(Num),
  noisiestKeys: Type.Array(
    Type.Object({
      tenantId: Type.String(),
      tenantSlug: Type.String(),
      dedupKey: Type.String(),
      title: Type.String(),
      alarms: Int,
      occurrences: Int,
    }),
  ),
  tenantsWithMostOpen: Type.Array(
    Type.Object({ tenantId: Type.String(), tenantSlug: Type.String(), open: Int }),
  ),
});

export const BusinessSchema = Type.Object({
  at: Time,
  tenants: Int,
  users: Type.Object({
    total: Int,
    enabled: Int,
    platformAdmins: Int,
    active24h: Int,
    active7d: Int,
    sessions24h: Int,
  }),
  devices: Type.Object({ total: Int, online: Int, seen24h: Int, quarantined: Int }),
  readings: Type.Object({
    computedAt: Time,
    days: Type.Array(Type.String({ format: 'date' })),
    estimated: Type.Boolean(),
    tenants: Type.Array(
      Type.Object({
        tenantId: Type.String(),
        tenantSlug: Nullable(Type.String()),
        perDay: Type.Array(Int),
        total: Int,
      }),
    ),
    tenantsWithReadings: Int,
    uncompacted: Type.Object({ readings: Int, oldestAt: Nullable(Time) }),
  }),
});

export const JobRunSchema = Type.Object({
  id: Int,
  job: Type.String(),
  scheduledFor: Time,
  instanceId: Type.String(),
  status: Type.String(),
  attempts: Int,
  startedAt: Time,
  finishedAt: Nullable(Time),
  durationMs: Nullable(Int),
  error: Nullable(Type.String()),
});

export const JobSummarySchema = Type.Object({
  job: Type.String(),
  lastStatus: Type.String(),
  lastRunAt: Time,
  consecutiveFailures: Int,
});
