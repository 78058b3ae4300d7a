import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlarmService } from '../src/alarms/alarms.service.js';
import type { DetectionEvent } from '../src/detection/pipeline/detection-event.js';
import type { HubMessage } from '../src/realtime/hub.js';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;

interface AlarmItem {
  id: string;
  dedupKey: string;
  status: string;
  severity: string;
  occurrences: number;
  raisedAt: string;
  resolvedAt: string | null;
  resolution: string | null;
  alarmRuleId: string | null;
  autoClear: string;
  resolvesAt: string | null;
  assigneeId: string | null;
}

describe.each(DIALECTS)('alarm rules, clear policies, assignment and grouping on %s', (dialect) => {
  let t: TestApp;
  let f: TelemetryFixture;
  // Readings days back (a backfill), a fresh hour for each test.
  let next = Math.floor((Date.now() - 2 * 86_400_000) / 3_600_000) * 3_600_000;
  const slot = () => {
    const s = next;
    next -= 12 * 3_600_000;
    return s;
  };

  beforeAll(async () => {
    t = await createTestAppOn(dialect);
    f = await seedTelemetry(t);
  });
  afterAll(async () => t?.close());

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: f.admin.auth, ...(payload ? { payload } : {}) });
  const created = async (url: string, payload: object): Promise<string> => {
    const res = await call('POST', url, payload);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id;
  };
  const sensor = (extra: object = {}) =>
    created('/sensors', { key: `s-${randomUUID()}`, name: 'Sensor', typeId: f.ids.type, ...extra });
  const alarmsOf = async (sensorId: string): Promise<AlarmItem[]> => {
    const res = await call('GET', `/alarms?from=0&to=${Date.now() + 86_400_000}&sensorId=${sensorId}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items;
  };
  const history = async (id: string): Promise<string[]> =>
    (await call('GET', `/alarms/${id}`)).json().history.map((h: { kind: string }) => h.kind);
  /** A detection event as the pipeline hands it to the alarm stage. */
  const event = (sensorId: string, ts: number, over: Partial<DetectionEvent> = {}): DetectionEvent => ({
    tenantId: f.tenantId,
    sensorId,
    assetId: null,
    ts,
    value: 1,
    kind: 'point',
    detector: 'ewma',
    ruleId: null,
    severity: null,
    score: 0.95,
    confidence: 0.9,
    detectors: ['ewma'],
    explanation: {},
    ...over,
  });
  const rule = (sensorId: string, kind: 'raised' | 'cleared', ts: number, severity = 'warning') =>
    event(sensorId, ts, { kind, detector: 'threshold', ruleId: 'r1', severity: severity as 'warning' });
  const apply = (events: DetectionEvent[]) => t.services.alarms.apply(events);

  it('validates rules with a pointer per problem, audits every change, and shows what applies to a sensor', async () => {
    const bad = async (body: object, pointer: string) => {
      const res = await call('POST', '/alarm-rules', body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    };
    await bad({ name: 'x', detectors: ['anomaly'], minOccurrences: 3 }, '/body/withinS');
    await bad({ name: 'x', detectors: ['anomaly'], autoClear: 'after-quiet', quietS: 0 }, '/body/quietS');
    await bad({ name: 'x', detectors: ['threshold'], autoClear: 'on-clear', quietS: 60 }, '/body/quietS');
    await bad({ name: 'x', detectors: ['anomaly'], ruleIds: ['r1'] }, '/body/ruleIds');
    await bad(
      { name: 'x', detectors: ['threshold'], sensorTypeId: f.ids.type, sensorId: f.ids.pA },
      '/body/sensorId',
    );
    await bad({ name: 'x', detectors: ['threshold'], sensorTypeId: randomUUID() }, '/body/sensorTypeId');
    await bad({ name: 'x', detectors: ['asset-rule'], sensorId: f.ids.pA }, '/body/detectors/0');
    await bad({ name: 'x', detectors: ['bogus'] }, '/body/detectors/0');
    expect((await call('GET', '/alarm-rules')).json().items).toEqual([]);

    const s = await sensor();
    const typeRule = await created('/alarm-rules', {
      name: 'Pressure rules are critical',
      sensorTypeId: f.ids.type,
      detectors: ['threshold'],
      severity: 'critical',
    });
    const effective = async () =>
      Object.fromEntries(
        (await call('GET', `/sensors/${s}/alarm-rules/effective`))
          .json()
          .items.map((p: { detector: string; alarmRuleId: string | null; action: string }) => [
            p.detector,
            [p.alarmRuleId, p.action],
          ]),
      );
    expect(await effective()).toMatchObject({
      threshold: [typeRule, 'raise'],
      anomaly: [null, 'raise'],
      heartbeat: [null, 'raise'],
    });
    const sensorRule = await created('/alarm-rules', {
      name: 'Not this one',
      sensorId: s,
      detectors: ['threshold', 'flatline'],
      action: 'ignore',
    });
    expect(await effective()).toMatchObject({
      threshold: [sensorRule, 'ignore'],
      flatline: [sensorRule, 'ignore'],
    });
    const replaced = await call('PUT', `/alarm-rules/${sensorRule}`, {
      name: 'Not this one',
      sensorId: s,
      detectors: ['flatline'],
      action: 'ignore',
    });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(await effective()).toMatchObject({ threshold: [typeRule, 'raise'] });
    expect((await call('DELETE', `/alarm-rules/${sensorRule}`)).statusCode).toBe(204);
    expect((await call('GET', `/alarm-rules/${sensorRule}`)).statusCode).toBe(404);
    const audit = (await call('GET', '/audit?limit=100')).json().items as {
      action: string;
      targetId: string;
    }[];
    expect(audit.filter((a) => a.targetId === sensorRule).map((a) => a.action)).toEqual([
      'alarm-rule.delete',
      'alarm-rule.update',
      'alarm-rule.create',
    ]);
    expect((await call('GET', '/alarm-rules/defaults')).json().items).toContainEqual(
      expect.objectContaining({ detector: 'anomaly', autoClear: 'after-quiet', quietS: 3600 }),
    );
    expect((await call('DELETE', `/alarm-rules/${typeRule}`)).statusCode).toBe(204);
  });

  it('end to end: a sensor-type rule sets the severity of rule alarms; an ignore rule raises none', async () => {
    const typeRule = await created('/alarm-rules', {
      name: 'critical rules',
      sensorTypeId: f.ids.type,
      detectors: ['threshold'],
      severity: 'critical',
    });
    const key = `e2e-${randomUUID()}`;
    const s = await sensor({ key });
    const doc = { rules: [{ id: 'low', when: 'below', value: 2, clear: 2.3, severity: 'minor' }] };
    expect((await call('PUT', `/sensors/${s}/detectors`, doc)).statusCode).toBe(200);
    const ingest = async (t0: number, values: number[]) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: f.apiKey,
        payload: { readings: values.map((value, i) => ({ sensor: key, ts: t0 + i * MIN, value })) },
      });
      expect(res.statusCode, res.body).toBe(200);
      await t.services.detection!.flush();
    };
    const t0 = slot();
    await ingest(t0, [3, 3, 3, 1.5, 1.5]);
    const [raised] = await alarmsOf(s);
    expect(raised).toMatchObject({ severity: 'critical', alarmRuleId: typeRule, status: 'open' });
    await created('/alarm-rules', { name: 'quiet', sensorId: s, detectors: ['threshold'], action: 'ignore' });
    await ingest(t0 + 10 * MIN, [3, 3, 1.5, 1.5]);
    // The clear resolved the first alarm; the next raise made none.
    const after = await alarmsOf(s);
    expect(after.map((a) => [a.id, a.status])).toEqual([[raised!.id, 'resolved']]);
    expect((await call('DELETE', `/alarm-rules/${typeRule}`)).statusCode).toBe(204);
  });

  it('a delay before raising: a condition cleared within it raises nothing; one still raised is raised when due', async () => {
    const s = await sensor();
    await created('/alarm-rules', {
      name: 'wait 10 min',
      sensorId: s,
      detectors: ['threshold'],
      delayS: 600,
    });
    const t0 = slot();
    await apply([rule(s, 'raised', t0), rule(s, 'cleared', t0 + 5 * MIN)]);
    expect(await alarmsOf(s)).toEqual([]);
    // Live: raised a second ago; the sweep raises it once ten minutes have passed (and settled).
    const t1 = Date.now() - 1000;
    await apply([rule(s, 'raised', t1)]);
    expect(await t.services.alarms.raiseDue(t1 + 9 * MIN)).toBe(0);
    expect(await t.services.alarms.raiseDue(t1 + 10.5 * MIN)).toBe(0);
    expect(await alarmsOf(s)).toEqual([]);
    expect(await t.services.alarms.raiseDue(t1 + 11 * MIN + 1)).toBe(1);
    expect(await t.services.alarms.raiseDue(t1 + 12 * MIN)).toBe(0);
    const [alarm] = await alarmsOf(s);
    expect(alarm).toMatchObject({ status: 'open', raisedAt: new Date(t1 + 10 * MIN).toISOString() });
    await apply([rule(s, 'cleared', t1 + 20 * MIN)]);
    expect((await alarmsOf(s))[0]).toMatchObject({ status: 'resolved', resolution: 'cleared' });
  });

  it('occurrences: N anomalies within the window raise one alarm counting them; scattered or weak ones do not', async () => {
    const s = await sensor();
    await created('/alarm-rules', {
      name: 'three in ten minutes',
      sensorId: s,
      detectors: ['anomaly'],
      minOccurrences: 3,
      withinS: 600,
      minScore: 0.8,
      severity: 'major',
    });
    const t0 = slot();
    await apply([event(s, t0), event(s, t0 + 20 * MIN), event(s, t0 + 40 * MIN)]);
    await apply([event(s, t0 + 41 * MIN, { score: 0.5 }), event(s, t0 + 42 * MIN, { score: 0.5 })]);
    expect(await alarmsOf(s)).toEqual([]);
    await apply([event(s, t0 + 60 * MIN), event(s, t0 + 62 * MIN), event(s, t0 + 64 * MIN)]);
    const [alarm] = await alarmsOf(s);
    expect(alarm).toMatchObject({
      severity: 'major',
      occurrences: 3,
      raisedAt: new Date(t0 + 64 * MIN).toISOString(),
    });
  });

  it('after-quiet (the default for anomalies): an alarm resolves an hour after its last anomaly, on the next reading or by the sweep', async () => {
    const s = await sensor();
    const t0 = slot();
    await apply([event(s, t0), event(s, t0 + 30 * MIN)]);
    let [first] = await alarmsOf(s);
    expect(first).toMatchObject({
      status: 'open',
      occurrences: 2,
      autoClear: 'after-quiet',
      resolvesAt: new Date(t0 + 90 * MIN).toISOString(),
    });
    // The next anomaly comes after an hour of quiet: the first alarm is over, this is a new one.
    await apply([event(s, t0 + 100 * MIN)]);
    const list = await alarmsOf(s);
    [first] = list.filter((a) => a.id === first!.id);
    expect(first).toMatchObject({
      status: 'resolved',
      resolution: 'quiet',
      resolvedAt: new Date(t0 + 90 * MIN).toISOString(),
    });
    const second = list.find((a) => a.id !== first!.id)!;
    expect(second.status).toBe('open');
    expect(await history(first!.id)).toEqual(['raised', 'repeated', 'resolved']);
    // Nothing more arrives: the sweep resolves it — not while it was just touched (a backfill may
    // still be feeding it), and at the end of its quiet period by the readings' time.
    await t.services.alarms.resolveQuietAlarms(Date.now());
    expect((await alarmsOf(s)).find((a) => a.id === second.id)?.status).toBe('open');
    expect(await t.services.alarms.resolveQuietAlarms(Date.now() + 2 * MIN)).toBeGreaterThanOrEqual(1);
    expect((await alarmsOf(s)).find((a) => a.id === second.id)).toMatchObject({
      status: 'resolved',
      resolution: 'quiet',
      resolvedAt: new Date(t0 + 160 * MIN).toISOString(),
    });
  });

  it('a backfill fed in chunks, with the sweeps running between them, keeps one alarm', async () => {
    const s = await sensor();
    await created('/alarm-rules', {
      name: 'three in an hour',
      sensorId: s,
      detectors: ['anomaly'],
      minOccurrences: 3,
      withinS: 3600,
    });
    const t0 = slot();
    for (const at of [t0 + 60 * MIN, t0, t0 + 20 * MIN, t0 + 40 * MIN, t0 + 50 * MIN]) {
      await apply([event(s, at)]);
      await t.services.alarms.raiseDue(Date.now());
      await t.services.alarms.resolveQuietAlarms(Date.now());
    }
    // t0+60 and then t0 are 60 minutes apart (not more): counted together; t0+20 completes three,
    // which by the readings' time happened at t0+60; t0+40 and t0+50 repeat it.
    const list = await alarmsOf(s);
    expect(list.map((a) => [a.status, a.occurrences])).toEqual([['open', 5]]);
    const raised = (await call('GET', `/alarms/${list[0]!.id}`)).json();
    expect(raised.alarm.raisedAt).toBe(new Date(t0 + 40 * MIN).toISOString());
  });

  it('clear policies of conditions: manual stays open; after-quiet resolves once clear for the quiet period', async () => {
    const manual = await sensor();
    await created('/alarm-rules', {
      name: 'by hand',
      sensorId: manual,
      detectors: ['threshold'],
      autoClear: 'manual',
    });
    const t0 = slot();
    await apply([rule(manual, 'raised', t0), rule(manual, 'cleared', t0 + MIN)]);
    const [m] = await alarmsOf(manual);
    expect(m).toMatchObject({ status: 'open', autoClear: 'manual' });
    expect(await history(m!.id)).toEqual(['raised', 'cleared']);

    const quiet = await sensor();
    await created('/alarm-rules', {
      name: 'stay clear 10 min',
      sensorId: quiet,
      detectors: ['threshold'],
      autoClear: 'after-quiet',
      quietS: 600,
    });
    await apply([rule(quiet, 'raised', t0), rule(quiet, 'cleared', t0 + MIN)]);
    let [q] = await alarmsOf(quiet);
    expect(q).toMatchObject({ status: 'open', resolvesAt: new Date(t0 + 11 * MIN).toISOString() });
    // Back within the quiet period: the same alarm, no longer quiet.
    await apply([rule(quiet, 'raised', t0 + 5 * MIN)]);
    [q] = await alarmsOf(quiet);
    expect(q).toMatchObject({ status: 'open', occurrences: 2, resolvesAt: null });
    await apply([rule(quiet, 'cleared', t0 + 6 * MIN), rule(quiet, 'raised', t0 + 30 * MIN)]);
    const list = await alarmsOf(quiet);
    expect(list.map((a) => [a.status, a.resolvedAt])).toEqual([
      ['open', null],
      ['resolved', new Date(t0 + 16 * MIN).toISOString()],
    ]);
  });

  it('a worse repeat escalates the open alarm', async () => {
    const s = await sensor();
    const t0 = slot();
    await apply([rule(s, 'raised', t0, 'warning'), rule(s, 'raised', t0 + MIN, 'major')]);
    const [a] = await alarmsOf(s);
    expect(a).toMatchObject({ severity: 'major', occurrences: 2 });
    expect(await history(a!.id)).toEqual(['raised', 'repeated', 'escalated']);
  });

  it('assigns an alarm to a member (audited, in the history, filterable); a stranger is refused', async () => {
    const s = await sensor();
    await apply([rule(s, 'raised', slot())]);
    const [a] = await alarmsOf(s);
    const me = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: f.admin.auth })).json();
    const userId = me.user.id as string;
    const stranger = await call('POST', `/alarms/${a!.id}/assign`, { assigneeId: randomUUID() });
    expect(stranger.statusCode).toBe(400);
    expect(stranger.json().errors).toEqual([
      { pointer: '/body/assigneeId', detail: 'is not a member of this tenant' },
    ]);
    const assigned = await call('POST', `/alarms/${a!.id}/assign`, { assigneeId: userId });
    expect(assigned.statusCode, assigned.body).toBe(200);
    expect(assigned.json().assigneeId).toBe(userId);
    const mine = (await call('GET', `/alarms?from=0&assigneeId=${userId}`)).json().items as AlarmItem[];
    expect(mine.map((x) => x.id)).toEqual([a!.id]);
    expect(await history(a!.id)).toEqual(['raised', 'assigned']);
    const audit = (await call('GET', '/audit?action=alarm.assign')).json().items;
    expect(audit[0]).toMatchObject({ targetId: a!.id, details: { assigneeId: userId } });
    expect(
      (await call('POST', `/alarms/${a!.id}/assign`, { assigneeId: null })).json().assigneeId,
    ).toBeNull();
  });

  it('hands alarm changes to the realtime hub once they have committed', async () => {
    const s = await sensor();
    const seen: HubMessage[] = [];
    const off = t.services.hub.subscribe((m) => {
      if (m.payload.sensorId === s) seen.push(m);
    });
    const t0 = slot();
    await apply([rule(s, 'raised', t0), rule(s, 'cleared', t0 + MIN)]);
    off();
    expect(seen.map((m) => [m.channel, m.type, m.tenantId])).toEqual([
      ['alarms', 'alarm.raised', f.tenantId],
      ['alarms', 'alarm.resolved', f.tenantId],
    ]);
    const [a] = await alarmsOf(s);
    expect(seen[0]!.payload).toMatchObject({ alarmId: a!.id, severity: 'warning', status: 'open' });
    expect(seen[1]!.payload).toMatchObject({ alarmId: a!.id, status: 'resolved' });
  });

  it('groups alarms of assets in the same site or zone within the window into one incident', async () => {
    const dma = await created('/sites', { key: `dma-${randomUUID()}`, name: 'DMA', kind: 'dma' });
    const other = await created('/sites', { key: `dma-${randomUUID()}`, name: 'Other', kind: 'dma' });
    const asset = (siteId: string) =>
      created('/assets', { key: `a-${randomUUID()}`, name: 'Pump', kind: 'pump', siteId });
    const [a1, a2, a3] = [await asset(dma), await asset(dma), await asset(other)];
    const [s1, s2, s3] = [
      await sensor({ assetId: a1 }),
      await sensor({ assetId: a2 }),
      await sensor({ assetId: a3 }),
    ];
    const t0 = slot();
    const at = (s: string, asset: string, ts: number) =>
      event(s, ts, { kind: 'raised', detector: 'threshold', ruleId: 'g', severity: 'minor', assetId: asset });
    await apply([at(s1, a1, t0), at(s2, a2, t0 + 10 * MIN), at(s3, a3, t0 + 12 * MIN)]);
    // Beyond the window: a new incident.
    await apply([{ ...at(s2, a2, t0 + 60 * MIN), ruleId: 'g2' }]);
    const incidents = (await call('GET', '/incidents?limit=500')).json().items as {
      id: string;
      siteId: string | null;
      assetId: string | null;
    }[];
    const ofDma = incidents.filter((i) => i.siteId === dma);
    expect(ofDma).toHaveLength(2);
    const alarmCount = async (id: string) => (await call('GET', `/incidents/${id}`)).json().alarmIds.length;
    expect((await Promise.all(ofDma.map((i) => alarmCount(i.id)))).sort()).toEqual([1, 2]);
    expect(incidents.filter((i) => i.siteId === other)).toHaveLength(1);

    // Grouping by asset only: the two assets of the DMA get an incident each.
    const byAsset = new AlarmService(t.services.database.db, pino({ level: 'silent' }), Date.now, {
      renotifyMs: 0,
      escalateMs: 0,
      grouping: { by: 'asset', windowMs: 30 * MIN },
    });
    const t1 = slot();
    await byAsset.apply([
      { ...at(s1, a1, t1), ruleId: 'h' },
      { ...at(s2, a2, t1 + MIN), ruleId: 'h' },
    ]);
    const after = (await call('GET', '/incidents?limit=500')).json().items as {
      id: string;
      siteId: string;
    }[];
    expect(after.filter((i) => i.siteId === dma)).toHaveLength(4);
  });

  it('an anomaly and its alarm commit together; when the alarm stage fails the events wait in the inbox with the anomaly, and are applied later', async () => {
    const key = `tx-${randomUUID()}`;
    const s = await sensor({ key });
    const doc = { rules: [{ id: 'low', when: 'below', value: 2, clear: 2.3 }] };
    expect((await call('PUT', `/sensors/${s}/detectors`, doc)).statusCode).toBe(200);
    const t0 = slot();
    const ingest = async (from: number, values: number[]) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: f.apiKey,
        payload: { readings: values.map((value, i) => ({ sensor: key, ts: from + i * MIN, value })) },
      });
      expect(res.statusCode, res.body).toBe(200);
      await t.services.detection!.flush();
    };
    await ingest(t0, [3, 3, 3]);
    const db = t.services.database.db;
    const errors = t.services.detection!.stats.errors;
    const failures = t.services.alarms.stats.failures;
    await sql`alter table alarm_events rename to alarm_events_away`.execute(db);
    try {
      await ingest(t0 + 3 * MIN, [1.5, 1.5]);
    } finally {
      await sql`alter table alarm_events_away rename to alarm_events`.execute(db);
    }
    // Detection went on; the anomaly is stored, its alarm is not yet, and nothing is lost.
    expect(t.services.detection!.stats.errors).toBe(errors);
    expect(t.services.alarms.stats.failures).toBe(failures + 1);
    const stored = await db
      .selectFrom('anomalies')
      .select(['kind', 'ts'])
      .where('sensor_id', '=', s)
      .execute();
    expect(stored.map((a) => [a.kind, Number(a.ts) - t0])).toEqual([['raised', 3 * MIN]]);
    expect(await alarmsOf(s)).toEqual([]);
    const inbox = await db.selectFrom('alarm_inbox').selectAll().execute();
    expect(inbox).toHaveLength(1);
    expect(inbox[0]!.last_error).toContain('alarm_events');
    expect(await t.services.alarms.retryInbox(Date.now())).toBe(0); // not due yet
    expect(await t.services.alarms.retryInbox(Date.now() + 10_000)).toBe(1);
    const [alarm] = await alarmsOf(s);
    expect(alarm).toMatchObject({ status: 'open', raisedAt: new Date(t0 + 3 * MIN).toISOString() });
    expect(await db.selectFrom('alarm_inbox').selectAll().execute()).toEqual([]);
  });

  it('refuses occurrence counts on conditions, and asset rules scoped to a sensor', async () => {
    const res = await call('POST', '/alarm-rules', {
      name: 'x',
      detectors: ['threshold'],
      minOccurrences: 3,
      withinS: 600,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/body/minOccurrences']);
    const asset = await call('POST', '/alarm-rules', {
      name: 'x',
      detectors: ['threshold', 'asset-rule'],
      sensorId: f.ids.pA,
    });
    expect(asset.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/body/detectors/1']);
  });

  it('an anomaly rule left on-clear resolves after an hour of quiet; a later manual rule does not strand an alarm', async () => {
    const s = await sensor();
    const onClear = await created('/alarm-rules', {
      name: 'all',
      sensorId: s,
      detectors: ['*'],
    });
    const t0 = slot();
    await apply([event(s, t0)]);
    const [a] = await alarmsOf(s);
    expect(a).toMatchObject({ autoClear: 'after-quiet', resolvesAt: new Date(t0 + 60 * MIN).toISOString() });
    expect((await call('DELETE', `/alarm-rules/${onClear}`)).statusCode).toBe(204);
    await created('/alarm-rules', {
      name: 'by hand',
      sensorId: s,
      detectors: ['anomaly'],
      autoClear: 'manual',
    });
    await apply([event(s, t0 + 10 * MIN)]);
    expect((await alarmsOf(s))[0]).toMatchObject({
      occurrences: 2,
      resolvesAt: new Date(t0 + 70 * MIN).toISOString(),
    });
  });
});
