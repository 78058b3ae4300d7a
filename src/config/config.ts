import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Cron } from 'croner';
import { IpSet } from '../security/guard/ip-rules.js';
import type { EnvVarName } from './env.spec.js';
import { type Env, EnvReader } from './env-reader.js';
import { type GuardConfig, readGuard } from './guard.config.js';
import { type MetricsConfig, readMetrics } from './metrics.config.js';
import { type RateLimitConfig, readRateLimits } from './rate-limits.config.js';
import { readSecrets, type SecretsConfig } from './secrets.js';
import { readSelfMonitor, type SelfMonitorConfig } from './self-monitor.config.js';

export type NodeEnv = 'development' | 'test' | 'production';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type DatabaseConfig =
  | {
      readonly dialect: 'sqlite';
      /** File path, or `:memory:`. */
      readonly path: string;
      readonly synchronous: 'FULL' | 'NORMAL';
      readonly busyTimeoutMs: number;
    }
  | {
      readonly dialect: 'postgres';
      readonly url: string;
      readonly poolMax: number;
      readonly idleTimeoutMs: number;
      readonly connectTimeoutMs: number;
      readonly statementTimeoutMs: number;
    };

/** The whole validated configuration. Built once at start; frozen so nothing changes it at run time. */
export interface Config {
  readonly env: NodeEnv;
  readonly isProduction: boolean;
  readonly instanceId: string;
  readonly dataDir: string;
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly trustProxy: boolean | number | string[];
    readonly bodyLimit: number;
    readonly requestTimeoutMs: number;
    readonly requireHttps: boolean;
    /** Serve HTTPS with these files. */
    readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
    readonly maxUrlBytes: number;
    readonly maxHeaderBytes: number;
    readonly jsonMaxDepth: number;
    readonly headersTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    readonly shed: {
      readonly maxInFlight: number;
      readonly maxEventLoopDelayMs: number;
      readonly maxHeapPercent: number;
    };
    readonly shutdownTimeoutMs: number;
    readonly corsOrigins: readonly string[];
    readonly apiDocs: boolean;
  };
  readonly database: DatabaseConfig;
  readonly redisUrl: string | undefined;
  readonly mqttUrl: string | undefined;
  readonly mqtt: {
    readonly enabled: boolean;
    readonly host: string;
    readonly port: number;
    readonly shareGroup: string;
    readonly clientId: string | undefined;
    readonly sessionExpiryS: number;
    readonly subscribers: number;
    readonly maxConnectionsPerTenant: number;
    /** How Vigil logs in to the external broker (`MQTT_URL`). */
    readonly broker: {
      readonly username: string | undefined;
      readonly password: string | undefined;
      readonly caFile: string | undefined;
      readonly certFile: string | undefined;
      readonly keyFile: string | undefined;
    };
    readonly tls:
      | {
          readonly port: number;
          readonly certFile: string;
          readonly keyFile: string;
          readonly caFile: string | undefined;
        }
      | undefined;
    readonly wsPort: number | undefined;
  };
  readonly readinessTimeoutMs: number;
  readonly log: {
    readonly level: LogLevel;
    readonly file: string | undefined;
    readonly fileSize: string;
    readonly fileFrequency: string;
    readonly fileKeep: number;
  };
  readonly secrets: SecretsConfig;
  readonly jobs: {
    readonly enabled: boolean;
    readonly runRetentionDays: number;
  };
  readonly auth: {
    readonly accessTokenTtlS: number;
    readonly refreshIdleTtlS: number;
    readonly refreshAbsoluteTtlS: number;
    readonly refreshReuseGraceMs: number;
    readonly issuer: string;
    readonly audience: string;
    readonly publicUrl: string | undefined;
    readonly loginMaxConsecutiveFailures: number;
    readonly loginMaxFailuresPerIpPerDay: number;
  };
  readonly rateLimit: RateLimitConfig;
  readonly guard: GuardConfig;
  /** Vigil watching itself: platform alarms (docs/monitoring.md). */
  readonly selfMonitor: SelfMonitorConfig;
  /** Where `/metrics` is served (main port with a token, a private listener, open in development). */
  readonly metrics: MetricsConfig;
  readonly telemetry: {
    readonly maxReadings: number;
    readonly maxBytes: number;
    readonly maxBackfillMs: number;
    readonly maxFutureMs: number;
    readonly groupCommitMax: number;
    readonly chunkReadings: number;
    readonly compactIntervalMs: number;
    readonly compactMinReadings: number;
    readonly compactMaxAgeMs: number;
    readonly retentionDays: number;
    readonly cacheTtlS: number;
  };
  /** The live stream (WebSocket `/api/v1/stream`). */
  readonly stream: {
    readonly heartbeatMs: number;
    readonly authTimeoutMs: number;
    readonly idleTimeoutMs: number;
    /** Undelivered alarm/incident messages a connection may hold before it is closed (slow consumer). */
    readonly queueMax: number;
    /** The highest conflated readings rate a subscription may ask for. */
    readonly maxRatePerS: number;
    /** Messages a client may send a second (bursts of twice that), else it is closed 4429. */
    readonly clientMessagesPerS: number;
  };
  readonly notifications: {
    readonly renotifyMs: number;
    readonly escalateMs: number;
    readonly incidentGroupBy: 'site' | 'asset' | 'off';
    readonly incidentGroupWindowMs: number;
    readonly smtpUrl: string | undefined;
    readonly smtpFrom: string;
    /** Private targets webhooks may reach anyway (CIDRs). */
    readonly allowedPrivate: readonly string[];
    readonly maxAttempts: number;
  };
  readonly detection: {
    readonly enabled: boolean;
    readonly checkpointMs: number;
    readonly sweepMs: number;
    readonly maxQueue: number;
    readonly autoRetraining: boolean;
    readonly retrainingSchedule: string;
    /** Backtests run at once in this process (more wait in the queue). */
    readonly backtestConcurrency: number;
    /** Backtests a tenant may have queued or running at once. */
    readonly backtestsPerTenant: number;
    /** Most readings one backtest scores (the newest are kept). */
    readonly backtestMaxRows: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  readonly config: Config;
  /** Things worth one log line at start (e.g. secrets were generated); never contain secret values. */
  readonly notices: readonly string[];
}

