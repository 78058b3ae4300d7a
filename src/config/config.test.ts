import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { SECRETS_FILE } from './secrets.js';

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-config-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const KEY_A = 'pQ3v8Xr1u0yJm5bTnW7kZ2cHd9sLg4eF6aV1oR8iY3M';
const KEY_B = '0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('loadConfig', () => {
  it('gives documented defaults and a frozen object', () => {
    const { config } = loadConfig({ DATA_DIR: dataDir(), SECRET_KEY: KEY_A, ENCRYPTION_KEY: KEY_B });
    expect(config.env).toBe('development');
    expect(config.http.port).toBe(8080);
    expect(config.database).toMatchObject({ dialect: 'sqlite', synchronous: 'FULL' });
    expect(config.database.dialect === 'sqlite' && config.database.path.endsWith('vigil.db')).toBe(true);
    expect(config.http.apiDocs).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(() => {
      (config.http as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('lists every problem of an invalid environment, not just the first', () => {
    const problems = problemsOf({
      DATA_DIR: dataDir(),
      NODE_ENV: 'staging',
      PORT: '70000',
      BODY_LIMIT: 'lots',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://db/vigil',
      REDIS_URL: 'http://localhost:6379',
      CORS_ORIGINS: '*,https://ok.example.com,not a url',
      JOBS_ENABLED: 'maybe',
      READINESS_TIMEOUT_MS: 'abc',
      SECRET_KEY: 'short',
      ENCRYPTION_KEY: KEY_B,
    });
    const names = problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'NODE_ENV',
        'PORT',
        'BODY_LIMIT',
        'LOG_LEVEL',
        'DATABASE_URL',
        'REDIS_URL',
        'CORS_ORIGINS',
        'JOBS_ENABLED',
        'READINESS_TIMEOUT_MS',
        'SECRET_KEY',
      ]),
    );
    expect(problems.filter((p) => p.startsWith('CORS_ORIGINS'))).toHaveLength(2);
    expect(problems.find((p) => p.startsWith('PORT'))).toContain('between 0 and 65535');
  });

  it('never echoes URL credentials in a problem', () => {
    const problems = problemsOf({ DATA_DIR: dataDir(), DATABASE_URL: 'mysql://admin:hunter2@db/vigil' });
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('selects PostgreSQL from a postgres:// URL with pool settings', () => {
    const { config } = loadConfig({
      DATA_DIR: dataDir(),
      DATABASE_URL: 'postgresql://vigil:pw@db.internal:5432/vigil',
      DATABASE_POOL_MAX: '25',
      SECRET_KEY: KEY_A,
      ENCRYPTION_KEY: KEY_B,
    });
    expect(config.database).toMatchObject({ dialect: 'postgres', poolMax: 25, connectTimeoutMs: 5000 });
  });

  it('accepts hop counts and CIDR lists for TRUST_PROXY', () => {
    const base = { DATA_DIR: dataDir(), SECRET_KEY: KEY_A, ENCRYPTION_KEY: KEY_B };
    expect(loadConfig({ ...base, TRUST_PROXY: '2' }).config.http.trustProxy).toBe(2);
    expect(loadConfig({ ...base, TRUST_PROXY: '10.0.0.0/8, loopback' }).config.http.trustProxy).toEqual([
      '10.0.0.0/8',
      'loopback',
    ]);
    expect(problemsOf({ ...base, TRUST_PROXY: 'evil.example.com' })[0]).toMatch(/^TRUST_PROXY/);
  });
});

describe('secrets in production', () => {
  const prod = (env: Record<string, string>) =>
    problemsOf({ NODE_ENV: 'production', DATA_DIR: dataDir(), ...env });

  it('requires SECRET_KEY and ENCRYPTION_KEY and says how to make one', () => {
    const problems = prod({});
    expect(problems).toHaveLength(2);
    for (const p of problems)
      expect(p).toMatch(
        /^(SECRET_KEY|ENCRYPTION_KEY): is required in production; generate one with `vigil secret generate`/,
      );
  });

  it('refuses short keys', () => {
    const problems = prod({ SECRET_KEY: 'Zx9!q-short-key', ENCRYPTION_KEY: KEY_B });
    expect(problems).toEqual([
      expect.stringMatching(/^SECRET_KEY: is too short: \d+ bytes of key material, need at least 32/),
    ]);
  });

  it.each([
    'changeme',
    'your-secret-key-here-please-change-it-now-ok',
    'CHANGEME-CHANGEME-CHANGEME-CHANGEME-CHANGEME',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  ])('refuses placeholder or low-variety key %s', (value) => {
    const problems = prod({ SECRET_KEY: value, ENCRYPTION_KEY: KEY_B });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^SECRET_KEY: (looks like a placeholder|has too little variety|is too short)/,
    );
  });

  it('never generates secrets in production', () => {
    const dir = dataDir();
    problemsOf({ NODE_ENV: 'production', DATA_DIR: dir });
    expect(() => statSync(path.join(dir, SECRETS_FILE))).toThrow();
  });

  it('accepts strong keys and previous keys for rotation', () => {
    const { config } = loadConfig({
      NODE_ENV: 'production',
      DATA_DIR: dataDir(),
      SECRET_KEY: KEY_A,
      SECRET_KEY_PREVIOUS: KEY_B,
      ENCRYPTION_KEY: KEY_B,
      ENCRYPTION_KEY_PREVIOUS: KEY_A,
    });
    expect(config.secrets.secretKey.bytes).toHaveLength(32);
    expect(config.secrets.secretKeyPrevious.map((k) => k.id)).toEqual([config.secrets.encryptionKey.id]);
    expect(config.http.apiDocs).toBe(false);
  });

  it('refuses a weak previous key too', () => {
    expect(
      prod({ SECRET_KEY: KEY_A, ENCRYPTION_KEY: KEY_B, ENCRYPTION_KEY_PREVIOUS: 'changeme' })[0],
    ).toMatch(/^ENCRYPTION_KEY_PREVIOUS: looks like a placeholder/);
  });
});

describe('secrets in development', () => {
  it('generates keys once, stores them 0600 and reuses them', () => {
    const dir = dataDir();
    const first = loadConfig({ DATA_DIR: dir });
    expect(first.notices.join()).toMatch(/generated SECRET_KEY and ENCRYPTION_KEY/);
    const file = path.join(dir, SECRETS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The notice names the file, never a value.
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    expect(first.notices.join()).not.toContain(stored.SECRET_KEY);

    const second = loadConfig({ DATA_DIR: dir });
    expect(second.notices).toEqual([]);
    expect(second.config.secrets.secretKey.id).toBe(first.config.secrets.secretKey.id);
    expect(second.config.secrets.encryptionKey.id).toBe(first.config.secrets.encryptionKey.id);
    expect(first.config.secrets.secretKey.id).not.toBe(first.config.secrets.encryptionKey.id);
  });

  it('tightens a secrets file that became readable by others', () => {
    const dir = dataDir();
    loadConfig({ DATA_DIR: dir });
    chmodSync(path.join(dir, SECRETS_FILE), 0o644);
    const again = loadConfig({ DATA_DIR: dir });
    expect(again.notices.join()).toMatch(/tightened permissions/);
    expect(statSync(path.join(dir, SECRETS_FILE)).mode & 0o777).toBe(0o600);
  });

  it('prefers explicit keys over the generated file', () => {
    const dir = dataDir();
    const { config } = loadConfig({ DATA_DIR: dir, SECRET_KEY: KEY_A, ENCRYPTION_KEY: KEY_B });
    expect(() => statSync(path.join(dir, SECRETS_FILE))).toThrow();
    expect(config.secrets.secretKey.bytes.equals(Buffer.from(KEY_A, 'base64url'))).toBe(true);
  });

  it('reports a damaged secrets file instead of overwriting it', () => {
    const dir = dataDir();
    writeFileSync(path.join(dir, SECRETS_FILE), '{"SECRET_KEY": 1}', { mode: 0o600 });
    expect(problemsOf({ DATA_DIR: dir })).toEqual([
      expect.stringMatching(/^SECRET_KEY: could not be generated: .*damaged/),
      expect.stringMatching(/^ENCRYPTION_KEY: could not be generated: .*damaged/),
    ]);
  });
});
