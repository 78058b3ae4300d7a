import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateDeviceToken } from '../src/auth/authenticate.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type Session, seedUser } from './helpers/identity.js';

describe('API keys', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await loginAs(t.app, (await seedUser(t.services, { tenant: 'acme', role: 'admin' })).email);
  });
  afterAll(() => t.close());

  const create = (payload: object, s = admin) =>
    t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: s.auth, payload });

  it('is shown once, stored hashed, and limited to its scopes', async () => {
    const res = await create({ name: 'scada-bridge', permissions: ['tenant:read', 'users:read'] });
    expect(res.statusCode).toBe(201);
    const { key, apiKey } = res.json();
    expect(key).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({
      name: 'scada-bridge',
      permissions: ['tenant:read', 'users:read'],
      prefix: key.slice(0, 12),
    });
    const row = await t.services.database.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', apiKey.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(key);

    const auth = { authorization: `Bearer ${key}` };
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/tenant', headers: auth })).statusCode).toBe(
      200,
    );
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/members', headers: auth })).statusCode).toBe(
      200,
    );
    const audit = await t.app.inject({ method: 'GET', url: '/api/v1/audit', headers: auth });
    expect(audit.statusCode).toBe(403);
    expect(audit.json().permission).toBe('audit:read');
    // Keys never act as a person.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: auth })).statusCode).toBe(
      403,
    );
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: auth })).statusCode).toBe(
      403,
    );

    const list = await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: admin.auth });
    const listed = list.json().items.find((k: { id: string }) => k.id === apiKey.id);
    expect(listed.lastUsedAt).not.toBeNull();
    expect(list.body).not.toContain(key);
  });

  it('cannot carry permissions its creator lacks; viewers cannot create keys', async () => {
    const res = await create({ name: 'too-much', permissions: ['tenant:manage'] });
    expect(res.statusCode).toBe(403);
    expect(res.json().detail).toContain('tenant:manage');
    const viewer = await loginAs(
      t.app,
      (await seedUser(t.services, { tenant: 'acme', role: 'viewer' })).email,
    );
    expect((await create({ name: 'v', permissions: ['tenant:read'] }, viewer)).statusCode).toBe(403);
    const unknown = await create({ name: 'x', permissions: ['root:everything'] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].pointer).toBe('/body/permissions/0');
  });

  it('never outlives its creator’s access', async () => {
    const owner = await loginAs(t.app, (await seedUser(t.services, { tenant: 'acme', role: 'owner' })).email);
    const creator = await seedUser(t.services, { tenant: 'acme', role: 'admin' });
    const cs = await loginAs(t.app, creator.email);
    const { key } = (await create({ name: 'ops', permissions: ['tenant:read', 'audit:read'] }, cs)).json();
    const auth = { authorization: `Bearer ${key}` };
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/audit', headers: auth })).statusCode).toBe(200);

    // Demoted to viewer: the key keeps only what a viewer may do.
    await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/members/${creator.user.id}`,
      headers: owner.auth,
      payload: { role: 'viewer' },
    });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/audit', headers: auth })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/tenant', headers: auth })).statusCode).toBe(
      200,
    );

    // Removed from the tenant: the key stops working.
    await t.app.inject({ method: 'DELETE', url: `/api/v1/members/${creator.user.id}`, headers: owner.auth });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/tenant', headers: auth })).statusCode).toBe(
      401,
    );
  });

  it('stops working when revoked or expired', async () => {
    const { key, apiKey } = (await create({ name: 'short', permissions: ['tenant:read'] })).json();
    const auth = { authorization: `Bearer ${key}` };
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${apiKey.id}`, headers: admin.auth }))
        .statusCode,
    ).toBe(204);
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/tenant', headers: auth });
    expect(res.statusCode).toBe(401);

    const past = await create({
      name: 'past',
      permissions: ['tenant:read'],
      expiresAt: '2020-01-01T00:00:00Z',
    });
    expect(past.statusCode).toBe(400);
    const soon = (
      await create({
        name: 'soon',
        permissions: ['tenant:read'],
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      })
    ).json();
    await t.services.database.db
      .updateTable('api_keys')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', soon.apiKey.id)
      .execute();
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/tenant',
          headers: { authorization: `Bearer ${soon.key}` },
        })
      ).statusCode,
    ).toBe(401);
  });
});

describe('device credentials', () => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await loginAs(t.app, (await seedUser(t.services, { tenant: 'water', role: 'admin' })).email);
  });
  afterAll(() => t.close());

  const issue = (payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/v1/device-credentials', headers: admin.auth, payload });
  const device = async (key: string): Promise<string> => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/devices',
      headers: admin.auth,
      payload: { key, name: key },
    });
    expect(res.statusCode).toBe(201);
    return res.json().id;
  };
  const whoami = (token: string) =>
    t.app.inject({
      method: 'GET',
      url: '/api/v1/device/whoami',
      headers: { authorization: `Device ${token}` },
    });

  it('authenticates a device with Authorization: Device, and only for device endpoints', async () => {
    const logger17 = await device('logger-17');
    const res = await issue({ deviceId: logger17 });
    expect(res.statusCode).toBe(201);
    const { token, credential } = res.json();
    expect(token).toMatch(/^vdt_/);
    const me = await whoami(token);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ deviceId: logger17, tenantId: expect.any(String) });
    // A device token is no user token and no API key.
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/tenant',
          headers: { authorization: `Device ${token}` },
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/tenant',
          headers: { authorization: `Bearer ${token}` },
        })
      ).statusCode,
    ).toBe(401);
    // A user token is refused on device endpoints.
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/device/whoami', headers: admin.auth })).statusCode,
    ).toBe(403);
    // The shared verifier (for MQTT and other gateways) agrees.
    await expect(authenticateDeviceToken(t.services, token)).resolves.toMatchObject({
      kind: 'device',
      deviceId: logger17,
    });
    await expect(authenticateDeviceToken(t.services, `${token}x`)).rejects.toThrow();

    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/device-credentials?deviceId=${logger17}`,
      headers: admin.auth,
    });
    expect(list.json().items.map((c: { id: string }) => c.id)).toContain(credential.id);
    expect(list.body).not.toContain(token);
  });

  it('rotates with a grace period and revokes at once', async () => {
    const logger18 = await device('logger-18');
    const old = (await issue({ deviceId: logger18 })).json();
    const rotated = (await issue({ deviceId: logger18, rotateGraceS: 0 })).json();
    expect((await whoami(rotated.token)).statusCode).toBe(200);
    expect((await whoami(old.token)).statusCode).toBe(401);

    const graced = (await issue({ deviceId: logger18, rotateGraceS: 3600 })).json();
    expect((await whoami(rotated.token)).statusCode).toBe(200);
    expect((await whoami(graced.token)).statusCode).toBe(200);

    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/device-credentials/${graced.credential.id}`,
      headers: admin.auth,
    });
    expect(del.statusCode).toBe(204);
    expect((await whoami(graced.token)).statusCode).toBe(401);
  });

  it('validates input', async () => {
    const unknown = await issue({ deviceId: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors).toEqual([
      { pointer: '/body/deviceId', detail: 'is not a device of this tenant' },
    ]);
    const bad = await issue({ deviceId: 'has spaces', extra: 1 });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .errors.map((e: { pointer: string }) => e.pointer)
        .sort(),
    ).toEqual(['/body/deviceId', '/body/extra']);
  });
});
