import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../src/audit/audit.repository.js';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { loginAs, type Session, seedUser } from './helpers/identity.js';

describe.each(DIALECTS)('registry on %s', (dialect) => {
  let t: TestApp;
  let admin: Session;
  let viewer: Session;
  beforeAll(async () => {
    t = await createTestAppOn(dialect);
    admin = await loginAs(t.app, (await seedUser(t.services, { tenant: 'water', role: 'admin' })).email);
    viewer = await loginAs(t.app, (await seedUser(t.services, { tenant: 'water', role: 'viewer' })).email);
  });
  afterAll(() => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, s = admin) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: s.auth, ...(payload ? { payload } : {}) });

  it('manages sensor types with a validated range', async () => {
    const res = await call('POST', '/sensor-types', {
      key: 'pressure',
      name: 'Pressure',
      unit: 'bar',
      validMin: 0,
      validMax: 16,
      expectedIntervalS: 60,
    });
    expect(res.statusCode).toBe(201);
    const type = res.json();
    expect(type).toMatchObject({
      key: 'pressure',
      unit: 'bar',
      validMin: 0,
      validMax: 16,
      expectedIntervalS: 60,
    });
    expect(
      (await call('POST', '/sensor-types', { key: 'pressure', name: 'Again', unit: 'bar' })).statusCode,
    ).toBe(409);
    const empty = await call('POST', '/sensor-types', {
      key: 'x',
      name: 'X',
      unit: 'u',
      validMin: 5,
      validMax: 5,
    });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().errors[0].pointer).toBe('/body/validMax');
    const patched = await call('PATCH', `/sensor-types/${type.id}`, { validMax: 20 });
    expect(patched.json()).toMatchObject({ validMin: 0, validMax: 20 });
    expect((await call('PATCH', `/sensor-types/${type.id}`, { validMin: 30 })).statusCode).toBe(400);
    expect((await call('PATCH', `/sensor-types/${type.id}`, { key: 'renamed' })).statusCode).toBe(400);
    expect((await call('GET', `/sensor-types/${type.id}`, undefined, viewer)).statusCode).toBe(200);
    expect((await call('POST', '/sensor-types', { key: 'v', name: 'V', unit: 'u' }, viewer)).statusCode).toBe(
      403,
    );
  });

  it('manages devices, and quarantines and releases them with an audit trail', async () => {
    const created = await call('POST', '/devices', {
      key: 'logger-1',
      name: 'North logger',
      firmware: '2.3.1',
      metadata: { site: 'north' },
    });
    expect(created.statusCode).toBe(201);
    const device = created.json();
    expect(device).toMatchObject({
      status: 'active',
      kind: 'logger',
      firmware: '2.3.1',
      refusedCount: 0,
      metadata: { site: 'north' },
    });

    const q = await call('POST', `/devices/${device.id}/quarantine`, { reason: 'tampered enclosure' });
    expect(q.json()).toMatchObject({ status: 'quarantined', quarantineReason: 'tampered enclosure' });
    expect((await call('POST', `/devices/${device.id}/quarantine`, { reason: 'again' })).statusCode).toBe(
      409,
    );
    expect((await call('PATCH', `/devices/${device.id}`, { status: 'active' })).statusCode).toBe(409);
    const r = await call('POST', `/devices/${device.id}/release`);
    expect(r.json()).toMatchObject({ status: 'active', quarantineReason: null });
    const actions = (await listAudit(t.services.database.db, { limit: 20 })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['device.quarantine', 'device.release']));

    const tooBig = await call('POST', '/devices', {
      key: 'big',
      name: 'Big',
      metadata: { blob: 'x'.repeat(9000) },
    });
    expect(tooBig.statusCode).toBe(400);
    expect(tooBig.json().errors[0].pointer).toBe('/body/metadata');
    const badKey = await call('POST', '/devices', { key: 'has space', name: 'x', extra: true });
    expect(
      badKey
        .json()
        .errors.map((e: { pointer: string }) => e.pointer)
        .sort(),
    ).toEqual(['/body/extra', '/body/key']);
  });

  it('manages sensors referencing only this tenant’s types and devices', async () => {
    const type = (await call('POST', '/sensor-types', { key: 'flow', name: 'Flow', unit: 'l/s' })).json();
    const device = (await call('POST', '/devices', { key: 'logger-2', name: 'South logger' })).json();
    const res = await call('POST', '/sensors', {
      key: 'dma-7/flow-in',
      name: 'DMA 7 inflow',
      typeId: type.id,
      deviceId: device.id,
    });
    expect(res.statusCode).toBe(201);
    const sensor = res.json();
    expect(sensor).toMatchObject({
      key: 'dma-7/flow-in',
      typeId: type.id,
      deviceId: device.id,
      status: 'active',
    });

    const other = await seedUser(t.services, { tenant: 'elsewhere', role: 'owner' });
    const os = await loginAs(t.app, other.email);
    const foreign = await call(
      'POST',
      '/sensors',
      { key: 'steal', name: 'x', typeId: type.id, deviceId: device.id },
      os,
    );
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/body/typeId',
      '/body/deviceId',
    ]);

    expect((await call('DELETE', `/sensor-types/${type.id}`)).statusCode).toBe(409);
    const detached = await call('PATCH', `/sensors/${sensor.id}`, { deviceId: null, status: 'inactive' });
    expect(detached.json()).toMatchObject({ deviceId: null, status: 'inactive' });
    expect(
      (await call('GET', `/sensors?status=inactive`)).json().items.map((s: { id: string }) => s.id),
    ).toContain(sensor.id);
    expect((await call('DELETE', `/sensors/${sensor.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/sensors/${sensor.id}`)).statusCode).toBe(404);
    expect((await call('DELETE', `/sensor-types/${type.id}`)).statusCode).toBe(204);
  });

  it('builds a site hierarchy and refuses cycles and deleting parents', async () => {
    const utility = (
      await call('POST', '/sites', { key: 'north-water', name: 'North Water', kind: 'utility' })
    ).json();
    const zone = (
      await call('POST', '/sites', {
        key: 'zone-high',
        name: 'High zone',
        kind: 'zone',
        parentId: utility.id,
      })
    ).json();
    const dma = (
      await call('POST', '/sites', { key: 'dma-7', name: 'DMA 7', kind: 'dma', parentId: zone.id })
    ).json();
    expect(dma.parentId).toBe(zone.id);
    const roots = (await call('GET', '/sites?parentId=root')).json().items.map((x: { key: string }) => x.key);
    expect(roots).toContain('north-water');
    expect(roots).not.toContain('dma-7');
    expect(
      (await call('GET', `/sites?parentId=${zone.id}`)).json().items.map((x: { key: string }) => x.key),
    ).toEqual(['dma-7']);
    const cycle = await call('PATCH', `/sites/${utility.id}`, { parentId: dma.id });
    expect(cycle.statusCode).toBe(400);
    expect(cycle.json().errors[0]).toEqual({
      pointer: '/body/parentId',
      detail: 'would make the site its own ancestor',
    });
    expect((await call('PATCH', `/sites/${zone.id}`, { parentId: zone.id })).statusCode).toBe(400);
    expect((await call('DELETE', `/sites/${zone.id}`)).statusCode).toBe(409);
    expect((await call('POST', '/sites', { key: 'x', name: 'X', kind: 'galaxy' })).statusCode).toBe(400);
  });

  it('places assets with validated GeoJSON and links sensors to them', async () => {
    const site = (await call('POST', '/sites', { key: 'plant-1', name: 'Plant', kind: 'plant' })).json();
    const pump = await call('POST', '/assets', {
      key: 'pump-3',
      name: 'Booster pump 3',
      kind: 'pump',
      siteId: site.id,
      geometry: { type: 'Point', coordinates: [4.8952, 52.3702] },
    });
    expect(pump.statusCode).toBe(201);
    expect(pump.json()).toMatchObject({
      siteId: site.id,
      geometry: { type: 'Point', coordinates: [4.8952, 52.3702] },
    });
    const pipe = await call('POST', '/assets', {
      key: 'main-1',
      name: 'Trunk main',
      kind: 'pipeline',
      geometry: {
        type: 'LineString',
        coordinates: [
          [4.89, 52.37],
          [4.9, 52.38],
        ],
      },
    });
    expect(pipe.statusCode).toBe(201);
    for (const geometry of [
      { type: 'Point', coordinates: [200, 10] },
      { type: 'LineString', coordinates: [[4.89, 52.37]] },
      { type: 'Polygon', coordinates: [4.89, 52.37] },
    ]) {
      const bad = await call('POST', '/assets', { key: 'bad-geo', name: 'x', kind: 'valve', geometry });
      expect(bad.statusCode, JSON.stringify(geometry)).toBe(400);
      expect(bad.json().errors[0].pointer).toBe('/body/geometry');
    }
    expect((await call('DELETE', `/sites/${site.id}`)).statusCode).toBe(409);

    const type = (
      await call('POST', '/sensor-types', { key: 'vibration', name: 'Vibration', unit: 'mm/s' })
    ).json();
    const sensor = (
      await call('POST', '/sensors', {
        key: 'pump-3/vib',
        name: 'Vib',
        typeId: type.id,
        assetId: pump.json().id,
      })
    ).json();
    expect(sensor.assetId).toBe(pump.json().id);
    expect((await call('GET', `/sensors?assetId=${pump.json().id}`)).json().items).toHaveLength(1);
    expect((await call('DELETE', `/assets/${pump.json().id}`)).statusCode).toBe(204);
    expect((await call('GET', `/sensors/${sensor.id}`)).json().assetId).toBeNull();
  });

  it('pages by cursor and searches by key or name', async () => {
    const type = (await call('POST', '/sensor-types', { key: 'level', name: 'Level', unit: 'm' })).json();
    for (let i = 0; i < 5; i++) {
      await call('POST', '/sensors', { key: `tank-${i}/level`, name: `Tank ${i} level`, typeId: type.id });
    }
    const first = (await call('GET', '/sensors?limit=2&q=TANK')).json();
    expect(first.items.map((s: { key: string }) => s.key)).toEqual(['tank-0/level', 'tank-1/level']);
    const second = (await call('GET', `/sensors?limit=2&q=tank&cursor=${first.nextCursor}`)).json();
    expect(second.items.map((s: { key: string }) => s.key)).toEqual(['tank-2/level', 'tank-3/level']);
    const last = (await call('GET', `/sensors?limit=2&q=tank&cursor=${second.nextCursor}`)).json();
    expect(last.items).toHaveLength(1);
    expect(last.nextCursor).toBeNull();
    // LIKE wildcards are literal.
    expect((await call('GET', '/sensors?q=%25')).json().items).toEqual([]);
    expect((await call('GET', `/sensors?typeId=${type.id}`)).json().items).toHaveLength(5);
    expect((await call('GET', '/sensors?cursor=garbage!')).statusCode).toBe(400);
  });

  it('deleting a device removes its credentials and detaches its sensors', async () => {
    const type = (
      await call('POST', '/sensor-types', { key: 'chlorine', name: 'Chlorine', unit: 'mg/l' })
    ).json();
    const device = (await call('POST', '/devices', { key: 'logger-3', name: 'Plant logger' })).json();
    const sensor = (
      await call('POST', '/sensors', { key: 'plant/cl', name: 'Cl', typeId: type.id, deviceId: device.id })
    ).json();
    const { token } = (await call('POST', '/device-credentials', { deviceId: device.id })).json();
    const whoami = () =>
      t.app.inject({
        method: 'GET',
        url: '/api/v1/device/whoami',
        headers: { authorization: `Device ${token}` },
      });
    expect((await whoami()).statusCode).toBe(200);
    expect((await call('DELETE', `/devices/${device.id}`)).statusCode).toBe(204);
    expect((await whoami()).statusCode).toBe(401);
    expect((await call('GET', `/sensors/${sensor.id}`)).json().deviceId).toBeNull();
  });
});
