import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server.js';
import { TestPki } from './helpers/certs.js';
import { tempDir, testConfig } from './helpers/env.js';
import { loginAs, seedUser } from './helpers/identity.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

const MIN = 60_000;

describe('embedded MQTT broker', () => {
  let server: RunningServer;
  let f: TelemetryFixture;
  let deviceKeyA: string;
  let tokenA: string;
  const clients: MqttClient[] = [];
  let base = Math.floor((Date.now() - 3 * 60 * MIN) / MIN) * MIN;
  const slot = () => {
    base += 5 * MIN;
    return base;
  };

  beforeAll(async () => {
    const config = testConfig({ HOST: '127.0.0.1', PORT: '0', MQTT_PORT: '0' });
    server = await startServer(config, pino({ level: 'silent' }), { migrate: true, noSetupLink: true });
    f = await seedTelemetry({ app: server.app, services: server.services, config, close: async () => {} });
    deviceKeyA = 'logger-a';
    tokenA = f.deviceA.authorization.replace('Device ', '');
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await server.shutdown('test done');
  });

  const connect = (username: string, password: string, opts: mqtt.IClientOptions = {}) =>
    new Promise<MqttClient>((resolve, reject) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${server.mqttPort}`, {
        username,
        password,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...opts,
      });
      clients.push(c);
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
  const publish = (c: MqttClient, topic: string, payload: string) =>
    new Promise<void>((resolve, reject) =>
      c.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())),
    );
  const readings = async (sensor: string, from: number, to: number) =>
    (
      await server.app.inject({
        method: 'GET',
        url: `/api/v1/sensors/${sensor}/readings?from=${from}&to=${to}`,
        headers: f.admin.auth,
      })
    ).json().items as { ts: string; value: number }[];

  it('refuses a wrong token, or a token presented for another device', async () => {
    await expect(connect(deviceKeyA, 'vdt_not-a-real-token')).rejects.toThrow(/Bad username or password/);
    await expect(connect('logger-b', tokenA)).rejects.toThrow(/Bad username or password/);
    await expect(connect(deviceKeyA, '')).rejects.toThrow();
    expect(server.broker!.counters.authFailures).toBeGreaterThanOrEqual(3);
  });

  it('speaks MQTT 3.1.1: an MQTT 5 CONNECT is refused (unacceptable protocol version)', async () => {
    await expect(connect(deviceKeyA, tokenA, { protocolVersion: 5 })).rejects.toThrow(/protocol version/i);
  });

  it('stores readings in every format before the PUBACK (QoS 1)', async () => {
    const c = await connect(deviceKeyA, tokenA);
    const t0 = slot();
    await publish(
      c,
      'vigil/water/logger-a/readings',
      JSON.stringify({ readings: [{ sensor: 'a/pressure', ts: t0, value: 3.1 }] }),
    );
    // PUBACK received: the reading is already committed.
    expect((await readings(f.ids.pA, t0, t0 + 1)).map((r) => r.value)).toEqual([3.1]);
    await publish(
      c,
      'vigil/water/logger-a/readings',
      JSON.stringify([{ bn: 'a/', bt: (t0 + 1000) / 1000, n: 'pressure', v: 3.2 }]),
    );
    await publish(c, 'vigil/water/logger-a/readings', `m,sensor=a/pressure value=3.3 ${(t0 + 2000) * 1e6}`);
    await publish(c, 'vigil/water/logger-a/a/pressure', '3.4');
    await publish(c, `vigil/water/${f.ids.deviceA}/a/pressure`, `${t0 + 3000},3.5`);
    await publish(c, 'vigil/water/logger-a/a/pressure', `${new Date(t0 + 4000).toISOString()},3.6`);
    const stored = await readings(f.ids.pA, t0, t0 + 5000);
    expect(stored.map((r) => r.value)).toEqual([3.1, 3.2, 3.3, 3.5, 3.6]);
    const live = await readings(f.ids.pA, Date.now() - MIN, Date.now() + 1000);
    expect(live.map((r) => r.value)).toContain(3.4);
  });

  it('reports refusals on the device’s errors topic with the HTTP codes, and acknowledges the message', async () => {
    const c = await connect(deviceKeyA, tokenA);
    const errors: unknown[] = [];
    await new Promise<void>((resolve, reject) =>
      c.subscribe('vigil/water/logger-a/errors', { qos: 1 }, (err, granted) =>
        err || granted?.[0]?.qos === 128 ? reject(err ?? new Error('refused')) : resolve(),
      ),
    );
    c.on('message', (_topic, payload) => errors.push(JSON.parse(payload.toString())));
    const t0 = slot();
    await publish(
      c,
      'vigil/water/logger-a/readings',
      JSON.stringify({
        readings: [
          { sensor: 'a/flow', ts: t0, value: 1 },
          { sensor: 'b/pressure', ts: t0, value: 1 },
        ],
      }),
    );
    await publish(c, 'vigil/water/logger-a/readings', '{"readings": [');
    await publish(c, 'vigil/water/logger-a/a/flow', 'lots');
    for (let i = 0; i < 50 && errors.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(errors).toEqual([
      expect.objectContaining({
        accepted: 1,
        rejected: [expect.objectContaining({ index: 1, code: 'NOT_OWNED' })],
      }),
      expect.objectContaining({ code: 'MALFORMED_BODY' }),
      expect.objectContaining({
        code: 'UNPROCESSABLE',
        rejected: [expect.objectContaining({ code: 'NOT_NUMERIC' })],
      }),
    ]);
    expect(await readings(f.ids.fA, t0, t0 + 1)).toHaveLength(1);
  });

  it('enforces topic ACLs: no publishing under another device, no foreign subscriptions', async () => {
    const c = await connect(deviceKeyA, tokenA);
    const granted = await new Promise<number | undefined>((resolve) =>
      c.subscribe('vigil/water/logger-b/commands', { qos: 1 }, (err, g) => resolve(err ? 128 : g?.[0]?.qos)),
    );
    expect(granted).toBe(128);
    const wildcard = await new Promise<number | undefined>((resolve) =>
      c.subscribe('vigil/#', { qos: 1 }, (err, g) => resolve(err ? 128 : g?.[0]?.qos)),
    );
    expect(wildcard).toBe(128);
    const before = server.broker!.counters.aclViolations;
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish(
      'vigil/water/logger-b/readings',
      JSON.stringify({ readings: [{ sensor: 'b/pressure', value: 1 }] }),
      { qos: 1 },
    );
    await closed;
    expect(server.broker!.counters.aclViolations).toBe(before + 1);
    const t0 = Date.now();
    expect(await readings(f.ids.pB, t0 - MIN, t0 + MIN)).toEqual([]);
  });

  it('tracks presence: online while connected, offline after, with the time of the change', async () => {
    const device = async () =>
      (
        await server.app.inject({
          method: 'GET',
          url: `/api/v1/devices/${f.ids.deviceA}`,
          headers: f.admin.auth,
        })
      ).json();
    const until = async (online: boolean) => {
      for (let i = 0; i < 100 && (await device()).online !== online; i++)
        await new Promise((r) => setTimeout(r, 20));
      return device();
    };
    const c = await connect(deviceKeyA, tokenA);
    const on = await until(true);
    expect(on.online).toBe(true);
    expect(Date.parse(on.presenceChangedAt)).toBeGreaterThan(Date.now() - MIN);
    c.end(true);
    expect((await until(false)).online).toBe(false);
  });
});

describe('embedded MQTT broker over TLS and WebSocket', () => {
  let server: RunningServer;
  let f: TelemetryFixture;
  let cert: string;
  let files: (name: string) => string;

  beforeAll(async () => {
    const dir = tempDir();
    // A self-signed server certificate for 127.0.0.1, and a CA for client certificates with two
    // device certificates it signed, all made for this test.
    const pki = new TestPki(dir)
      .selfSigned('cert', { ip: '127.0.0.1' })
      .ca('ca')
      .issue('client', 'ca')
      .issue('other', 'ca');
    cert = pki.read('cert.pem');
    files = (name: string) => pki.read(name);
    const config = testConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      MQTT_PORT: '0',
      MQTT_TLS_PORT: '0',
      MQTT_TLS_CERT: path.join(dir, 'cert.pem'),
      MQTT_TLS_KEY: path.join(dir, 'cert.key'),
      MQTT_TLS_CA: path.join(dir, 'ca.pem'),
      MQTT_WS_PORT: '0',
    });
    server = await startServer(config, pino({ level: 'silent' }), { migrate: true, noSetupLink: true });
    f = await seedTelemetry({ app: server.app, services: server.services, config, close: async () => {} });
  });
  afterAll(() => server.shutdown('test done'));

  const stored = async (ts: number) =>
    (
      await server.app.inject({
        method: 'GET',
        url: `/api/v1/sensors/${f.ids.pA}/readings?from=${ts}&to=${ts + 1}`,
        headers: f.admin.auth,
      })
    ).json().items.length as number;

  it('accepts devices over TLS (certificate verified against its CA) and over WebSocket', async () => {
    const password = f.deviceA.authorization.replace('Device ', '');
    const ts = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const overTls = await mqtt.connectAsync(`mqtts://127.0.0.1:${server.mqttPorts!.tlsPort}`, {
      username: 'logger-a',
      password,
      ca: cert,
      reconnectPeriod: 0,
    });
    await overTls.publishAsync('vigil/water/logger-a/a/pressure', `${ts},1.5`, { qos: 1 });
    await overTls.endAsync();
    expect(await stored(ts)).toBe(1);
    const overWs = await mqtt.connectAsync(`ws://127.0.0.1:${server.mqttPorts!.wsPort}/mqtt`, {
      username: 'logger-a',
      password,
      reconnectPeriod: 0,
    });
    await overWs.publishAsync('vigil/water/logger-a/a/pressure', `${ts + 1},1.6`, { qos: 1 });
    await overWs.endAsync();
    expect(await stored(ts + 1)).toBe(1);
    // A client that does not trust the certificate does not get in.
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${server.mqttPorts!.tlsPort}`, {
        username: 'logger-a',
        password,
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow();
  });

  it('mTLS: a device logs in with a registered client certificate; unregistered or revoked ones are refused', async () => {
    const register = (certificate: string) =>
      server.app.inject({
        method: 'POST',
        url: '/api/v1/device-credentials',
        headers: f.admin.auth,
        payload: { deviceId: f.ids.deviceA, certificate },
      });
    const created = await register(files('client.pem'));
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      token: null,
      credential: { prefix: expect.stringMatching(/^cert:/) },
    });
    expect((await register(files('client.pem'))).statusCode).toBe(409);
    expect((await register('not a certificate')).statusCode).toBe(400);

    const withCert = (name: string) =>
      mqtt.connectAsync(`mqtts://127.0.0.1:${server.mqttPorts!.tlsPort}`, {
        username: 'logger-a',
        key: files(`${name}.key`),
        cert: files(`${name}.pem`),
        ca: cert,
        reconnectPeriod: 0,
      });
    const ts = Math.floor(Date.now() / 1000) * 1000 - 30_000;
    const c = await withCert('client');
    await c.publishAsync('vigil/water/logger-a/a/pressure', `${ts},2.5`, { qos: 1 });
    await c.endAsync();
    expect(await stored(ts)).toBe(1);
    await expect(withCert('other')).rejects.toThrow(/Bad username or password/);

    const revoke = await server.app.inject({
      method: 'DELETE',
      url: `/api/v1/device-credentials/${created.json().credential.id}`,
      headers: f.admin.auth,
    });
    expect(revoke.statusCode).toBe(204);
    await expect(withCert('client')).rejects.toThrow(/Bad username or password/);
  });

  it('refuses a TLS listener without its certificate and key, at configuration', () => {
    expect(() => testConfig({ MQTT_TLS_PORT: '8883' })).toThrow(
      /MQTT_TLS_CERT.*required|required.*MQTT_TLS_CERT/s,
    );
    expect(() =>
      testConfig({ MQTT_TLS_PORT: '8883', MQTT_TLS_CERT: '/nope.pem', MQTT_TLS_KEY: '/nope.key' }),
    ).toThrow(/file not found/);
  });
});

