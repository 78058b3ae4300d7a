import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { type Config, loadConfig } from '../../src/config/config.js';

/** PostgreSQL server the integration tests use (trust auth on loopback); override with PG_TEST_URL. */
export const PG_URL = process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory removed after the test file. */
export function tempDir(prefix = 'vigil-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A random key that passes validation. */
export function testKey(): string {
  return randomBytes(32).toString('base64url');
}

/** Config for tests: temp DATA_DIR, silent logs, fixed keys; `env` overrides anything. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: tempDir(),
    SECRET_KEY: testKey(),
    ENCRYPTION_KEY: testKey(),
    JOBS_ENABLED: 'false',
    MQTT_PORT: '0',
    // Suites make many requests quickly; the rate-limit tests turn limits on.
    ENABLE_RATE_LIMIT: 'false',
    RATE_LIMIT_OFF_IN_PRODUCTION: 'true',
    // inject() speaks plain HTTP; the HTTPS tests turn this on.
    REQUIRE_HTTPS: 'false',
    ...env,
  }).config;
}
