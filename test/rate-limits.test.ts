import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRate } from '../src/config/rate-limits.config.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { REDIS_URL, tempDir, testConfig, testKey } from './helpers/env.js';
import { PASSWORD, seedUser } from './helpers/identity.js';
import { freePort, waitForPort } from './helpers/ports.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

/** A client address of its own per test, so counters never carry over (also in a shared Redis). */
const someIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

const LIMITS = {
  ENABLE_RATE_LIMIT: 'true',
  RATE_LIMIT_DEFAULT: '3/minute',
  RATE_LIMIT_AUTH: '2/minute',
  RATE_LIMIT_INGEST: '4/minute',
  RATE_LIMIT_ANALYTICS: '2/minute',
  INGEST_TENANT_READINGS_PER_S: '5',
};

describe('rate limit settings', () => {
  it('parses the conventional syntax', () => {
    expect(parseRate('100/minute')).toMatchObject({ points: 100, durationS: 60 });
    expect(parseRate('5/m')).toMatchObject({ points: 5, durationS: 60 });
    expect(parseRate('10/5 minutes')).toMatchObject({ points: 10, durationS: 300 });
    expect(parseRate('1000 per hour')).toMatchObject({ points: 1000, durationS: 3600 });
    expect(parseRate('2/second')).toMatchObject({ points: 2, durationS: 1 });
    for (const bad of ['100', 'x/minute', '10/fortnight', '0/minute', '']) expect(parseRate(bad)).toBeNull();
    expect(() => testConfig({ RATE_LIMIT_DEFAULT: 'lots' })).toThrow(
      /RATE_LIMIT_DEFAULT: must look like 100\/minute/,
    );
  });

  it('production refuses to turn limits off without the explicit override', () => {
    const prod = {
      NODE_ENV: 'production',
      SECRET_KEY: randomBytes(32).toString('base64url'),
      ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    };
    expect(() =>
      testConfig({ ...prod, ENABLE_RATE_LIMIT: 'false', RATE_LIMIT_OFF_IN_PRODUCTION: undefined }),
    ).toThrow(/ENABLE_RATE_LIMIT: production refuses to run without rate limits/);
    expect(
      testConfig({ ...prod, ENABLE_RATE_LIMIT: 'false', RATE_LIMIT_OFF_IN_PRODUCTION: 'true' }).rateLimit
        .enabled,
    ).toBe(false);
  });
});

