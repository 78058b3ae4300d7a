import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AuditChain } from './audit/audit.chain.js';
import { LoginLimiter } from './auth/login-limiter.js';
import { AccessTokens } from './auth/tokens.js';
import type { Config } from './config/config.js';
import { type DatabaseHandle, openDatabase } from './db/database.js';
import { createRedis } from './redis/redis.js';
import { KeyedHash, SecretBox } from './security/crypto.js';
import { DbSensorDirectory } from './telemetry/sensor-directory.js';

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
}

export function createServices(config: Config, logger: Logger): Services {
  const database = openDatabase(config.database, {
    onPoolError: (err) => logger.warn({ err: err.message }, 'database connection lost'),
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
  return { config, logger, database, redis, identity, sensorDirectory: new DbSensorDirectory(database.db) };
}

export async function closeServices(services: Services): Promise<void> {
  await Promise.allSettled([services.database.destroy(), services.redis?.quit()]);
  services.redis?.disconnect();
}
