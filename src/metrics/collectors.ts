import type { StatsFs } from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { SEVERITIES } from '../detection/config/detector-config.schema.js';
import { DETECTORS } from '../detection/engine/evaluation.js';
import type { Services } from '../services.js';
import type { Metrics, Rows } from './metrics.js';

/** Open alarms are counted in the database at most this often, however often Prometheus scrapes. */
export const OPEN_ALARMS_TTL_MS = 5000;

const CHANNEL_TYPES = new Set(['webhook', 'slack', 'teams', 'email']);
/** Every detector name an anomaly can carry (a bounded label). */
const DETECTOR_SET: ReadonlySet<string> = new Set<string>([...DETECTORS, 'asset-rule', 'iforest-asset']);
const SEVERITY_SET: ReadonlySet<string> = new Set(SEVERITIES);
const bounded = (set: ReadonlySet<string>, value: string) => (set.has(value) ? value : 'other');

/** The result of an async read shared by concurrent scrapes and reused for `ttlMs`. */
export class Cached<T> {
  private value: { at: number; data: T } | undefined;
  private pending: Promise<T> | undefined;

  constructor(
    private readonly ttlMs: number,
    private readonly load: () => Promise<T>,
    private readonly clock: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    const now = this.clock();
    if (this.value && now - this.value.at < this.ttlMs) return Promise.resolve(this.value.data);
    this.pending ??= this.load()
      .then((data) => {
        this.value = { at: this.clock(), data };
        return data;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}

/**
 * Connects the metrics to the running services: event counters through the services' listeners
 * (alarms, detection), and everything the services already count in their `stats` read at scrape
 * time. Called once, by createServices.
 */
export function observeServices(metrics: Metrics, services: Services): void {
  const { detection, alarms, database, logger } = services;

  alarms.onChanges((changes) => {
    for (const c of changes) {
      if (c.event === 'raised')
        metrics.alarmsRaised.inc({ severity: bounded(SEVERITY_SET, c.alarm.severity) });
      else if (c.event === 'resolved')
        metrics.alarmsCleared.inc({ severity: bounded(SEVERITY_SET, c.alarm.severity) });
    }
  });
  if (detection) {
    detection.onEvents((events) => {
      for (const e of events)
        if (e.kind !== 'cleared')
          metrics.anomalies.inc({ detector: bounded(DETECTOR_SET, e.detector), kind: e.kind });
    });
    metrics.counterFrom(
      'vigil_detection_readings_scored_total',
      'Readings scored by the streaming detectors.',
      [],
      () => detection.stats.scored,
    );
    metrics.counterFrom(
      'vigil_detection_errors_total',
      'Detection batches that failed (retried).',
      [],
      () => detection.stats.errors,
    );
    metrics.gaugeFrom(
      'vigil_detection_queue_readings',
      'Readings committed but not yet scored.',
      [],
      () => detection.queueLength,
    );
    metrics.gaugeFrom(
      'vigil_detection_lag_p99_seconds',
      'Commit-to-scored delay of recent readings, 99th percentile.',
      [],
      () => {
        const lag = detection.lagPercentiles();
        return lag.samples > 0 ? lag.p99 / 1000 : 0;
      },
    );
  }

  const { notifications } = services;
  const byType = (outcome: 'delivered' | 'retried' | 'failed'): Rows =>
    [...CHANNEL_TYPES].map((type) => [
      { channel_type: type },
      notifications.byChannelType.get(type)?.[outcome] ?? 0,
    ]);
  metrics.counterFrom(
    'vigil_notifications_sent_total',
    'Notifications delivered, by channel type.',
    ['channel_type'],
    () => byType('delivered'),
  );
  metrics.counterFrom(
    'vigil_notifications_retried_total',
    'Notification attempts that failed and will be retried with backoff, by channel type.',
    ['channel_type'],
    () => byType('retried'),
  );
  metrics.counterFrom(
    'vigil_notifications_failed_total',
    'Notifications given up on after NOTIFY_MAX_ATTEMPTS failed attempts, by channel type.',
    ['channel_type'],
    () => byType('failed'),
  );

  const pool = database.poolStats;
  metrics.gaugeFrom(
    'vigil_db_pool_max_connections',
    'Most database connections this process opens (SQLite: its one connection).',
    [],
    () => (pool ? pool().max : 1),
  );
  if (pool) {
    metrics.gaugeFrom(
      'vigil_db_pool_connections',
      'PostgreSQL pool connections, by state (idle, busy).',
      ['state'],
      () => {
        const p = pool();
        return [
          [{ state: 'idle' }, p.idle],
          [{ state: 'busy' }, p.total - p.idle],
        ];
      },
    );
    metrics.gaugeFrom(
      'vigil_db_pool_waiting_queries',
      'Queries waiting for a free PostgreSQL pool connection.',
      [],
      () => pool().waiting,
    );
  }

  const { sensorDirectory, telemetry, tenantQuotas } = services;
  metrics.counterFrom(
    'vigil_cache_requests_total',
    'Cache lookups by cache (sensor_directory, query, tenant_quotas) and result (hit, miss).',
    ['cache', 'result'],
    () => [
      [{ cache: 'sensor_directory', result: 'hit' }, sensorDirectory.hits],
      [{ cache: 'sensor_directory', result: 'miss' }, sensorDirectory.misses],
      [{ cache: 'query', result: 'hit' }, telemetry.cache.stats.hits],
      [{ cache: 'query', result: 'miss' }, telemetry.cache.stats.misses],
      [{ cache: 'tenant_quotas', result: 'hit' }, tenantQuotas.hits],
      [{ cache: 'tenant_quotas', result: 'miss' }, tenantQuotas.misses],
    ],
  );
  metrics.counterFrom(
    'vigil_cache_errors_total',
    'Cache operations that failed (Redis unreachable); the database answered instead.',
    ['cache'],
    () => [[{ cache: 'query' }, telemetry.cache.stats.errors]],
  );
  metrics.counterFrom(
    'vigil_storage_compactions_total',
    'Compactions of the reading log into per-sensor chunks.',
    [],
    () => telemetry.counters.compactions,
  );
  metrics.counterFrom(
    'vigil_storage_compaction_errors_total',
    'Compactions that failed (retried).',
    [],
    () => telemetry.counters.compactionErrors,
  );

  const { rateLimits, guard } = services;
  metrics.counterFrom(
    'vigil_rate_limit_rejections_total',
    'Requests refused with 429, by limit class (default, auth, ingest, analytics, ingest_readings: a tenant readings budget, ws_connections).',
    ['class'],
    () => [
      ...Object.entries(rateLimits.rejections).map(([cls, n]) => [{ class: cls }, n] as const),
      [{ class: 'ws_connections' }, rateLimits.wsConnections.rejections],
    ],
  );
  metrics.counterFrom(
    'vigil_guard_requests_blocked_total',
    'Requests refused by the threat guard, by reason (attack: scored as one; deny_list; blocked_ip: from an IP under a block).',
    ['reason'],
    () => [
      [{ reason: 'attack' }, guard.stats.blockedAttack],
      [{ reason: 'deny_list' }, guard.stats.blockedDenied],
      [{ reason: 'blocked_ip' }, guard.stats.blockedIp],
    ],
  );
  metrics.counterFrom(
    'vigil_guard_requests_flagged_total',
    'Requests the threat guard recorded as suspicious without refusing them.',
    [],
    () => guard.stats.flagged,
  );
  metrics.counterFrom(
    'vigil_guard_ip_blocks_total',
    'Client IPs blocked by the threat guard (each block, escalating on repeat offences).',
    [],
    () => guard.stats.ipBlocks,
  );

  const { mqtt } = services;
  metrics.gaugeFrom(
    'vigil_mqtt_connected',
    'MQTT side up: 1 when the embedded broker listens or a subscriber is connected to the external broker; 0 when it is down or MQTT is off.',
    [],
    () => {
      const s = mqtt.current();
      return s?.connected ? 1 : 0;
    },
  );
  metrics.counterFrom(
    'vigil_mqtt_messages_total',
    'MQTT messages with readings handled.',
    [],
    () => mqtt.current()?.counters.messages ?? 0,
  );
  metrics.counterFrom(
    'vigil_mqtt_auth_failures_total',
    'MQTT logins refused.',
    [],
    () => mqtt.current()?.counters.authFailures ?? 0,
  );

  // Last: its query must not start before the pool gauges above have been read in this scrape.
  const openAlarms = new Cached(OPEN_ALARMS_TTL_MS, () =>
    database.db
      .selectFrom('alarms')
      .select(['severity', 'status', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('status', 'in', ['open', 'acknowledged'])
      .groupBy(['severity', 'status'])
      .execute(),
  );
  metrics.gaugeFrom(
    'vigil_alarms_open',
    `Alarms open or acknowledged now, all tenants, by severity and status (counted in the database at most every ${OPEN_ALARMS_TTL_MS / 1000} s).`,
    ['severity', 'status'],
    async () => {
      let rows: Awaited<ReturnType<typeof openAlarms.get>>;
      try {
        rows = await openAlarms.get();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'metrics: open alarms not counted');
        return undefined;
      }
      const counts = new Map<string, number>();
      for (const s of SEVERITIES) for (const st of ['open', 'acknowledged']) counts.set(`${s}\u0000${st}`, 0);
      for (const r of rows) {
        const key = `${bounded(SEVERITY_SET, r.severity)}\u0000${r.status}`;
        counts.set(key, (counts.get(key) ?? 0) + Number(r.n));
      }
      return [...counts].map(([key, n]) => {
        const [severity, status] = key.split('\u0000') as [string, string];
        return [{ severity, status }, n] as const;
      });
    },
  );

  const { dataDir } = services.config;
  const disk = new Cached(OPEN_ALARMS_TTL_MS, async () => {
    const s = await statfsOfNearest(dataDir);
    return { free: s.bavail * s.bsize, size: s.blocks * s.bsize };
  });
  const readDisk = async (which: 'free' | 'size') => {
    try {
      return (await disk.get())[which];
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'metrics: DATA_DIR file system not measured');
      return undefined;
    }
  };
  metrics.gaugeFrom(
    'vigil_data_dir_free_bytes',
    'Space available to Vigil on the file system of DATA_DIR.',
    [],
    () => readDisk('free'),
  );
  metrics.gaugeFrom('vigil_data_dir_size_bytes', 'Size of the file system of DATA_DIR.', [], () =>
    readDisk('size'),
  );
}

/** The file system DATA_DIR is (or will be, before it is created) on. */
async function statfsOfNearest(dir: string): Promise<StatsFs> {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      return await statfs(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(d) === d) throw err;
    }
  }
}