describe('rate limits per class', () => {
  let t: TestApp;
  let f: TelemetryFixture;
  let tenantId: string;
  const tenant = `rl-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    // Seed through an instance without limits, then serve the same database (and keys) with them.
    const shared = {
      DATABASE_URL: `sqlite:${path.join(tempDir(), 'vigil.db')}`,
      SECRET_KEY: testKey(),
      ENCRYPTION_KEY: testKey(),
    };
    const seeding = await createTestApp(shared);
    f = await seedTelemetry(seeding, tenant);
    tenantId = (await seedUser(seeding.services, { tenant, role: 'viewer' })).tenant.id;
    await seeding.close();
    t = await createTestApp({ ...shared, ...LIMITS });
  });
  afterAll(() => t.close());

  const get = (url: string, headers: Record<string, string>, ip = '127.0.0.1') =>
    t.app.inject({ method: 'GET', url, headers, remoteAddress: ip });
  /** A new user of the tenant (or a platform admin), signed in from an address of its own. */
  const signIn = async (role: 'viewer' | 'analyst' | 'owner', platformAdmin = false) => {
    const u = await seedUser(t.services, { tenant: platformAdmin ? 'ops' : tenant, role, platformAdmin });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: u.email, password: PASSWORD },
      remoteAddress: someIp(),
    });
    expect(res.statusCode).toBe(200);
    return { authorization: `Bearer ${res.json().accessToken}` };
  };

  it('default class: counted per user, with RateLimit headers, then 429 naming the limit', async () => {
    const auth = await signIn('viewer');
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const res = await get('/api/v1/tenant', auth, someIp());
      expect(res.statusCode).toBe(200);
      seen.push(res.headers['ratelimit-remaining']);
      expect(res.headers['ratelimit-limit']).toBe('3');
      expect(res.headers['ratelimit-policy']).toBe('3;w=60');
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
    }
    // From whatever address: the user is counted, not the IP.
    expect(seen).toEqual(['2', '1', '0']);
    const limited = await get('/api/v1/tenant', auth, someIp());
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({
      code: 'RATE_LIMITED',
      status: 429,
      limit: 'default',
      policy: '3/minute',
      scope: 'user',
    });
    expect(limited.json().detail).toMatch(/Rate limit "default" reached: 3\/minute per user; retry in \d+ s/);
    // Another user of the same tenant has their own allowance.
    expect((await get('/api/v1/tenant', await signIn('viewer'))).statusCode).toBe(200);
  });

  it('unauthenticated requests, unknown URLs included, count per client IP; health checks never', async () => {
    const ip = someIp();
    for (let i = 0; i < 3; i++) expect((await get('/no/such/page', {}, ip)).statusCode).toBe(404);
    expect((await get('/no/such/page', {}, ip)).statusCode).toBe(429);
    expect((await get('/no/such/page', {}, someIp())).statusCode).toBe(404);
    // IPv6 clients count by /64: rotating addresses inside one allocation buys nothing.
    const net64 = `2001:db8:${randomInt(0xffff).toString(16)}:1`;
    for (let i = 1; i <= 3; i++)
      expect((await get('/no/such/page', {}, `${net64}::${i}`)).statusCode).toBe(404);
    expect((await get('/no/such/page', {}, `${net64}:ffff::4`)).statusCode).toBe(429);
    expect((await get('/no/such/page', {}, `${net64.replace(/:1$/, ':2')}::1`)).statusCode).toBe(404);
    // Failed authentication counts per client IP too (bogus credentials are not a way around it).
    const other = someIp();
    for (let i = 0; i < 3; i++)
      expect((await get('/api/v1/tenant', { authorization: `Bearer guess-${i}` }, other)).statusCode).toBe(
        401,
      );
    const limited = await get('/api/v1/tenant', { authorization: 'Bearer guess-4' }, other);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ limit: 'default', scope: 'client IP' });
    for (let i = 0; i < 10; i++) {
      const res = await get('/healthz', {}, ip);
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
  });

  it('auth class: sign-in attempts count per client IP, whatever the account', async () => {
    const ip = someIp();
    const attempt = (email: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email, password: 'wrong-password-123' },
        remoteAddress: ip,
      });
    expect((await attempt('a@example.com')).statusCode).toBe(401);
    expect((await attempt('b@example.com')).statusCode).toBe(401);
    const limited = await attempt('c@example.com');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ limit: 'auth', policy: '2/minute', scope: 'client IP' });
  });

  it('ingest class per device; analytics class for aggregates and CSV, not for a page of readings', async () => {
    const now = Date.now() - 60_000;
    const ingest = (i: number) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: { ...f.deviceB, 'content-type': 'application/json' },
        payload: { readings: [{ sensor: 'b/pressure', ts: now + i, value: 1 }] },
      });
    for (let i = 0; i < 4; i++) expect((await ingest(i)).statusCode).toBe(200);
    const limited = await ingest(4);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ limit: 'ingest', scope: 'device' });

    const auth = await signIn('analyst');
    const range = `from=${now - 3_600_000}&to=${now + 60_000}`;
    expect((await get(`/api/v1/sensors/${f.ids.pB}/aggregates?${range}`, auth)).statusCode).toBe(200);
    expect((await get(`/api/v1/sensors/${f.ids.pB}/readings?${range}&format=csv`, auth)).statusCode).toBe(
      200,
    );
    const heavy = await get(`/api/v1/sensors/${f.ids.pB}/aggregates?${range}`, auth);
    expect(heavy.statusCode).toBe(429);
    expect(heavy.json()).toMatchObject({ limit: 'analytics', policy: '2/minute' });
    // A page of raw readings is the default class, which still has room.
    expect((await get(`/api/v1/sensors/${f.ids.pB}/readings?${range}`, auth)).statusCode).toBe(200);
  });

  it('tenant readings budget over HTTP: refused batches store nothing; a platform admin raises the quota (audited)', async () => {
    // Budget 5 readings/s over a 10 s window = 50 readings; the API key has its own request allowance.
    const apiKey = f.apiKey;
    const root = await signIn('owner', true);
    const t0 = Date.now() - 3_600_000;
    const batch = (from: number, n: number) => ({
      readings: Array.from({ length: n }, (_, i) => ({
        sensor: 'a/flow',
        ts: t0 + (from + i) * 1000,
        value: i,
      })),
    });
    const post = (payload: unknown) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: { ...apiKey, 'content-type': 'application/json' },
        payload: payload as object,
      });
    // The earlier test sent 4 readings of this tenant from device B: 40 more fit, 20 more do not.
    expect((await post(batch(0, 40))).statusCode).toBe(200);
    const over = await post(batch(40, 20));
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({
      limit: 'ingest-readings',
      scope: 'tenant',
      policy: '5 readings/second',
    });
    const stored = await get(
      `/api/v1/sensors/${f.ids.fA}/readings?from=${t0}&to=${t0 + 100_000}&limit=1000`,
      await signIn('analyst'),
    );
    expect(stored.json().items).toHaveLength(40);
    // A batch larger than the whole window's budget can never pass: said so.
    expect((await post(batch(100, 51))).json().detail).toMatch(/exceeds the tenant's whole budget/);

    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/admin/tenants/${tenantId}/quotas`,
      headers: root,
      payload: { ingestReadingsPerS: 1000 },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      quotas: { ingestReadingsPerS: 1000, mqttConnections: null },
      effective: { ingestReadingsPerS: 1000, mqttConnections: 10000 },
    });
    expect((await post(batch(40, 20))).statusCode).toBe(200);
    // Tenant admins cannot change quotas; bad values are refused.
    const denied = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/admin/tenants/${tenantId}/quotas`,
      headers: await signIn('owner'),
      payload: { ingestReadingsPerS: 10 ** 6 },
    });
    expect(denied.statusCode).toBe(403);
    const bad = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/admin/tenants/${tenantId}/quotas`,
      headers: root,
      payload: { ingestReadingsPerS: 0 },
    });
    expect(bad.statusCode).toBe(400);
    const audit = await get('/api/v1/admin/audit?action=tenant.quotas.update', root);
    expect(audit.json().items).toMatchObject([
      {
        action: 'tenant.quotas.update',
        targetId: tenantId,
        details: { after: { ingestReadingsPerS: 1000 } },
      },
    ]);
  });
});