const MAX_MS = 24 * 3600 * 1000;

/**
 * Validates the environment into a Config, or throws ConfigError listing every problem. May
 * create DATA_DIR/secrets.json in development (the only side effect).
 */
export function loadConfig(env: Env = process.env): LoadedConfig {
  const r = new EnvReader(env);
  const notices: string[] = [];

  const nodeEnv = r.oneOf('NODE_ENV', ['development', 'test', 'production'] as const, 'development');
  const isProduction = nodeEnv === 'production';
  const dataDir = path.resolve(r.string('DATA_DIR') ?? './data');

  const http = {
    host: r.string('HOST') ?? '0.0.0.0',
    port: r.int('PORT', { min: 0, max: 65535 }, 8080),
    trustProxy: readTrustProxy(r),
    bodyLimit: r.int('BODY_LIMIT', { min: 1024, max: 1024 ** 3 }, 1048576),
    requestTimeoutMs: r.int('REQUEST_TIMEOUT_MS', { min: 1000, max: MAX_MS }, 30000),
    requireHttps: r.bool('REQUIRE_HTTPS', isProduction),
    tls: readHttpTls(r),
    maxUrlBytes: r.int('MAX_URL_BYTES', { min: 256, max: 1024 * 1024 }, 8192),
    maxHeaderBytes: r.int('MAX_HEADER_BYTES', { min: 1024, max: 1024 * 1024 }, 16384),
    jsonMaxDepth: r.int('JSON_MAX_DEPTH', { min: 2, max: 1000 }, 32),
    headersTimeoutMs: r.int('HEADERS_TIMEOUT_MS', { min: 1000, max: MAX_MS }, 10000),
    keepAliveTimeoutMs: r.int('KEEP_ALIVE_TIMEOUT_MS', { min: 0, max: MAX_MS }, 72000),
    shed: {
      maxInFlight: r.int('SHED_MAX_IN_FLIGHT', { min: 0, max: 10_000_000 }, 10000),
      maxEventLoopDelayMs: r.int('SHED_MAX_EVENT_LOOP_DELAY_MS', { min: 0, max: MAX_MS }, 1000),
      maxHeapPercent: r.int('SHED_MAX_HEAP_PERCENT', { min: 0, max: 100 }, 90),
    },
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', { min: 0, max: 10 * 60 * 1000 }, 10000),
    corsOrigins: readCorsOrigins(r),
    apiDocs: r.bool('API_DOCS', !isProduction),
  };

  const database = readDatabase(r, dataDir);
  const redis = r.url('REDIS_URL', ['redis', 'rediss']);
  const mqtt = r.url('MQTT_URL', ['mqtt', 'mqtts', 'ws', 'wss']);

  const log = {
    level: r.oneOf(
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
    file: r.string('LOG_FILE'),
    fileSize: readSize(r),
    fileFrequency: readFrequency(r),
    fileKeep: r.int('LOG_FILE_KEEP', { min: 1, max: 1000 }, 14),
  };

  const secrets = readSecrets(r, { production: isProduction, dataDir, notices });

  const jobs = {
    enabled: r.bool('JOBS_ENABLED', true),
    runRetentionDays: r.int('JOB_RUNS_RETENTION_DAYS', { min: 1, max: 3650 }, 30),
  };

  const auth = {
    accessTokenTtlS: r.int('ACCESS_TOKEN_TTL_S', { min: 60, max: 24 * 3600 }, 900),
    refreshIdleTtlS: r.int('REFRESH_IDLE_TTL_S', { min: 300, max: 365 * 24 * 3600 }, 604800),
    refreshAbsoluteTtlS: r.int('REFRESH_ABSOLUTE_TTL_S', { min: 300, max: 365 * 24 * 3600 }, 2592000),
    refreshReuseGraceMs: r.int('REFRESH_REUSE_GRACE_MS', { min: 0, max: 60000 }, 10000),
    issuer: r.string('JWT_ISSUER') ?? 'vigil',
    audience: r.string('JWT_AUDIENCE') ?? 'vigil-api',
    publicUrl: r.url('PUBLIC_URL', ['http', 'https'])?.href.replace(/\/$/, ''),
    loginMaxConsecutiveFailures: r.int('LOGIN_MAX_CONSECUTIVE_FAILURES', { min: 1, max: 1000 }, 10),
    loginMaxFailuresPerIpPerDay: r.int('LOGIN_MAX_FAILURES_PER_IP_PER_DAY', { min: 1, max: 100000 }, 100),
  };
  if (auth.refreshAbsoluteTtlS < auth.refreshIdleTtlS) {
    r.problem('REFRESH_ABSOLUTE_TTL_S', 'must not be shorter than REFRESH_IDLE_TTL_S');
  }
  const rateLimit = readRateLimits(r, isProduction);
  const guard = readGuard(r);
  const metrics = readMetrics(r, { production: isProduction, httpPort: http.port, notices });
  const telemetry = {
    maxReadings: r.int('INGEST_MAX_READINGS', { min: 1, max: 1_000_000 }, 10000),
    maxBytes: r.int('INGEST_MAX_BYTES', { min: 1024, max: 1024 ** 3 }, 5242880),
    maxBackfillMs: r.int('INGEST_MAX_BACKFILL_S', { min: 60, max: 100 * 365 * 86400 }, 2592000) * 1000,
    maxFutureMs: r.int('INGEST_MAX_FUTURE_S', { min: 0, max: 86400 }, 300) * 1000,
    groupCommitMax: r.int('INGEST_GROUP_COMMIT_MAX', { min: 1, max: 10000 }, 256),
    chunkReadings: r.int('STORAGE_CHUNK_READINGS', { min: 16, max: 1_000_000 }, 2048),
    compactIntervalMs: r.int('STORAGE_COMPACT_INTERVAL_MS', { min: 10, max: MAX_MS }, 2000),
    compactMinReadings: r.int('STORAGE_COMPACT_MIN_READINGS', { min: 1, max: 100_000_000 }, 1000000),
    compactMaxAgeMs: r.int('STORAGE_COMPACT_MAX_AGE_MS', { min: 0, max: MAX_MS }, 300000),
    retentionDays: r.int('RETENTION_DAYS', { min: 1, max: 100 * 365 }, 365),
    cacheTtlS: r.int('QUERY_CACHE_TTL_S', { min: 1, max: 86400 }, 60),
  };
  const mqttGateway = {
    enabled: r.bool('MQTT_ENABLED', true),
    host: r.string('MQTT_HOST') ?? http.host,
    port: r.int('MQTT_PORT', { min: 0, max: 65535 }, 1884),
    shareGroup: r.string('MQTT_SHARE_GROUP') ?? 'vigil',
    clientId: r.string('MQTT_CLIENT_ID'),
    sessionExpiryS: r.int('MQTT_SESSION_EXPIRY_S', { min: 0, max: 4294967295 }, 604800),
    subscribers: r.int('MQTT_SUBSCRIBERS', { min: 1, max: 256 }, 64),
    maxConnectionsPerTenant: r.int('MQTT_MAX_CONNECTIONS_PER_TENANT', { min: 1, max: 10_000_000 }, 10000),
    broker: readMqttBroker(r),
    tls: readMqttTls(r),
    wsPort:
      r.string('MQTT_WS_PORT') === undefined ? undefined : r.int('MQTT_WS_PORT', { min: 0, max: 65535 }, 0),
  };
  const instanceId = r.string('INSTANCE_ID') ?? `${hostname()}-${process.pid}`;
  const readinessTimeoutMs = r.int('READINESS_TIMEOUT_MS', { min: 100, max: 60000 }, 2000);
  const selfMonitor = readSelfMonitor(r);

  const stream = {
    heartbeatMs: r.int('STREAM_HEARTBEAT_S', { min: 1, max: 3600 }, 30) * 1000,
    authTimeoutMs: r.int('STREAM_AUTH_TIMEOUT_S', { min: 1, max: 600 }, 10) * 1000,
    idleTimeoutMs: r.int('STREAM_IDLE_TIMEOUT_S', { min: 1, max: 86_400 }, 300) * 1000,
    queueMax: r.int('STREAM_QUEUE_MAX', { min: 10, max: 1_000_000 }, 1000),
    maxRatePerS: r.int('STREAM_MAX_RATE_PER_S', { min: 1, max: 100 }, 10),
    clientMessagesPerS: r.int('STREAM_MAX_CLIENT_MESSAGES_PER_S', { min: 1, max: 10_000 }, 20),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);

  const config: Config = {
    env: nodeEnv,
    isProduction,
    instanceId,
    dataDir,
    http,
    database,
    redisUrl: redis?.href,
    mqttUrl: mqtt?.href,
    mqtt: mqttGateway,
    readinessTimeoutMs,
    log,
    secrets,
    jobs,
    auth,
    rateLimit,
    guard,
    selfMonitor,
    metrics,
    telemetry,
    detection: readDetection(r),
    notifications: readNotifications(r),
    stream,
  };
  return { config: deepFreeze(config), notices };
}

/** TLS_CERT and TLS_KEY go together, and both files must exist. */
function readHttpTls(r: EnvReader): Config['http']['tls'] {
  const certFile = r.string('TLS_CERT');
  const keyFile = r.string('TLS_KEY');
  if (!certFile && !keyFile) return undefined;
  for (const [name, file] of [
    ['TLS_CERT', certFile],
    ['TLS_KEY', keyFile],
  ] as const) {
    if (!file) r.problem(name, 'TLS_CERT and TLS_KEY go together');
    else if (!existsSync(file)) r.problem(name, `file not found: ${file}`);
  }
  return certFile && keyFile
    ? { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) }
    : undefined;
}

