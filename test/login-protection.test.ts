import { randomBytes, randomInt } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ipKey } from '../src/auth/login-limiter.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { REDIS_URL } from './helpers/env.js';
import { PASSWORD, seedUser } from './helpers/identity.js';

// A fresh documentation-range IPv6 /64 per test (limits apply per /64): counters, kept in Redis
// for a day, never carry over between runs.
const freshIp = () =>
  `2001:db8:${randomBytes(4)
    .toString('hex')
    .replace(/(.{4})/, '$1:')}::${randomInt(1, 0xffff).toString(16)}`;

const apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function app(env: Record<string, string> = {}) {
  const t = await createTestApp({
    LOGIN_MAX_CONSECUTIVE_FAILURES: '3',
    LOGIN_MAX_FAILURES_PER_IP_PER_DAY: '6',
    ...env,
  });
  apps.push(t);
  return t;
}

function attempt(t: TestApp, ip: string, email: string, password: string) {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress: ip,
    payload: { email, password },
  });
}

describe.each([
  ['in memory', {}],
  ['in Redis', { REDIS_URL }],
])('login brute-force protection %s', (_name, env) => {
  it('blocks an email+IP pair after consecutive failures, with Retry-After, even for the right password', async () => {
    const t = await app(env);
    const { email } = await seedUser(t.services, {
      tenant: 'acme',
      role: 'viewer',
      email: `bf-${randomInt(1e9)}@acme.example.com`,
    });
    const ip = freshIp();
    expect((await attempt(t, ip, email, 'Wrong-Password-1')).statusCode).toBe(401);
    expect((await attempt(t, ip, email, 'Wrong-Password-2')).statusCode).toBe(401);
    const third = await attempt(t, ip, email, 'Wrong-Password-3');
    expect(third.statusCode).toBe(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(3000);
    expect(third.json()).toMatchObject({ code: 'RATE_LIMITED', limit: 'login-account' });

    const blocked = await attempt(t, ip, email, PASSWORD);
    expect(blocked.statusCode).toBe(429);
    if (t.services.redis) {
      // Shared across instances: the counter lives in Redis, not in the in-process fallback.
      expect(await t.services.redis.exists(`vigil:login:pair:${email}_${ipKey(ip)}`)).toBe(1);
    }
    // Another address is not affected by this pair's block.
    expect((await attempt(t, freshIp(), email, PASSWORD)).statusCode).toBe(200);
  });

  it('holds under a burst of concurrent guesses', async () => {
    const t = await app(env);
    const { email } = await seedUser(t.services, {
      tenant: 'acme',
      role: 'viewer',
      email: `bf-${randomInt(1e9)}@acme.example.com`,
    });
    const ip = freshIp();
    const codes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => attempt(t, ip, email, `Wrong-Password-${i}`)),
    );
    expect(codes.filter((r) => r.statusCode === 401).length).toBeLessThanOrEqual(2);
    expect(codes.filter((r) => r.statusCode === 429).length).toBeGreaterThanOrEqual(18);
    expect((await attempt(t, ip, email, PASSWORD)).statusCode).toBe(429);
  });

  it('treats every address of an IPv6 /64 as one', async () => {
    const t = await app(env);
    const { email } = await seedUser(t.services, {
      tenant: 'acme',
      role: 'viewer',
      email: `bf-${randomInt(1e9)}@acme.example.com`,
    });
    const prefix = freshIp().replace(/::.*$/, '');
    const codes: number[] = [];
    for (let i = 1; i <= 3; i++)
      codes.push((await attempt(t, `${prefix}::${i}`, email, 'Wrong-Password-1')).statusCode);
    expect(codes).toEqual([401, 401, 429]);
  });

  it('resets the pair counter on success', async () => {
    const t = await app({ ...env, LOGIN_MAX_FAILURES_PER_IP_PER_DAY: '100' });
    const { email } = await seedUser(t.services, {
      tenant: 'acme',
      role: 'viewer',
      email: `bf-${randomInt(1e9)}@acme.example.com`,
    });
    const ip = freshIp();
    for (let round = 0; round < 3; round++) {
      expect((await attempt(t, ip, email, 'Wrong-Password-1')).statusCode).toBe(401);
      expect((await attempt(t, ip, email, 'Wrong-Password-2')).statusCode).toBe(401);
      expect((await attempt(t, ip, email, PASSWORD)).statusCode).toBe(200);
    }
  });

  it('blocks an IP after too many failures across accounts', async () => {
    const t = await app(env);
    const ip = freshIp();
    const codes: number[] = [];
    for (let i = 0; i < 6; i++)
      codes.push(
        (await attempt(t, ip, `nobody${i}-${randomInt(1e9)}@x.example.com`, 'Wrong-Password-1')).statusCode,
      );
    expect(codes).toEqual([401, 401, 401, 401, 401, 429]);
    const res = await attempt(t, ip, `someone-${randomInt(1e9)}@x.example.com`, 'Wrong-Password-1');
    expect(res.statusCode).toBe(429);
    expect(res.json().limit).toBe('login-ip');
  });
});

describe('login limiter when Redis is down', () => {
  it('falls back to in-process limits instead of failing logins', async () => {
    const t = await app({ REDIS_URL: 'redis://127.0.0.1:1' });
    const { email } = await seedUser(t.services, { tenant: 'acme', role: 'viewer' });
    const ip = freshIp();
    expect((await attempt(t, ip, email, PASSWORD)).statusCode).toBe(200);
    for (let i = 0; i < 2; i++)
      expect((await attempt(t, ip, email, 'Wrong-Password-1')).statusCode).toBe(401);
    expect((await attempt(t, ip, email, 'Wrong-Password-1')).statusCode).toBe(429);
  });
});