describe('rate limits in Redis', () => {
  const apps: TestApp[] = [];
  let redis: ChildProcess | undefined;
  afterAll(async () => {
    for (const a of apps) await a.close();
    redis?.kill();
  });

  it('two instances share the counters', async () => {
    const a = await createTestApp({ ...LIMITS, REDIS_URL });
    const b = await createTestApp({ ...LIMITS, REDIS_URL });
    apps.push(a, b);
    const ip = someIp();
    const hit = (x: TestApp) => x.app.inject({ method: 'GET', url: '/nowhere', remoteAddress: ip });
    expect((await hit(a)).statusCode).toBe(404);
    expect((await hit(b)).statusCode).toBe(404);
    expect((await hit(a)).statusCode).toBe(404);
    expect((await hit(b)).statusCode).toBe(429);
  });

  it('falls back to per-instance limits when Redis goes away, instead of failing requests', async () => {
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const url = `redis://127.0.0.1:${port}`;
    await waitForPort(port);
    const a = await createTestApp({ ...LIMITS, REDIS_URL: url });
    apps.push(a);
    const ip = someIp();
    const hit = () => a.app.inject({ method: 'GET', url: '/nowhere', remoteAddress: ip });
    expect((await hit()).statusCode).toBe(404);
    redis.kill('SIGKILL');
    await new Promise((r) => redis!.once('exit', r));
    // Redis is gone: the in-memory insurance limiter takes over — answers, and still limits.
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await hit()).statusCode);
    expect(codes.slice(0, 3)).toEqual([404, 404, 404]);
    expect(codes.slice(3)).toEqual([429, 429]);
  });
});

describe('client IP behind proxies', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
  });
  const limited = async (env: Record<string, string>) => {
    const a = await createTestApp({ ...LIMITS, RATE_LIMIT_DEFAULT: '2/minute', ...env });
    apps.push(a);
    // Three requests through the same proxy (10.9.9.9), each claiming a different client.
    const codes = [];
    for (let i = 0; i < 3; i++) {
      const res = await a.app.inject({
        method: 'GET',
        url: '/nowhere',
        remoteAddress: '10.9.9.9',
        headers: { 'x-forwarded-for': `203.0.113.${i + 1}` },
      });
      codes.push(res.statusCode);
    }
    return codes;
  };

  it('counts the forwarded client when the proxy is trusted, and the connection when it is not', async () => {
    // Trusted: each forwarded client has its own allowance.
    expect(await limited({ TRUST_PROXY: '10.9.9.9' })).toEqual([404, 404, 404]);
    // Untrusted: X-Forwarded-For is ignored, so a client cannot pick its own bucket.
    expect(await limited({ TRUST_PROXY: 'false' })).toEqual([404, 404, 429]);
    expect(await limited({ TRUST_PROXY: '192.0.2.1' })).toEqual([404, 404, 429]);
  });
});