describe('embedded MQTT broker: connections per tenant', () => {
  let server: RunningServer;
  let f: TelemetryFixture;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const config = testConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      MQTT_PORT: '0',
      MQTT_MAX_CONNECTIONS_PER_TENANT: '1',
    });
    server = await startServer(config, pino({ level: 'silent' }), { migrate: true, noSetupLink: true });
    f = await seedTelemetry({ app: server.app, services: server.services, config, close: async () => {} });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await server.shutdown('test done');
  });

  const connect = (username: string, device: { authorization: string }) =>
    new Promise<MqttClient>((resolve, reject) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${server.mqttPort}`, {
        username,
        password: device.authorization.replace('Device ', ''),
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
      clients.push(c);
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
  const status = async () =>
    (await server.app.inject({ method: 'GET', url: '/api/v1/mqtt/status', headers: f.admin.auth })).json();
  const until = async (check: (s: { connections: number }) => boolean) => {
    for (let i = 0; i < 100 && !check(await status()); i++) await new Promise((r) => setTimeout(r, 20));
    return status();
  };

  it('counts a tenant’s connections, refuses one past its limit, and admits it once one ends', async () => {
    expect(await status()).toMatchObject({
      mode: 'embedded',
      connected: true,
      connections: 0,
      connectionLimit: 1,
      devices: { total: 2, online: 0 },
    });
    const a = await connect('logger-a', f.deviceA);
    expect(await until((s) => s.connections === 1)).toMatchObject({
      connections: 1,
      devices: { total: 2, online: 1 },
    });
    // The second device of the tenant is over the limit of one: CONNACK 3 (server unavailable).
    await expect(connect('logger-b', f.deviceB)).rejects.toThrow(/Server unavailable/i);
    a.end(true);
    expect((await until((s) => s.connections === 0)).connections).toBe(0);
    const b = await connect('logger-b', f.deviceB);
    expect(b.connected).toBe(true);

    // Platform admins see the instance: connections per tenant and the counters.
    const root = await seedUser(server.services, { tenant: 'ops', role: 'owner', platformAdmin: true });
    const session = await loginAs(server.app, root.email);
    const admin = await server.app.inject({
      method: 'GET',
      url: '/api/v1/admin/mqtt',
      headers: session.auth,
    });
    expect(admin.statusCode).toBe(200);
    expect(admin.json()).toMatchObject({
      mode: 'embedded',
      connected: true,
      connectionsByTenant: [{ connections: 1 }],
      counters: { connectionLimitRefusals: 1 },
    });
    // …and only they do.
    const denied = await server.app.inject({
      method: 'GET',
      url: '/api/v1/admin/mqtt',
      headers: f.admin.auth,
    });
    expect(denied.statusCode).toBe(403);
  });

  it('holds the limit against a burst of parallel CONNECTs, and lets a device take over its own session', async () => {
    for (const c of clients.splice(0)) c.end(true);
    await until((s) => s.connections === 0);
    const attempt = (clientId: string) =>
      new Promise<MqttClient | null>((resolve) => {
        const c = mqtt.connect(`mqtt://127.0.0.1:${server.mqttPort}`, {
          clientId,
          username: 'logger-a',
          password: f.deviceA.authorization.replace('Device ', ''),
          reconnectPeriod: 0,
          connectTimeout: 5000,
        });
        clients.push(c);
        c.once('connect', () => resolve(c));
        c.once('error', () => resolve(null));
      });
    const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => attempt(`burst-${i}`)));
    const winners = burst.filter((c) => c !== null);
    expect(winners).toHaveLength(1);
    // The same client id again while at the limit: it replaces its own connection.
    const again = await attempt(winners[0]!.options.clientId!);
    expect(again).not.toBeNull();
    expect((await until((s) => s.connections === 1)).connections).toBe(1);
  });
});