/** Credentials and TLS files for the external broker; the files must exist, cert and key go together. */
function readMqttBroker(r: EnvReader): Config['mqtt']['broker'] {
  const file = (name: EnvVarName): string | undefined => {
    const f = r.string(name);
    if (f === undefined) return undefined;
    if (!existsSync(f)) r.problem(name, `file not found: ${f}`);
    return path.resolve(f);
  };
  const certFile = file('MQTT_BROKER_CERT');
  const keyFile = file('MQTT_BROKER_KEY');
  if (Boolean(certFile) !== Boolean(keyFile))
    r.problem(
      certFile ? 'MQTT_BROKER_KEY' : 'MQTT_BROKER_CERT',
      'MQTT_BROKER_CERT and MQTT_BROKER_KEY go together',
    );
  const password = r.string('MQTT_PASSWORD');
  const username = r.string('MQTT_USERNAME');
  if (password !== undefined && username === undefined)
    r.problem('MQTT_USERNAME', 'is required when MQTT_PASSWORD is set');
  return { username, password, caFile: file('MQTT_BROKER_CA'), certFile, keyFile };
}

/** The TLS listener needs a port, a certificate and a key that exist: all three or none. */
function readMqttTls(r: EnvReader): Config['mqtt']['tls'] {
  const portRaw = r.string('MQTT_TLS_PORT');
  const certFile = r.string('MQTT_TLS_CERT');
  const keyFile = r.string('MQTT_TLS_KEY');
  const caFile = r.string('MQTT_TLS_CA');
  if (portRaw === undefined) {
    if (certFile || keyFile)
      r.problem('MQTT_TLS_PORT', 'is required when MQTT_TLS_CERT or MQTT_TLS_KEY is set');
    return undefined;
  }
  const port = r.int('MQTT_TLS_PORT', { min: 0, max: 65535 }, 8883);
  if (caFile && !existsSync(caFile)) r.problem('MQTT_TLS_CA', `file not found: ${caFile}`);
  for (const [name, file] of [
    ['MQTT_TLS_CERT', certFile],
    ['MQTT_TLS_KEY', keyFile],
  ] as const) {
    if (!file) r.problem(name, 'is required when MQTT_TLS_PORT is set');
    else if (!existsSync(file)) r.problem(name, `file not found: ${file}`);
  }
  return certFile && keyFile
    ? {
        port,
        certFile: path.resolve(certFile),
        keyFile: path.resolve(keyFile),
        caFile: caFile ? path.resolve(caFile) : undefined,
      }
    : undefined;
}

