import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAppOn, type TestApp } from './helpers/app.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;

describe('email notifications through a local SMTP server', () => {
  let t: TestApp;
  let f: TelemetryFixture;
  let smtp: SMTPServer;
  const mails: { to: string[]; data: string }[] = [];

  beforeAll(async () => {
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
    const port = (smtp.server.address() as AddressInfo).port;
    t = await createTestAppOn('sqlite', {
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      SMTP_FROM: 'Vigil <alarms@water.example.com>',
    });
    f = await seedTelemetry(t);
  });
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  });

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: f.admin.auth, ...(payload ? { payload } : {}) });

  it('refuses an email channel without valid recipients', async () => {
    const res = await call('POST', '/notification-channels', {
      name: 'x',
      type: 'email',
      url: 'mailto:not-an-address',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatchObject({ pointer: '/body/url' });
  });

  it('a raised alarm is emailed to the channel’s recipients', async () => {
    const made = await call('POST', '/notification-channels', {
      name: 'duty',
      type: 'email',
      url: 'mailto:duty@water.example.com,ops@water.example.com',
      minSeverity: 'major',
    });
    expect(made.statusCode, made.body).toBe(201);
    expect(
      (
        await call('PUT', `/sensors/${f.ids.pA}/detectors`, {
          rules: [{ id: 'low', when: 'below', value: 2, severity: 'critical' }],
        })
      ).statusCode,
    ).toBe(200);
    const t0 = Math.floor((Date.now() - 86_400_000) / MIN) * MIN;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: f.apiKey,
      payload: { readings: [3, 1.2].map((value, i) => ({ sensor: 'a/pressure', ts: t0 + i * MIN, value })) },
    });
    expect(res.statusCode).toBe(200);
    await t.services.detection!.flush();
    await t.services.alarms.settle();
    expect(await t.services.notifications.runOnce()).toBe(1);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to.sort()).toEqual(['duty@water.example.com', 'ops@water.example.com']);
    expect(mails[0]!.data).toContain('Subject: [CRITICAL] Rule low raised');
    expect(mails[0]!.data).toContain('From: Vigil <alarms@water.example.com>');
    const deliveries = (
      await call('GET', `/notification-channels/${made.json().channel.id}/deliveries`)
    ).json().items;
    expect(deliveries[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });
});
