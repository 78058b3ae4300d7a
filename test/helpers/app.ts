import { once } from 'node:events';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config/config.js';
import type { Dialect } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { closeServices, createServices, type Services } from '../../src/services.js';
import { createTestDatabase } from './databases.js';
import { REDIS_URL, testConfig, testKey } from './env.js';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly config: Config;
  close(): Promise<void>;
}

/** The real app over real services (migrated), driven with inject(). */
export async function createTestApp(
  env: Record<string, string | undefined> = {},
  opts: { migrate?: boolean; logger?: Logger; beforeReady?: (app: FastifyInstance) => void } = {},
): Promise<TestApp> {
  const config = testConfig(env);
  const services = createServices(config, opts.logger ?? pino({ level: 'silent' }));
  if (opts.migrate !== false) await migrateToLatest(services.database.db);
  // Start tests with Redis connected (when it is reachable) so shared counters do not begin in the
  // in-process fallback and switch over mid-test.
  const redis = services.redis;
  if (redis && redis.status !== 'ready') {
    await once(redis, 'ready', { signal: AbortSignal.timeout(1500) }).catch(() => undefined);
  }
  const app = await buildApp(services);
  opts.beforeReady?.(app);
  await app.ready();
  return {
    app,
    services,
    config,
    close: async () => {
      await app.close();
      await closeServices(services);
    },
  };
}

/** The same, over a fresh isolated database of the given dialect (dropped on close). */
export async function createTestAppOn(
  dialect: Dialect,
  env: Record<string, string | undefined> = {},
  opts: Parameters<typeof createTestApp>[1] = {},
): Promise<TestApp> {
  const db = await createTestDatabase(dialect);
  const t = await createTestApp({ DATABASE_URL: db.url, ...env }, opts);
  return {
    ...t,
    close: async () => {
      await t.close();
      await db.drop();
    },
  };
}

/**
 * Two instances as replicas run them: one fresh PostgreSQL database, the test Redis and the same
 * keys. Closing closes both and drops the database.
 */
export async function createReplicaPair(
  env: Record<string, string> = {},
): Promise<{ one: TestApp; two: TestApp; close(): Promise<void> }> {
  const db = await createTestDatabase('postgres');
  const shared = {
    DATABASE_URL: db.url,
    REDIS_URL,
    SECRET_KEY: testKey(),
    ENCRYPTION_KEY: testKey(),
    ...env,
  };
  const one = await createTestApp(shared);
  const two = await createTestApp(shared);
  return {
    one,
    two,
    close: async () => {
      await one.close();
      await two.close();
      await db.drop();
    },
  };
}