function readDatabase(r: EnvReader, dataDir: string): DatabaseConfig {
  const raw = r.string('DATABASE_URL') ?? `sqlite:${path.join(dataDir, 'vigil.db')}`;
  const sqliteCommon = {
    synchronous: r.oneOf('SQLITE_SYNCHRONOUS', ['FULL', 'NORMAL'] as const, 'FULL'),
    busyTimeoutMs: r.int('SQLITE_BUSY_TIMEOUT_MS', { min: 0, max: MAX_MS }, 5000),
  };
  const pgCommon = {
    poolMax: r.int('DATABASE_POOL_MAX', { min: 1, max: 1000 }, 10),
    idleTimeoutMs: r.int('DATABASE_POOL_IDLE_MS', { min: 0, max: MAX_MS }, 30000),
    connectTimeoutMs: r.int('DATABASE_CONNECT_TIMEOUT_MS', { min: 100, max: 600000 }, 5000),
    statementTimeoutMs: r.int('DATABASE_STATEMENT_TIMEOUT_MS', { min: 0, max: MAX_MS }, 30000),
  };
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length).replace(/^\/\//, '');
    if (file === '') {
      r.problem(
        'DATABASE_URL',
        'sqlite: URL needs a file path, e.g. sqlite:./data/vigil.db or sqlite::memory:',
      );
    }
    return {
      dialect: 'sqlite',
      path: file === ':memory:' ? file : path.resolve(file || dataDir),
      ...sqliteCommon,
    };
  }
  const url = r.url('DATABASE_URL', ['postgres', 'postgresql']);
  return { dialect: 'postgres', url: url?.href ?? '', ...pgCommon };
}

