import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;

describe.each(DIALECTS)('incidents on %s', (dialect) => {
  let t: TestApp;
  let f: TelemetryFixture;
  let assetId: string;

  beforeAll(async () => {
    t = await createTestAppOn(dialect);
    f = await seedTelemetry(t);
  });
  afterAll(async () => t?.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: object) =>
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

  it('alarms of one asset within 30 minutes group into one incident at the highest severity', async () => {
    assetId = (await call('POST', '/assets', { key: 'pump-i', name: 'Pump I', kind: 'pump' })).json().id;
    for (const [key, severity] of [
      ['pump-i/pressure', 'major'],
      ['pump-i/flow', 'critical'],
    ] as const) {
      const s = (await call('POST', '/sensors', { key, name: key, typeId: f.ids.type, assetId })).json();
      expect(
        (
          await call('PUT', `/sensors/${s.id}/detectors`, {
            rules: [{ id: 'low', when: 'below', value: 2, severity }],
          })
        ).statusCode,
      ).toBe(200);
    }
    const t0 = Math.floor((Date.now() - 2 * 86_400_000) / MIN) * MIN;
    await ingest([
      { sensor: 'pump-i/pressure', ts: t0, value: 3 },
      { sensor: 'pump-i/flow', ts: t0, value: 3 },
      { sensor: 'pump-i/pressure', ts: t0 + MIN, value: 1 },
      { sensor: 'pump-i/flow', ts: t0 + 10 * MIN, value: 1 },
      // Back to normal, then the pressure falls again two hours later: a new incident.
      { sensor: 'pump-i/pressure', ts: t0 + 20 * MIN, value: 3 },
      { sensor: 'pump-i/pressure', ts: t0 + 140 * MIN, value: 1 },
    ]);
    const list = (await call('GET', '/incidents')).json().items as {
      id: string;
      severity: string;
      assetId: string;
      title: string;
    }[];
    const mine = list.filter((i) => i.assetId === assetId);
    expect(mine).toHaveLength(2);
    const first = (await call('GET', `/incidents/${mine[1]!.id}`)).json();
    expect(first.incident).toMatchObject({ severity: 'critical', status: 'open', title: 'Pump I: Rule low' });
    expect(first.alarmIds).toHaveLength(2);
    expect(first.timeline.map((e: { kind: string }) => e.kind)).toEqual([
      'opened',
      'alarm_added',
      'alarm_added',
    ]);
    expect((await call('GET', `/incidents/${mine[0]!.id}`)).json().alarmIds).toHaveLength(1);
  });

  it('by hand: open over alarms, take ownership, investigate, note, resolve, close; bad input refused', async () => {
    const alarms = (await call('GET', '/alarms?from=0')).json().items as { id: string }[];
    const unknown = await call('POST', '/incidents', {
      title: 'Night outage',
      alarmIds: [alarms[0]!.id, '00000000-0000-4000-8000-000000000000'],
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].pointer).toBe('/body/alarmIds/1');
    const made = await call('POST', '/incidents', { title: 'Night outage', alarmIds: [alarms[0]!.id] });
    expect(made.statusCode, made.body).toBe(201);
    // The one who opens it owns it, until someone else takes it.
    const id = made.json().id as string;
    const me = (await call('GET', '/auth/me')).json();
    const userId = (me.user?.id ?? me.id) as string;
    expect(
      (await call('PATCH', `/incidents/${id}`, { ownerId: '00000000-0000-4000-8000-000000000000' }))
        .statusCode,
    ).toBe(400);
    expect(
      (await call('PATCH', `/incidents/${id}`, { status: 'investigating', ownerId: userId })).json(),
    ).toMatchObject({
      status: 'investigating',
      ownerId: userId,
    });
    expect((await call('POST', `/incidents/${id}/notes`, { text: 'crew dispatched' })).statusCode).toBe(201);
    expect((await call('POST', `/incidents/${id}/alarms`, { alarmId: alarms[1]!.id })).statusCode).toBe(200);
    const resolved = (await call('PATCH', `/incidents/${id}`, { status: 'resolved' })).json();
    expect(resolved.resolvedAt).not.toBeNull();
    expect((await call('PATCH', `/incidents/${id}`, { status: 'closed' })).statusCode).toBe(200);
    expect((await call('PATCH', `/incidents/${id}`, { status: 'open' })).statusCode).toBe(409);
    const detail = (await call('GET', `/incidents/${id}`)).json();
    expect(detail.timeline.map((e: { kind: string }) => e.kind)).toEqual([
      'opened',
      'alarm_added',
      'status',
      'note',
      'alarm_added',
      'status',
      'status',
    ]);
    const viewer = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents',
      headers: f.readOnlyKey,
      payload: { title: 'x', alarmIds: [] },
    });
    expect(viewer.statusCode).toBe(403);
  });

  it('the maintenance log: work orders of an asset, linked to an alarm and an incident, moved forward only', async () => {
    const alarm = (
      (await call('GET', `/alarms?from=0&assetId=${assetId}`)).json().items as { id: string }[]
    )[0]!;
    const incident = (
      (await call('GET', '/incidents')).json().items as { id: string; assetId: string | null }[]
    ).find((i) => i.assetId === assetId)!;
    const bad = await call('POST', '/maintenance', {
      assetId: '00000000-0000-4000-8000-000000000000',
      title: 'x',
      alarmId: '00000000-0000-4000-8000-000000000000',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/body/assetId',
      '/body/alarmId',
    ]);
    const made = await call('POST', '/maintenance', {
      assetId,
      title: 'Replace pressure transducer',
      alarmId: alarm.id,
      incidentId: incident.id,
      plannedFor: '2026-12-01T08:00:00Z',
    });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.json()).toMatchObject({
      status: 'planned',
      plannedFor: '2026-12-01T08:00:00.000Z',
      alarmId: alarm.id,
    });
    const id = made.json().id as string;
    const started = (
      await call('PATCH', `/maintenance/${id}`, { status: 'in_progress', notes: 'on site' })
    ).json();
    expect(started).toMatchObject({ status: 'in_progress', notes: 'on site' });
    expect(started.startedAt).not.toBeNull();
    expect((await call('PATCH', `/maintenance/${id}`, { status: 'planned' })).statusCode).toBe(409);
    const done = (await call('PATCH', `/maintenance/${id}`, { status: 'done' })).json();
    expect(done.doneAt).not.toBeNull();
    const linked = (await call('GET', `/maintenance?incidentId=${incident.id}`)).json().items;
    expect(linked.map((w: { id: string }) => w.id)).toEqual([id]);
  });
});
