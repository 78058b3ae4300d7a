import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { loginAs, type Session, seedUser } from './helpers/identity.js';

describe.each(DIALECTS)('registry CSV import on %s', (dialect) => {
  let t: TestApp;
  let admin: Session;
  beforeAll(async () => {
    t = await createTestAppOn(dialect);
    admin = await loginAs(t.app, (await seedUser(t.services, { tenant: 'water', role: 'admin' })).email);
  });
  afterAll(() => t.close());

  const upload = (kind: string, csv: string, s = admin) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/${kind}/import`,
      headers: { ...s.auth, 'content-type': 'text/csv; charset=utf-8' },
      payload: csv,
    });
  const count = async (table: 'sites' | 'sensors' | 'devices' | 'sensor_types' | 'assets') =>
    Number(
      (
        await t.services.database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('imports a whole network: types, a site hierarchy (parents after children), assets, devices, sensors', async () => {
    const types = await upload(
      'sensor-types',
      'key,name,unit,validMin,validMax,expectedIntervalS\npressure,Pressure,bar,0,16,60\nflow,Flow,l/s,,,300\n',
    );
    expect(types.statusCode, types.body).toBe(200);
    expect(types.json()).toEqual({ created: 2 });

    const sites = await upload(
      'sites',
      'key,name,kind,parent\ndma-1,DMA 1,dma,zone-a\nzone-a,Zone A,zone,utility\nutility,Utility,utility,\n',
    );
    expect(sites.statusCode, sites.body).toBe(200);
    const list = (
      await t.app.inject({ method: 'GET', url: '/api/v1/sites?q=dma-1', headers: admin.auth })
    ).json();
    const zone = (
      await t.app.inject({ method: 'GET', url: '/api/v1/sites?q=zone-a', headers: admin.auth })
    ).json();
    expect(list.items[0].parentId).toBe(zone.items[0].id);

    const assets = await upload(
      'assets',
      'key,name,kind,site,geometry\npump-1,"Booster pump 1, north",pump,zone-a,"{""type"":""Point"",""coordinates"":[4.9,52.37]}"\n',
    );
    expect(assets.statusCode, assets.body).toBe(200);
    const devices = await upload(
      'devices',
      'key,name,kind,firmware\nlogger-1,Logger 1,logger,2.1\nlogger-2,Logger 2,,\n',
    );
    expect(devices.statusCode, devices.body).toBe(200);
    const sensors = await upload(
      'sensors',
      'key,name,type,device,asset,metadata\ndma-1/p,DMA 1 pressure,pressure,logger-1,pump-1,"{""depth"":2}"\ndma-1/q,DMA 1 flow,flow,logger-2,,\n',
    );
    expect(sensors.statusCode, sensors.body).toBe(200);
    const s = (
      await t.app.inject({ method: 'GET', url: '/api/v1/sensors?q=dma-1/p', headers: admin.auth })
    ).json().items[0];
    expect(s).toMatchObject({ key: 'dma-1/p', metadata: { depth: 2 } });
    expect(s.deviceId).not.toBeNull();
    expect(s.assetId).not.toBeNull();
  });

  it('reports every bad row and column and imports nothing', async () => {
    const before = await count('sensors');
    const res = await upload(
      'sensors',
      [
        'key,name,type,device',
        'ok-1,Fine,pressure,logger-1',
        'bad key,Broken,pressure,logger-1',
        'ok-2,Unknown type,nosuchtype,logger-1',
        'ok-3,,pressure,ghost-logger',
        'ok-1,Duplicate,pressure,',
        'dma-1/p,Exists already,pressure,',
      ].join('\n'),
    );
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.code).toBe('UNPROCESSABLE');
    expect(body.detail).toMatch(/5 row\(s\) have problems; nothing was imported/);
    const pointers = body.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toEqual([
      '/rows/3/key',
      '/rows/4/type',
      '/rows/5/name',
      '/rows/5/device',
      '/rows/6/key',
      '/rows/7/key',
    ]);
    expect(body.errors[4].detail).toBe('repeats line 2');
    expect(body.errors[5].detail).toBe('already exists');
    expect(await count('sensors')).toBe(before);
  });

  it('checks the header, values, ranges and cycles', async () => {
    const header = await upload('devices', 'key,name,colour\nx,y,red\n');
    expect(header.statusCode).toBe(422);
    expect(header.json().errors).toEqual([
      { pointer: '/header/colour', detail: expect.stringContaining('is not a column of devices') },
    ]);
    expect((await upload('devices', 'name\nx\n')).json().errors).toEqual([
      { pointer: '/header/key', detail: 'is a required column' },
    ]);
    const values = await upload(
      'sensor-types',
      'key,name,unit,validMin,validMax,expectedIntervalS\nt1,T,u,5,1,0\n',
    );
    expect(values.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/rows/2/expectedIntervalS',
      '/rows/2/validMax',
    ]);
    const cycle = await upload('sites', 'key,name,kind,parent\nloop-a,A,zone,loop-b\nloop-b,B,zone,loop-a\n');
    expect(cycle.json().errors.map((e: { detail: string }) => e.detail)).toEqual([
      'forms a cycle',
      'forms a cycle',
    ]);
    const geo = await upload(
      'assets',
      'key,name,kind,geometry\ng1,G,valve,"{""type"":""Point"",""coordinates"":[999,1]}"\n',
    );
    expect(geo.json().errors[0]).toMatchObject({
      pointer: '/rows/2/geometry',
      detail: expect.stringContaining('WGS 84'),
    });
  });

  it('answers malformed CSV with where it broke, and wrong content types with 415', async () => {
    const broken = await upload('devices', 'key,name\nx,"unclosed\n');
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({ code: 'MALFORMED_BODY', line: 2 });
    const json = await t.app.inject({
      method: 'POST',
      url: '/api/v1/devices/import',
      headers: admin.auth,
      payload: { key: 'x' },
    });
    expect(json.statusCode).toBe(415);
    const viewer = await loginAs(
      t.app,
      (await seedUser(t.services, { tenant: 'water', role: 'viewer' })).email,
    );
    expect((await upload('devices', 'key,name\nv,V\n', viewer)).statusCode).toBe(403);
  });
});
