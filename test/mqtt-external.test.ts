import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server.js';
import { createTestDatabase, type TestDatabase } from './helpers/databases.js';
import { testConfig, testKey } from './helpers/env.js';
import { seedTelemetry, type TelemetryFixture } from './helpers/telemetry.js';

/** The system Mosquitto the test suite runs against (started by .ci/run). */
const BROKER = process.env.MQTT_TEST_URL ?? 'mqtt://127.0.0.1:1883';

describe('external broker (Mosquitto): shared subscription, ack after commit, persistent session', () => {
  let db: TestDatabase;
  const servers: RunningServer[] = [];
  let f: TelemetryFixture;
  let tenant: string;
  const group = `g${randomBytes(4).toString('hex')}`;
  // One installation: every instance shares the secrets (tokens issued by one are valid on all).
  const secrets = { SECRET_KEY: testKey(), ENCRYPTION_KEY: testKey() };
  const start = async (instance: string) => {
    const config = testConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: db.url,
      MQTT_URL: BROKER,
      MQTT_SHARE_GROUP: group,
      MQTT_CLIENT_ID: `${group}-${instance}`,
      // Few connections each: the broker deals messages round-robin in joining order, so with
      // 64 per instance all 40 test messages would go to the first instance.
      MQTT_SUBSCRIBERS: '2',
      INSTANCE_ID: instance,
      // Long enough for the test; short, so the broker does not keep test sessions for a week.
      MQTT_SESSION_EXPIRY_S: '120',
      ...secrets,
    });
    const s = await startServer(config, pino({ level: 'silent' }), { migrate: true, noSetupLink: true });
    await s.gateway!.ready;
    servers.push(s);
    return s;
  };
  const device = () =>
    mqtt.connectAsync(BROKER, { clientId: `dev-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0 });
  const count = async (s: RunningServer, sensor: string, from: number) =>
    (
      await s.app.inject({
        method: 'GET',
        url: `/api/v1/sensors/${sensor}/readings?from=${from}&to=${Date.now() + 60_000}&limit=10000`,
        headers: f.admin.auth,
      })
    ).json().items.length as number;
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const a = await start('a');
    tenant = `ext-${randomBytes(3).toString('hex')}`;
    f = await seedTelemetry(
      { app: a.app, services: a.services, config: a.services.config, close: async () => {} },
      tenant,
    );
    await start('b');
  });
  afterAll(async () => {
    for (const s of servers) await s.shutdown('test done');
    await db.drop();
  });

  it('two instances split the messages; each reading is stored once', async () => {
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
    const d = await device();
    for (let i = 0; i < 40; i++) {
      await d.publishAsync(
        `vigil/${tenant}/logger-a/readings`,
        JSON.stringify({ readings: [{ sensor: 'a/pressure', ts: t0 + i * 1000, value: i }] }),
        { qos: 1 },
      );
    }
    await d.endAsync();
    const [a, b] = servers as [RunningServer, RunningServer];
    await until(async () => (await count(a, f.ids.pA, t0)) === 40);
    expect(await count(a, f.ids.pA, t0)).toBe(40);
    const handled = [a, b].map((s) => s.gateway!.counters.messages);
    expect(handled[0]! + handled[1]!).toBeGreaterThanOrEqual(40);
    expect(handled[0]).toBeGreaterThan(0);
    expect(handled[1]).toBeGreaterThan(0);
  });

  it('messages published while Vigil is away are delivered when it returns (persistent session)', async () => {
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 300_000;
    // Both instances away.
    for (const s of servers.splice(0)) await s.shutdown('away');
    const d = await device();
    for (let i = 0; i < 5; i++) {
      await d.publishAsync(`vigil/${tenant}/logger-a/a/flow`, `${t0 + i * 1000},${i}`, { qos: 1 });
    }
    await d.endAsync();
    // Mosquitto shares the group's messages among its members' sessions, offline ones included:
    // each instance gets its share when it returns.
    const back = await start('a');
    await start('b');
    await until(async () => (await count(back, f.ids.fA, t0)) === 5);
    expect(await count(back, f.ids.fA, t0)).toBe(5);
  });

  it('stores QoS 0 readings too (no acknowledgement to wait for)', async () => {
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 200_000;
    const d = await device();
    await d.publishAsync(
      `vigil/${tenant}/logger-a/readings`,
      JSON.stringify({ readings: [{ sensor: 'a/flow', ts: t0, value: 7 }] }),
      { qos: 0 },
    );
    await d.endAsync();
    const [a] = servers as [RunningServer];
    await until(async () => (await count(a, f.ids.fA, t0)) === 1);
    expect(await count(a, f.ids.fA, t0)).toBe(1);
  });

  it('learns presence from the status topic, including a Last Will when a device drops', async () => {
    const s = servers[0]!;
    const device = async () =>
      (
        await s.app.inject({ method: 'GET', url: `/api/v1/devices/${f.ids.deviceA}`, headers: f.admin.auth })
      ).json();
    const until = async (online: boolean) => {
      for (let i = 0; i < 100 && (await device()).online !== online; i++)
        await new Promise((r) => setTimeout(r, 20));
      return device();
    };
    const status = `vigil/${tenant}/logger-a/status`;
    const d = await mqtt.connectAsync(BROKER, {
      clientId: `dev-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
      will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: false },
    });
    await d.publishAsync(status, 'online', { qos: 1 });
    expect((await until(true)).online).toBe(true);
    // Dropped without DISCONNECT: the broker publishes the will.
    d.stream.destroy();
    expect((await until(false)).online).toBe(false);
  });
});
