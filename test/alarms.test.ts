import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAlarm } from '../src/alarms/alarms.repository.js';
import { AlarmService } from '../src/alarms/alarms.service.js';
import { closeServices, createServices } from '../src/services.js';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;

interface AlarmItem {
  id: string;
  dedupKey: string;
  status: string;
  severity: string;
  title: string;
  occurrences: number;
  raisedAt: string;
  resolution: string | null;
}

describe.each(DIALECTS)('alarms on %s', (dialect) => {
  let t: TestApp;
  let f: TelemetryFixture;
  let next = Math.floor((Date.now() - 3 * 86_400_000) / 3_600_000) * 3_600_000;
  const slot = () => {
    const s = next;
    next -= 6 * 3_600_000;
    return s;
  };

  beforeAll(async () => {
    t = await createTestAppOn(dialect);
    f = await seedTelemetry(t);
  });
  afterAll(async () => t?.close());

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: f.admin.auth, ...(payload ? { payload } : {}) });
  const ingest = async (readings: { sensor: string; ts: number; value: number }[]) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.apiKey,
      payload: { readings },
    });
    expect(res.statusCode, res.body).toBe(200);
    await t.services.detection!.flush();
    await t.services.alarms.settle();
  };
  const alarms = async (query: string): Promise<AlarmItem[]> => {
    const res = await call('GET', `/alarms?from=0&${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items;
  };
  const series = (sensor: string, t0: number, values: number[]) =>
    values.map((value, i) => ({ sensor, ts: t0 + i * MIN, value }));

  it('a rule raises one alarm on the reading’s own time, repeats count, the clear resolves it', async () => {
    expect(
      (
        await call('PUT', `/sensors/${f.ids.pB}/detectors`, {
          rules: [{ id: 'low-pressure', when: 'below', value: 2, clear: 2.3, severity: 'major' }],
        })
      ).statusCode,
    ).toBe(200);
    const t0 = slot(); // days back: a backfill
    await ingest(series('b/pressure', t0, [...Array(30).fill(3), 1.8, 1.7, 2.4, 1.9, 2.5]));
    const list = await alarms(`sensorId=${f.ids.pB}`);
    const rule = list.filter((a) => a.dedupKey === `sensor:${f.ids.pB}:threshold:low-pressure`);
    // Raised at 30 min, cleared at 32; raised again at 33, cleared at 34: two alarms, both resolved.
    expect(rule.map((a) => [a.status, a.resolution, Date.parse(a.raisedAt) - t0])).toEqual([
      ['resolved', 'cleared', 33 * MIN],
      ['resolved', 'cleared', 30 * MIN],
    ]);
    expect(rule[0]).toMatchObject({ severity: 'major', title: 'Rule low-pressure', occurrences: 1 });
    const one = await call('GET', `/alarms/${rule[1]!.id}`);
    expect(one.json().history.map((h: { kind: string }) => h.kind)).toEqual(['raised', 'resolved']);
  });

  it('point anomalies of a sensor share one open alarm whose occurrences count', async () => {
    const t0 = slot();
    const values = Array.from({ length: 120 }, (_, i) => 5 + 0.05 * Math.sin(i / 3));
    values[80] = 12;
    values[110] = -3;
    await ingest(series('a/flow', t0, values));
    const open = (await alarms(`sensorId=${f.ids.fA}&status=open`)).filter(
      (a) => a.title === 'Anomalous readings',
    );
    expect(open).toHaveLength(1);
    expect(open[0]!.occurrences).toBeGreaterThanOrEqual(2);
    expect(Date.parse(open[0]!.raisedAt)).toBe(t0 + 80 * MIN);
  });

  it('concurrent raisers of one key, in one process and in two, make one alarm', async () => {
    const input = (i: number) => ({
      tenantId: f.tenantId,
      dedupKey: `sensor:${f.ids.pA}:race`,
      sensorId: f.ids.pA,
      assetId: null,
      detector: 'threshold',
      ruleId: 'race',
      severity: 'major',
      title: 'Race',
      at: 1_700_000_000_000 + i,
      value: i,
      details: {},
    });
    const other = createServices(t.config, pino({ level: 'silent' }));
    try {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          upsertAlarm(i % 2 === 0 ? t.services.database.db : other.database.db, input(i), Date.now()),
        ),
      );
    } finally {
      await closeServices(other);
    }
    const rows = await t.services.database.db
      .selectFrom('alarms')
      .select(['occurrences', 'raised_at', 'last_seen_at', 'status'])
      .where('dedup_key', '=', `sensor:${f.ids.pA}:race`)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'open' });
    expect(Number(rows[0]!.occurrences)).toBe(40);
    expect(Number(rows[0]!.raised_at)).toBe(1_700_000_000_000);
    expect(Number(rows[0]!.last_seen_at)).toBe(1_700_000_000_039);
  });

  it('a condition that keeps coming back becomes one flapping alarm (not an alarm per cycle) and settles', async () => {
    expect(
      (
        await call('PUT', `/sensors/${f.ids.fA}/detectors`, {
          rules: [{ id: 'low-flow', when: 'below', value: 2, severity: 'minor' }],
        })
      ).statusCode,
    ).toBe(200);
    const t0 = slot();
    // Warm and steady, then 8 cycles below/above the limit a minute apart.
    const values = [...Array(30).fill(5), ...Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? 1 : 5))];
    await ingest(series('a/flow', t0, values));
    const key = `sensor:${f.ids.fA}:threshold:low-flow`;
    const rule = (await alarms(`sensorId=${f.ids.fA}`)).filter((a) => a.dedupKey === key) as (AlarmItem & {
      flapping: boolean;
    })[];
    // The first four cycles raise and resolve their own alarms; from the fifth raise within the
    // hour the alarm stays open, flapping, and later cycles count on it.
    expect(rule.map((a) => [a.status, a.flapping])).toEqual([
      ['open', true],
      ['resolved', false],
      ['resolved', false],
      ['resolved', false],
      ['resolved', false],
    ]);
    expect(rule[0]!.occurrences).toBe(4);
    const history = (await call('GET', `/alarms/${rule[0]!.id}`)).json().history as { kind: string }[];
    expect(history.filter((h) => h.kind === 'flapping')).toHaveLength(1);
    // Nothing settles while it was raised within the hour; an hour of quiet resolves it.
    const lastRaise = t0 + (30 + 14) * MIN;
    expect(await t.services.alarms.settleFlapping(lastRaise + 30 * MIN)).toBe(0);
    expect(await t.services.alarms.settleFlapping(lastRaise + 61 * MIN)).toBe(1);
    const settled = (await call('GET', `/alarms/${rule[0]!.id}`)).json().alarm;
    expect(settled).toMatchObject({ status: 'resolved', resolution: 'settled', flapping: false });
  });

  it('shelving silences an alarm for a while; it unshelves itself (fake clock) or on request', async () => {
    const [open] = await alarms(`sensorId=${f.ids.pA}&status=open`);
    expect(open).toBeDefined();
    const shelved = await call('POST', `/alarms/${open!.id}/shelve`, {
      minutes: 30,
      comment: 'known, crew on the way',
    });
    expect(shelved.statusCode, shelved.body).toBe(200);
    expect(shelved.json()).toMatchObject({ shelved: true, shelvedBy: expect.any(String) });
    expect(Date.parse(shelved.json().shelvedUntil) - Date.now()).toBeGreaterThan(29 * MIN);
    expect((await call('POST', `/alarms/${open!.id}/unshelve`)).json()).toMatchObject({
      shelved: false,
      shelvedUntil: null,
    });
    expect((await call('POST', `/alarms/${open!.id}/shelve`, { minutes: 0 })).statusCode).toBe(400);
    // Shelved two hours ago for an hour: no longer shelved.
    const past = new AlarmService(
      t.services.database.db,
      pino({ level: 'silent' }),
      () => Date.now() - 2 * 3_600_000,
    );
    await past.shelve(f.tenantId, open!.id, { type: 'system', id: null }, 60, null);
    const now = (await call('GET', `/alarms/${open!.id}`)).json();
    expect(now.alarm.shelved).toBe(false);
    expect(now.history.map((h: { kind: string }) => h.kind)).toEqual(
      expect.arrayContaining(['shelved', 'unshelved']),
    );
  });

  it('maintenance windows of a site above the asset mark the alarms raised in them, at the readings’ times', async () => {
    const site = (await call('POST', '/sites', { key: 'zone-m', name: 'Zone M', kind: 'zone' })).json();
    const dma = (
      await call('POST', '/sites', { key: 'dma-m', name: 'DMA M', kind: 'dma', parentId: site.id })
    ).json();
    const asset = (
      await call('POST', '/assets', { key: 'pump-m', name: 'Pump M', kind: 'pump', siteId: dma.id })
    ).json();
    const sensor = (
      await call('POST', '/sensors', {
        key: 'pump-m/pressure',
        name: 'p',
        typeId: f.ids.type,
        assetId: asset.id,
      })
    ).json();
    expect(
      (
        await call('PUT', `/sensors/${sensor.id}/detectors`, {
          rules: [{ id: 'low', when: 'below', value: 2 }],
        })
      ).statusCode,
    ).toBe(200);
    const t0 = slot();
    const iso = (t: number) => new Date(t).toISOString();
    const bad = await call('POST', '/maintenance-windows', {
      siteId: site.id,
      assetId: asset.id,
      title: 'x',
      startsAt: iso(t0),
      endsAt: iso(t0 - 1),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/body/assetId',
      '/body/endsAt',
    ]);
    const daily = await call('POST', '/maintenance-windows', {
      siteId: site.id,
      title: 'Night works',
      startsAt: iso(t0 + 30 * MIN),
      endsAt: iso(t0 + 40 * MIN),
      recurrence: 'daily',
    });
    expect(daily.statusCode, daily.body).toBe(201);
    // Low at 35 min (in the window), normal, low again at 50 min (outside it).
    const values = [...Array(35).fill(3), 1.5, ...Array(14).fill(3), 1.5, 3];
    await ingest(series('pump-m/pressure', t0, values));
    const list = (await alarms(`sensorId=${sensor.id}`)) as (AlarmItem & {
      maintenanceWindowId: string | null;
    })[];
    const rule = list.filter((a) => a.dedupKey.endsWith(':threshold:low'));
    expect(rule.map((a) => [Date.parse(a.raisedAt) - t0, a.maintenanceWindowId])).toEqual([
      [50 * MIN, null],
      [35 * MIN, daily.json().id],
    ]);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/maintenance-windows/${daily.json().id}`,
      headers: f.admin.auth,
    });
    expect(del.statusCode).toBe(204);
    expect((await call('GET', `/maintenance-windows/${daily.json().id}`)).statusCode).toBe(404);
  });

  it('an unacknowledged alarm is reminded and escalated on schedule (fake clock); an acknowledged one is not', async () => {
    const now = Date.now();
    const raise = async (key: string) =>
      (
        await upsertAlarm(
          t.services.database.db,
          {
            tenantId: f.tenantId,
            dedupKey: key,
            sensorId: f.ids.pB,
            assetId: null,
            detector: 'threshold',
            ruleId: 'esc',
            severity: 'minor',
            title: 'Escalating',
            at: now,
            value: 1,
            details: {},
          },
          now,
        )
      ).alarm.id;
    const id = await raise(`sensor:${f.ids.pB}:esc`);
    const acked = await raise(`sensor:${f.ids.pB}:esc-acked`);
    expect((await call('POST', `/alarms/${acked}/acknowledge`, {})).statusCode).toBe(200);
    const at = (minutes: number) =>
      new AlarmService(t.services.database.db, pino({ level: 'silent' }), () => now + minutes * MIN, {
        renotifyMs: 30 * MIN,
        escalateMs: 60 * MIN,
      }).escalate(now + minutes * MIN);
    const kinds = async () =>
      ((await call('GET', `/alarms/${id}`)).json().history as { kind: string }[]).map((h) => h.kind);
    await at(29);
    expect(await kinds()).toEqual([]);
    await at(31);
    expect(await kinds()).toEqual(['reminded']);
    await at(45);
    await at(61);
    await at(62);
    await at(121);
    // Other tests' open alarms are swept too: judge this one by its history.
    const detail = (await call('GET', `/alarms/${id}`)).json();
    expect(detail.alarm.severity).toBe('critical');
    expect(detail.history.map((h: { kind: string }) => h.kind)).toEqual([
      'reminded',
      'escalated',
      'escalated',
    ]);
    expect((await call('GET', `/alarms/${acked}`)).json().alarm.severity).toBe('minor');
  });

  it('lifecycle: acknowledge, resolve with a comment, close; wrong moves are 409; all in the history and audit', async () => {
    const [race] = await alarms(`sensorId=${f.ids.pA}&status=open`);
    expect(race).toBeDefined();
    const id = race!.id;
    const ack = await call('POST', `/alarms/${id}/acknowledge`, {});
    expect(ack.statusCode, ack.body).toBe(200);
    expect(ack.json()).toMatchObject({ status: 'acknowledged', acknowledgedBy: expect.any(String) });
    const again = await call('POST', `/alarms/${id}/acknowledge`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'CONFLICT', status: 409 });
    expect((await call('POST', `/alarms/${id}/close`, {})).statusCode).toBe(409);
    expect((await call('POST', `/alarms/${id}/resolve`, {})).statusCode).toBe(400);
    expect((await call('POST', `/alarms/${id}/comments`, { text: 'crew on site' })).statusCode).toBe(201);
    const resolved = await call('POST', `/alarms/${id}/resolve`, { comment: 'valve replaced' });
    expect(resolved.json()).toMatchObject({ status: 'resolved', resolution: 'manual' });
    const closed = await call('POST', `/alarms/${id}/close`, {});
    expect(closed.json()).toMatchObject({ status: 'closed' });
    expect((await call('POST', `/alarms/${id}/shelve`, { minutes: 5 })).statusCode).toBe(409);
    const detail = (await call('GET', `/alarms/${id}`)).json();
    expect(detail.history.map((h: { kind: string }) => h.kind).slice(-4)).toEqual([
      'acknowledged',
      'comment',
      'resolved',
      'closed',
    ]);
    expect(detail.history.find((h: { kind: string }) => h.kind === 'resolved').comment).toBe(
      'valve replaced',
    );
    const audit = await t.services.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', id)
      .orderBy('seq')
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      'alarm.shelve',
      'alarm.unshelve',
      'alarm.acknowledge',
      'alarm.resolve',
      'alarm.close',
    ]);
    // A viewer may read but not act; a device may do neither.
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/alarms', headers: f.deviceA })).statusCode,
    ).toBe(403);
    expect((await call('GET', '/alarms/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await call('GET', '/alarms?cursor=zz')).statusCode).toBe(400);
  });
});
