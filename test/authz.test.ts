import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAlarm } from '../src/alarms/alarms.repository.js';
import { PERMISSIONS, ROLES, roleHas } from '../src/auth/permissions.js';
import { insertModel } from '../src/detection/models/models.repository.js';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { loginAs, type Session, seedUser } from './helpers/identity.js';

/**
 * Cross-tenant isolation and the role matrix, generated from the registered route table: a new
 * route that takes an id must get a factory here (the test fails until it does), and every
 * route's declared permission is checked against every role.
 */
describe.each(DIALECTS)('authorization across the route table on %s', (dialect) => {
  let t: TestApp;
  let ownerA: Session;
  let ownerB: Session;
  const roleSessions: Partial<Record<(typeof ROLES)[number], Session>> = {};
  let memberB: string;
  let tenantB: string;

  beforeAll(async () => {
    t = await createTestAppOn(dialect);
    const a = await seedUser(t.services, { tenant: 'tenant-a', role: 'owner' });
    const b = await seedUser(t.services, { tenant: 'tenant-b', role: 'owner' });
    ownerA = await loginAs(t.app, a.email);
    ownerB = await loginAs(t.app, b.email);
    memberB = (await seedUser(t.services, { tenant: 'tenant-b', role: 'viewer' })).user.id;
    tenantB = b.tenant.id;
    for (const role of ROLES) {
      const u = await seedUser(t.services, { tenant: 'tenant-a', role });
      roleSessions[role] = await loginAs(t.app, u.email);
    }
  });
  afterAll(() => t.close());

  const createB = async (url: string, payload: object): Promise<string> => {
    const res = await t.app.inject({ method: 'POST', url, headers: ownerB.auth, payload });
    if (res.statusCode !== 201) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json().id;
  };

  /** Creates a resource of tenant B for each id-taking route pattern, returning the id to probe with. */
  const factories: Record<string, () => Promise<string>> = {
    '/api/v1/members/:userId': async () => memberB,
    '/api/v1/invitations/:id': async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/invitations',
        headers: ownerB.auth,
        payload: { email: `inv-${randomUUID()}@b.example.com`, role: 'viewer' },
      });
      return res.json().invitation.id;
    },
    '/api/v1/api-keys/:id': async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: ownerB.auth,
        payload: { name: 'b-key', permissions: ['tenant:read'] },
      });
      return res.json().apiKey.id;
    },
    '/api/v1/device-credentials/:id': async () => {
      const deviceId = await createB('/api/v1/devices', { key: `dev-${randomUUID()}`, name: 'pump logger' });
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/device-credentials',
        headers: ownerB.auth,
        payload: { deviceId },
      });
      return res.json().credential.id;
    },
    '/api/v1/sensor-types/:id': () =>
      createB('/api/v1/sensor-types', { key: `t-${randomUUID()}`, name: 'Pressure', unit: 'bar' }),
    '/api/v1/devices/:id': () => createB('/api/v1/devices', { key: `d-${randomUUID()}`, name: 'Logger' }),
    '/api/v1/sites/:id': () =>
      createB('/api/v1/sites', { key: `z-${randomUUID()}`, name: 'Zone', kind: 'zone' }),
    '/api/v1/assets/:id': () =>
      createB('/api/v1/assets', { key: `a-${randomUUID()}`, name: 'Pump', kind: 'pump' }),
    '/api/v1/devices/:id/quarantine': () =>
      createB('/api/v1/devices', { key: `d-${randomUUID()}`, name: 'Logger' }),
    '/api/v1/devices/:id/release': () =>
      createB('/api/v1/devices', { key: `d-${randomUUID()}`, name: 'Logger' }),
    '/api/v1/sensors/:id': () => sensorB(),
    '/api/v1/sensors/:id/readings': () => sensorB(),
    '/api/v1/sensors/:id/aggregates': () => sensorB(),
    '/api/v1/sensor-types/:id/detectors': () => typeB(),
    '/api/v1/sensor-types/:id/detectors/versions': () => typeB(),
    '/api/v1/assets/:id/detectors': () => assetB(),
    '/api/v1/assets/:id/detectors/versions': () => assetB(),
    '/api/v1/sensors/:id/detectors': () => sensorB(),
    '/api/v1/sensors/:id/detectors/versions': () => sensorB(),
    '/api/v1/sensors/:id/detectors/effective': () => sensorB(),
    '/api/v1/models/:id': () => modelB(),
    '/api/v1/models/:id/activate': () => modelB(),
    '/api/v1/backtests/:id': () => backtestB(),
    '/api/v1/backtests/:id/log': () => backtestB(),
    '/api/v1/backtests/:id/cancel': () => backtestB(),
    '/api/v1/alarms/:id': () => alarmB(),
    '/api/v1/alarms/:id/acknowledge': () => alarmB(),
    '/api/v1/alarms/:id/resolve': () => alarmB(),
    '/api/v1/alarms/:id/close': () => alarmB(),
    '/api/v1/alarms/:id/comments': () => alarmB(),
    '/api/v1/alarms/:id/shelve': () => alarmB(),
    '/api/v1/alarms/:id/unshelve': () => alarmB(),
    '/api/v1/alarms/:id/assign': () => alarmB(),
    '/api/v1/alarm-rules/:id': () =>
      createB('/api/v1/alarm-rules', { name: 'B rule', detectors: ['anomaly'] }),
    '/api/v1/sensors/:id/alarm-rules/effective': () => sensorB(),
    '/api/v1/maintenance/:id': async () =>
      createB('/api/v1/maintenance', {
        assetId: await createB('/api/v1/assets', { key: `a-${randomUUID()}`, name: 'Pump', kind: 'pump' }),
        title: 'B work',
      }),
    '/api/v1/incidents/:id': () => incidentB(),
    '/api/v1/incidents/:id/alarms': () => incidentB(),
    '/api/v1/incidents/:id/notes': () => incidentB(),
    '/api/v1/notification-channels/:id': () => channelB(),
    '/api/v1/notification-channels/:id/deliveries': () => channelB(),
    '/api/v1/maintenance-windows/:id': async () => {
      const site = await createB('/api/v1/sites', { key: `z-${randomUUID()}`, name: 'Zone', kind: 'zone' });
      return createB('/api/v1/maintenance-windows', {
        siteId: site,
        title: 'B works',
        startsAt: '2026-01-01T00:00:00Z',
        endsAt: '2026-01-01T02:00:00Z',
      });
    },
  };
  /** One backtest of tenant B (202, not 201: it runs in the background), shared by its routes. */
  let backtest: Promise<string> | undefined;
  const backtestB = () => {
    backtest ??= (async () => {
      const sensorId = await sensorB();
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/backtests',
        headers: ownerB.auth,
        payload: { sensorId },
      });
      if (res.statusCode !== 202) throw new Error(`backtest: ${res.statusCode} ${res.body}`);
      return res.json().id as string;
    })();
    return backtest;
  };
  /** An incident of tenant B, opened by hand. */
  const incidentB = async () => createB('/api/v1/incidents', { title: 'B incident', alarmIds: [] });
  /** A webhook channel of tenant B, stored directly (its URL need not resolve here). */
  async function channelB(): Promise<string> {
    const id = randomUUID();
    await t.services.database.db
      .insertInto('notification_channels')
      .values({
        id,
        tenant_id: tenantB,
        name: 'B',
        type: 'webhook',
        url: 'https://hooks.example.com/b',
        secret: 'x',
        min_severity: 'warning',
        enabled: 1,
        created_by: null,
        created_at: Date.now(),
      })
      .execute();
    return id;
  }
  /** An open alarm of tenant B. */
  async function alarmB(): Promise<string> {
    const {
      alarm: { id },
    } = await upsertAlarm(
      t.services.database.db,
      {
        tenantId: tenantB,
        dedupKey: `sensor:x:${randomUUID()}`,
        sensorId: null,
        assetId: null,
        detector: 'threshold',
        ruleId: 'r',
        severity: 'major',
        title: 'B',
        at: Date.now(),
        value: 1,
        details: {},
      },
      Date.now(),
    );
    return id;
  }
  const typeB = () => createB('/api/v1/sensor-types', { key: `t-${randomUUID()}`, name: 'Level', unit: 'm' });
  const assetB = () => createB('/api/v1/assets', { key: `a-${randomUUID()}`, name: 'Pump', kind: 'pump' });
  /** A model version of tenant B, stored directly (training needs days of history). */
  async function modelB(): Promise<string> {
    const id = randomUUID();
    await insertModel(t.services.database.db, {
      id,
      tenant_id: tenantB,
      scope: 'sensor',
      target_id: await sensorB(),
      version: 1,
      kind: 'isolation_forest',
      params: '{}',
      features: '[]',
      training_from: 0,
      training_to: 1,
      metrics: '{}',
      data: new Uint8Array(1),
      status: 'inactive',
      created_by: null,
      created_at: Date.now(),
      activated_at: null,
    });
    return id;
  }
  async function sensorB(): Promise<string> {
    const typeId = await createB('/api/v1/sensor-types', {
      key: `t-${randomUUID()}`,
      name: 'Flow',
      unit: 'l/s',
    });
    return createB('/api/v1/sensors', { key: `s-${randomUUID()}`, name: 'Flow 1', typeId });
  }

  /** Valid bodies for id-taking writes, so validation cannot answer before the tenant check does. */
  const bodies: Record<string, unknown> = {
    'PATCH /api/v1/members/:userId': { role: 'analyst' },
    'PATCH /api/v1/sensor-types/:id': { name: 'Renamed by A' },
    'PATCH /api/v1/devices/:id': { name: 'Renamed by A' },
    'PATCH /api/v1/sites/:id': { name: 'Renamed by A' },
    'PATCH /api/v1/assets/:id': { name: 'Renamed by A' },
    'PATCH /api/v1/sensors/:id': { name: 'Renamed by A' },
    'POST /api/v1/devices/:id/quarantine': { reason: 'attack' },
    'PUT /api/v1/sensor-types/:id/detectors': { ewma: { z: 5 } },
    'PUT /api/v1/assets/:id/detectors': { ewma: { z: 5 } },
    'PUT /api/v1/sensors/:id/detectors': { ewma: { z: 5 } },
    'POST /api/v1/alarms/:id/acknowledge': {},
    'POST /api/v1/alarms/:id/resolve': { comment: 'by A' },
    'POST /api/v1/alarms/:id/close': {},
    'POST /api/v1/alarms/:id/comments': { text: 'by A' },
    'POST /api/v1/alarms/:id/shelve': { minutes: 5 },
    'POST /api/v1/alarms/:id/assign': { assigneeId: null },
    'PUT /api/v1/alarm-rules/:id': { name: 'By A', detectors: ['anomaly'] },
    'PATCH /api/v1/incidents/:id': { status: 'investigating' },
    'PATCH /api/v1/maintenance/:id': { notes: 'by A' },
    'PATCH /api/v1/notification-channels/:id': { name: 'Renamed by A' },
    'POST /api/v1/incidents/:id/alarms': { alarmId: '00000000-0000-4000-8000-000000000000' },
    'POST /api/v1/incidents/:id/notes': { text: 'by A' },
  };

  it('has a factory for every id-taking route', () => {
    // Platform-admin routes span tenants by design; they are covered by the platform-admin test.
    const withIds = t.app.routeTable.filter(
      (r) => r.url.includes('/:') && r.config.auth !== 'public' && !r.config.platformAdmin,
    );
    expect(withIds.length).toBeGreaterThan(0);
    const missing = [...new Set(withIds.map((r) => r.url))].filter((u) => !(u in factories));
    expect(missing, 'add a factory for these routes').toEqual([]);
  });

  it("answers 404 to tenant A for tenant B's ids on every GET/PUT/PATCH/DELETE", async () => {
    const routes = t.app.routeTable.filter(
      (r) =>
        r.url.includes('/:') &&
        r.config.auth !== 'public' &&
        !r.config.platformAdmin &&
        ['GET', 'PUT', 'PATCH', 'DELETE', 'POST'].includes(r.method),
    );
    for (const route of routes) {
      const id = await factories[route.url]!();
      const url = route.url.replace(/:[A-Za-z]+/, id);
      const res = await t.app.inject({
        method: route.method as 'GET',
        url,
        headers: ownerA.auth,
        ...(bodies[`${route.method} ${route.url}`]
          ? { payload: bodies[`${route.method} ${route.url}`] as object }
          : {}),
      });
      expect(res.statusCode, `${route.method} ${url}`).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
      // B's resource is untouched and B's owner reaches it (the 404 is about tenancy, not a broken route).
      const getUrl = route.url.replace(/:[A-Za-z]+/, id);
      if (t.app.routeTable.some((r) => r.method === 'GET' && r.url === route.url)) {
        const own = await t.app.inject({ method: 'GET', url: getUrl, headers: ownerB.auth });
        expect(own.statusCode, `GET ${getUrl} as B after ${route.method} by A`).toBe(200);
        if (route.url === '/api/v1/members/:userId') expect(own.json().role).toBe('viewer');
        if (own.json().revokedAt !== undefined) expect(own.json().revokedAt).toBeNull();
        expect(own.json().name).not.toBe('Renamed by A');
        expect(own.json().status).not.toBe('quarantined');
      }
    }
  });

  it('answers 403 to every role lacking a route’s permission, and lets the others through', async () => {
    const routes = t.app.routeTable.filter((r) => r.config.permission);
    expect(routes.length).toBeGreaterThan(5);
    for (const route of routes) {
      const url = route.url.replace(/:[A-Za-z]+/g, randomUUID());
      for (const role of ROLES) {
        const res = await t.app.inject({
          method: route.method as 'GET',
          url,
          headers: roleSessions[role]!.auth,
          payload: {},
        });
        const allowed = roleHas(role, route.config.permission!);
        if (allowed) expect(res.statusCode, `${role} ${route.method} ${route.url}`).not.toBe(403);
        else {
          expect(res.statusCode, `${role} ${route.method} ${route.url}`).toBe(403);
          expect(res.json()).toMatchObject({ code: 'FORBIDDEN', permission: route.config.permission });
        }
      }
    }
  });

  it('keeps platform-admin routes from tenant owners, and lets platform admins in', async () => {
    const routes = t.app.routeTable.filter((r) => r.config.platformAdmin);
    expect(routes.length).toBeGreaterThan(0);
    const root = await loginAs(
      t.app,
      (await seedUser(t.services, { tenant: 'tenant-a', role: 'viewer', platformAdmin: true })).email,
    );
    for (const route of routes) {
      const url = route.url.replace(/:[A-Za-z]+/g, randomUUID());
      const res = await t.app.inject({
        method: route.method as 'GET',
        url,
        headers: ownerA.auth,
        payload: {},
      });
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(403);
      const admin = await t.app.inject({
        method: route.method as 'GET',
        url,
        headers: root.auth,
        payload: {},
      });
      expect(admin.statusCode, `${route.method} ${route.url} as platform admin`).not.toBe(403);
    }
  });
  it('requires authentication on every non-public route', async () => {
    for (const route of t.app.routeTable.filter((r) => r.config.auth !== 'public')) {
      const url = route.url.replace(/:[A-Za-z]+/g, randomUUID());
      const res = await t.app.inject({ method: route.method as 'GET', url, payload: {} });
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="vigil"');
    }
  });

  it('defines roles as nested permission sets', () => {
    for (const p of PERMISSIONS) expect(roleHas('owner', p)).toBe(true);
    expect(roleHas('viewer', 'alarms:ack')).toBe(false);
    expect(roleHas('operator', 'alarms:ack')).toBe(true);
    expect(roleHas('analyst', 'detection:write')).toBe(true);
    expect(roleHas('admin', 'tenant:manage')).toBe(false);
  });
});
