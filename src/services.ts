import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AlarmService } from './alarms/alarms.service.js';
import { AuditChain } from './audit/audit.chain.js';
import { LoginLimiter } from './auth/login-limiter.js';
import { AccessTokens } from './auth/tokens.js';
import type { Config } from './config/config.js';
import { type DatabaseHandle, openDatabase } from './db/database.js';
import { BacktestRunner } from './detection/backtest/backtest-runner.js';
import { DetectionPipeline } from './detection/pipeline/detection-pipeline.js';
import { RateLimits } from './http/rate-limit/rate-limits.js';
import { type IncidentChange, IncidentService } from './incidents/incidents.service.js';
import { observeServices } from './metrics/collectors.js';
import { Metrics } from './metrics/metrics.js';
import { MqttStatusBoard } from './mqtt/mqtt-status.js';
import { NotificationDispatcher } from './notifications/dispatcher.js';
import { Mailer } from './notifications/email.js';
import { RealtimeHub } from './realtime/hub.js';
import { ReadingsRelay } from './realtime/readings-relay.js';
import { createRedis } from './redis/redis.js';
import { KeyedHash, SecretBox } from './security/crypto.js';
import { FallbackBlockStore, MemoryBlockStore, RedisBlockStore } from './security/guard/block-store.js';
import { CountryRisk } from './security/guard/geoip.js';
import { IpSet } from './security/guard/ip-rules.js';
import { HttpReputationProvider, ReputationCache } from './security/guard/reputation.js';
import { ThreatGuard } from './security/guard/threat-guard.js';
import { DbSensorDirectory } from './telemetry/sensor-directory.js';
import { KyselyLogSink } from './telemetry/storage/log-sink.js';
import { SqliteWorkerLogSink } from './telemetry/storage/sqlite-log-sink.js';
import { Telemetry } from './telemetry/telemetry.js';
import { TenantQuotaLookup } from './tenants/tenant-quotas.js';
import { VERSION } from './version.js';

/** The long-lived resources one process holds; built once and handed to the app, jobs and CLI. */
export interface Services {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: DatabaseHandle;
  readonly redis: Redis | undefined;
  readonly identity: {
    readonly accessTokens: AccessTokens;
    readonly auditChain: AuditChain;
    /** AES-256-GCM for secrets at rest (TOTP secrets, later webhook secrets). */
    readonly secretBox: SecretBox;
    readonly loginLimiter: LoginLimiter;
    /** Keyed digests of MFA recovery codes. */
    readonly recoveryCodeHash: KeyedHash;
  };
  /** Cached registry lookup for ingestion; registry writes in this process invalidate it. */
  readonly sensorDirectory: DbSensorDirectory;
  /** Ingestion, reading storage and queries. */
  readonly telemetry: Telemetry;
  /** Effective per-tenant quotas (readings budget, MQTT connections), briefly cached. */
  readonly tenantQuotas: TenantQuotaLookup;
  /** The request threat guard (scores, blocks, security events). */
  readonly guard: ThreatGuard;
  /** Request limits per class and the tenants' readings budgets (Redis-backed when configured). */
  readonly rateLimits: RateLimits;
  /** The MQTT side's state, once the server has started it. */
  readonly mqtt: MqttStatusBoard;
  /** Streaming detection of committed readings (undefined when DETECTION_ENABLED=false). */
  readonly detection: DetectionPipeline | undefined;
  /** The alarm stage: detection events into deduplicated alarms and their lifecycle. */
  readonly alarms: AlarmService;
  /** Operator actions on incidents. */
  readonly incidents: IncidentService;
  /** Committed changes for live clients (fanned out through Redis when configured). */
  readonly hub: RealtimeHub;
  /** Committed readings of watched sensors, conflated, to the hub. */
  readonly relay: ReadingsRelay;
  /** Delivers the notification outbox (started by the server). */
  readonly notifications: NotificationDispatcher;
  /** Backtests asked for over the API, queued and run in this process. */
  readonly backtests: BacktestRunner;
  /** Prometheus metrics of this process (`/metrics`); other modules increment its counters. */
  readonly metrics: Metrics;
}