function readTrustProxy(r: EnvReader): boolean | number | string[] {
  const value = r.string('TRUST_PROXY') ?? 'false';
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  if (/^\d+$/.test(value)) return Number(value);
  const list = r.list('TRUST_PROXY');
  const bad = list.filter(
    (a) => !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(a) && !['loopback', 'linklocal', 'uniquelocal'].includes(a),
  );
  if (bad.length > 0) r.problem('TRUST_PROXY', `not an address or CIDR: ${bad.join(', ')}`);
  return list;
}

function readCorsOrigins(r: EnvReader): string[] {
  const origins = r.list('CORS_ORIGINS');
  for (const origin of origins) {
    if (origin === '*') {
      r.problem('CORS_ORIGINS', '"*" is not allowed; list the exact origins (scheme://host[:port])');
      continue;
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, '')) {
      r.problem('CORS_ORIGINS', `"${origin}" is not an origin (scheme://host[:port], no path)`);
    }
  }
  return origins.map((o) => o.replace(/\/$/, ''));
}

function readSize(r: EnvReader): string {
  const value = r.string('LOG_FILE_SIZE') ?? '10m';
  if (!/^\d+[kmg]?$/i.test(value))
    r.problem('LOG_FILE_SIZE', `must be a size like 500k, 10m or 1g, got "${value}"`);
  return value.toLowerCase();
}

