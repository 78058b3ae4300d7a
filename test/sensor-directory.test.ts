import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DbSensorDirectory } from '../src/telemetry/sensor-directory.js';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { loginAs, type Session, seedUser } from './helpers/identity.js';

describe.each(DIALECTS)('DbSensorDirectory on %s', (dialect) => {
  let t: TestApp;
  let admin: Session;
  let tenantId: string;
  let ids: Record<string, string>;
  beforeAll(async () => {
    t = await createTestAppOn(dialect);
    const u = await seedUser(t.services, { tenant: 'water', role: 'admin' });
    tenantId = u.tenant.id;
    admin = await loginAs(t.app, u.email);
    const post = async (url: string, payload: object) =>
      (await t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: admin.auth, payload })).json()
        .id as string;
    const type = await post('/sensor-types', {
      key: 'pressure',
      name: 'P',
      unit: 'bar',
      validMin: 0,
      validMax: 16,
    });
    const device = await post('/devices', { key: 'logger-1', name: 'L1' });
    ids = {
      type,
      device,
      p: await post('/sensors', { key: 'dma-7/p', name: 'P', typeId: type, deviceId: device }),
      loose: await post('/sensors', { key: 'loose', name: 'No device', typeId: type }),
    };
  });
  afterAll(() => t.close());

  it('resolves by id or key with type range and device status, only in the tenant', async () => {
    const dir = new DbSensorDirectory(t.services.database.db);
    const found = await dir.resolve(tenantId, ['dma-7/p', ids.loose!, 'nope']);
    expect(found.get('dma-7/p')).toEqual({
      id: ids.p,
      key: 'dma-7/p',
      deviceId: ids.device,
      deviceStatus: 'active',
      active: true,
      validMin: 0,
      validMax: 16,
    });
    expect(found.get(ids.loose!)).toMatchObject({ key: 'loose', deviceId: null, deviceStatus: null });
    expect(found.has('nope')).toBe(false);
    expect((await dir.resolve('another-tenant', ['dma-7/p'])).size).toBe(0);
  });

  it('caches hits and misses until invalidated or expired', async () => {
    let now = 1_000;
    const dir = new DbSensorDirectory(t.services.database.db, { ttlMs: 100, maxEntries: 1000 }, () => now);
    await dir.resolve(tenantId, ['dma-7/p', 'ghost']);
    expect([dir.hits, dir.misses]).toEqual([0, 2]);
    await dir.resolve(tenantId, ['dma-7/p', 'ghost']);
    expect([dir.hits, dir.misses]).toEqual([2, 2]);

    await t.app.inject({
      method: 'POST',
      url: `/api/v1/devices/${ids.device}/quarantine`,
      headers: admin.auth,
      payload: { reason: 'test' },
    });
    // Still cached: the change is seen after invalidation (same process) or expiry (other instances).
    expect((await dir.resolve(tenantId, ['dma-7/p'])).get('dma-7/p')?.deviceStatus).toBe('active');
    dir.invalidate(tenantId);
    expect((await dir.resolve(tenantId, ['dma-7/p'])).get('dma-7/p')?.deviceStatus).toBe('quarantined');
    await t.app.inject({ method: 'POST', url: `/api/v1/devices/${ids.device}/release`, headers: admin.auth });
    now += 101;
    expect((await dir.resolve(tenantId, ['dma-7/p'])).get('dma-7/p')?.deviceStatus).toBe('active');
  });

  it('the app’s shared directory is invalidated by registry writes through the API', async () => {
    const dir = t.services.sensorDirectory;
    expect((await dir.resolve(tenantId, ['dma-7/p'])).get('dma-7/p')?.deviceStatus).toBe('active');
    const q = await t.app.inject({
      method: 'POST',
      url: `/api/v1/devices/${ids.device}/quarantine`,
      headers: admin.auth,
      payload: { reason: 'test' },
    });
    expect(q.statusCode).toBe(200);
    expect((await dir.resolve(tenantId, ['dma-7/p'])).get('dma-7/p')?.deviceStatus).toBe('quarantined');
    await t.app.inject({ method: 'POST', url: `/api/v1/devices/${ids.device}/release`, headers: admin.auth });
    const type = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/sensor-types/${ids.type}`,
      headers: admin.auth,
      payload: { validMax: 10 },
    });
    expect(type.statusCode).toBe(200);
    expect((await dir.resolve(tenantId, ['dma-7/p'])).get('dma-7/p')).toMatchObject({
      deviceStatus: 'active',
      validMax: 10,
    });
    // A refused write leaves the cache alone.
    const before = dir.misses;
    await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/sensor-types/${ids.type}`,
      headers: admin.auth,
      payload: { validMin: 99 },
    });
    await dir.resolve(tenantId, ['dma-7/p']);
    expect(dir.misses).toBe(before);
  });

  it('stays within its size bound', async () => {
    const dir = new DbSensorDirectory(t.services.database.db, { ttlMs: 60_000, maxEntries: 3 });
    await dir.resolve(tenantId, ['a', 'b', 'c', 'd', 'e']);
    await dir.resolve(tenantId, ['a']);
    expect(dir.misses).toBe(6);
  });
});