export function createServices(config: Config, logger: Logger): Services {
  const metrics = new Metrics({ version: VERSION, database: config.database.dialect });
  const queryOk = metrics.dbQueryDuration.labels('ok');
  const queryError = metrics.dbQueryDuration.labels('error');
  const database = openDatabase(config.database, {
    onPoolError: (err) => logger.warn({ err: err.message }, 'database connection lost'),
    onQuery: (seconds, failed) => (failed ? queryError : queryOk).observe(seconds),
  });
  const redis = config.redisUrl ? createRedis(config.redisUrl, logger) : undefined;
  const { secrets } = config;
  const identity = {
    accessTokens: new AccessTokens(secrets, config.auth),
    auditChain: new AuditChain(secrets),
    secretBox: new SecretBox(secrets.encryptionKey, secrets.encryptionKeyPrevious),
    loginLimiter: new LoginLimiter(config.auth, redis),
    recoveryCodeHash: new KeyedHash(secrets.secretKey, secrets.secretKeyPrevious, 'recovery-codes'),
  };
  const sensorDirectory = new DbSensorDirectory(database.db);
  // SQLite files get a writer thread for group commits; PostgreSQL (and :memory:) use the pool.
  const sink =
    config.database.dialect === 'sqlite' && config.database.path !== ':memory:'
      ? new SqliteWorkerLogSink(config.database)
      : new KyselyLogSink(database.db);
  const tenantQuotas = new TenantQuotaLookup(database.db, {
    ingestReadingsPerS: config.rateLimit.tenantReadingsPerS,
    mqttConnections: config.mqtt.maxConnectionsPerTenant,
  });
  const rateLimits = new RateLimits(config.rateLimit, redis);
  // Every reading offered over HTTP or MQTT counts against its tenant's budget (when limits are on).
  const budget = config.rateLimit.enabled
    ? async (tenantId: string, count: number) =>
        rateLimits.takeReadings(tenantId, count, (await tenantQuotas.get(tenantId)).ingestReadingsPerS)
    : undefined;
  const telemetry = new Telemetry(
    database.db,
    config.telemetry,
    sensorDirectory,
    logger,
    redis,
    sink,
    budget,
  );
  if (redis) telemetry.ingest.rate.share(redis);
  const detection = config.detection.enabled
    ? new DetectionPipeline({
        db: database.db,
        queries: telemetry.queries,
        seriesIds: telemetry.seriesIds,
        logger: logger.child({ component: 'detection' }),
        options: {
          checkpointMs: config.detection.checkpointMs,
          sweepMs: config.detection.sweepMs,
          maxQueue: config.detection.maxQueue,
        },
      })
    : undefined;
  const alarms = new AlarmService(database.db, logger.child({ component: 'alarms' }), Date.now, {
    renotifyMs: config.notifications.renotifyMs,
    escalateMs: config.notifications.escalateMs,
    grouping: {
      by: config.notifications.incidentGroupBy,
      windowMs: config.notifications.incidentGroupWindowMs,
    },
  });
  if (detection) {
    telemetry.ingest.onStored = (tenantId, sensorIds, ts, value) =>
      detection.enqueue(tenantId, sensorIds, ts, value);
    detection.onStored((trx, events) => alarms.applyIn(trx, events));
  }
  const hub = new RealtimeHub(logger.child({ component: 'realtime' }));
  if (config.redisUrl && redis)
    hub.bridge(redis, createRedis(config.redisUrl, logger), `${config.instanceId}:${randomUUID()}`);
  const relay = new ReadingsRelay(hub);
  const stored = telemetry.ingest.onStored;
  telemetry.ingest.onStored = (tenantId, sensorIds, ts, value) => {
    relay.offer(tenantId, sensorIds, ts, value);
    return stored?.(tenantId, sensorIds, ts, value);
  };
  alarms.onChanges((changes) => {
    for (const c of changes)
      hub.publish({
        tenantId: c.tenantId,
        channel: 'alarms',
        type: `alarm.${c.event}`,
        id: c.eventId,
        payload: { alarmId: c.alarmId, ...c.alarm },
        at: c.at,
      });
  });
  const incidents = new IncidentService(database.db);
  const publishIncidents = (changes: readonly IncidentChange[]) => {
    for (const c of changes)
      hub.publish({
        tenantId: c.tenantId,
        channel: 'incidents',
        type: `incident.${c.event}`,
        id: c.eventId,
        payload: { incidentId: c.incidentId, ...c.incident, details: c.details },
        at: c.at,
      });
  };
  incidents.onChanges(publishIncidents);
  alarms.onIncidentChanges(publishIncidents);
  const notifications = new NotificationDispatcher({
    db: database.db,
    secretBox: identity.secretBox,
    allowedPrivate: new IpSet(config.notifications.allowedPrivate),
    maxAttempts: config.notifications.maxAttempts,
    logger: logger.child({ component: 'notifications' }),
    ...(config.notifications.smtpUrl
      ? { mailer: new Mailer(config.notifications.smtpUrl, config.notifications.smtpFrom) }
      : {}),
  });
  alarms.onNotices(() => notifications.kick());
  const backtests = new BacktestRunner({
    db: database.db,
    queries: telemetry.queries,
    seriesIds: telemetry.seriesIds,
    hub,
    logger: logger.child({ component: 'backtests' }),
    instanceId: config.instanceId,
    limits: {
      concurrency: config.detection.backtestConcurrency,
      perTenant: config.detection.backtestsPerTenant,
      maxRows: config.detection.backtestMaxRows,
    },
  });
  const services: Services = {
    metrics,
    config,
    logger,
    detection,
    alarms,
    incidents,
    hub,
    relay,
    notifications,
    backtests,
    database,
    redis,
    identity,
    sensorDirectory,
    telemetry,
    tenantQuotas,
    rateLimits,
    guard: new ThreatGuard(
      config.guard,
      database.db,
      redis ? new FallbackBlockStore(new RedisBlockStore(redis)) : new MemoryBlockStore(),
      logger.child({ component: 'guard' }),
      config.guard.reputation
        ? new ReputationCache(
            new HttpReputationProvider({ ...config.guard.reputation, timeoutMs: 2000 }),
            config.guard.reputation.ttlS * 1000,
            (err) => logger.warn({ err: err.message }, 'guard: reputation lookup failed'),
          )
        : undefined,
      config.guard.geoip
        ? new CountryRisk(config.guard.geoip.file, config.guard.geoip.countryRisk)
        : undefined,
    ),
    mqtt: new MqttStatusBoard(),
  };
  observeServices(metrics, services);
  return services;
}

export async function closeServices(services: Services): Promise<void> {
  // Scores what is queued and checkpoints, while the database is still open.
  await services.detection
    ?.stop()
    .catch((err: Error) => services.logger.warn({ err: err.message }, 'detection: final checkpoint failed'));
  // Then the alarms of what was just scored.
  services.alarms.stop();
  await services.alarms.settle();
  await services.backtests.stop();
  await services.notifications.stop();
  services.relay.stop();
  services.telemetry.ingest.rate.stop();
  await services.hub.close();
  await services.telemetry.close();
  await Promise.allSettled([services.database.destroy(), services.redis?.quit()]);
  services.redis?.disconnect();
}
