import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationDispatcher } from '../src/notifications/dispatcher.js';
import { type AlarmNotice, enqueueNotice } from '../src/notifications/outbox.js';
import { IpSet } from '../src/security/guard/ip-rules.js';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { loginAs, type Session, seedUser } from './helpers/identity.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;
const PROBLEM = 'application/problem+json; charset=utf-8';

interface Delivery {
  id: number;
  alarmId: string;
  event: string;
  severity: string | null;
  status: string;
  note: string | null;
  attempts: number;
  nextAttemptAt: string;
}

describe.each(DIALECTS)('notification routing, quiet hours, rate limits and preferences on %s', (dialect) => {
  let t: TestApp;
  let f: TelemetryFixture;
  let receiver: http.Server;
  let hookBase: string;
  let smtp: SMTPServer;
  /** Webhook bodies received, by path. */
  const received = new Map<string, string[]>();
  const mails: { to: string[]; data: string }[] = [];
  const place = { plant: '', zone: '', elsewhere: '', pump: '', valve: '' };

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        received.set(req.url ?? '', [...(received.get(req.url ?? '') ?? []), body]);
        res.end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, done) {
        let data = '';
        stream.on('data', (c: Buffer) => {
          data += c.toString();
        });
        stream.on('end', () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
          done();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    t = await createTestAppOn(dialect, {
      WEBHOOK_ALLOWED_PRIVATE: '127.0.0.1/32',
      SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      SMTP_FROM: 'Vigil <alarms@water.example.com>',
    });
    f = await seedTelemetry(t);
    // plant > zone > pump (with sensor a/pressure); a valve on a site elsewhere.
    const post = async (url: string, payload: object) => {
      const res = await call('POST', url, payload);
      if (res.statusCode !== 201) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      return res.json().id as string;
    };
    place.plant = await post('/sites', { key: 'plant', name: 'Plant', kind: 'plant' });
    place.zone = await post('/sites', { key: 'zone-1', name: 'Zone 1', kind: 'zone', parentId: place.plant });
    place.elsewhere = await post('/sites', { key: 'north', name: 'North', kind: 'site' });
    place.pump = await post('/assets', { key: 'pump-1', name: 'Pump 1', kind: 'pump', siteId: place.zone });
    place.valve = await post('/assets', {
      key: 'valve-1',
      name: 'Valve 1',
      kind: 'valve',
      siteId: place.elsewhere,
    });
    const linked = await call('PATCH', `/sensors/${f.ids.pA}`, { assetId: place.pump });
    expect(linked.statusCode, linked.body).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    receiver?.close();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  });

  function call(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    payload?: object,
    session: { auth: { authorization: string } } = f.admin,
  ) {
    return t.app.inject({
      method,
      url: `/api/v1${path}`,
      headers: session.auth,
      ...(payload ? { payload } : {}),
    });
  }

  /** A webhook channel posting to /hook/<name>; returns its id. */
  async function channel(name: string, extra: object = {}): Promise<string> {
    const res = await call('POST', '/notification-channels', {
      name,
      type: 'webhook',
      url: `${hookBase}/${name}`,
      ...extra,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().channel.id;
  }

  async function deliveries(channelId: string): Promise<Delivery[]> {
    const res = await call('GET', `/notification-channels/${channelId}/deliveries`);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().items as Delivery[]).sort((a, b) => a.id - b.id);
  }

  /** Queues a notice as an alarm change does (in a transaction), at `now`. */
  async function notify(n: Partial<AlarmNotice> & { now?: number } = {}): Promise<string> {
    const alarmId = randomUUID();
    await t.services.database.db.transaction().execute((trx) =>
      enqueueNotice(trx, {
        tenantId: f.tenantId,
        alarmId,
        event: 'raised',
        severity: 'major',
        assetId: null,
        sensorId: f.ids.pA,
        payload: { alarm: { id: alarmId, title: 'Rule low', severity: n.severity ?? 'major' } },
        now: Date.now(),
        ...n,
      }),
    );
    return alarmId;
  }

  const dispatcherAt = (clock: () => number) =>
    new NotificationDispatcher({
      db: t.services.database.db,
      secretBox: t.services.identity.secretBox,
      allowedPrivate: new IpSet(['127.0.0.1/32']),
      maxAttempts: 12,
      logger: pino({ level: 'silent' }),
      clock,
    });
  /**
   * Several passes, so every due delivery is reached: earlier tests' deliveries share the outbox
   * and its batches, and a pass that only postpones attempts nothing.
   */
  async function drain(d: NotificationDispatcher = t.services.notifications): Promise<void> {
    for (let pass = 0; pass < 10; pass++) await d.runOnce();
  }
  const bodies = (name: string) => received.get(`/hook/${name}`) ?? [];

  it('refuses invalid routing, quiet hours and rate limits with a pointer to the field', async () => {
    const other = await seedUser(t.services, { tenant: 'routing-other', role: 'owner' });
    const otherSession = await loginAs(t.app, other.email);
    const foreignSite = (
      await call('POST', '/sites', { key: 'b-site', name: 'B', kind: 'site' }, otherSession)
    ).json().id;
    const base = { name: 'bad', type: 'webhook', url: `${hookBase}/bad` };
    const cases: [object, string][] = [
      [{ routing: { severities: ['urgent'] } }, '/body/routing/severities/0'],
      [{ routing: { events: ['deleted'] } }, '/body/routing/events/0'],
      [{ routing: { siteIds: [foreignSite] } }, '/body/routing/siteIds/0'],
      [{ routing: { assetIds: [place.pump, randomUUID()] } }, '/body/routing/assetIds/1'],
      [{ routing: { zone: 'x' } }, '/body/routing/zone'],
      [
        { quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Olympus_Mons' } },
        '/body/quietHours/timeZone',
      ],
      [{ quietHours: { start: '24:00', end: '07:00', timeZone: 'UTC' } }, '/body/quietHours/start'],
      [{ quietHours: { start: '07:00', end: '07:00', timeZone: 'UTC' } }, '/body/quietHours/end'],
      [
        { quietHours: { start: '22:00', end: '07:00', timeZone: 'UTC', days: [7] } },
        '/body/quietHours/days/0',
      ],
      [
        { quietHours: { start: '22:00', end: '07:00', timeZone: 'UTC', during: 'later' } },
        '/body/quietHours/during',
      ],
      [{ quietHours: { start: '22:00', end: '07:00' } }, '/body/quietHours/timeZone'],
      [{ rateLimitPerMinute: -1 }, '/body/rateLimitPerMinute'],
    ];
    for (const [extra, pointer] of cases) {
      const res = await call('POST', '/notification-channels', { ...base, ...extra });
      expect(res.statusCode, JSON.stringify(extra)).toBe(400);
      expect(res.headers['content-type']).toBe(PROBLEM);
      expect(res.json().code).toBe('VALIDATION_FAILED');
      expect(
        res.json().errors.map((e: { pointer: string }) => e.pointer),
        JSON.stringify(extra),
      ).toContain(pointer);
    }
    // The same checks on PATCH and on personal preferences; nothing was stored.
    const id = await channel('valid');
    const patched = await call('PATCH', `/notification-channels/${id}`, {
      quietHours: { start: '22:00', end: '07:00', timeZone: 'Europe/Atlantis' },
    });
    expect(patched.statusCode).toBe(400);
    expect(patched.json().errors[0].pointer).toBe('/body/quietHours/timeZone');
    const prefs = await call('PUT', '/me/notification-preferences', {
      email: true,
      routing: { siteIds: [foreignSite] },
    });
    expect(prefs.statusCode).toBe(400);
    expect(prefs.json().errors[0].pointer).toBe('/body/routing/siteIds/0');
    expect((await call('GET', `/notification-channels/${id}`)).json()).toMatchObject({
      routing: {},
      quietHours: null,
      rateLimitPerMinute: 30,
    });
    // Another tenant's owner cannot see or touch this channel.
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await call(
        method,
        `/notification-channels/${id}`,
        method === 'PATCH' ? { name: 'x' } : undefined,
        otherSession,
      );
      expect(res.statusCode, method).toBe(404);
    }
    expect(
      (await call('GET', `/notification-channels/${id}/deliveries`, undefined, otherSession)).statusCode,
    ).toBe(404);
  });

  it('PATCH changes routing, quiet hours and the rate limit (audited), null clears quiet hours', async () => {
    const id = await channel('patched');
    const quietHours = { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin', minSeverity: 'critical' };
    const res = await call('PATCH', `/notification-channels/${id}`, {
      routing: { events: ['raised'] },
      quietHours,
      rateLimitPerMinute: 5,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ routing: { events: ['raised'] }, quietHours, rateLimitPerMinute: 5 });
    expect(
      (await call('GET', '/notification-channels')).json().items.find((c: { id: string }) => c.id === id),
    ).toMatchObject({ quietHours, rateLimitPerMinute: 5 });
    const cleared = await call('PATCH', `/notification-channels/${id}`, { quietHours: null });
    expect(cleared.json()).toMatchObject({ quietHours: null, routing: { events: ['raised'] } });
    const audit = await t.services.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', id)
      .orderBy('seq')
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      'notification-channel.create',
      'notification-channel.update',
      'notification-channel.update',
    ]);
  });

  it('routes by severity and by event', async () => {
    const critical = await channel('critical-only', {
      minSeverity: 'info',
      routing: { severities: ['critical'] },
    });
    const raisedOrEscalated = await channel('raised-escalated', {
      minSeverity: 'info',
      routing: { events: ['raised', 'escalated'] },
    });
    const a = await notify({ event: 'raised', severity: 'major' });
    const b = await notify({ event: 'escalated', severity: 'critical' });
    const c = await notify({ event: 'resolved', severity: 'critical' });
    expect((await deliveries(critical)).map((d) => d.alarmId)).toEqual([b, c]);
    expect((await deliveries(raisedOrEscalated)).map((d) => d.alarmId)).toEqual([a, b]);
  });

  it('routes by site (a sensor’s asset in a child site counts for the parent) and by asset', async () => {
    const plant = await channel('plant', { routing: { siteIds: [place.plant] } });
    const zone = await channel('zone', { routing: { siteIds: [place.zone] } });
    const north = await channel('north', { routing: { siteIds: [place.elsewhere] } });
    const valve = await channel('valve', { routing: { assetIds: [place.valve] } });
    const pumpAlarm = await notify({ sensorId: f.ids.pA }); // through sensors → pump → zone → plant
    const valveAlarm = await notify({ sensorId: null, assetId: place.valve });
    await notify({ sensorId: f.ids.pB }); // a sensor without an asset: no site routing matches
    expect((await deliveries(plant)).map((d) => d.alarmId)).toEqual([pumpAlarm]);
    expect((await deliveries(zone)).map((d) => d.alarmId)).toEqual([pumpAlarm]);
    expect((await deliveries(north)).map((d) => d.alarmId)).toEqual([valveAlarm]);
    expect((await deliveries(valve)).map((d) => d.alarmId)).toEqual([valveAlarm]);
  });

  it('an alarm raised by readings reaches the channel of its site and not the others', async () => {
    const plant = await channel('plant-e2e', {
      minSeverity: 'major',
      routing: { siteIds: [place.plant], events: ['raised'] },
    });
    const north = await channel('north-e2e', { routing: { siteIds: [place.elsewhere] } });
    const rules = await call('PUT', `/sensors/${f.ids.pA}/detectors`, {
      rules: [{ id: 'low', when: 'below', value: 2, severity: 'major' }],
    });
    expect(rules.statusCode, rules.body).toBe(200);
    const t0 = Math.floor((Date.now() - 86_400_000) / MIN) * MIN;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.apiKey,
      payload: { readings: [3, 1.2].map((value, i) => ({ sensor: 'a/pressure', ts: t0 + i * MIN, value })) },
    });
    expect(res.statusCode).toBe(200);
    await t.services.detection!.flush();
    expect(await deliveries(plant)).toMatchObject([
      { event: 'raised', severity: 'major', status: 'pending' },
    ]);
    expect(await deliveries(north)).toEqual([]);
    await drain();
    expect(await deliveries(plant)).toMatchObject([{ status: 'delivered', attempts: 1 }]);
    expect(JSON.parse(bodies('plant-e2e')[0]!)).toMatchObject({
      event: 'raised',
      alarm: { title: 'Rule low' },
    });
  });

  it('quiet hours hold a delivery (across midnight, on the night Berlin springs forward) until they end', async () => {
    const id = await channel('night', {
      quietHours: { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin', minSeverity: 'critical' },
    });
    // 23:30 CET on 2026-03-28; the quiet hours end at 07:00 CEST = 05:00 UTC (not 06:00).
    const at = Date.parse('2026-03-28T22:30:00Z');
    await notify({ now: at, severity: 'major' });
    await notify({ now: at, severity: 'critical' }); // passes quiet hours
    const [held, urgent] = await deliveries(id);
    expect(held).toMatchObject({
      status: 'pending',
      nextAttemptAt: '2026-03-29T05:00:00.000Z',
      note: 'held for quiet hours until 2026-03-29T05:00:00.000Z',
    });
    expect(urgent).toMatchObject({
      status: 'pending',
      nextAttemptAt: new Date(at).toISOString(),
      note: null,
    });
    await drain(dispatcherAt(() => at));
    expect(bodies('night')).toHaveLength(1); // only the critical one
    await drain(dispatcherAt(() => Date.parse('2026-03-29T04:59:00Z')));
    expect(bodies('night')).toHaveLength(1);
    await drain(dispatcherAt(() => Date.parse('2026-03-29T05:00:00Z')));
    expect(bodies('night')).toHaveLength(2);
    expect((await deliveries(id)).map((d) => d.status)).toEqual(['delivered', 'delivered']);
  });

  it('a delivery that comes due inside quiet hours (a retry) waits for their end too', async () => {
    const id = await channel('retry-quiet', {
      quietHours: { start: '22:00', end: '07:00', timeZone: 'UTC' },
    });
    const queuedAt = Date.parse('2026-11-20T21:50:00Z');
    await notify({ now: queuedAt });
    expect((await deliveries(id))[0]).toMatchObject({ status: 'pending', note: null });
    // The first try is due at 21:50 but the dispatcher only gets to it at 22:10.
    await drain(dispatcherAt(() => Date.parse('2026-11-20T22:10:00Z')));
    expect(bodies('retry-quiet')).toHaveLength(0);
    expect((await deliveries(id))[0]).toMatchObject({
      status: 'pending',
      attempts: 0,
      nextAttemptAt: '2026-11-21T07:00:00.000Z',
    });
    await drain(dispatcherAt(() => Date.parse('2026-11-21T07:00:00Z')));
    expect(bodies('retry-quiet')).toHaveLength(1);
  });

  it('quiet hours with `drop` record the delivery as suppressed, with the reason, and never send it', async () => {
    const id = await channel('drop', {
      quietHours: { start: '22:00', end: '07:00', timeZone: 'UTC', during: 'drop' },
    });
    const at = Date.parse('2026-11-20T23:00:00Z');
    await notify({ now: at });
    const [d] = await deliveries(id);
    expect(d).toMatchObject({ status: 'suppressed', attempts: 0 });
    expect(d!.note).toMatch(/quiet hours/);
    await drain(dispatcherAt(() => Date.parse('2026-11-21T12:00:00Z')));
    expect(bodies('drop')).toHaveLength(0);
    expect((await deliveries(id))[0]!.status).toBe('suppressed');
  });

  it('the rate limit postpones deliveries over it (no attempt counted) and then delivers them all', async () => {
    const id = await channel('limited', { rateLimitPerMinute: 2 });
    const t0 = Date.parse('2026-11-30T10:00:00Z');
    const alarms: string[] = [];
    for (let i = 0; i < 5; i++) alarms.push(await notify({ now: t0 }));
    await drain(dispatcherAt(() => t0));
    expect(bodies('limited')).toHaveLength(2);
    const first = await deliveries(id);
    expect(first.map((d) => d.status)).toEqual(['delivered', 'delivered', 'pending', 'pending', 'pending']);
    for (const d of first.slice(2)) {
      expect(d).toMatchObject({
        attempts: 0,
        nextAttemptAt: '2026-11-30T10:01:00.000Z',
        note: 'rate limited until 2026-11-30T10:01:00.000Z',
      });
    }
    // Half a minute on: nothing is due, nothing is sent.
    await drain(dispatcherAt(() => t0 + 30_000));
    expect(bodies('limited')).toHaveLength(2);
    await drain(dispatcherAt(() => t0 + MIN));
    expect(bodies('limited')).toHaveLength(4);
    await drain(dispatcherAt(() => t0 + 2 * MIN));
    const all = await deliveries(id);
    expect(all.map((d) => [d.status, d.attempts])).toEqual(alarms.map(() => ['delivered', 1]));
    // In the order they were raised.
    expect(bodies('limited').map((b) => JSON.parse(b).alarm.id)).toEqual(alarms);
  });

  it('a member’s preferences email them, show their own deliveries, and stop when they leave the tenant', async () => {
    const seeded = await seedUser(t.services, { tenant: 'water', role: 'viewer' });
    const viewer: Session = await loginAs(t.app, seeded.email);
    const before = await call('GET', '/me/notification-preferences', undefined, viewer);
    expect(before.json()).toEqual({
      email: false,
      address: seeded.email,
      minSeverity: 'warning',
      routing: {},
      quietHours: null,
    });
    const put = await call(
      'PUT',
      '/me/notification-preferences',
      { email: true, minSeverity: 'major', routing: { siteIds: [place.plant] } },
      viewer,
    );
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({
      email: true,
      minSeverity: 'major',
      routing: { siteIds: [place.plant] },
    });
    // Personal: not among the tenant's channels.
    const listed = (await call('GET', '/notification-channels')).json().items as { url: string }[];
    expect(listed.map((c) => c.url)).not.toContain(`mailto:${seeded.email}`);
    const mine = () => mails.filter((m) => m.to.includes(seeded.email));

    const inPlant = await notify({ severity: 'critical', sensorId: f.ids.pA });
    await notify({ severity: 'minor', sensorId: f.ids.pA }); // below their minimum
    await notify({ severity: 'critical', sensorId: null, assetId: place.valve }); // not their site
    await drain();
    expect(mine()).toHaveLength(1);
    expect(mine()[0]!.data).toContain(inPlant);
    const own = await call('GET', '/me/notification-preferences/deliveries', undefined, viewer);
    expect(own.json().items).toMatchObject([{ alarmId: inPlant, status: 'delivered', attempts: 1 }]);
    const audited = await t.services.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', seeded.user.id)
      .where('action', '=', 'notification-preferences.update')
      .execute();
    expect(audited).toHaveLength(1);

    // Queued while a member, sent after they were removed: suppressed, not mailed.
    const queued = await notify({ severity: 'critical', sensorId: f.ids.pA });
    expect((await call('DELETE', `/members/${seeded.user.id}`)).statusCode).toBe(204);
    await notify({ severity: 'critical', sensorId: f.ids.pA }); // after: not queued for them at all
    await drain();
    expect(mine()).toHaveLength(1);
    const personal = await t.services.database.db
      .selectFrom('notification_outbox')
      .innerJoin('notification_channels', 'notification_channels.id', 'notification_outbox.channel_id')
      .select(['notification_outbox.alarm_id', 'notification_outbox.status', 'notification_outbox.note'])
      .where('notification_channels.user_id', '=', seeded.user.id)
      .orderBy('notification_outbox.id')
      .execute();
    expect(personal.map((r) => [r.alarm_id, r.status])).toEqual([
      [inPlant, 'delivered'],
      [queued, 'suppressed'],
    ]);
    expect(personal[1]!.note).toMatch(/no longer an active member/);
  });
});
