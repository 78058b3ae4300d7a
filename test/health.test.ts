import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, DIALECTS } from './helpers/databases.js';
import { REDIS_URL } from './helpers/env.js';
import { freePort } from './helpers/ports.js';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps.splice(0)) await t.close();
});
async function app(env: Record<string, string>, migrate = true) {
  const t = await createTestApp(env, { migrate });
  apps.push(t);
  return t;
}

describe('GET /healthz', () => {
  it('is up without checking any dependency', async () => {
    const t = await app({ DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/test` }, false);
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', version: expect.any(String) });
  });
});

describe.each(DIALECTS)('GET /readyz on %s', (dialect) => {
  it('is ready when the database answers', async () => {
    const db = await createTestDatabase(dialect);
    try {
      const t = await app({ DATABASE_URL: db.url });
      const res = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'ok', checks: { database: { status: 'ok' } } });
    } finally {
      await apps.pop()?.close();
      await db.drop();
    }
  });
});

describe('GET /readyz failures', () => {
  it('503 names the database when DATABASE_URL points at a closed port', async () => {
    const t = await app({ DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/test` }, false);
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.headers['retry-after']).toBe('5');
    const body = res.json();
    expect(body.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(body.detail).toBe('Not ready: database');
    expect(body.checks.database).toEqual({ status: 'failed', latencyMs: expect.any(Number) });
    // The driver's message (host, port, user) stays in the server log.
    expect(res.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
  });

  it('checks Redis when configured: ok when up, 503 naming redis when down', async () => {
    const up = await app({ REDIS_URL });
    const ok = await up.app.inject({ method: 'GET', url: '/readyz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().checks.redis.status).toBe('ok');

    const down = await app({
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      READINESS_TIMEOUT_MS: '1000',
    });
    const res = await down.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().detail).toBe('Not ready: redis');
    expect(res.json().checks.database.status).toBe('ok');
  });

  it('checks the external MQTT broker when MQTT_URL is set', async () => {
    const up = await app({ MQTT_URL: 'mqtt://127.0.0.1:1883' });
    expect((await up.app.inject({ method: 'GET', url: '/readyz' })).json().checks.mqtt.status).toBe('ok');
    const down = await app({ MQTT_URL: `mqtt://127.0.0.1:${await freePort()}` });
    const res = await down.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().detail).toMatch(/^Not ready: mqtt/);
  });
});

describe('database outage during a request', () => {
  it('answers 503 with Retry-After, not 500', async () => {
    const t = await createTestApp(
      { DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/test` },
      {
        migrate: false,
        beforeReady: (a) =>
          a.get('/test/query', async () => {
            await t0.services.database.ping();
            return { ok: true };
          }),
      },
    );
    const t0 = t;
    apps.push(t);
    const res = await t.app.inject({ method: 'GET', url: '/test/query' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json().code).toBe('DEPENDENCY_UNAVAILABLE');
  });
});

describe('API docs', () => {
  afterAll(async () => {
    for (const t of apps.splice(0)) await t.close();
  });

  it('serves OpenAPI 3.1 generated from the route schemas, and the UI', async () => {
    const t = await app({});
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
    const ui = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });

  it('is off in production unless API_DOCS=true', async () => {
    const prod = { NODE_ENV: 'production' };
    const off = await app(prod);
    expect((await off.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(404);
    expect((await off.app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(404);
    const on = await app({ ...prod, API_DOCS: 'true' });
    expect((await on.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
  });
});