function readFrequency(r: EnvReader): string {
  const value = r.string('LOG_FILE_FREQUENCY') ?? 'daily';
  if (!/^(daily|hourly|\d+)$/i.test(value)) {
    r.problem('LOG_FILE_FREQUENCY', `must be daily, hourly or milliseconds, got "${value}"`);
  }
  return value.toLowerCase();
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value) && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function readDetection(r: EnvReader): Config['detection'] {
  const schedule = r.string('RETRAINING_SCHEDULE') ?? '0 0 2 * * *';
  try {
    new Cron(schedule, { paused: true, timezone: 'UTC' });
  } catch (err) {
    r.problem('RETRAINING_SCHEDULE', `not a valid cron expression: ${(err as Error).message}`);
  }
  return {
    enabled: r.bool('DETECTION_ENABLED', true),
    checkpointMs: r.int('DETECTION_CHECKPOINT_S', { min: 1, max: 86_400 }, 30) * 1000,
    sweepMs: r.int('DETECTION_SWEEP_S', { min: 1, max: 86_400 }, 10) * 1000,
    maxQueue: r.int('DETECTION_MAX_QUEUE', { min: 1000, max: 100_000_000 }, 1_000_000),
    autoRetraining: r.bool('ENABLE_AUTO_RETRAINING', true),
    retrainingSchedule: schedule,
    backtestConcurrency: r.int('BACKTEST_CONCURRENCY', { min: 1, max: 64 }, 1),
    backtestsPerTenant: r.int('BACKTEST_MAX_PER_TENANT', { min: 1, max: 1000 }, 3),
    backtestMaxRows: r.int('BACKTEST_MAX_ROWS', { min: 1000, max: 2_000_000 }, 1_000_000),
  };
}

function readNotifications(r: EnvReader): Config['notifications'] {
  const allowed = (r.string('WEBHOOK_ALLOWED_PRIVATE') ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const entry of allowed) {
    if (!IpSet.valid(entry))
      r.problem('WEBHOOK_ALLOWED_PRIVATE', `"${entry}" is not an address or CIDR range`);
  }
  return {
    smtpUrl: r.url('SMTP_URL', ['smtp', 'smtps'])?.href,
    smtpFrom: r.string('SMTP_FROM') ?? 'Vigil <vigil@localhost>',
    renotifyMs: r.int('ALARM_RENOTIFY_MINUTES', { min: 0, max: 10_080 }, 30) * 60_000,
    escalateMs: r.int('ALARM_ESCALATE_MINUTES', { min: 0, max: 10_080 }, 60) * 60_000,
    incidentGroupBy: r.oneOf('INCIDENT_GROUP_BY', ['site', 'asset', 'off'] as const, 'site'),
    incidentGroupWindowMs: r.int('INCIDENT_GROUP_WINDOW_MINUTES', { min: 1, max: 10_080 }, 30) * 60_000,
    allowedPrivate: allowed,
    maxAttempts: r.int('NOTIFY_MAX_ATTEMPTS', { min: 1, max: 100 }, 12),
  };
}
