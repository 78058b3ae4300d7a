import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server.js';
import { TestPki } from './helpers/certs.js';
import { tempDir, testConfig } from './helpers/env.js';
import { freePort, waitForPort } from './helpers/ports.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

/**
 * A Mosquitto of this test's own (the system one on :1883 speaks plain MQTT): TLS only, client
 * certificates required, password file, no anonymous access.
 */
describe('external broker over TLS with a client certificate and a password', () => {
  let broker: ChildProcess;
  let url: string;
  let pki: TestPki;
  const servers: RunningServer[] = [];
  const vigilPassword = randomBytes(12).toString('hex');

  beforeAll(async () => {
    pki = new TestPki(tempDir())
      .ca('ca')
      .issue('broker', 'ca', { ip: '127.0.0.1' })
      .issue('vigil', 'ca')
      .issue('device', 'ca')
      .ca('rogue-ca');
    const passwd = pki.file('passwd');
    execFileSync('mosquitto_passwd', ['-b', '-c', passwd, 'vigil', vigilPassword], { stdio: 'ignore' });
    execFileSync('mosquitto_passwd', ['-b', passwd, 'logger-a', 'device-secret'], { stdio: 'ignore' });
    const port = await freePort();
    url = `mqtts://127.0.0.1:${port}`;
    writeFileSync(
      pki.file('mosquitto.conf'),
      [
        // Stay the user running the test (as root, Mosquitto would switch to `mosquitto`, who cannot read these files).
        `user ${os.userInfo().username}`,
        'persistence false',
        'allow_anonymous false',
        `password_file ${passwd}`,
        `listener ${port} 127.0.0.1`,
        `cafile ${pki.file('ca.pem')}`,
        `certfile ${pki.file('broker.pem')}`,
        `keyfile ${pki.file('broker.key')}`,
        'require_certificate true',
        '',
      ].join('\n'),
    );
    // Debian installs the broker in /usr/sbin, which is not on every user's PATH.
    const bin = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';
    broker = spawn(bin, ['-c', pki.file('mosquitto.conf')], { stdio: 'ignore' });
    await waitForPort(port);
  });
  afterAll(async () => {
    for (const s of servers) await s.shutdown('test done');
    broker?.kill();
  });

  const start = async (env: Record<string, string>) => {
    const config = testConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      MQTT_URL: url,
      MQTT_SUBSCRIBERS: '2',
      MQTT_CLIENT_ID: `vigil-${randomBytes(4).toString('hex')}`,
      MQTT_SESSION_EXPIRY_S: '60',
      MQTT_BROKER_CA: pki.file('ca.pem'),
      MQTT_BROKER_CERT: pki.file('vigil.pem'),
      MQTT_BROKER_KEY: pki.file('vigil.key'),
      MQTT_USERNAME: 'vigil',
      MQTT_PASSWORD: vigilPassword,
      ...env,
    });
    const s = await startServer(config, pino({ level: 'silent' }), { migrate: true, noSetupLink: true });
    servers.push(s);
    return s;
  };
  const readyz = async (s: RunningServer) => s.app.inject({ method: 'GET', url: '/readyz' });

  it('logs in with its certificate and password, verifies the broker, and stores what devices publish', async () => {
    const s = await start({});
    await s.gateway!.ready;
    expect((await readyz(s)).json().checks.mqtt.status).toBe('ok');
    const f: TelemetryFixture = await seedTelemetry({
      app: s.app,
      services: s.services,
      config: s.services.config,
      close: async () => {},
    });
    const device = await mqtt.connectAsync(url, {
      username: 'logger-a',
      password: 'device-secret',
      ca: pki.read('ca.pem'),
      cert: pki.read('device.pem'),
      key: pki.read('device.key'),
      reconnectPeriod: 0,
    });
    const ts = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    await device.publishAsync('vigil/water/logger-a/a/pressure', `${ts},2.5`, { qos: 1 });
    await device.endAsync();
    let items: { value: number }[] = [];
    for (let i = 0; i < 100 && items.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      items = (
        await s.app.inject({
          method: 'GET',
          url: `/api/v1/sensors/${f.ids.pA}/readings?from=${ts}&to=${ts + 1}`,
          headers: f.admin.auth,
        })
      ).json().items;
    }
    expect(items).toMatchObject([{ value: 2.5 }]);
    const status = await s.app.inject({ method: 'GET', url: '/api/v1/mqtt/status', headers: f.admin.auth });
    expect(status.json()).toMatchObject({ mode: 'external', connected: true, connections: null });
  });

  it('is not ready while the broker refuses its password, or its certificate is from a CA it does not trust', async () => {
    const wrongPassword = await start({ MQTT_PASSWORD: 'not-the-password' });
    // Broker certificate signed by a CA Vigil was not told to trust: the TLS handshake fails.
    const untrusted = await start({ MQTT_BROKER_CA: pki.file('rogue-ca.pem') });
    for (const [s, why] of [
      [wrongPassword, /not authorized|bad user ?name or password/i],
      [untrusted, /certificate/i],
    ] as const) {
      // Bounded wait for the first attempt to fail.
      for (let i = 0; i < 100 && s.gateway!.status().lastError === undefined; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(s.gateway!.status().lastError).toMatch(why);
      const res = await readyz(s);
      expect(res.statusCode).toBe(503);
      expect(res.json().detail).toMatch(/^Not ready: mqtt/);
      expect(s.gateway!.status()).toMatchObject({
        connected: false,
        subscribers: { connected: 0, total: 2 },
      });
    }
  });

  it('refuses incomplete broker TLS settings at configuration', () => {
    expect(() => testConfig({ MQTT_URL: url, MQTT_BROKER_CERT: pki.file('vigil.pem') })).toThrow(
      /MQTT_BROKER_KEY: MQTT_BROKER_CERT and MQTT_BROKER_KEY go together/,
    );
    expect(() => testConfig({ MQTT_URL: url, MQTT_BROKER_CA: pki.file('missing.pem') })).toThrow(
      /MQTT_BROKER_CA: file not found/,
    );
    expect(() => testConfig({ MQTT_URL: url, MQTT_PASSWORD: 'x' })).toThrow(
      /MQTT_USERNAME: is required when MQTT_PASSWORD is set/,
    );
  });
});
