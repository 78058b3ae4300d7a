import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseKeyMaterial } from '../src/config/secrets.js';
import { migrations } from '../src/db/migrations/index.js';
import { createMigrationFile, pendingMigrations } from '../src/db/migrator.js';
import { ensureSchema, StartupError } from '../src/server.js';
import { closeServices, createServices } from '../src/services.js';
import { tempDir, testConfig, testKey } from './helpers/env.js';

const MIGRATIONS = Object.keys(migrations);
const N = MIGRATIONS.length;

function vigil(args: string[], env: Record<string, string> = {}, input = '') {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    encoding: 'utf8',
    input,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function devEnv(): Record<string, string> & { SECRET_KEY: string } {
  return { NODE_ENV: 'development', DATA_DIR: tempDir(), SECRET_KEY: testKey(), ENCRYPTION_KEY: testKey() };
}

describe('vigil CLI', () => {
  it('secret generate prints a fresh acceptable key', () => {
    const a = vigil(['secret', 'generate']);
    const b = vigil(['secret', 'generate']);
    expect(a.code).toBe(0);
    const key = a.stdout.trim();
    expect('bytes' in parseKeyMaterial(key)).toBe(true);
    expect(key).not.toBe(b.stdout.trim());
  });

  it('config check lists every problem and exits non-zero', () => {
    const r = vigil(['config', 'check'], {
      NODE_ENV: 'production',
      PORT: '70000',
      LOG_LEVEL: 'loud',
      DATA_DIR: tempDir(),
    });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('Invalid configuration (4 problems)');
    for (const name of ['PORT', 'LOG_LEVEL', 'SECRET_KEY', 'ENCRYPTION_KEY'])
      expect(r.stderr).toContain(`  - ${name}: `);
  });

  it('config check prints the effective config without secret values', () => {
    const env = { ...devEnv(), DATABASE_URL: 'postgres://vigil:hunter2@127.0.0.1:5432/test' };
    const r = vigil(['config', 'check'], env);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.database.url).toBe('postgres://vigil:***@127.0.0.1:5432/test');
    expect(r.stdout).not.toContain('hunter2');
    expect(r.stdout).not.toContain(env.SECRET_KEY!);
    expect(printed.secrets.secretKey).toMatch(/^[A-Za-z0-9_-]{8}$/);
  });

  it('migrate status | up | down on the embedded database', () => {
    const env = devEnv();
    const status = vigil(['migrate', 'status'], env).stdout;
    for (const name of MIGRATIONS) expect(status).toMatch(new RegExp(`pending\\s+${name}`));
    expect(status).toContain(`${N} migration(s), ${N} pending`);
    expect(vigil(['migrate', 'up'], env).stdout).toContain(`Applied: ${MIGRATIONS.join(', ')}`);
    expect(vigil(['migrate', 'up'], env).stdout).toContain('Already up to date.');
    const after = vigil(['migrate', 'status'], env).stdout;
    for (const name of MIGRATIONS) expect(after).toMatch(new RegExp(`applied \\S+\\s+${name}`));
    expect(after).toContain(`${N} migration(s), 0 pending`);
    expect(vigil(['migrate', 'down'], env).stdout).toContain(`Reverted: ${MIGRATIONS[N - 1]}`);
    const bad = vigil(['migrate', 'down', '--steps', 'x'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--steps must be a positive integer');
  });

  it('jobs list | run | runs', () => {
    const env = devEnv();
    expect(vigil(['jobs', 'run', 'job-runs.prune'], env)).toMatchObject({
      code: 1,
      stderr: `the database schema is not up to date (${N} pending); run \`vigil migrate up\` first\n`,
    });
    vigil(['migrate', 'up'], env);
    expect(vigil(['jobs', 'list'], env).stdout).toMatch(/^job-runs\.prune\t0 17 3 \* \* \*\tnext \d{4}-/);
    const run = vigil(['jobs', 'run', 'job-runs.prune'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'succeeded', attempts: 1 });
    const runs = vigil(['jobs', 'runs', '--json'], env);
    expect(JSON.parse(runs.stdout.trim().split('\n')[0]!)).toMatchObject({
      job: 'job-runs.prune',
      status: 'succeeded',
    });
    expect(vigil(['jobs', 'run', 'nope'], env)).toMatchObject({ code: 1, stderr: 'unknown job nope\n' });
    expect(vigil(['jobs', 'runs', '--status', 'weird'], env).code).toBe(1);
  });

  it('serve refuses to start in production with pending migrations', () => {
    const r = vigil(['serve'], {
      NODE_ENV: 'production',
      DATA_DIR: tempDir(),
      SECRET_KEY: testKey(),
      ENCRYPTION_KEY: testKey(),
      PORT: '0',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${N} pending migration(s): ${MIGRATIONS.join(', ')}. Run \`vigil migrate up\` first, or start with \`vigil serve --migrate\``,
    );
  });

  it('admin create-user reads the password from stdin, enforces the policy, and audit verify checks the chain', () => {
    const env = devEnv();
    vigil(['migrate', 'up'], env);
    const args = [
      'admin',
      'create-user',
      '--email',
      'ops@water.example.com',
      '--tenant',
      'water',
      '--password-stdin',
    ];
    const weak = vigil(args, env, 'password123\n');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('The password must be at least 12 characters');
    const ok = vigil([...args, '--platform-admin'], env, 'Reservoir-Level-42\n');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^Created user ops@water\.example\.com \([0-9a-f-]{36}\) as owner of water/);
    const again = vigil(args, env, 'Reservoir-Level-42\n');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      'ops@water.example.com already has an account; to add that account to water, run again with --existing',
    );
    const otherTenant = vigil(
      [
        'admin',
        'create-user',
        '--email',
        'ops@water.example.com',
        '--tenant',
        'south',
        '--role',
        'viewer',
        '--existing',
      ],
      env,
    );
    expect(otherTenant.stdout).toContain('Added existing user ops@water.example.com');
    const nobody = vigil(
      ['admin', 'create-user', '--email', 'nobody@water.example.com', '--tenant', 'water', '--existing'],
      env,
    );
    expect(nobody).toMatchObject({ code: 1, stderr: expect.stringContaining('has no account yet') });
    expect(
      vigil(
        ['admin', 'create-user', '--email', 'x@y.example.com', '--tenant', 'Bad Slug', '--password-stdin'],
        env,
        'x',
      ).code,
    ).toBe(1);

    const verified = vigil(['audit', 'verify'], env).stdout;
    expect(verified).toMatch(/^Audit log intact: 5 row\(s\) verified\.\nHead: 5:[0-9a-f]{64}\n$/);
    const head = verified.split('Head: ')[1]!.trim();
    expect(vigil(['audit', 'verify', '--checkpoint', head], env).code).toBe(0);
    const cut = vigil(['audit', 'verify', '--checkpoint', `6:${head.split(':')[1]}`], env);
    expect(cut).toMatchObject({ code: 1, stderr: expect.stringContaining('checkpoint row 6 is gone') });
    expect(vigil(['audit', 'verify', '--checkpoint', 'nonsense'], env).code).toBe(1);
  });

  it('unknown commands fail with usage', () => {
    const r = vigil(['frobnicate']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
});

describe('ensureSchema', () => {
  it('migrates in production only when asked to', async () => {
    const services = createServices(testConfig({ NODE_ENV: 'production' }), pino({ level: 'silent' }));
    try {
      await expect(ensureSchema(services, { migrate: false })).rejects.toBeInstanceOf(StartupError);
      expect(await pendingMigrations(services.database.db)).toHaveLength(N);
      expect(await ensureSchema(services, { migrate: true })).toEqual(MIGRATIONS);
      expect(await ensureSchema(services, { migrate: false })).toEqual([]);
    } finally {
      await closeServices(services);
    }
  });

  it('migrates automatically in development', async () => {
    const services = createServices(testConfig({ NODE_ENV: 'development' }), pino({ level: 'silent' }));
    try {
      expect(await ensureSchema(services, { migrate: false })).toEqual(MIGRATIONS);
    } finally {
      await closeServices(services);
    }
  });
});

describe('createMigrationFile', () => {
  it('writes a template and registers it in the index', () => {
    const dir = path.join(tempDir(), 'migrations');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'index.ts'), readFileSync('src/db/migrations/index.ts', 'utf8'));
    const file = createMigrationFile(dir, 'Add Sensors!', new Date('2026-12-01T10:20:30Z'));
    expect(path.basename(file)).toBe('20261201102030_add_sensors.ts');
    expect(readFileSync(file, 'utf8')).toContain("createTable('add_sensors')");
    const index = readFileSync(path.join(dir, 'index.ts'), 'utf8');
    expect(index).toContain("import * as m20261201102030 from './20261201102030_add_sensors.js';");
    expect(index).toContain("  '20261201102030_add_sensors': m20261201102030,\n  // vigil:migrations-end");
    expect(() => createMigrationFile(dir, '!!!')).toThrow(/letters or digits/);
  });
});
