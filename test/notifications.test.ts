import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationDispatcher } from '../src/notifications/dispatcher.js';
import { signWebhook } from '../src/notifications/webhook.js';
import { IpSet } from '../src/security/guard/ip-rules.js';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { DIALECTS } from './helpers/databases.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe.each(DIALECTS)('webhook notifications on %s', (dialect) => {
  let t: TestApp;
  let f: TelemetryFixture;
  let receiver: http.Server;
  let url: string;
  const received: Received[] = [];
  /** Status codes to answer with, in turn (then 200). */
  const answers: number[] = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = answers.shift() ?? 200;
        res.end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    t = await createTestAppOn(dialect, { WEBHOOK_ALLOWED_PRIVATE: '127.0.0.1/32' });
    f = await seedTelemetry(t);
  });
  afterAll(async () => {
    await t?.close();
    receiver?.close();
  });

  const call = (method: 'GET' | 'POST' | 'PUT', path: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${path}`, headers: f.admin.auth, ...(payload ? { payload } : {}) });

  it('refuses webhook targets on private, loopback and link-local addresses unless allow-listed', async () => {
    for (const bad of [
      'http://10.1.2.3/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/x',
      'ftp://example.com/x',
      'http://user:pw@127.0.0.1/x',
    ]) {
      const res = await call('POST', '/notification-channels', { name: 'bad', type: 'webhook', url: bad });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().errors[0].pointer).toBe('/body/url');
    }
  });

  it('an alarm change is delivered signed, retried after a failure, and logged', async () => {
    const made = await call('POST', '/notification-channels', {
      name: 'ops',
      type: 'webhook',
      url,
      minSeverity: 'major',
    });
    expect(made.statusCode, made.body).toBe(201);
    const { channel, secret } = made.json() as { channel: { id: string }; secret: string };
    expect((await call('GET', '/notification-channels')).json().items[0]).not.toHaveProperty('secret');
    const stored = await t.services.database.db
      .selectFrom('notification_channels')
      .select('secret')
      .executeTakeFirstOrThrow();
    expect(stored.secret).not.toContain(secret); // encrypted at rest
    expect(
      (
        await call('PUT', `/sensors/${f.ids.pB}/detectors`, {
          rules: [{ id: 'low', when: 'below', value: 2, severity: 'major' }],
        })
      ).statusCode,
    ).toBe(200);
    const t0 = Math.floor((Date.now() - 86_400_000) / MIN) * MIN;
    answers.push(500);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.apiKey,
      payload: {
        readings: [3, 3, 1.5].map((value, i) => ({ sensor: 'b/pressure', ts: t0 + i * MIN, value })),
      },
    });
    expect(res.statusCode).toBe(200);
    await t.services.detection!.flush();
    await t.services.alarms.settle();
    // First attempt: the receiver answers 500, the delivery waits for its retry.
    expect(await t.services.notifications.runOnce()).toBe(1);
    const deliveries = async () =>
      (await call('GET', `/notification-channels/${channel.id}/deliveries`)).json().items;
    expect((await deliveries())[0]).toMatchObject({
      event: 'raised',
      status: 'pending',
      attempts: 1,
      lastStatus: 500,
    });
    expect(await t.services.notifications.runOnce()).toBe(0); // not due yet (backoff)
    // Later (a dispatcher whose clock is an hour on): delivered.
    const later = new NotificationDispatcher({
      db: t.services.database.db,
      secretBox: t.services.identity.secretBox,
      allowedPrivate: new IpSet(['127.0.0.1/32']),
      maxAttempts: 12,
      logger: pino({ level: 'silent' }),
      clock: () => Date.now() + 3_600_000,
    });
    expect(await later.runOnce()).toBe(1);
    expect((await deliveries())[0]).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200 });
    expect(received).toHaveLength(2);
    const last = received[1]!;
    const ts = Number(last.headers['x-vigil-timestamp']);
    expect(last.headers['x-vigil-signature']).toBe(`sha256=${signWebhook(secret, ts, last.body)}`);
    expect(last.headers['x-vigil-delivery']).toBe(received[0]!.headers['x-vigil-delivery']);
    expect(JSON.parse(last.body)).toMatchObject({
      event: 'raised',
      alarm: { severity: 'major', title: 'Rule low' },
    });
  });

  it('a delivery claimed by a dispatcher that died is sent after its lease by another (restart mid-delivery)', async () => {
    const row = await t.services.database.db
      .selectFrom('notification_outbox')
      .select(['id', 'channel_id', 'tenant_id', 'alarm_id'])
      .executeTakeFirstOrThrow();
    const now = Date.now();
    const inserted = await t.services.database.db
      .insertInto('notification_outbox')
      .values({
        tenant_id: row.tenant_id,
        channel_id: row.channel_id,
        alarm_id: row.alarm_id,
        event: 'resolved',
        payload: JSON.stringify({ event: 'resolved' }),
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        // Claimed a moment ago by a process that then crashed.
        lease_until: now + 60_000,
        last_status: null,
        last_error: null,
        created_at: now,
        delivered_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const before = received.length;
    expect(await t.services.notifications.runOnce()).toBe(0); // leased: not taken
    const afterLease = new NotificationDispatcher({
      db: t.services.database.db,
      secretBox: t.services.identity.secretBox,
      allowedPrivate: new IpSet(['127.0.0.1/32']),
      maxAttempts: 12,
      logger: pino({ level: 'silent' }),
      clock: () => now + 61_000,
    });
    expect(await afterLease.runOnce()).toBe(1);
    expect(received.length).toBe(before + 1);
    const done = await t.services.database.db
      .selectFrom('notification_outbox')
      .select('status')
      .where('id', '=', inserted.id)
      .executeTakeFirstOrThrow();
    expect(done.status).toBe('delivered');
  });
});
