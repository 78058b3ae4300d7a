import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { type DatabaseHandle, openDatabase } from './db/database.js';
import { createRedis } from './redis/redis.js';

/** The long-lived resources one process holds; built once and handed to the app, jobs and CLI. */
export interface Services {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: DatabaseHandle;
  readonly redis: Redis | undefined;
}

export function createServices(config: Config, logger: Logger): Services {
  const database = openDatabase(config.database, {
    onPoolError: (err) => logger.warn({ err: err.message }, 'database connection lost'),
  });
  const redis = config.redisUrl ? createRedis(config.redisUrl, logger) : undefined;
  return { config, logger, database, redis };
}

export async function closeServices(services: Services): Promise<void> {
  await Promise.allSettled([services.database.destroy(), services.redis?.quit()]);
  services.redis?.disconnect();
}
